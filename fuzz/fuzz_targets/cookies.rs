//! The cookie path: `Set-Cookie` fields from several sites into the jar, as
//! responses bring them, then the `Cookie` field each site's requests carry.
//!
//! Input: lines (split at `\n`), each a byte choosing the site that answered
//! and the `Set-Cookie` value. Invariants: a URL gets no cookie that a site
//! of another family set (another address, another top-level name);
//! the `Cookie` field is there exactly when the jar has cookies for the URL,
//! and is those cookies, `name=value` joined by `; ` (none can break out).
#![no_main]

use ferrio_http::fuzzing::CookieJar;
use ferrio_http::Url;
use libfuzzer_sys::fuzz_target;

/// The sites that answer, and the family of each: the top-level name (the
/// jar has no public-suffix list, so `Domain=example` is let through, as
/// cookies.rs says), or the address.
const SITES: [(&str, &str); 5] = [
    ("http://site.example/a/b", "example"),
    ("https://site.example/", "example"),
    ("http://sub.site.example/x/", "example"),
    ("http://other.test/", "test"),
    ("http://127.0.0.1:8080/app/", "127.0.0.1"),
];

/// The URLs asked about: the sites, and some of families that set nothing.
const ASKED: [(&str, &str); 10] = [
    ("http://site.example/a/b/c", "example"),
    ("https://site.example/", "example"),
    ("http://sub.site.example/x/y", "example"),
    ("https://deep.sub.site.example/", "example"),
    ("http://other.test/", "test"),
    ("http://127.0.0.1:8080/app/", "127.0.0.1"),
    ("http://127.0.0.1:9/", "127.0.0.1"),
    ("http://127.0.0.2:8080/app/", "127.0.0.2"),
    ("http://unrelated.invalid/", "invalid"),
    ("https://site.example.evil.invalid/", "invalid"),
];

fuzz_target!(|input: &[u8]| {
    let jar = CookieJar::default();
    let mut families = Vec::new();
    for line in input.split(|&b| b == b'\n') {
        let Some((&site, value)) = line.split_first() else {
            continue;
        };
        let (url, family) = SITES[usize::from(site) % SITES.len()];
        jar.store(&Url::parse(url).unwrap(), &[value]);
        families.push(family);
    }
    for (url, family) in ASKED {
        let url = Url::parse(url).unwrap();
        let cookies = jar.0.cookies(&url);
        let header = jar.header_for(&url);
        if !families.contains(&family) {
            assert!(
                cookies.is_empty(),
                "{url} got another site's cookies: {cookies:?}"
            );
        }
        match header {
            None => assert!(cookies.is_empty(), "cookies for {url} but no Cookie field"),
            Some(header) => {
                let joined: Vec<String> = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
                assert_eq!(header, joined.join("; ").as_bytes());
                let pairs = header.split(|&b| b == b';').count();
                assert_eq!(pairs, cookies.len(), "a cookie broke out: {header:?}");
            }
        }
    }
});

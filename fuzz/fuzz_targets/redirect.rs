//! Where the client follows a redirect: `Location` resolved against the
//! request's URL.
//!
//! The first byte picks the request's URL from a few shapes (path, query,
//! port, IPv6, https); the rest is the `Location` value. Invariants: no
//! panic; a target the client accepts is an http(s) URL with a host, and the
//! request head the client would send for it is one the server's parser
//! accepts whole (so a redirect can never make the client send a request
//! line a server cannot read).
#![no_main]

use ferrio_http::fuzzing::{get_request_head, redirect, request_head};
use libfuzzer_sys::fuzz_target;

const BASES: [&str; 6] = [
    "http://example.com/a/b/c?x=1#frag",
    "https://example.com:8443/dir/",
    "http://127.0.0.1:8080/",
    "http://[::1]/p;params?q",
    "https://xn--bcher-kva.example/%7Euser/index.html",
    "http://user:pass@host.example/",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, location)) = data.split_first() else {
        return;
    };
    let base = BASES[usize::from(pick) % BASES.len()];
    let Some(target) = redirect(base, location) else {
        return;
    };
    assert!(
        target.starts_with("http://") || target.starts_with("https://"),
        "{base} + {location:?} went to {target}"
    );
    let head = get_request_head(&target).expect("an accepted target is a URL");
    assert_eq!(
        request_head(&head, usize::MAX),
        Ok(Some(head.len())),
        "the request for {target} does not parse: {:?}",
        String::from_utf8_lossy(&head)
    );
});

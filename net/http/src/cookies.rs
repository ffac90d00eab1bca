//! The cookie jar (aiohttp's `CookieJar`): cookies the servers set with
//! `Set-Cookie`, kept by the `cookie_store` crate's rules (domain and path
//! scoping, `Secure`, expiry by `Max-Age` or `Expires`) and sent back with
//! `Cookie` on the requests they match.
//!
//! What servers can put in a jar is bounded, as browsers bound it: at most
//! [`MAX_COOKIES_PER_DOMAIN`] cookies per domain and [`MAX_COOKIES`] in
//! all, each at most [`MAX_COOKIE_BYTES`] of name and value; a `Set-Cookie`
//! past a limit is ignored (cookies already kept stay, and can be updated or
//! deleted). So a server that sends a flood of new cookies, response after
//! response, holds at most about 12 MiB of the client's memory, and the
//! `Cookie` field sent back is bounded too.
//!
//! Not here: persisting a jar to disk, or a public-suffix list (a server
//! cannot set a cookie for a domain other than its own or a parent of it,
//! but a parent such as `co.uk` is not refused).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use cookie_store::{Cookie, CookieStore, StoreAction};
use http::header::{HeaderMap, HeaderValue, SET_COOKIE};
use url::Url;

use super::error::{Error, ErrorKind};
use crate::lock::lock;

/// The most cookies servers can keep in a jar for one domain (Chromium's and
/// Firefox's limit; RFC 6265, 6.1, asks for at least 50).
pub(crate) const MAX_COOKIES_PER_DOMAIN: usize = 180;

/// The most cookies servers can keep in a jar in all (RFC 6265, 6.1, asks
/// for at least 3000).
pub(crate) const MAX_COOKIES: usize = 3000;

/// The longest name and value of a cookie a server can set, together (RFC
/// 6265, 6.1, asks for at least 4096 bytes; browsers take no more).
pub(crate) const MAX_COOKIE_BYTES: usize = 4096;

/// A cookie jar, shared by every clone (and every client it is given to);
/// see [`ClientBuilder::cookie_jar`](super::ClientBuilder::cookie_jar).
///
/// ```
/// use ferrio::http::{Jar, Url};
/// let jar = Jar::new();
/// let url = Url::parse("http://127.0.0.1:8080/app/").unwrap();
/// jar.add_cookie_str("theme=dark; Path=/app", &url).unwrap();
/// assert_eq!(jar.cookies(&url), vec![("theme".to_owned(), "dark".to_owned())]);
/// let elsewhere = Url::parse("http://127.0.0.1:8080/").unwrap();
/// assert!(jar.cookies(&elsewhere).is_empty());
/// ```
#[derive(Clone, Default)]
pub struct Jar {
    store: Arc<Mutex<CookieStore>>,
}

impl Jar {
    /// An empty jar.
    pub fn new() -> Jar {
        Jar::default()
    }

    /// Adds a cookie as if `url` had answered with `Set-Cookie: cookie`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidRequest`] if `cookie` does not parse or `url` may
    /// not set it (another domain, `Secure` over plain HTTP, ...).
    pub fn add_cookie_str(&self, cookie: &str, url: &Url) -> Result<(), Error> {
        lock(&self.store)
            .parse(cookie, url)
            .map(drop)
            .map_err(|e| Error::with_source(ErrorKind::InvalidRequest, "cookie refused", e))
    }

    /// The `(name, value)` of every unexpired cookie a request to `url`
    /// would carry.
    pub fn cookies(&self, url: &Url) -> Vec<(String, String)> {
        lock(&self.store)
            .get_request_values(url)
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    /// Forgets every cookie.
    pub fn clear(&self) {
        lock(&self.store).clear();
    }

    /// The `Cookie` field for a request to `url`, if any cookie matches.
    pub(crate) fn header_for(&self, url: &Url) -> Option<HeaderValue> {
        let store = lock(&self.store);
        let pairs: Vec<String> = store
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        drop(store);
        if pairs.is_empty() {
            return None;
        }
        // The store only holds cookies that parsed from header values.
        HeaderValue::from_str(&pairs.join("; ")).ok()
    }

    /// Keeps the cookies a response from `url` set. One that does not parse,
    /// that `url` may not set, or that is past the jar's limits (see the
    /// module's documentation) is left out (and logged at debug level).
    pub(crate) fn store_from(&self, headers: &HeaderMap, url: &Url) {
        let mut store = None;
        let mut room = None;
        for value in headers.get_all(SET_COOKIE) {
            let store = store.get_or_insert_with(|| lock(&self.store));
            let Ok(text) = value.to_str() else {
                log::debug!("Set-Cookie from {url} ignored: not visible ASCII");
                continue;
            };
            let cookie = match Cookie::parse(text, url) {
                Ok(cookie) => cookie.into_owned(),
                Err(e) => {
                    log::debug!("Set-Cookie from {url} ignored: {e}");
                    continue;
                }
            };
            let room = room.get_or_insert_with(|| Room::of(store));
            if let Err(limit) = room.for_cookie(store, &cookie) {
                log::debug!("Set-Cookie from {url} ignored: {limit}");
                continue;
            }
            let domain = String::from(&cookie.domain);
            match store.insert(cookie, url) {
                Ok(StoreAction::Inserted) => room.added(domain),
                Ok(_) => {}
                Err(e) => log::debug!("Set-Cookie from {url} ignored: {e}"),
            }
        }
    }
}

/// The cookies a store holds, expired ones included (`cookie_store` keeps
/// them), by domain and in all: counted once per response, kept up to date
/// as its cookies go in.
struct Room {
    by_domain: HashMap<String, usize>,
    all: usize,
    /// Whether this response's cookies already dropped the expired ones.
    purged: bool,
}

impl Room {
    fn of(store: &CookieStore) -> Room {
        let mut room = Room {
            by_domain: HashMap::new(),
            all: 0,
            purged: false,
        };
        for cookie in store.iter_any() {
            room.added(String::from(&cookie.domain));
        }
        room
    }

    fn added(&mut self, domain: String) {
        *self.by_domain.entry(domain).or_default() += 1;
        self.all += 1;
    }

    fn full(&self, domain: &str) -> Option<&'static str> {
        if self.by_domain.get(domain).copied().unwrap_or(0) >= MAX_COOKIES_PER_DOMAIN {
            Some("the jar holds 180 cookies for its domain")
        } else if self.all >= MAX_COOKIES {
            Some("the jar holds 3000 cookies")
        } else {
            None
        }
    }

    /// Whether `store` has room for `cookie`: always for one that replaces
    /// a cookie it holds or deletes one; else, within the limits. At a
    /// limit, expired cookies are dropped first (once a response), so that
    /// they count against it without ever holding it.
    fn for_cookie(
        &mut self,
        store: &mut CookieStore,
        cookie: &Cookie<'static>,
    ) -> Result<(), &'static str> {
        if cookie.name().len() + cookie.value().len() > MAX_COOKIE_BYTES {
            return Err("name and value over 4096 bytes");
        }
        let domain = String::from(&cookie.domain);
        let path = String::from(&cookie.path);
        if cookie.is_expired() || store.contains_any(&domain, &path, cookie.name()) {
            return Ok(());
        }
        if self.full(&domain).is_none() {
            return Ok(());
        }
        if !self.purged {
            let expired: Vec<(String, String, String)> = store
                .iter_any()
                .filter(|c| c.is_expired())
                .map(|c| {
                    let (d, p) = (String::from(&c.domain), String::from(&c.path));
                    (d, p, c.name().to_owned())
                })
                .collect();
            for (d, p, name) in &expired {
                store.remove(d, p, name);
            }
            *self = Room::of(store);
            self.purged = true;
        }
        self.full(&domain).map_or(Ok(()), Err)
    }
}

impl fmt::Debug for Jar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Cookie values are secrets: only their number is shown.
        let count = lock(&self.store).iter_unexpired().count();
        f.debug_struct("Jar").field("cookies", &count).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn malformed_or_foreign_set_cookies_are_ignored() {
        let jar = Jar::new();
        let mut headers = HeaderMap::new();
        for value in [
            "=no-name",
            "",
            "a=1; Domain=other.example",
            "b=2; Secure",
            "ok=1",
        ] {
            headers.append(SET_COOKIE, HeaderValue::from_str(value).unwrap());
        }
        headers.append(SET_COOKIE, HeaderValue::from_bytes(b"c=\xff").unwrap());
        jar.store_from(&headers, &url("http://site.example/"));
        assert_eq!(
            jar.cookies(&url("http://site.example/")),
            vec![("ok".to_owned(), "1".to_owned())]
        );
    }

    #[test]
    fn servers_fill_a_jar_only_to_its_limits() {
        let jar = Jar::new();
        let set = |site: &str, cookies: &[String]| {
            let mut headers = HeaderMap::new();
            for c in cookies {
                headers.append(SET_COOKIE, HeaderValue::from_str(c).unwrap());
            }
            jar.store_from(&headers, &url(site));
        };
        let names = |prefix: &str, n: usize, attrs: &str| -> Vec<String> {
            (0..n).map(|i| format!("{prefix}{i}=v{attrs}")).collect()
        };
        set("http://a.example/", &names("c", 500, ""));
        assert_eq!(jar.cookies(&url("http://a.example/")).len(), 180);
        // Full, a cookie kept is still updated, and deleted.
        set(
            "http://a.example/",
            &["c0=new".to_owned(), "c1=; Max-Age=0".to_owned()],
        );
        let kept = jar.cookies(&url("http://a.example/"));
        assert!(kept.contains(&("c0".to_owned(), "new".to_owned())));
        assert_eq!(kept.len(), 179);
        // Expired cookies make room rather than hold it: churn stays bounded.
        for round in 0..20 {
            let prefix = format!("r{round}x");
            set("http://a.example/", &names(&prefix, 100, ""));
            set("http://a.example/", &names(&prefix, 100, "; Max-Age=0"));
        }
        assert!(lock(&jar.store).iter_any().count() <= 180);
        // A name and value over 4096 bytes together are refused.
        set(
            "http://big.example/",
            &[format!("big={}", "x".repeat(4094))],
        );
        assert!(jar.cookies(&url("http://big.example/")).is_empty());
        set(
            "http://big.example/",
            &[format!("big={}", "x".repeat(4093))],
        );
        assert_eq!(jar.cookies(&url("http://big.example/")).len(), 1);
        // Other domains have their own 180, up to 3000 in all.
        for d in 0..30 {
            set(&format!("http://d{d}.example/"), &names("c", 200, ""));
        }
        assert!(lock(&jar.store).iter_any().count() <= 3000);
        assert_eq!(jar.cookies(&url("http://d0.example/")).len(), 180);
    }

    #[test]
    fn the_cookie_field_joins_the_matching_cookies() {
        let jar = Jar::new();
        let site = url("http://site.example/a/b");
        jar.add_cookie_str("x=1; Path=/", &site).unwrap();
        jar.add_cookie_str("y=2; Path=/a", &site).unwrap();
        let header = jar.header_for(&site).unwrap();
        let mut pairs: Vec<&str> = header.to_str().unwrap().split("; ").collect();
        pairs.sort();
        assert_eq!(pairs, ["x=1", "y=2"]);
        assert_eq!(jar.header_for(&url("http://other.example/")), None);
        assert!(format!("{jar:?}").contains("cookies: 2"));
        jar.clear();
        assert_eq!(jar.header_for(&site), None);
    }
}

//! The cookie jar (aiohttp's `CookieJar`): cookies the servers set with
//! `Set-Cookie`, kept by the `cookie_store` crate's rules (domain and path
//! scoping, `Secure`, expiry by `Max-Age` or `Expires`) and sent back with
//! `Cookie` on the requests they match.
//!
//! Not here: persisting a jar to disk, or a public-suffix list (a server
//! cannot set a cookie for a domain other than its own or a parent of it,
//! but a parent such as `co.uk` is not refused).

use std::fmt;
use std::sync::{Arc, Mutex};

use cookie_store::CookieStore;
use http::header::{HeaderMap, HeaderValue, SET_COOKIE};
use url::Url;

use super::error::{Error, ErrorKind};
use crate::lock::lock;

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
    /// or that `url` may not set, is left out (and logged at debug level).
    pub(crate) fn store_from(&self, headers: &HeaderMap, url: &Url) {
        let mut store = None;
        for value in headers.get_all(SET_COOKIE) {
            let store = store.get_or_insert_with(|| lock(&self.store));
            let Ok(text) = value.to_str() else {
                log::debug!("Set-Cookie from {url} ignored: not visible ASCII");
                continue;
            };
            if let Err(e) = store.parse(text, url) {
                log::debug!("Set-Cookie from {url} ignored: {e}");
            }
        }
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

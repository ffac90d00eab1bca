//! HTTP proxies (aiohttp's `proxy=` and `trust_env=True`): which requests go
//! through which proxy (the builder's, or `http_proxy` / `https_proxy` /
//! `no_proxy` from the environment), the credentials from the proxy URL's
//! user info, and the `CONNECT` tunnel that HTTPS (and WebSocket) traffic
//! takes through one.
//!
//! Not here: sending a plain request to a proxy in absolute form (the
//! client's request writer does that), HTTPS to the proxy itself, SOCKS, or
//! `no_proxy` CIDR ranges.

use std::fmt;
use std::net::IpAddr;

use base64::Engine;
use futures_util::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use http::header::HeaderValue;
use url::Url;

use super::error::{Error, ErrorKind};
use super::pool::{Host, Key};

/// The most bytes of a `CONNECT` response head read before giving up.
const MAX_CONNECT_RESPONSE: usize = 8 * 1024;

/// One proxy: where it is and how to authenticate to it.
#[derive(Clone)]
pub(crate) struct Proxy {
    /// The proxy's URL without its credentials, for messages.
    url: Url,
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `Proxy-Authorization`, from the URL's user info.
    pub(crate) authorization: Option<HeaderValue>,
}

impl Proxy {
    /// Parses a proxy URL; `host:port` alone means `http://host:port`.
    pub(crate) fn parse(text: &str) -> Result<Proxy, Error> {
        let invalid = |e: Option<url::ParseError>, why: &str| match e {
            Some(e) => Error::with_source(ErrorKind::InvalidUrl, format!("proxy {why}"), e),
            None => Error::new(ErrorKind::InvalidUrl, format!("proxy {text:?}: {why}")),
        };
        let with_scheme = if text.contains("://") {
            text.to_owned()
        } else {
            format!("http://{text}")
        };
        let mut url = Url::parse(&with_scheme).map_err(|e| invalid(Some(e), text))?;
        if url.scheme() != "http" {
            return Err(invalid(None, "only http:// proxies are supported"));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(invalid(None, "no host")),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let authorization = if url.username().is_empty() {
            None
        } else {
            let decode = |s: &str| {
                percent_encoding_decode(s).ok_or_else(|| invalid(None, "credentials not UTF-8"))
            };
            let user = decode(url.username())?;
            let password = decode(url.password().unwrap_or_default())?;
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            let mut value = HeaderValue::from_str(&format!("Basic {token}"))
                .expect("base64 is a valid header value");
            value.set_sensitive(true);
            Some(value)
        };
        // Neither can fail on an http URL with a host.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        Ok(Proxy {
            url,
            host,
            port,
            authorization,
        })
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("url", &self.url.as_str())
            .field("auth", &self.authorization.is_some())
            .finish()
    }
}

fn percent_encoding_decode(s: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(s).decode_utf8().ok()?;
    Some(decoded.into_owned())
}

/// Which proxy, if any, each request takes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Proxies {
    /// For `http://` URLs.
    pub(crate) http: Option<Proxy>,
    /// For `https://` URLs.
    pub(crate) https: Option<Proxy>,
    /// Hosts reached directly whatever the above say.
    no_proxy: NoProxy,
}

/// How a connection to a host is made.
pub(crate) enum Route<'a> {
    Direct,
    /// Plain HTTP: requests go to the proxy, in absolute form.
    Forward(&'a Proxy),
    /// A `CONNECT` tunnel through the proxy, then TLS (or the WebSocket) in it.
    Tunnel(&'a Proxy),
}

impl Proxies {
    /// The same proxy for every request (the hosts to bypass stay).
    pub(crate) fn set_all(&mut self, proxy: Proxy) {
        self.http = Some(proxy.clone());
        self.https = Some(proxy);
    }

    /// The proxies of `other`, and the hosts to bypass of both.
    pub(crate) fn replace(&mut self, other: Proxies) {
        self.http = other.http;
        self.https = other.https;
        self.no_proxy.entries.extend(other.no_proxy.entries);
    }

    /// From `http_proxy`, `https_proxy` and `no_proxy` (lowercase first, as
    /// curl; then uppercase, except `HTTP_PROXY`, which a CGI server sets
    /// from a request's `Proxy:` header; see "httpoxy").
    pub(crate) fn from_env() -> Result<Proxies, Error> {
        let var = |names: &[&str]| {
            names
                .iter()
                .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
        };
        let http = var(&["http_proxy"])
            .map(|v| Proxy::parse(v.trim()))
            .transpose()?;
        let https = var(&["https_proxy", "HTTPS_PROXY"])
            .map(|v| Proxy::parse(v.trim()))
            .transpose()?;
        let no_proxy = NoProxy::parse(&var(&["no_proxy", "NO_PROXY"]).unwrap_or_default());
        log::debug!(
            "proxies from the environment: http {http:?}, https {https:?}, no_proxy {no_proxy:?}"
        );
        Ok(Proxies {
            http,
            https,
            no_proxy,
        })
    }

    /// Adds hosts to reach directly (the `no_proxy` syntax).
    pub(crate) fn bypass(&mut self, list: &str) {
        self.no_proxy.entries.extend(NoProxy::parse(list).entries);
    }

    /// How to reach `key`; `tunnel` asks for a `CONNECT` tunnel even for
    /// plain HTTP (for a protocol that takes the connection over).
    pub(crate) fn route(&self, key: &Key, tunnel: bool) -> Route<'_> {
        let proxy = if key.https { &self.https } else { &self.http };
        match proxy {
            Some(_) if self.no_proxy.matches(&key.host) => Route::Direct,
            Some(proxy) if key.https || tunnel => Route::Tunnel(proxy),
            Some(proxy) => Route::Forward(proxy),
            None => Route::Direct,
        }
    }
}

/// The hosts of `no_proxy`: `*` for all; a name matches itself and its
/// subdomains (a leading `.` is the same); an IP address matches itself.
/// Ports in entries are ignored.
#[derive(Clone, Debug, Default)]
struct NoProxy {
    entries: Vec<String>,
}

impl NoProxy {
    fn parse(list: &str) -> NoProxy {
        let entries = list
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|entry| {
                // "[::1]:80", "host:80", ".example.com"
                let entry = entry.trim_start_matches('.');
                let entry = match entry.strip_prefix('[') {
                    Some(rest) => rest.split(']').next().unwrap_or_default(),
                    None if entry.matches(':').count() == 1 => {
                        entry.split(':').next().unwrap_or_default()
                    }
                    None => entry,
                };
                entry.to_ascii_lowercase()
            })
            .collect();
        NoProxy { entries }
    }

    fn matches(&self, host: &Host) -> bool {
        let name = host.to_string();
        self.entries.iter().any(|entry| {
            entry == "*"
                || match (name.parse::<IpAddr>(), entry.parse::<IpAddr>()) {
                    (Ok(ip), Ok(listed)) => ip == listed,
                    (Ok(_), Err(_)) | (Err(_), Ok(_)) => false,
                    (Err(_), Err(_)) => {
                        name == *entry
                            || name
                                .strip_suffix(entry.as_str())
                                .is_some_and(|rest| rest.ends_with('.'))
                    }
                }
        })
    }
}

/// Asks the proxy that `stream` is connected to for a tunnel to `key`;
/// returns once it agreed, with the stream carrying the tunnel.
///
/// # Errors
///
/// [`ErrorKind::Proxy`] for an answer other than 2xx (with its status) or one
/// that is not HTTP; [`ErrorKind::Io`] if the proxy closes.
pub(crate) async fn tunnel<S>(stream: &mut S, proxy: &Proxy, key: &Key) -> Result<(), Error>
where
    // A TcpStream; the fuzz target's scripted proxy (fuzzing.rs).
    S: AsyncRead + AsyncWrite + Unpin,
{
    let authority = match &key.host {
        Host::Ipv6(ip) => format!("[{ip}]:{}", key.port),
        host => format!("{host}:{}", key.port),
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nhost: {authority}\r\n").into_bytes();
    if let Some(auth) = &proxy.authorization {
        request.extend_from_slice(b"proxy-authorization: ");
        request.extend_from_slice(auth.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    stream.write_all(&request).await.map_err(Error::io)?;
    // Read the head a piece at a time; nothing may follow it (the server
    // speaks only after the client's TLS hello), so nothing read is lost.
    let mut head = Vec::new();
    let mut piece = [0u8; 1024];
    let end = loop {
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if head.len() > MAX_CONNECT_RESPONSE {
            return Err(Error::new(
                ErrorKind::Proxy,
                format!(
                    "{}: CONNECT response head over {MAX_CONNECT_RESPONSE} bytes",
                    proxy.url
                ),
            ));
        }
        let n = stream.read(&mut piece).await.map_err(Error::io)?;
        if n == 0 {
            return Err(Error::new(
                ErrorKind::Io,
                format!("{} closed the connection during CONNECT", proxy.url),
            ));
        }
        head.extend_from_slice(&piece[..n]);
    };
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let parsed = response.parse(&head[..end]);
    let code = match (parsed, response.code) {
        // httparse also ends a head at a bare "\n\n" and skips empty lines
        // before the status line; the head read above ends at the first
        // "\r\n\r\n". Both must agree, or the bytes between would be
        // taken as part of the head (fuzz/fuzz_targets/proxy_connect.rs).
        (Ok(httparse::Status::Complete(len)), Some(code))
            if len == end && head.starts_with(b"HTTP/") =>
        {
            code
        }
        (Ok(httparse::Status::Complete(len)), Some(_)) if len < end => {
            return Err(Error::new(
                ErrorKind::Proxy,
                format!("{}: bytes after the CONNECT response", proxy.url),
            ))
        }
        _ => {
            return Err(Error::new(
                ErrorKind::Proxy,
                format!("{}: the answer to CONNECT is not HTTP", proxy.url),
            ))
        }
    };
    let status = http::StatusCode::from_u16(code).map_err(|e| {
        Error::with_source(ErrorKind::Proxy, format!("{}: bad status", proxy.url), e)
    })?;
    if !status.is_success() {
        return Err(Error::new(
            ErrorKind::Proxy,
            format!("{} refused CONNECT to {authority}: {status}", proxy.url),
        )
        .with_status(status));
    }
    if end < head.len() {
        return Err(Error::new(
            ErrorKind::Proxy,
            format!("{}: bytes after the CONNECT response", proxy.url),
        ));
    }
    log::debug!("tunnel to {authority} through {}", proxy.url);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(url: &str) -> Key {
        let url = Url::parse(url).unwrap();
        let host = match url.host().unwrap() {
            url::Host::Domain(d) => Host::Domain(d.into()),
            url::Host::Ipv4(ip) => Host::Ipv4(ip),
            url::Host::Ipv6(ip) => Host::Ipv6(ip),
        };
        Key {
            https: url.scheme() == "https",
            host,
            port: url.port_or_known_default().unwrap(),
        }
    }

    #[test]
    fn proxy_urls_give_host_port_and_credentials() {
        let proxy = Proxy::parse("http://al%40ice:p%3Ass@proxy.example:3128").unwrap();
        assert_eq!((proxy.host.as_str(), proxy.port), ("proxy.example", 3128));
        // base64("al@ice:p:ss")
        assert_eq!(proxy.authorization.unwrap(), "Basic YWxAaWNlOnA6c3M=");
        assert_eq!(proxy.url.as_str(), "http://proxy.example:3128/");
        let bare = Proxy::parse("127.0.0.1:8080").unwrap();
        assert_eq!((bare.host.as_str(), bare.port), ("127.0.0.1", 8080));
        assert!(bare.authorization.is_none());
        for bad in ["socks5://h:1", "https://h:1", "http://", "::"] {
            let err = Proxy::parse(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidUrl, "{bad}");
        }
    }

    #[test]
    fn no_proxy_matches_names_subdomains_and_addresses() {
        let list =
            NoProxy::parse(" localhost, .internal.example,10.0.0.1:80,[::1], other.test:8080");
        let hit = |url: &str| list.matches(&key(url).host);
        assert!(hit("http://localhost/"));
        assert!(hit("http://internal.example/"));
        assert!(hit("http://a.b.internal.example/"));
        assert!(!hit("http://notinternal.example/"));
        assert!(hit("http://10.0.0.1/"));
        assert!(!hit("http://10.0.0.2/"));
        assert!(hit("http://[::1]:9/"));
        assert!(hit("http://other.test/"));
        assert!(!hit("http://example.com/"));
        assert!(NoProxy::parse("*").matches(&key("http://any.where/").host));
        assert!(!NoProxy::parse("").matches(&key("http://any.where/").host));
    }

    #[test]
    fn routes_follow_scheme_and_bypass() {
        let mut proxies = Proxies::default();
        proxies.bypass("skip.example");
        proxies.set_all(Proxy::parse("http://p:1").unwrap());
        assert!(matches!(
            proxies.route(&key("http://a/"), false),
            Route::Forward(_)
        ));
        assert!(matches!(
            proxies.route(&key("http://a/"), true),
            Route::Tunnel(_)
        ));
        assert!(matches!(
            proxies.route(&key("https://a/"), false),
            Route::Tunnel(_)
        ));
        assert!(matches!(
            proxies.route(&key("https://skip.example/"), false),
            Route::Direct
        ));
        assert!(matches!(
            Proxies::default().route(&key("http://a/"), false),
            Route::Direct
        ));
    }
}

//! [`ClientBuilder`]: a client's settings and their defaults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderValue, ACCEPT, ACCEPT_ENCODING, USER_AGENT};
use url::Url;

use super::connect::key_of;
#[cfg(doc)]
use super::RequestBuilder;
use super::{Client, Inner, DEFAULT_MAX_BODY_BYTES, DEFAULT_POOL_IDLE_TIMEOUT, DEFAULT_USER_AGENT};
#[cfg(feature = "cookies")]
use crate::cookies::Jar;
use crate::decompress;
use crate::dns_cache::{Dns, DEFAULT_DNS_TTL};
#[cfg(doc)]
use crate::error::TimeoutKind;
use crate::error::{Error, ErrorKind};
use crate::hooks::{Event, Hook};
use crate::pool::{Limits, Pool};
use crate::proxy::{Proxies, Proxy};
#[cfg(doc)]
use crate::response::Response;
use crate::tls::{client_config, Certificate, Identity};
use ferrio_net::Resolver;

/// Settings for a [`Client`]; from [`Client::builder`].
///
/// | setting | default |
/// |---|---|
/// | [`limit`](ClientBuilder::limit) | 100 open connections |
/// | [`limit_per_host`](ClientBuilder::limit_per_host) | none |
/// | [`connect_timeout`](ClientBuilder::connect_timeout) | 30 s |
/// | [`read_timeout`](ClientBuilder::read_timeout) | none |
/// | [`timeout`](ClientBuilder::timeout) | 300 s (as aiohttp) |
/// | [`pool_timeout`](ClientBuilder::pool_timeout) | none (the total timeout still applies) |
/// | [`pool_idle_timeout`](ClientBuilder::pool_idle_timeout) | 15 s |
/// | [`max_redirects`](ClientBuilder::max_redirects) | 10 |
/// | [`user_agent`](ClientBuilder::user_agent) | `ferrio/<version>` |
/// | [`max_header_bytes`](ClientBuilder::max_header_bytes) | 64 KiB |
/// | [`max_body_bytes`](ClientBuilder::max_body_bytes) | 64 MiB ([`DEFAULT_MAX_BODY_BYTES`]) |
/// | [`raise_for_status`](ClientBuilder::raise_for_status) | off |
/// | [`base_url`](ClientBuilder::base_url) | none |
/// | [`cookie_store`](ClientBuilder::cookie_store) | off |
/// | [`ttl_dns_cache`](ClientBuilder::ttl_dns_cache) | 10 s |
/// | [`proxy`](ClientBuilder::proxy) | none (the environment is read only with [`proxy_from_env`](ClientBuilder::proxy_from_env)) |
///
/// ```
/// use std::time::Duration;
/// use ferrio::http::Client;
/// let client = Client::builder()
///     .limit(10)
///     .read_timeout(Duration::from_secs(5))
///     .max_redirects(0)
///     .user_agent("my-crawler/1.0")
///     .build()
///     .unwrap();
/// # drop(client);
/// ```
#[must_use]
pub struct ClientBuilder {
    limit: usize,
    limit_per_host: Option<usize>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    timeout: Option<Duration>,
    pool_timeout: Option<Duration>,
    pool_idle_timeout: Duration,
    max_redirects: usize,
    user_agent: HeaderValue,
    headers: HeaderMap,
    max_header_bytes: usize,
    max_body_bytes: u64,
    roots: Vec<Certificate>,
    identity: Option<Identity>,
    resolver: Resolver,
    ttl_dns_cache: Option<Duration>,
    raise_for_status: bool,
    base_url: Option<Url>,
    #[cfg(feature = "cookies")]
    jar: Option<Jar>,
    proxies: Proxies,
    hook: Option<Hook>,
    /// The first invalid setting, reported by `build`.
    error: Option<Error>,
}

impl ClientBuilder {
    pub(super) fn new() -> ClientBuilder {
        ClientBuilder {
            limit: 100,
            limit_per_host: None,
            connect_timeout: Some(Duration::from_secs(30)),
            read_timeout: None,
            timeout: Some(Duration::from_secs(300)),
            pool_timeout: None,
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            max_redirects: 10,
            user_agent: HeaderValue::from_static(DEFAULT_USER_AGENT),
            headers: HeaderMap::new(),
            max_header_bytes: 64 * 1024,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            roots: Vec::new(),
            identity: None,
            resolver: Resolver::system(),
            ttl_dns_cache: Some(DEFAULT_DNS_TTL),
            raise_for_status: false,
            base_url: None,
            #[cfg(feature = "cookies")]
            jar: None,
            proxies: Proxies::default(),
            hook: None,
            error: None,
        }
    }

    /// The most connections open at once, to all hosts together (connecting,
    /// in use or idle; aiohttp's `limit`). Requests beyond it wait, first
    /// come first served. At least 1.
    pub fn limit(mut self, n: usize) -> ClientBuilder {
        self.limit = n.max(1);
        self
    }

    /// The most connections open at once to one host (scheme, host and port;
    /// aiohttp's `limit_per_host`). At least 1.
    pub fn limit_per_host(mut self, n: usize) -> ClientBuilder {
        self.limit_per_host = Some(n.max(1));
        self
    }

    /// How long opening a connection may take: DNS, TCP connect and TLS
    /// handshake together. Fires as [`TimeoutKind::Connect`].
    pub fn connect_timeout(mut self, d: Duration) -> ClientBuilder {
        self.connect_timeout = Some(d);
        self
    }

    /// How long one read from the server may wait, for the head or any part
    /// of the body. Fires as [`TimeoutKind::Read`].
    pub fn read_timeout(mut self, d: Duration) -> ClientBuilder {
        self.read_timeout = Some(d);
        self
    }

    /// How long a whole request may take, from `send` to the end of the body,
    /// redirects included. Fires as [`TimeoutKind::Total`].
    pub fn timeout(mut self, d: Duration) -> ClientBuilder {
        self.timeout = Some(d);
        self
    }

    /// How long a request may wait for a connection when the limits are
    /// reached. Fires as [`ErrorKind::PoolTimeout`].
    pub fn pool_timeout(mut self, d: Duration) -> ClientBuilder {
        self.pool_timeout = Some(d);
        self
    }

    /// How long an idle keep-alive connection is kept for reuse. It is closed
    /// once it has been idle this long, whether or not the client is used
    /// again (a timer task of the client's pool does it), so a quiet client
    /// holds no sockets the server closed in the meantime. Keep it shorter
    /// than the servers' keep-alive timeout, so the client closes first and
    /// never sends a request on a connection the server is closing.
    pub fn pool_idle_timeout(mut self, d: Duration) -> ClientBuilder {
        self.pool_idle_timeout = d;
        self
    }

    /// How many redirects are followed; 0 returns 3xx responses as they are.
    pub fn max_redirects(mut self, n: usize) -> ClientBuilder {
        self.max_redirects = n;
        self
    }

    /// The `User-Agent` sent with every request.
    pub fn user_agent(mut self, value: impl AsRef<str>) -> ClientBuilder {
        match HeaderValue::from_str(value.as_ref()) {
            Ok(v) => self.user_agent = v,
            Err(e) => self.fail(Error::with_source(
                ErrorKind::InvalidRequest,
                "user agent",
                e,
            )),
        }
        self
    }

    /// Header fields sent with every request (a request's own field of the
    /// same name replaces it).
    ///
    /// ```
    /// use ferrio::http::{Client, HeaderMap, HeaderValue};
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-api-key", HeaderValue::from_static("secret"));
    /// let client = Client::builder().default_headers(headers).build().unwrap();
    /// # drop(client);
    /// ```
    pub fn default_headers(mut self, headers: HeaderMap) -> ClientBuilder {
        for (name, value) in headers {
            if let Some(name) = name {
                self.headers.insert(name, value);
            }
        }
        self
    }

    /// The most bytes a response head (status line and fields) may take.
    pub fn max_header_bytes(mut self, n: usize) -> ClientBuilder {
        self.max_header_bytes = n.max(16);
        self
    }

    /// The most bytes (after decoding gzip, deflate, brotli or zstd) that
    /// [`Response::bytes`], [`Response::text`] and [`Response::json`] accept;
    /// 64 MiB ([`DEFAULT_MAX_BODY_BYTES`]) unless set. Past it they fail with
    /// [`ErrorKind::TooLarge`], at once when `Content-Length` says so.
    /// [`Response::chunk`] streams a body of any size; `u64::MAX` lifts the
    /// cap for the others.
    ///
    /// ```
    /// let client = ferrio::http::Client::builder()
    ///     .max_body_bytes(1 << 30) // a 1 GiB download, read whole
    ///     .build()
    ///     .unwrap();
    /// # drop(client);
    /// ```
    pub fn max_body_bytes(mut self, n: u64) -> ClientBuilder {
        self.max_body_bytes = n;
        self
    }

    /// Trusts `cert` as a root for HTTPS, besides Mozilla's roots.
    pub fn add_root_certificate(mut self, cert: Certificate) -> ClientBuilder {
        self.roots.push(cert);
        self
    }

    /// How long a resolved host name is kept (aiohttp's `ttl_dns_cache`,
    /// 10 s by default); `None` looks the name up for every new connection.
    /// Only new connections resolve names: a kept-alive one does not.
    ///
    /// However the names are resolved, a client runs at most 8 blocking
    /// lookups at once, each holding its place until its resolver returns:
    /// a resolver that hangs holds at most 8 threads of the blocking pool,
    /// and further lookups wait (within their connect timeout) for a place.
    ///
    /// New connections try a host's addresses by Happy Eyeballs (RFC 8305):
    /// IPv6 and IPv4 alternate from the resolver's first answer, and each
    /// attempt has 250 ms to itself before the next address joins the race.
    ///
    /// ```
    /// use std::time::Duration;
    /// let client = ferrio::http::Client::builder()
    ///     .ttl_dns_cache(Some(Duration::from_secs(60)))
    ///     .build()
    ///     .unwrap();
    /// # drop(client);
    /// ```
    pub fn ttl_dns_cache(mut self, ttl: Option<Duration>) -> ClientBuilder {
        self.ttl_dns_cache = ttl;
        self
    }

    /// Presents `identity` (a client certificate chain and its key) to HTTPS
    /// servers that ask for one (mutual TLS; aiohttp's
    /// `ssl_context.load_cert_chain(cert, key)`). Servers that do not ask do
    /// not see it.
    ///
    /// # Errors
    ///
    /// [`build`](ClientBuilder::build) fails with [`ErrorKind::Tls`] when the
    /// key does not match the certificate or is of a kind rustls cannot use.
    pub fn identity(mut self, identity: Identity) -> ClientBuilder {
        self.identity = Some(identity);
        self
    }

    /// Resolves host names with `resolver` instead of the system's
    /// (`getaddrinfo`). Lookups count towards the connect timeout.
    ///
    /// ```
    /// use std::net::SocketAddr;
    /// use ferrio::http::Client;
    /// use ferrio::net::{Resolve, Resolver, SystemResolver};
    /// // api.test is 127.0.0.1, whatever DNS says.
    /// let resolver = Resolver::new(|host: &str, port: u16| match host {
    ///     "api.test" => Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))]),
    ///     _ => SystemResolver.resolve(host, port),
    /// });
    /// let client = Client::builder().resolver(resolver).build().unwrap();
    /// # drop(client);
    /// ```
    pub fn resolver(mut self, resolver: Resolver) -> ClientBuilder {
        self.resolver = resolver;
        self
    }

    /// Whether every 4xx or 5xx response becomes an [`ErrorKind::Status`]
    /// error at [`send`](RequestBuilder::send), as if
    /// [`Response::error_for_status`] were called on it (aiohttp's
    /// `ClientSession(raise_for_status=True)`). Redirects are followed first.
    ///
    /// ```
    /// let client = ferrio::http::Client::builder().raise_for_status(true).build().unwrap();
    /// # drop(client);
    /// ```
    pub fn raise_for_status(mut self, on: bool) -> ClientBuilder {
        self.raise_for_status = on;
        self
    }

    /// The URL that relative request URLs are resolved against (aiohttp's
    /// `ClientSession(base_url=...)`), by the rules of a link in a page: with
    /// a base of `http://host/api/`, `"posts/1"` is `http://host/api/posts/1`
    /// and `"/posts/1"` is `http://host/posts/1` (so end the base's path with
    /// `/`). An absolute URL is used as it is.
    ///
    /// ```
    /// use ferrio::http::Client;
    /// let api = Client::builder().base_url("http://127.0.0.1:8080/v1/").build().unwrap();
    /// let request = api.get("posts").query([("userId", "1")]);
    /// # drop(request);
    /// ```
    ///
    /// # Errors
    ///
    /// [`build`](ClientBuilder::build) fails with [`ErrorKind::InvalidUrl`]
    /// for a base that does not parse or is not `http`/`https`.
    pub fn base_url(mut self, url: impl AsRef<str>) -> ClientBuilder {
        let url = url.as_ref();
        let parsed = Url::parse(url)
            .map_err(|e| Error::with_source(ErrorKind::InvalidUrl, format!("base {url:?}"), e))
            .and_then(|parsed| key_of(&parsed).map(|_| parsed));
        match parsed {
            Ok(parsed) => self.base_url = Some(parsed),
            Err(e) => self.fail(e),
        }
        self
    }

    /// Whether the client keeps cookies: off by default (as in reqwest; an
    /// aiohttp session always has a jar). On, the client gets a jar of its
    /// own, which every clone shares; [`cookie_jar`](ClientBuilder::cookie_jar)
    /// gives it one to share with other clients or to look into.
    ///
    /// Cookies the servers set with `Set-Cookie` (on redirects too) are kept
    /// by the usual rules (domain and path, `Secure`, `Max-Age`/`Expires`) and
    /// sent with `Cookie` on every request they match, unless the request sets
    /// its own `Cookie` field. A `Set-Cookie` that does not parse is ignored.
    ///
    /// ```
    /// let client = ferrio::http::Client::builder().cookie_store(true).build().unwrap();
    /// # drop(client);
    /// ```
    ///
    /// Needs the cargo feature `cookies`.
    #[cfg(feature = "cookies")]
    pub fn cookie_store(mut self, on: bool) -> ClientBuilder {
        self.jar = on.then(|| self.jar.take().unwrap_or_default());
        self
    }

    /// Keeps cookies in `jar` (see [`cookie_store`](ClientBuilder::cookie_store)),
    /// shared with whoever else holds a clone of it.
    ///
    /// ```
    /// use ferrio::http::{Client, Jar};
    /// let jar = Jar::new();
    /// let a = Client::builder().cookie_jar(jar.clone()).build().unwrap();
    /// let b = Client::builder().cookie_jar(jar.clone()).build().unwrap(); // logged in too
    /// # drop((a, b));
    /// ```
    ///
    /// Needs the cargo feature `cookies`.
    #[cfg(feature = "cookies")]
    pub fn cookie_jar(mut self, jar: Jar) -> ClientBuilder {
        self.jar = Some(jar);
        self
    }

    /// Sends every request through the HTTP proxy at `url` (aiohttp's
    /// `proxy=`): plain HTTP requests go to it with their full URL as the
    /// target, HTTPS (and WebSocket) traffic through a `CONNECT` tunnel. A
    /// user and password in `url` (`http://user:pass@proxy:3128`) are sent as
    /// basic `Proxy-Authorization`. `host:port` alone means `http://host:port`.
    ///
    /// ```
    /// let client = ferrio::http::Client::builder()
    ///     .proxy("http://user:secret@127.0.0.1:3128")
    ///     .no_proxy("localhost, .internal.example")
    ///     .build()
    ///     .unwrap();
    /// # drop(client);
    /// ```
    ///
    /// # Errors
    ///
    /// [`build`](ClientBuilder::build) fails with [`ErrorKind::InvalidUrl`]
    /// for a URL that does not parse or is not `http://` (HTTPS to the proxy
    /// and SOCKS are not supported).
    pub fn proxy(mut self, url: impl AsRef<str>) -> ClientBuilder {
        match Proxy::parse(url.as_ref()) {
            Ok(proxy) => self.proxies.set_all(proxy),
            Err(e) => self.fail(e),
        }
        self
    }

    /// Takes the proxies from the environment (aiohttp's `trust_env=True`):
    /// `http_proxy` for `http://` URLs, `https_proxy` (or `HTTPS_PROXY`) for
    /// `https://` and `wss://`, and `no_proxy` (or `NO_PROXY`) for hosts to
    /// reach directly (see [`no_proxy`](ClientBuilder::no_proxy)). Uppercase
    /// `HTTP_PROXY` is not read: a CGI server sets it from a request's
    /// `Proxy:` header ("httpoxy"). Read once, here.
    ///
    /// ```
    /// let client = ferrio::http::Client::builder().proxy_from_env().build().unwrap();
    /// # drop(client);
    /// ```
    ///
    /// # Errors
    ///
    /// [`build`](ClientBuilder::build) fails with [`ErrorKind::InvalidUrl`]
    /// for a proxy variable that is not a usable proxy URL.
    pub fn proxy_from_env(mut self) -> ClientBuilder {
        match Proxies::from_env() {
            Ok(proxies) => self.proxies.replace(proxies),
            Err(e) => self.fail(e),
        }
        self
    }

    /// Hosts reached without the proxy, comma-separated as in `no_proxy`:
    /// `*` for all; a name for itself and its subdomains (`example.com` and
    /// `.example.com` both match `api.example.com`); an IP address for
    /// itself. Ports are ignored.
    pub fn no_proxy(mut self, list: &str) -> ClientBuilder {
        self.proxies.bypass(list);
        self
    }

    /// Calls `hook` at each step of every request (aiohttp's `TraceConfig`):
    /// start, DNS resolved, connection created or reused, response head,
    /// redirect, end or error; see [`Event`]. It gets the time since the
    /// request's [`send`](RequestBuilder::send), and runs on the request's
    /// task, in the middle of it: keep it short, and do not panic in it.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use ferrio::http::{Client, Event};
    /// let steps = Arc::new(Mutex::new(Vec::new()));
    /// let log = steps.clone();
    /// let client = Client::builder()
    ///     .on_event(move |event, elapsed| {
    ///         if let Event::ResponseHead { url, status } = event {
    ///             log.lock().unwrap().push(format!("{status} from {url} after {elapsed:?}"));
    ///         }
    ///     })
    ///     .build()
    ///     .unwrap();
    /// # drop(client);
    /// ```
    pub fn on_event(
        mut self,
        hook: impl Fn(&Event<'_>, Duration) + Send + Sync + 'static,
    ) -> ClientBuilder {
        self.hook = Some(Arc::new(hook));
        self
    }

    fn fail(&mut self, e: Error) {
        self.error.get_or_insert(e);
    }

    /// The client.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Tls`] for a root certificate that does not parse or a
    /// client [`identity`](ClientBuilder::identity) whose key does not fit;
    /// [`ErrorKind::InvalidRequest`] for an invalid user agent;
    /// [`ErrorKind::InvalidUrl`] for an invalid base URL.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, self.user_agent);
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        let accept_encoding = decompress::accept_encoding();
        headers.insert(ACCEPT_ENCODING, accept_encoding.clone());
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        let decompress = headers
            .get(ACCEPT_ENCODING)
            .is_some_and(|v| *v == accept_encoding);
        let limits = Limits {
            total: self.limit,
            per_host: self.limit_per_host.unwrap_or(usize::MAX),
            idle_timeout: self.pool_idle_timeout,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                pool: Pool::new(limits),
                dns: Dns::new(self.resolver, self.ttl_dns_cache),
                tls: client_config(&self.roots, self.identity.as_ref())?,
                headers,
                decompress,
                connect_timeout: self.connect_timeout,
                read_timeout: self.read_timeout,
                timeout: self.timeout,
                pool_timeout: self.pool_timeout,
                max_redirects: self.max_redirects,
                max_header_bytes: self.max_header_bytes,
                max_body_bytes: self.max_body_bytes,
                raise_for_status: self.raise_for_status,
                base_url: self.base_url,
                #[cfg(feature = "cookies")]
                jar: self.jar,
                proxies: self.proxies,
                hook: self.hook,
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("limit", &self.limit)
            .field("limit_per_host", &self.limit_per_host)
            .finish_non_exhaustive()
    }
}

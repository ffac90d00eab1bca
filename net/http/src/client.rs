//! The client (aiohttp's `ClientSession` with its `TCPConnector`): settings,
//! request building, and one request's life: a pooled or new connection, the
//! request written, the response head read, one retry on a stale keep-alive
//! connection, and redirects.
//!
//! Not here: parsing (`codec/`), the limits (`pool.rs`), the body (`response.rs`).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_LENGTH,
    CONTENT_TYPE, COOKIE, LOCATION, PROXY_AUTHORIZATION, TRANSFER_ENCODING, USER_AGENT,
};
use http::{Method, StatusCode};
use serde::Serialize;
use url::Url;

use super::codec::{self, BodyDecoder, ResponseHead};
use super::conn::{connect, Conn, Sent};
#[cfg(feature = "cookies")]
use super::cookies::Jar;
use super::deadline::Deadline;
use super::decode;
use super::dns_cache::{Dns, DEFAULT_DNS_TTL};
use super::error::{Error, ErrorKind, TimeoutKind};
use super::hooks::{Event, Hook, Tracer};
#[cfg(feature = "multipart")]
use super::multipart::Form;
#[cfg(feature = "ws")]
use super::pool::Permit;
use super::pool::{Host, Key, Limits, Pool};
use super::proxy::{Proxies, Proxy, Route};
use super::response::{BodyOptions, Response};
use super::tls::{client_config, Certificate, Identity};
use super::upload::Body;
use ferrio_net::Resolver;

/// The default [`ClientBuilder::user_agent`]: `ferrio/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("ferrio/", env!("CARGO_PKG_VERSION"));

/// The default [`ClientBuilder::max_body_bytes`]: 64 MiB.
///
/// Far more than an API answer or a page needs, so that a default client
/// reads whole what it is asked to; yet one response cannot make it hold a
/// gigabyte, nor the default 100 connections more than a few. Larger bodies
/// are read with [`Response::chunk`], which has no cap, or after raising it.
///
/// ```
/// assert_eq!(ferrio::http::DEFAULT_MAX_BODY_BYTES, 64 * 1024 * 1024);
/// ```
pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// How long an idle pooled connection is kept by default
/// ([`ClientBuilder::pool_idle_timeout`]).
pub(crate) const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(15);

/// Request bodies up to this size are written with the head in one write.
const COALESCE_BODY: usize = 16 * 1024;

/// The most of a redirect response's body read (and dropped) to keep its
/// connection; a longer one closes the connection instead.
const REDIRECT_DRAIN: usize = 64 * 1024;
/// How long that reading may take.
const REDIRECT_DRAIN_TIME: Duration = Duration::from_secs(1);

/// An HTTP/1.1 client with a pool of keep-alive connections (aiohttp's
/// `ClientSession` with a `TCPConnector`).
///
/// It is cheap to clone: clones share one pool and one configuration, so make
/// one and pass it around. It is `Send + Sync`.
///
/// ```
/// use ferrio::http::Client;
/// # use ferrio::io::{AsyncReadExt, AsyncWriteExt};
/// ferrio::run(async {
///     # let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     # let addr = listener.local_addr().unwrap();
///     # ferrio::spawn(async move {
///     #     let (mut s, _) = listener.accept().await.unwrap();
///     #     let mut buf = [0; 1024];
///     #     let _ = s.read(&mut buf).await;
///     #     s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi").await.unwrap();
///     # });
///     let client = Client::builder().limit(10).build().unwrap();
///     let text = client.get(format!("http://{addr}/")).send().await.unwrap().text().await.unwrap();
///     assert_eq!(text, "hi");
/// });
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool<Conn>,
    /// The resolver, its cache and its bound on lookups in flight.
    dns: Dns,
    tls: Arc<rustls::ClientConfig>,
    /// Sent with every request unless the request sets the same name.
    headers: HeaderMap,
    /// Whether `headers` asks for the codings compiled in (so a body in one
    /// of them is decoded).
    decompress: bool,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    timeout: Option<Duration>,
    pool_timeout: Option<Duration>,
    max_redirects: usize,
    max_header_bytes: usize,
    max_body_bytes: u64,
    /// Whether a 4xx or 5xx response is an [`ErrorKind::Status`] error.
    raise_for_status: bool,
    /// What relative request URLs are resolved against.
    base_url: Option<Url>,
    /// Where cookies are kept, if they are.
    #[cfg(feature = "cookies")]
    jar: Option<Jar>,
    /// Which requests go through which proxy.
    proxies: Proxies,
    /// Told of each step of every request.
    hook: Option<Hook>,
}

impl Client {
    /// A client with the default settings (see [`ClientBuilder`]).
    ///
    /// ```
    /// let client = ferrio::http::Client::new();
    /// let again = client.clone(); // the same pool
    /// # drop(again);
    /// ```
    // Cannot panic: the defaults add no certificate, and ring supports the default TLS versions.
    #[allow(clippy::missing_panics_doc)]
    pub fn new() -> Client {
        // The defaults add no certificate, and ring supports the default
        // protocol versions: nothing here can fail.
        ClientBuilder::new()
            .build()
            .expect("the default client configuration is valid")
    }

    /// A builder to set limits, timeouts and defaults.
    ///
    /// ```
    /// use std::time::Duration;
    /// let client = ferrio::http::Client::builder()
    ///     .limit(10)
    ///     .limit_per_host(2)
    ///     .connect_timeout(Duration::from_secs(3))
    ///     .timeout(Duration::from_secs(30))
    ///     .build()
    ///     .unwrap();
    /// # drop(client);
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A GET request to `url`; see [`request`](Client::request).
    pub fn get(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// A POST request to `url`; see [`request`](Client::request).
    pub fn post(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// A PUT request to `url`; see [`request`](Client::request).
    pub fn put(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// A PATCH request to `url`; see [`request`](Client::request).
    pub fn patch(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// A DELETE request to `url`; see [`request`](Client::request).
    pub fn delete(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    /// A HEAD request to `url`; see [`request`](Client::request).
    pub fn head(&self, url: impl AsRef<str>) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// A request with any method to `url` (`http` or `https`). A URL that
    /// does not parse is reported by [`send`](RequestBuilder::send). With a
    /// [`base_url`](ClientBuilder::base_url), a relative `url` is resolved
    /// against it.
    ///
    /// ```
    /// use ferrio::http::{Client, Method};
    /// let request = Client::new()
    ///     .request(Method::OPTIONS, "http://127.0.0.1:8080/")
    ///     .header("x-trace", "1");
    /// # drop(request);
    /// ```
    pub fn request(&self, method: Method, url: impl AsRef<str>) -> RequestBuilder {
        let url = url.as_ref();
        let parsed = match (Url::parse(url), &self.inner.base_url) {
            (Err(url::ParseError::RelativeUrlWithoutBase), Some(base)) => base.join(url),
            (parsed, _) => parsed,
        };
        let request = parsed
            .map_err(|e| Error::with_source(ErrorKind::InvalidUrl, format!("{url:?}"), e))
            .map(|url| Request {
                method,
                url,
                headers: HeaderMap::new(),
                body: None,
                stream: None,
                timeout: None,
            });
        RequestBuilder {
            client: self.clone(),
            request,
        }
    }
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("headers", &inner.headers)
            .field("connect_timeout", &inner.connect_timeout)
            .field("read_timeout", &inner.read_timeout)
            .field("timeout", &inner.timeout)
            .field("pool_timeout", &inner.pool_timeout)
            .field("max_redirects", &inner.max_redirects)
            .finish_non_exhaustive()
    }
}

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
    fn new() -> ClientBuilder {
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
        let accept_encoding = decode::accept_encoding();
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

struct Request {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Bytes>,
    /// A body read as it is sent, instead of `body`.
    stream: Option<Body>,
    timeout: Option<Duration>,
}

/// A request being built; from [`Client::get`] and friends. Nothing is sent
/// until [`send`](RequestBuilder::send); an invalid URL or header is reported
/// there.
///
/// ```
/// use std::time::Duration;
/// use ferrio::http::Client;
/// let request = Client::new()
///     .post("http://127.0.0.1:8080/posts")
///     .query([("draft", "true")])
///     .header("x-request-id", "42")
///     .json(&serde_json::json!({"title": "hello"}))
///     .timeout(Duration::from_secs(5));
/// # drop(request);
/// ```
#[must_use = "a request does nothing until it is sent"]
pub struct RequestBuilder {
    client: Client,
    request: Result<Request, Error>,
}

impl RequestBuilder {
    fn map(mut self, f: impl FnOnce(&mut Request) -> Result<(), Error>) -> RequestBuilder {
        if let Ok(request) = &mut self.request {
            if let Err(e) = f(request) {
                self.request = Err(e);
            }
        }
        self
    }

    /// Adds a header field (replacing the client's default of that name).
    pub fn header<K, V>(self, name: K, value: V) -> RequestBuilder
    where
        K: TryInto<HeaderName>,
        K::Error: std::error::Error + Send + Sync + 'static,
        V: TryInto<HeaderValue>,
        V::Error: std::error::Error + Send + Sync + 'static,
    {
        self.map(|request| {
            let name = name.try_into().map_err(|e| {
                Error::with_source(ErrorKind::InvalidRequest, "invalid header name", e)
            })?;
            let value = value.try_into().map_err(|e| {
                Error::with_source(
                    ErrorKind::InvalidRequest,
                    format!("invalid value for {name}"),
                    e,
                )
            })?;
            request.headers.append(name, value);
            Ok(())
        })
    }

    /// Adds every field of `headers`.
    pub fn headers(self, headers: HeaderMap) -> RequestBuilder {
        self.map(|request| {
            for (name, value) in &headers {
                request.headers.append(name.clone(), value.clone());
            }
            Ok(())
        })
    }

    /// Appends `value` to the URL's query, percent-encoded: anything that
    /// serialises with `serde_urlencoded`, as with reqwest, such as a slice,
    /// array or vector of `(name, value)` pairs, a map, or a struct with
    /// named fields.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// let client = ferrio::http::Client::new();
    /// let url = "http://127.0.0.1:8080/comments";
    /// let request = client.get(url).query(&[("postId", "1")]);
    /// let request = client.get(url).query([("postId", "1")]);
    /// let request = client.get(url).query(&vec![("postId", 1)]);
    /// let request = client.get(url).query(&BTreeMap::from([("postId", 1)]));
    /// # drop(request);
    /// ```
    ///
    /// # Errors
    ///
    /// At [`send`](RequestBuilder::send), [`ErrorKind::InvalidRequest`] if
    /// `value` does not serialise as a query (a bare number or string, a
    /// nested struct, a sequence of other than pairs).
    pub fn query<T: Serialize>(self, value: T) -> RequestBuilder {
        self.map(|request| {
            let mut pairs = request.url.query_pairs_mut();
            let result = value
                .serialize(serde_urlencoded::Serializer::new(&mut pairs))
                .map(|_| ());
            drop(pairs);
            // Nothing to add (an empty list) must leave no bare `?` behind.
            if request.url.query() == Some("") {
                request.url.set_query(None);
            }
            result.map_err(|e| {
                Error::with_source(ErrorKind::InvalidRequest, "serialising the query", e)
            })
        })
    }

    /// The request body.
    pub fn body(self, body: impl Into<Bytes>) -> RequestBuilder {
        self.map(|request| {
            request.body = Some(body.into());
            Ok(())
        })
    }

    /// A body read as it is sent, from a `Stream` or an `AsyncRead` (see
    /// [`Body`]): chunked, unless the request sets a `Content-Length` (then
    /// the body must be exactly that long). It is read once, so the request
    /// is not retried on a stale keep-alive connection, and a 307 or 308
    /// redirect is returned as the response instead of being followed.
    ///
    /// ```
    /// use ferrio::http::{Body, Client};
    /// let file_like = &b"a body that could be gigabytes"[..];
    /// let request = Client::new()
    ///     .put("http://127.0.0.1:8080/upload")
    ///     .body_stream(Body::from_async_read(file_like));
    /// # drop(request);
    /// ```
    ///
    /// # Errors
    ///
    /// At [`send`](RequestBuilder::send), [`ErrorKind::InvalidRequest`] if
    /// the stream fails, or gives other than the `Content-Length` it was
    /// given.
    pub fn body_stream(self, body: Body) -> RequestBuilder {
        self.map(|request| {
            request.body = None;
            request.stream = Some(body);
            Ok(())
        })
    }

    /// `value` as a JSON body, with `Content-Type: application/json` unless
    /// one is set.
    ///
    /// # Errors
    ///
    /// At [`send`](RequestBuilder::send), [`ErrorKind::Json`] if `value` does
    /// not serialise.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> RequestBuilder {
        self.map(|request| {
            let body = serde_json::to_vec(value)
                .map_err(|e| Error::with_source(ErrorKind::Json, "serialising the body", e))?;
            if !request.headers.contains_key(CONTENT_TYPE) {
                request
                    .headers
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            request.body = Some(body.into());
            Ok(())
        })
    }

    /// Sends `Authorization: Basic` with `user` and `password` (aiohttp's
    /// `BasicAuth`). The field is marked sensitive, and dropped on a redirect
    /// to another host.
    ///
    /// ```
    /// let request = ferrio::http::Client::new()
    ///     .get("http://127.0.0.1:8080/private")
    ///     .basic_auth("alice", Some("s3cret"));
    /// # drop(request);
    /// ```
    pub fn basic_auth(
        self,
        user: impl fmt::Display,
        password: Option<impl fmt::Display>,
    ) -> RequestBuilder {
        use base64::Engine;
        let pair = match password {
            Some(password) => format!("{user}:{password}"),
            None => format!("{user}:"),
        };
        let token = base64::engine::general_purpose::STANDARD.encode(pair);
        self.authorization(format!("Basic {token}"))
    }

    /// Sends `Authorization: Bearer <token>`. The field is marked sensitive,
    /// and dropped on a redirect to another host.
    ///
    /// ```
    /// let request = ferrio::http::Client::new()
    ///     .get("http://127.0.0.1:8080/me")
    ///     .bearer_auth("eyJhbGciOi...");
    /// # drop(request);
    /// ```
    pub fn bearer_auth(self, token: impl fmt::Display) -> RequestBuilder {
        self.authorization(format!("Bearer {token}"))
    }

    fn authorization(self, value: String) -> RequestBuilder {
        self.map(|request| {
            let mut value = HeaderValue::from_str(&value).map_err(|e| {
                Error::with_source(ErrorKind::InvalidRequest, "invalid credentials", e)
            })?;
            value.set_sensitive(true);
            request.headers.insert(AUTHORIZATION, value);
            Ok(())
        })
    }

    /// `value` as an `application/x-www-form-urlencoded` body (aiohttp's
    /// `data={...}`), with that `Content-Type` unless one is set. As with
    /// reqwest, `value` is anything that serialises with `serde_urlencoded`:
    /// a slice, array or vector of `(name, value)` pairs, a map, a struct.
    ///
    /// ```
    /// let request = ferrio::http::Client::new()
    ///     .post("http://127.0.0.1:8080/login")
    ///     .form(&[("user", "alice"), ("next", "/home?tab=1")]);
    /// # drop(request);
    /// ```
    ///
    /// # Errors
    ///
    /// At [`send`](RequestBuilder::send), [`ErrorKind::InvalidRequest`] if
    /// `value` does not serialise as a form.
    pub fn form<T: Serialize>(self, value: T) -> RequestBuilder {
        self.map(|request| {
            let body = serde_urlencoded::to_string(value).map_err(|e| {
                Error::with_source(ErrorKind::InvalidRequest, "serialising the form", e)
            })?;
            if !request.headers.contains_key(CONTENT_TYPE) {
                request.headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
            }
            request.body = Some(body.into());
            Ok(())
        })
    }

    /// `form` as a `multipart/form-data` body (aiohttp's `FormData`), with
    /// its `Content-Type` and boundary.
    ///
    /// ```
    /// use ferrio::http::multipart::Form;
    /// let form = Form::new().text("title", "notes").file("upload", "notes.txt", "remember the milk");
    /// let request = ferrio::http::Client::new().post("http://127.0.0.1:8080/upload").multipart(form);
    /// # drop(request);
    /// ```
    ///
    /// # Errors
    ///
    /// At [`send`](RequestBuilder::send), [`ErrorKind::InvalidRequest`] for a
    /// part whose content type has control characters.
    ///
    /// Needs the cargo feature `multipart`.
    #[cfg(feature = "multipart")]
    pub fn multipart(self, form: Form) -> RequestBuilder {
        self.map(|request| {
            let (body, content_type) = form.encode()?;
            request.headers.insert(CONTENT_TYPE, content_type);
            request.body = Some(body);
            Ok(())
        })
    }

    /// The whole-request timeout for this request, instead of the client's
    /// [`timeout`](ClientBuilder::timeout).
    pub fn timeout(self, d: Duration) -> RequestBuilder {
        self.map(|request| {
            request.timeout = Some(d);
            Ok(())
        })
    }

    /// Sends the request and waits for the response head (the body is read
    /// from the [`Response`]).
    ///
    /// # Errors
    ///
    /// Any [`ErrorKind`]; a status such as 404 or 500 is a response, not an
    /// error, unless the client was built with
    /// [`raise_for_status`](ClientBuilder::raise_for_status).
    pub async fn send(self) -> Result<Response, Error> {
        let request = self.request?;
        let timeout = request.timeout.or(self.client.inner.timeout);
        let deadline = Deadline::after(timeout, TimeoutKind::Total);
        let url = request.url.clone();
        let inner = &self.client.inner;
        #[cfg(feature = "tracing")]
        let span = crate::hooks::spans::request(&request.method, &url);
        let tracer = Tracer::start(inner.hook.as_ref());
        #[cfg(feature = "tracing")]
        let tracer = tracer.with_span(&span);
        tracer.emit(|| Event::RequestStart {
            method: &request.method,
            url: &url,
        });
        // Pinned where it is made, so that only a pointer to it moves into
        // the deadline's future (the exchange is this request's biggest).
        let exchange = std::pin::pin!(inner.execute(request, deadline, tracer));
        // The request's span is entered while the exchange is polled, so
        // that the connection's span and the events are inside it.
        #[cfg(feature = "tracing")]
        let exchange = tracing::Instrument::instrument(exchange, span.clone());
        let result = deadline
            .run(exchange)
            .await
            .unwrap_or_else(|kind| Err(Error::timeout(kind).at(&url)));
        let result = match result {
            Ok(response) if inner.raise_for_status => response.error_for_status(),
            other => other,
        };
        match &result {
            Ok(response) => tracer.emit(|| Event::RequestEnd {
                url: response.url(),
                status: response.status(),
            }),
            Err(error) => tracer.emit(|| Event::RequestError {
                url: error.url().unwrap_or(&url),
                error,
            }),
        }
        result
    }
}

impl fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.request {
            Ok(r) => f
                .debug_struct("RequestBuilder")
                .field("method", &r.method)
                .field("url", &r.url.as_str())
                .field("headers", &r.headers)
                .finish_non_exhaustive(),
            Err(e) => f.debug_tuple("RequestBuilder").field(e).finish(),
        }
    }
}

/// What a protocol that takes a connection over (WebSocket, `ws.rs`) needs
/// from the client: its settings, and a new connection in a pool slot.
#[cfg(feature = "ws")]
impl Client {
    /// A new connection (DNS, TCP, TLS under the connect timeout) to the
    /// host of `url` (`http`/`https`), in a slot of the pool's limits that is
    /// held until the returned permit is dropped.
    pub(crate) async fn open_connection(&self, url: &Url) -> Result<(Conn, Permit<Conn>), Error> {
        let inner = &self.inner;
        let key = key_of(url)?;
        let acquire = std::pin::pin!(inner.pool.acquire(key.clone()));
        let checkout = Deadline::after(inner.pool_timeout, ())
            .run(acquire)
            .await
            .map_err(|()| {
                Error::new(ErrorKind::PoolTimeout, "no connection free for the upgrade")
            })?;
        // An idle keep-alive connection is closed rather than taken over:
        // the server may be closing it.
        drop(checkout.idle);
        // Through a proxy, the upgrade goes through a tunnel.
        let tracer = Tracer::start(inner.hook.as_ref());
        let conn = inner.connect_for(&key, true, tracer).await?;
        Ok((conn, checkout.permit))
    }

    /// The client's default header fields.
    pub(crate) fn default_headers(&self) -> &HeaderMap {
        &self.inner.headers
    }

    /// The connect and read timeouts.
    pub(crate) fn timeouts(&self) -> (Option<Duration>, Option<Duration>) {
        (self.inner.connect_timeout, self.inner.read_timeout)
    }
}

/// Rewrites an encoded request head for a forward proxy: the target in
/// absolute form (`GET http://host:port/path HTTP/1.1`), and the proxy's
/// credentials unless the request has its own `Proxy-Authorization`.
fn to_absolute_form(
    head: &mut Vec<u8>,
    method: &Method,
    url: &Url,
    proxy: &Proxy,
    headers: &HeaderMap,
) {
    // The head starts "METHOD /path": the origin goes before the path.
    let at = method.as_str().len() + 1;
    let origin = url.origin().ascii_serialization();
    head.splice(at..at, origin.bytes());
    if let (Some(auth), false) = (
        &proxy.authorization,
        headers.contains_key(PROXY_AUTHORIZATION),
    ) {
        let line_end = head
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(head.len(), |i| i + 2);
        let mut field = b"proxy-authorization: ".to_vec();
        field.extend_from_slice(auth.as_bytes());
        field.extend_from_slice(b"\r\n");
        head.splice(line_end..line_end, field);
    }
}

/// The pool key of `url`, which must be `http` or `https` with a host.
fn key_of(url: &Url) -> Result<Key, Error> {
    let https = match url.scheme() {
        "http" => false,
        "https" => true,
        other => {
            return Err(Error::new(
                ErrorKind::InvalidUrl,
                format!("unsupported scheme {other:?}"),
            ))
        }
    };
    let host = match url.host() {
        Some(url::Host::Domain(d)) if !d.is_empty() => Host::Domain(d.into()),
        Some(url::Host::Ipv4(ip)) => Host::Ipv4(ip),
        Some(url::Host::Ipv6(ip)) => Host::Ipv6(ip),
        _ => return Err(Error::new(ErrorKind::InvalidUrl, "no host")),
    };
    let port = url
        .port_or_known_default()
        .unwrap_or(if https { 443 } else { 80 });
    Ok(Key { https, host, port })
}

/// Where a redirect from `url` with `location` goes: `location` resolved
/// against `url` (RFC 9110, 10.2.2), which must be an `http` or `https` URL
/// with a host.
pub(crate) fn redirect_target(url: &Url, location: &HeaderValue) -> Result<Url, Error> {
    location
        .to_str()
        .ok()
        .and_then(|l| url.join(l).ok())
        .filter(|next| key_of(next).is_ok())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Redirect,
                format!("invalid Location {location:?}"),
            )
        })
}

/// Methods that can be sent twice with the effect of once (RFC 9110, 9.2.2).
fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// What one pass of a request (one hop of its redirects) carries besides
/// the request itself.
#[derive(Clone, Copy)]
struct Pass<'t> {
    /// Whether a compressed body is decoded.
    decompress: bool,
    /// The request's total deadline.
    deadline: Deadline,
    tracer: Tracer<'t>,
}

/// A streamed body and how it is framed.
struct Upload {
    body: Body,
    /// Sent with `Transfer-Encoding: chunked` (no length was given).
    chunked: bool,
    /// The `Content-Length` the request gave, which the body must match.
    length: Option<u64>,
}

impl Upload {
    /// Frames `body` by the request's `headers`: its own `Content-Length`,
    /// else chunked (added to `headers`).
    fn new(body: Body, headers: &mut HeaderMap) -> Upload {
        let length = headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        if length.is_none() && !headers.contains_key(TRANSFER_ENCODING) {
            headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        }
        let chunked = length.is_none();
        Upload {
            body,
            chunked,
            length,
        }
    }
}

/// A failed exchange, and whether the server may never have seen the request.
struct Failed {
    error: Error,
    /// The connection failed before any byte of a response arrived.
    before_response: bool,
}

impl Inner {
    /// Sends `request`, following redirects.
    async fn execute(
        &self,
        request: Request,
        deadline: Deadline,
        tracer: Tracer<'_>,
    ) -> Result<Response, Error> {
        let Request {
            mut method,
            mut url,
            headers,
            mut body,
            stream,
            ..
        } = request;
        let mut headers = self.merged_headers(headers);
        let mut upload = stream.map(|body| Upload::new(body, headers.to_mut()));
        let decompress =
            self.decompress && headers.get(ACCEPT_ENCODING) == self.headers.get(ACCEPT_ENCODING);
        let mut visited: Vec<Url> = Vec::new();
        loop {
            let with_cookies = self.with_cookies(&headers, &url);
            let response = self
                .send_once(
                    &method,
                    &url,
                    with_cookies.as_ref().unwrap_or(&headers),
                    body.as_ref(),
                    upload.as_mut(),
                    Pass {
                        decompress,
                        deadline,
                        tracer,
                    },
                )
                .await
                .map_err(|e| e.at(&url))?;
            tracer.emit(|| Event::ResponseHead {
                url: &url,
                status: response.status(),
            });
            #[cfg(feature = "cookies")]
            if let Some(jar) = &self.jar {
                jar.store_from(response.headers(), &url);
            }
            let status = response.status();
            if self.max_redirects == 0 || !is_redirect(status) {
                return Ok(response);
            }
            let keeps_method = matches!(
                status,
                StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
            );
            if upload.is_some() && keeps_method {
                // The streamed body is spent: it cannot go to the new URL.
                return Ok(response);
            }
            let Some(location) = response.headers().get(LOCATION) else {
                return Ok(response);
            };
            let next = redirect_target(&url, location).map_err(|e| e.at(&url))?;
            visited.push(url.clone());
            if visited.contains(&next) {
                return Err(Error::new(
                    ErrorKind::Redirect,
                    format!("redirect loop back to {next}"),
                )
                .at(&url));
            }
            if visited.len() > self.max_redirects {
                return Err(Error::new(
                    ErrorKind::Redirect,
                    format!("more than {} redirects", self.max_redirects),
                )
                .at(&url));
            }
            log::debug!("{status} redirect from {url} to {next}");
            tracer.emit(|| Event::Redirect {
                from: &url,
                to: &next,
                status,
            });
            // Boxed: only redirects drain, and the draining future (the
            // response and a timeout) would otherwise be part of every
            // request's future.
            Box::pin(response.discard(REDIRECT_DRAIN, REDIRECT_DRAIN_TIME)).await;
            let to_get = status == StatusCode::SEE_OTHER && method != Method::HEAD
                || matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                    && method == Method::POST;
            if to_get {
                method = Method::GET;
                body = None;
                upload = None;
                let headers = headers.to_mut();
                headers.remove(CONTENT_TYPE);
                headers.remove(CONTENT_LENGTH);
                headers.remove(TRANSFER_ENCODING);
            }
            if key_of(&url).ok() != key_of(&next).ok() {
                let headers = headers.to_mut();
                headers.remove(AUTHORIZATION);
                headers.remove(PROXY_AUTHORIZATION);
                headers.remove(COOKIE);
            }
            url = next;
        }
    }

    /// `headers` and the jar's `Cookie` field for `url`, if the client has a
    /// jar, the request no `Cookie` of its own, and a cookie matches.
    #[cfg(feature = "cookies")]
    fn with_cookies(&self, headers: &HeaderMap, url: &Url) -> Option<HeaderMap> {
        if headers.contains_key(COOKIE) {
            return None;
        }
        let cookie = self.jar.as_ref()?.header_for(url)?;
        let mut headers = headers.clone();
        headers.insert(COOKIE, cookie);
        Some(headers)
    }

    /// No jar without the `cookies` feature: the request's fields as they are.
    #[cfg(not(feature = "cookies"))]
    fn with_cookies(&self, _: &HeaderMap, _: &Url) -> Option<HeaderMap> {
        None
    }

    /// The client's default fields under the request's own: the defaults
    /// themselves, not a copy, for a request with no fields of its own.
    fn merged_headers(&self, own: HeaderMap) -> Cow<'_, HeaderMap> {
        if own.is_empty() {
            return Cow::Borrowed(&self.headers);
        }
        let mut headers = self.headers.clone();
        for name in own.keys() {
            headers.remove(name);
            for value in own.get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        Cow::Owned(headers)
    }

    /// One request and its response head, with no redirect following.
    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<&Bytes>,
        mut upload: Option<&mut Upload>,
        pass: Pass<'_>,
    ) -> Result<Response, Error> {
        let Pass {
            decompress,
            deadline,
            tracer,
        } = pass;
        let key = key_of(url)?;
        let mut head = self.encode_head(method, url, headers, body);
        if let Route::Forward(proxy) = self.proxies.route(&key, false) {
            to_absolute_form(&mut head, method, url, proxy, headers);
        }
        let acquire = std::pin::pin!(self.pool.acquire(key.clone()));
        let checkout = match self.pool_timeout {
            None => acquire.await,
            Some(d) => Deadline::after(d, ()).run(acquire).await.map_err(|()| {
                Error::new(
                    ErrorKind::PoolTimeout,
                    format!("no connection free after {d:?}"),
                )
            })?,
        };
        let permit = checkout.permit;
        let reusable = checkout
            .idle
            .and_then(|mut idle| idle.is_alive().then_some(idle));
        let mut conn = match reusable {
            Some(idle) => {
                tracer.emit(|| Event::ConnectionReused { url });
                idle
            }
            None => self.connect_traced(&key, url, tracer).await?,
        };
        loop {
            match self
                .exchange(
                    &mut conn,
                    &head,
                    body,
                    upload.as_deref_mut(),
                    method,
                    deadline,
                )
                .await
            {
                Ok((head_in, decoder, keep_alive)) => {
                    let options = BodyOptions {
                        keep_alive,
                        decompress,
                        read_timeout: self.read_timeout,
                        deadline,
                        max_body_bytes: self.max_body_bytes,
                    };
                    return Ok(Response::new(
                        head_in,
                        url.clone(),
                        conn,
                        permit,
                        decoder,
                        options,
                    ));
                }
                Err(failed)
                    if failed.before_response
                        && conn.is_reused()
                        && is_idempotent(method)
                        && upload.is_none() =>
                {
                    log::debug!(
                        "kept-alive connection to {key} failed before a response ({}); retrying on a new one",
                        failed.error
                    );
                    // The same slot, a new connection.
                    conn = self.connect_traced(&key, url, tracer).await?;
                }
                Err(failed) => return Err(failed.error),
            }
        }
    }

    fn encode_head(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<&Bytes>,
    ) -> Vec<u8> {
        let mut headers = Cow::Borrowed(headers);
        let framed =
            headers.contains_key(CONTENT_LENGTH) || headers.contains_key(TRANSFER_ENCODING);
        let length = match body {
            Some(body) => Some(body.len()),
            None if matches!(*method, Method::POST | Method::PUT | Method::PATCH) => Some(0),
            None => None,
        };
        if let (false, Some(length)) = (framed, length) {
            headers
                .to_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
        let mut out = Vec::with_capacity(256);
        codec::encode_request_head(method, url, &headers, &mut out);
        if let Some(body) = body.filter(|b| b.len() <= COALESCE_BODY) {
            out.extend_from_slice(body);
        }
        out
    }

    /// Opens a new connection for `key` (to fetch `url`) within the connect
    /// timeout, and tells the hook how long it took.
    async fn connect_traced(
        &self,
        key: &Key,
        url: &Url,
        tracer: Tracer<'_>,
    ) -> Result<Conn, Error> {
        let started = tracer.is_on().then(Instant::now);
        let conn = self.connect_for(key, false, tracer).await?;
        if let Some(started) = started {
            let took = started.elapsed();
            tracer.emit(|| Event::ConnectionCreated { url, took });
        }
        Ok(conn)
    }

    /// Opens a new connection for `key` within the connect timeout; through
    /// a proxy, a tunnel if `tunnel` (or HTTPS) asks for one.
    async fn connect_for(
        &self,
        key: &Key,
        tunnel: bool,
        tracer: Tracer<'_>,
    ) -> Result<Conn, Error> {
        let route = self.proxies.route(key, tunnel);
        let deadline = Deadline::after(self.connect_timeout, TimeoutKind::Connect);
        // DNS, TCP and TLS make the biggest future of a request (about 3 KB),
        // and most requests reuse a connection: on the heap, it is allocated
        // only when a connection is opened, instead of making every request's
        // future bigger (and every move of it a bigger copy).
        let opening = Box::pin(connect(key, route, &self.dns, &self.tls, tracer));
        #[cfg(feature = "tracing")]
        {
            let span = crate::hooks::spans::connect(key);
            let started = Instant::now();
            let opening = tracing::Instrument::instrument(opening, span.clone());
            let opened = deadline.run(opening).await.map_err(Error::timeout);
            let opened = opened.and_then(|conn| conn);
            match &opened {
                Ok(_) => span.record(
                    "time.connect_us",
                    crate::hooks::spans::micros(started.elapsed()),
                ),
                Err(e) => span.record("error", tracing::field::display(e)),
            };
            opened
        }
        #[cfg(not(feature = "tracing"))]
        deadline.run(opening).await.map_err(Error::timeout)?
    }

    /// Writes the request and reads the response head; skips 1xx heads.
    async fn exchange(
        &self,
        conn: &mut Conn,
        head: &[u8],
        body: Option<&Bytes>,
        upload: Option<&mut Upload>,
        method: &Method,
        deadline: Deadline,
    ) -> Result<(ResponseHead, BodyDecoder, bool), Failed> {
        let early = |error: Error| Failed {
            before_response: error_is_connection(&error),
            error,
        };
        // `send` bounds this whole exchange by the total deadline, but its
        // timer fires only while the exchange waits: each write and read
        // checks the deadline first (without a timer of its own), so a server
        // that is always ready cannot carry the exchange past it.
        let past_deadline = || Failed {
            error: Error::timeout(TimeoutKind::Total),
            before_response: false,
        };
        if deadline.is_past() {
            return Err(past_deadline());
        }
        conn.write_all(head, Deadline::none())
            .await
            .map_err(early)?;
        // Whether every byte of the request went out: a connection whose
        // request was cut short by an early answer cannot carry another.
        let mut sent_all = true;
        // The failed write of a body the server may have answered early.
        let mut write_failed = None;
        if let Some(body) = body.filter(|b| b.len() > COALESCE_BODY) {
            let watched = conn
                .write_watching(body, deadline, self.max_header_bytes, has_final_head)
                .await
                .map_err(early)?;
            match watched {
                Sent::All => {}
                Sent::Answered => sent_all = false,
                Sent::Failed(error) => {
                    sent_all = false;
                    write_failed = Some(error);
                }
            }
        }
        if let Some(upload) = upload {
            // Streamed bodies are written here, and only here (`upload.rs`).
            let (chunked, length) = (upload.chunked, upload.length);
            upload
                .body
                .write_to(conn, chunked, length, deadline)
                .await
                .map_err(|error| Failed {
                    error,
                    before_response: false,
                })?;
        }
        let mut received = false;
        loop {
            match codec::parse_response_head(conn.buffered(), self.max_header_bytes) {
                Ok(Some((head, len))) => {
                    conn.consume(len);
                    if head.status.is_informational()
                        && head.status != StatusCode::SWITCHING_PROTOCOLS
                    {
                        continue;
                    }
                    let framing = codec::framing(method, &head).map_err(|e| Failed {
                        error: Error::with_source(ErrorKind::MalformedResponse, "", e),
                        before_response: false,
                    })?;
                    let decoder = BodyDecoder::new(framing.kind, self.max_header_bytes);
                    return Ok((head, decoder, framing.keep_alive && sent_all));
                }
                Ok(None) => {}
                Err(e) => {
                    let kind = if e.is_too_large() {
                        ErrorKind::TooLarge
                    } else {
                        ErrorKind::MalformedResponse
                    };
                    return Err(Failed {
                        error: Error::with_source(kind, "", e),
                        before_response: false,
                    });
                }
            }
            if let Some(error) = write_failed.take().filter(|_| conn.buffered().is_empty()) {
                // Nothing from the server before the write failed: a
                // response may still be on its way (its reset may have
                // overtaken it), but most likely there is none.
                if deadline.is_past() {
                    return Err(past_deadline());
                }
                let read = Deadline::after(self.read_timeout, TimeoutKind::Read);
                if !matches!(conn.fill(read).await, Ok(n) if n > 0) {
                    return Err(early(error));
                }
                received = true;
                continue;
            }
            if deadline.is_past() {
                return Err(past_deadline());
            }
            let read = Deadline::after(self.read_timeout, TimeoutKind::Read);
            match conn.fill(read).await {
                Ok(0) => {
                    return Err(Failed {
                        error: Error::new(
                            ErrorKind::Io,
                            "connection closed before a complete response head",
                        ),
                        before_response: !received,
                    })
                }
                Ok(_) => received = true,
                Err(error) => {
                    let before_response = !received && error_is_connection(&error);
                    return Err(Failed {
                        error,
                        before_response,
                    });
                }
            }
        }
    }
}

/// Whether `buf` starts with a final response head (or with bytes that can
/// never be one), after any number of 1xx heads: while a body is being sent,
/// the point at which the server has answered.
fn has_final_head(mut buf: &[u8]) -> bool {
    loop {
        match codec::parse_response_head(buf, usize::MAX) {
            Ok(Some((head, len)))
                if head.status.is_informational()
                    && head.status != StatusCode::SWITCHING_PROTOCOLS =>
            {
                buf = &buf[len..];
            }
            Ok(Some(_)) => return true,
            Ok(None) => return false,
            Err(_) => return true,
        }
    }
}

/// Whether `e` is the connection failing (not a timeout or a bad response).
fn error_is_connection(e: &Error) -> bool {
    e.kind() == ErrorKind::Io
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_sync_and_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<Client>();
    }

    #[test]
    fn keys_name_scheme_host_and_port() {
        let key = key_of(&Url::parse("https://Example.COM/x").unwrap()).unwrap();
        assert_eq!(
            (key.https, &*key.host.to_string(), key.port),
            (true, "example.com", 443)
        );
        let key = key_of(&Url::parse("http://[::1]:8080/").unwrap()).unwrap();
        assert_eq!(
            (key.https, &*key.host.to_string(), key.port),
            (false, "::1", 8080)
        );
        let key = key_of(&Url::parse("http://127.0.0.1:8080/").unwrap()).unwrap();
        assert_eq!(key.to_string(), "http://127.0.0.1:8080");
        assert_eq!(
            key_of(&Url::parse("ftp://example.com/").unwrap())
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidUrl
        );
        assert_eq!(
            key_of(&Url::parse("file:///etc/passwd").unwrap())
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidUrl
        );
    }

    #[test]
    fn request_headers_replace_defaults_of_the_same_name() {
        let client = Client::builder().user_agent("a/1").build().unwrap();
        let mut own = HeaderMap::new();
        own.append(USER_AGENT, HeaderValue::from_static("b/2"));
        own.append("x-many", HeaderValue::from_static("1"));
        own.append("x-many", HeaderValue::from_static("2"));
        let merged = client.inner.merged_headers(own);
        assert_eq!(merged[USER_AGENT], "b/2");
        assert_eq!(merged.get_all("x-many").iter().count(), 2);
        assert_eq!(merged[ACCEPT_ENCODING], decode::accept_encoding());
    }

    #[test]
    fn bodies_get_a_content_length() {
        let client = Client::new();
        let url = Url::parse("http://h/p").unwrap();
        let head = client
            .inner
            .encode_head(&Method::POST, &url, &HeaderMap::new(), None);
        let text = String::from_utf8(head).unwrap();
        assert!(
            text.starts_with("POST /p HTTP/1.1\r\nhost: h\r\n"),
            "{text}"
        );
        assert!(text.contains("content-length: 0\r\n"), "{text}");
        let body = Bytes::from_static(b"abc");
        let head = client
            .inner
            .encode_head(&Method::PUT, &url, &HeaderMap::new(), Some(&body));
        assert!(head.ends_with(b"content-length: 3\r\n\r\nabc"));
        let head = client
            .inner
            .encode_head(&Method::GET, &url, &HeaderMap::new(), None);
        assert!(!String::from_utf8(head).unwrap().contains("content-length"));
    }

    #[test]
    fn invalid_header_is_reported_at_send() {
        let builder = Client::new().get("http://h/").header("bad name", "v");
        assert!(matches!(&builder.request, Err(e) if e.kind() == ErrorKind::InvalidRequest));
        let builder = Client::new().get("http://h/").header("x", "bad\nvalue");
        assert!(matches!(&builder.request, Err(e) if e.kind() == ErrorKind::InvalidRequest));
    }
}

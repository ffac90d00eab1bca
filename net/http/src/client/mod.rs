//! The client (aiohttp's `ClientSession` with its `TCPConnector`): settings,
//! request building, and one request's life: a pooled or new connection, the
//! request written, the response head read, one retry on a stale keep-alive
//! connection, and redirects.
//!
//! - `mod.rs`: [`Client`] and the settings it keeps;
//! - `builder.rs`: [`ClientBuilder`];
//! - `request.rs`: [`RequestBuilder`] and `send`;
//! - `send.rs`: one request across its redirects, and one pass of it on a
//!   pooled or new connection;
//! - `exchange.rs`: the request written and the response head read on one
//!   connection, its progress a named state (`WritingHead` ... `ReadingHead`);
//! - `redirect.rs`, `retry.rs`: the decisions, pure functions over plain
//!   values tested with tables: `next_hop` (is a response followed, to where,
//!   with which method and fields) and `may_retry` (is a failed request sent
//!   again on a new connection);
//! - `connect.rs`: pool keys and new connections.
//!
//! Not here: parsing (`codec/`), the limits (`pool.rs`), the body (`response.rs`).

mod builder;
mod connect;
mod exchange;
mod redirect;
mod request;
mod retry;
mod send;

pub use builder::ClientBuilder;
#[cfg(feature = "fuzzing")]
pub(crate) use redirect::redirect_target;
use request::Request;
pub use request::RequestBuilder;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::header::HeaderMap;
use http::Method;
use url::Url;

use super::conn::Conn;
#[cfg(feature = "cookies")]
use super::cookies::Jar;
use super::dns_cache::Dns;
use super::error::{Error, ErrorKind};
use super::hooks::Hook;
use super::pool::Pool;
use super::proxy::Proxies;
#[cfg(doc)]
use crate::response::Response;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_sync_and_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<Client>();
    }
}

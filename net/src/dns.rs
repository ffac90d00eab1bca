//! Name resolution (asyncio's `getaddrinfo`): host names are resolved by a
//! blocking resolver on the executor's blocking pool, under a timeout.
//!
//! The system resolver is `getaddrinfo(3)`. It cannot be cancelled: when the
//! timeout passes, the caller gets `ErrorKind::TimedOut` at once and the lookup
//! finishes on its pool thread, its answer dropped.
//!
//! Not here: parsing addresses ([`crate::ToSocketAddrs`]) or connecting.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::addr::{Target, ToSocketAddrs};

/// How long [`lookup_host`] (and so `TcpStream::connect` with a host name)
/// waits for the resolver.
pub const DEFAULT_RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// A blocking name resolver: turns a host name and port into addresses. It
/// runs on the blocking pool, so it may block.
///
/// Closures `Fn(&str, u16) -> io::Result<Vec<SocketAddr>>` are resolvers, which
/// makes a fixed table (or a slow resolver, to test timeouts) one line:
///
/// ```
/// use std::net::SocketAddr;
/// use ferrio::net::Resolver;
/// let resolver = Resolver::new(|host: &str, port: u16| {
///     assert_eq!(host, "db.internal");
///     Ok(vec![SocketAddr::from(([10, 0, 0, 7], port))])
/// });
/// ferrio::run(async {
///     let addrs = resolver.lookup("db.internal:5432").await.unwrap();
///     assert_eq!(addrs, [SocketAddr::from(([10, 0, 0, 7], 5432))]);
/// });
/// ```
pub trait Resolve: Send + Sync + 'static {
    /// Resolves `host` (never an IP literal) and pairs each address with `port`.
    ///
    /// # Errors
    ///
    /// When `host` does not resolve, with a kind of the implementation's choosing
    /// ([`SystemResolver`] passes on the standard library's error of
    /// `getaddrinfo`). [`Resolver::lookup`] names the host in the message, and
    /// turns an empty list into `NotFound`.
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>>;
}

impl<F> Resolve for F
where
    F: Fn(&str, u16) -> io::Result<Vec<SocketAddr>> + Send + Sync + 'static,
{
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        self(host, port)
    }
}

/// The operating system's resolver: `getaddrinfo(3)` (through the standard
/// library), honouring `/etc/hosts`, `nsswitch.conf` and the like.
///
/// ```
/// use ferrio::net::{Resolve, SystemResolver};
/// let addrs = SystemResolver.resolve("localhost", 80).unwrap();
/// assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        std::net::ToSocketAddrs::to_socket_addrs(&(host, port)).map(Iterator::collect)
    }
}

/// A resolver and its timeout: what [`lookup_host`] uses, made explicit so a
/// program can pick its own resolver or timeout.
///
/// ```
/// use std::time::Duration;
/// use ferrio::net::Resolver;
/// let resolver = Resolver::system().with_timeout(Duration::from_secs(2));
/// ferrio::run(async {
///     let addrs = resolver.lookup("localhost:80").await.unwrap();
///     assert!(!addrs.is_empty());
/// });
/// ```
#[derive(Clone)]
pub struct Resolver {
    resolve: Arc<dyn Resolve>,
    timeout: Duration,
}

impl Resolver {
    /// `getaddrinfo` with [`DEFAULT_RESOLVE_TIMEOUT`].
    ///
    /// ```
    /// let resolver = ferrio::net::Resolver::system();
    /// assert_eq!(resolver.timeout(), ferrio::net::DEFAULT_RESOLVE_TIMEOUT);
    /// ```
    pub fn system() -> Resolver {
        Resolver::new(SystemResolver)
    }

    /// `resolve` with [`DEFAULT_RESOLVE_TIMEOUT`].
    ///
    /// ```
    /// use std::io;
    /// let never = ferrio::net::Resolver::new(|host: &str, _port: u16| {
    ///     Err(io::Error::new(io::ErrorKind::NotFound, format!("{host}: no such host")))
    /// });
    /// let err = ferrio::run(never.lookup("nowhere:1")).unwrap_err();
    /// assert_eq!(err.kind(), io::ErrorKind::NotFound);
    /// ```
    pub fn new(resolve: impl Resolve) -> Resolver {
        Resolver {
            resolve: Arc::new(resolve),
            timeout: DEFAULT_RESOLVE_TIMEOUT,
        }
    }

    /// Gives up on a lookup after `timeout`, with `ErrorKind::TimedOut`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let r = ferrio::net::Resolver::system().with_timeout(Duration::from_millis(500));
    /// assert_eq!(r.timeout(), Duration::from_millis(500));
    /// ```
    pub fn with_timeout(mut self, timeout: Duration) -> Resolver {
        self.timeout = timeout;
        self
    }

    /// The lookup timeout.
    ///
    /// ```
    /// assert!(ferrio::net::Resolver::system().timeout().as_secs() > 0);
    /// ```
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The addresses `addr` names: IP literals at once, host names through the
    /// resolver on the blocking pool.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a malformed address, `TimedOut` when the resolver
    /// takes longer than the timeout, `NotFound` when it finds no address, or
    /// the resolver's own error (with the host named in the message); `Other`
    /// if the resolver panicked.
    ///
    /// ```
    /// ferrio::run(async {
    ///     let r = ferrio::net::Resolver::system();
    ///     let addrs = r.lookup("[::1]:53").await.unwrap();
    ///     assert_eq!(addrs, ["[::1]:53".parse().unwrap()]);
    /// });
    /// ```
    pub async fn lookup(&self, addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
        let (host, port) = match addr.to_target()? {
            Target::Addrs(addrs) => return Ok(addrs),
            Target::Host(host, port) => (host, port),
        };
        log::debug!("resolving {host}:{port}");
        let resolve = self.resolve.clone();
        let name = host.clone();
        let job = ferrio_executor::spawn_blocking(move || resolve.resolve(&name, port));
        let addrs = match ferrio_reactor::time::timeout(self.timeout, job).await {
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("resolving {host:?} timed out after {:?}", self.timeout),
                ))
            }
            Ok(Err(join)) => {
                return Err(io::Error::other(format!(
                    "the resolver for {host:?} failed: {join}"
                )))
            }
            Ok(Ok(Err(e))) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("failed to resolve {host:?}: {e}"),
                ))
            }
            Ok(Ok(Ok(addrs))) => addrs,
        };
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{host:?} resolved to no address"),
            ));
        }
        log::debug!("resolved {host} to {addrs:?}");
        Ok(addrs)
    }
}

/// A `Resolver` is also a [`Resolve`]: its resolver, called directly on the
/// calling thread, without its timeout. For code that runs lookups on
/// threads of its own (the HTTP client bounds how many run at once).
///
/// ```
/// use ferrio::net::{Resolve, Resolver};
/// let addrs = Resolver::system().resolve("localhost", 80).unwrap();
/// assert!(addrs.iter().all(|a| a.port() == 80));
/// ```
impl Resolve for Resolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        self.resolve.resolve(host, port)
    }
}

impl Default for Resolver {
    fn default() -> Resolver {
        Resolver::system()
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Resolves `host` to its socket addresses (asyncio's `getaddrinfo`) through
/// the system resolver, giving up after [`DEFAULT_RESOLVE_TIMEOUT`]. IP
/// literals never touch the resolver.
///
/// ```
/// ferrio::run(async {
///     let addrs = ferrio::net::lookup_host("localhost:8080").await.unwrap();
///     assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 8080));
/// });
/// ```
///
/// # Errors
///
/// As [`Resolver::lookup`].
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    Resolver::system().lookup(host).await
}

/// [`lookup_host`] with its own timeout.
///
/// ```
/// use std::time::Duration;
/// ferrio::run(async {
///     let addrs = ferrio::net::lookup_host_timeout(("localhost", 80), Duration::from_secs(5)).await.unwrap();
///     assert!(!addrs.is_empty());
/// });
/// ```
///
/// # Errors
///
/// As [`Resolver::lookup`], with `TimedOut` after `timeout`.
pub async fn lookup_host_timeout(
    host: impl ToSocketAddrs,
    timeout: Duration,
) -> io::Result<Vec<SocketAddr>> {
    Resolver::system().with_timeout(timeout).lookup(host).await
}

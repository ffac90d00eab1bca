//! The connector's way to a TCP connection: host names resolved through a
//! cache with a TTL (aiohttp's `ttl_dns_cache`, 10 s by default), the
//! blocking lookups in flight bounded so a hung resolver cannot take every
//! thread of the blocking pool, and Happy Eyeballs (RFC 8305): the addresses
//! tried in turn, families alternating, each given a 250 ms head start
//! before the next is raced against it.
//!
//! Not here: TLS or proxies (`conn.rs`, `proxy.rs`); a DNS client of its own
//! (the resolver is the user's or the system's `getaddrinfo`).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrio_reactor::time::Instant;

use async_lock::Semaphore;
use ferrio_net::{Resolve, Resolver, TcpStream};
use futures_util::future::{select, Either};
use futures_util::stream::{FuturesUnordered, StreamExt};

use super::deadline::Deadline;
use crate::lock::lock;

/// How long a resolved name is kept by default (aiohttp's `ttl_dns_cache`).
pub(crate) const DEFAULT_DNS_TTL: Duration = Duration::from_secs(10);

/// How many blocking lookups one client runs at once. A lookup that hangs
/// keeps its place until its thread returns, so a hung resolver holds at
/// most this many threads of the blocking pool; further lookups wait (within
/// their connect timeout) instead of taking more.
pub(crate) const MAX_LOOKUPS: usize = 8;

/// RFC 8305's "Connection Attempt Delay": how long one attempt runs alone
/// before the next address is tried beside it.
pub(crate) const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// The most names kept: past it, expired entries are dropped, then all.
const MAX_ENTRIES: usize = 1024;

/// A cached answer: the addresses, and when they expire.
type Entry = (Vec<SocketAddr>, Instant);

/// A resolver with a cache and a bound on lookups in flight. Shared by the
/// clones of a client.
pub(crate) struct Dns {
    resolver: Resolver,
    /// `None`: every connection looks its name up.
    ttl: Option<Duration>,
    cache: Mutex<HashMap<(String, u16), Entry>>,
    /// Places for blocking lookups; each is held by its lookup's thread.
    lookups: Arc<Semaphore>,
}

impl Dns {
    pub(crate) fn new(resolver: Resolver, ttl: Option<Duration>) -> Dns {
        Dns {
            resolver,
            ttl,
            cache: Mutex::new(HashMap::new()),
            lookups: Arc::new(Semaphore::new(MAX_LOOKUPS)),
        }
    }

    /// The addresses of `host` (a name, or an IP address as text) at `port`:
    /// from the cache while fresh, else from the resolver, on a blocking
    /// thread, within the resolver's timeout.
    pub(crate) async fn lookup(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let key = (host.to_owned(), port);
        if self.ttl.is_some() {
            let cache = lock(&self.cache);
            if let Some((addrs, expires)) = cache.get(&key) {
                if Instant::now() < *expires {
                    log::trace!("{host}:{port} from the DNS cache");
                    return Ok(addrs.clone());
                }
            }
        }
        let timeout = self.resolver.timeout();
        let timed_out = || {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("resolving {host:?} timed out after {timeout:?}"),
            )
        };
        let lookup = async {
            let permit = self.lookups.acquire_arc().await;
            let resolver = self.resolver.clone();
            let name = key.0.clone();
            let job = ferrio_executor::spawn_blocking(move || {
                // Held until the resolver returns, however long that is.
                let _permit = permit;
                resolver.resolve(&name, port)
            });
            job.await
                .map_err(|e| io::Error::other(format!("the resolver for {host:?} failed: {e}")))?
        };
        let resolved = Deadline::after(timeout, ())
            .run(lookup)
            .await
            .map_err(|()| timed_out())??;
        if resolved.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{host:?} resolved to no address"),
            ));
        }
        log::debug!("resolved {host} to {resolved:?}");
        if let Some(ttl) = self.ttl {
            let mut cache = lock(&self.cache);
            let now = Instant::now();
            if cache.len() >= MAX_ENTRIES {
                cache.retain(|_, (_, expires)| *expires > now);
                if cache.len() >= MAX_ENTRIES {
                    cache.clear();
                }
            }
            if let Some(expires) = now.checked_add(ttl) {
                cache.insert(key, (resolved.clone(), expires));
            }
        }
        Ok(resolved)
    }
}

/// `addrs` in the order RFC 8305 tries them: the first address's family
/// first, then alternating families, each family in the resolver's order.
fn interleave(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let Some(first) = addrs.first().copied() else {
        return addrs;
    };
    let (mut same, mut other): (Vec<_>, Vec<_>) = addrs
        .into_iter()
        .partition(|a| a.is_ipv6() == first.is_ipv6());
    same.reverse();
    other.reverse();
    let mut out = Vec::with_capacity(same.len() + other.len());
    loop {
        match (same.pop(), other.pop()) {
            (None, None) => return out,
            (a, b) => out.extend(a.into_iter().chain(b)),
        }
    }
}

/// Connects to the first of `addrs` to answer, by Happy Eyeballs: attempts
/// start `delay` apart (or at once when the one before fails), run side by
/// side, and the first to connect wins; the others are dropped.
///
/// # Errors
///
/// When all fail, the last attempt's address and its error as the OS gave it
/// (not naming the address: the caller says which it was, once); `None` and
/// `InvalidInput` when `addrs` is empty.
pub(crate) async fn happy_eyeballs(
    addrs: Vec<SocketAddr>,
    delay: Duration,
) -> Result<TcpStream, (Option<SocketAddr>, io::Error)> {
    let mut waiting = interleave(addrs).into_iter();
    let mut attempts = FuturesUnordered::new();
    let mut last_error = None;
    loop {
        if attempts.is_empty() {
            match waiting.next() {
                Some(addr) => attempts.push(attempt(addr)),
                None => {
                    return Err(last_error.unwrap_or_else(|| {
                        let e =
                            io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to");
                        (None, e)
                    }))
                }
            }
        }
        let head_start = pin!(ferrio_reactor::time::sleep(delay));
        let outcome = match select(attempts.next(), head_start).await {
            Either::Left((outcome, _)) => outcome,
            Either::Right(_) => None,
        };
        match outcome {
            Some((_, Ok(stream))) => return Ok(stream),
            Some((addr, Err(e))) => {
                log::debug!("connecting to {addr} failed: {e}");
                last_error = Some((Some(addr), without_addr(e)));
            }
            // The head start is over: the next address joins the race.
            None => {}
        }
        if let Some(addr) = waiting.next() {
            attempts.push(attempt(addr));
        }
    }
}

/// `TcpStream::connect`'s error without the `connect to {addr}: ` it adds:
/// the OS's error, which it keeps as the source.
fn without_addr(e: io::Error) -> io::Error {
    let os = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<io::Error>());
    match os.and_then(io::Error::raw_os_error) {
        Some(code) => io::Error::from_raw_os_error(code),
        None => e,
    }
}

/// One connection attempt, naming its address.
async fn attempt(addr: SocketAddr) -> (SocketAddr, io::Result<TcpStream>) {
    (addr, TcpStream::connect(addr).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn families_alternate_from_the_first_address() {
        let addrs = vec![
            addr("[::1]:1"),
            addr("[::2]:1"),
            addr("10.0.0.1:1"),
            addr("[::3]:1"),
            addr("10.0.0.2:1"),
        ];
        assert_eq!(
            interleave(addrs),
            [
                addr("[::1]:1"),
                addr("10.0.0.1:1"),
                addr("[::2]:1"),
                addr("10.0.0.2:1"),
                addr("[::3]:1"),
            ]
        );
        let v4_first = vec![addr("10.0.0.1:1"), addr("[::1]:1"), addr("10.0.0.2:1")];
        assert_eq!(
            interleave(v4_first),
            [addr("10.0.0.1:1"), addr("[::1]:1"), addr("10.0.0.2:1")]
        );
        assert!(interleave(Vec::new()).is_empty());
    }
}

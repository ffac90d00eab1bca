//! Pool keys, and new connections under the connect timeout.

#[cfg(feature = "ws")]
use std::time::Duration;
use std::time::Instant;

#[cfg(feature = "ws")]
use http::header::HeaderMap;
use url::Url;

#[cfg(feature = "ws")]
use super::Client;
use super::Inner;
use crate::conn::{connect, Conn};
use crate::deadline::Deadline;
use crate::error::{Error, ErrorKind, TimeoutKind};
use crate::hooks::{Event, Tracer};
#[cfg(feature = "ws")]
use crate::pool::Permit;
use crate::pool::{Host, Key};

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

/// The pool key of `url`, which must be `http` or `https` with a host.
pub(super) fn key_of(url: &Url) -> Result<Key, Error> {
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

impl Inner {
    /// Opens a new connection for `key` (to fetch `url`) within the connect
    /// timeout, and tells the hook how long it took.
    pub(super) async fn connect_traced(
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
    pub(super) async fn connect_for(
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! One HTTP/1.1 connection: a byte stream (plain TCP or TLS) with a read
//! buffer, every wait on it bounded by a [`Deadline`] of the caller's (the
//! earliest of the request's timeouts); and how a new one is opened (DNS,
//! TCP, TLS, bounded as a whole by the caller with the connect timeout).
//!
//! Not here: what the bytes mean (`codec/`), which connection to use
//! (`pool.rs`), or which timeouts bound a wait (`client/`, `response.rs`).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::io::AsyncWriteExt;
use futures_util::task::noop_waker_ref;

use super::deadline::Deadline;
use super::dns_cache::{happy_eyeballs, Dns, ATTEMPT_DELAY};
use super::error::{Error, ErrorKind, TlsFailure};
use super::hooks::{Event, Tracer};
use super::pool::Key;
use super::proxy::{tunnel, Route};

/// A byte stream a connection can run over.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

/// How much free room a read asks for; the buffer grows to keep this much.
const READ_SIZE: usize = 16 * 1024;

/// How [`Conn::write_watching`] ended.
#[derive(Debug)]
pub(crate) enum Sent {
    /// Every byte was written and flushed.
    All,
    /// The server answered before every byte was written; the rest was not
    /// sent, so the connection cannot carry another request.
    Answered,
    /// Writing failed; what the server sent before is buffered.
    Failed(Error),
}

/// A connection and the bytes read from it that were not used yet.
pub(crate) struct Conn {
    stream: Box<dyn Stream>,
    /// `buf[start..end]` is read but not yet used; the rest is room to read into.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// How many responses were read from this connection.
    served: u32,
}

impl Conn {
    pub(crate) fn new(stream: Box<dyn Stream>) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            start: 0,
            end: 0,
            served: 0,
        }
    }

    /// The bytes read and not yet consumed.
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Marks the first `n` buffered bytes as used.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n;
        debug_assert!(self.start <= self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// The byte stream, for a protocol that takes the connection over
    /// (WebSocket). Only a connection with no unread bytes can be given up.
    #[cfg(feature = "ws")]
    pub(crate) fn into_stream(self) -> Box<dyn Stream> {
        debug_assert!(self.buffered().is_empty(), "unread bytes would be lost");
        self.stream
    }

    /// Whether a response was read from this connection before.
    pub(crate) fn is_reused(&self) -> bool {
        self.served > 0
    }

    /// Counts one more response read from this connection.
    pub(crate) fn mark_served(&mut self) {
        self.served = self.served.saturating_add(1);
    }

    /// Makes at least [`READ_SIZE`] bytes of room after the buffered bytes.
    fn make_room(&mut self) {
        if self.buf.len() - self.end >= READ_SIZE {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_SIZE {
            let len = (self.end + READ_SIZE).max(self.buf.len() * 2);
            self.buf.resize(len, 0);
        }
    }

    /// Reads more bytes into the buffer, waiting until `deadline` at most.
    /// Returns how many; 0 means the server closed.
    pub(crate) async fn fill(&mut self, deadline: Deadline) -> Result<usize, Error> {
        self.make_room();
        let Conn {
            stream, buf, end, ..
        } = self;
        let room = &mut buf[*end..];
        let read = std::future::poll_fn(|cx| Pin::new(&mut **stream).poll_read(cx, room));
        let n = deadline
            .run(read)
            .await
            .map_err(Error::timeout)?
            .map_err(Error::io)?;
        self.end += n;
        log::trace!("read {n} bytes");
        Ok(n)
    }

    /// Writes all of `bytes` and flushes, never past `deadline`.
    pub(crate) async fn write_all(
        &mut self,
        bytes: &[u8],
        deadline: Deadline,
    ) -> Result<(), Error> {
        let stream = &mut self.stream;
        let write = async move {
            stream.write_all(bytes).await?;
            stream.flush().await
        };
        deadline
            .run(write)
            .await
            .map_err(Error::timeout)?
            .map_err(Error::io)
    }

    /// Writes all of `bytes` and flushes, never past `deadline`, while reading
    /// what the server sends meanwhile (RFC 9112, section 9.5: a client
    /// sending a body watches for a response). Stops writing as soon as
    /// `answered` says the buffered bytes hold a response, or once more than
    /// `max_unasked` bytes are buffered (the head reader then reports them).
    ///
    /// # Errors
    ///
    /// Only `deadline` passing: a failed write is [`Sent::Failed`], since
    /// what the server sent before it failed may still be a response.
    pub(crate) async fn write_watching(
        &mut self,
        bytes: &[u8],
        deadline: Deadline,
        max_unasked: usize,
        answered: impl Fn(&[u8]) -> bool,
    ) -> Result<Sent, Error> {
        let mut written = 0;
        // Cleared at the end of the server's stream (or a failed read): the
        // write goes on, and fails or not on its own.
        let mut reading = true;
        let send = std::future::poll_fn(|cx| {
            while reading && self.end - self.start < max_unasked {
                self.make_room();
                let room = &mut self.buf[self.end..];
                match Pin::new(&mut *self.stream).poll_read(cx, room) {
                    Poll::Ready(Ok(0)) => reading = false,
                    Poll::Ready(Ok(n)) => {
                        self.end += n;
                        log::trace!("read {n} bytes while sending");
                        if answered(self.buffered()) {
                            log::debug!(
                                "the server answered after {written} of {} body bytes; sending no more",
                                bytes.len()
                            );
                            return Poll::Ready(Sent::Answered);
                        }
                    }
                    Poll::Ready(Err(e)) => {
                        log::debug!("read while sending failed: {e}");
                        reading = false;
                    }
                    Poll::Pending => break,
                }
            }
            while written < bytes.len() {
                match Pin::new(&mut *self.stream).poll_write(cx, &bytes[written..]) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Sent::Failed(Error::io(
                            io::ErrorKind::WriteZero.into(),
                        )))
                    }
                    Poll::Ready(Ok(n)) => written += n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Sent::Failed(Error::io(e))),
                    Poll::Pending => return Poll::Pending,
                }
            }
            match Pin::new(&mut *self.stream).poll_flush(cx) {
                Poll::Ready(Ok(())) => Poll::Ready(Sent::All),
                Poll::Ready(Err(e)) => Poll::Ready(Sent::Failed(Error::io(e))),
                Poll::Pending => Poll::Pending,
            }
        });
        deadline.run(send).await.map_err(Error::timeout)
    }

    /// Whether an idle connection can still carry a request: the server has
    /// not closed it and sent nothing unasked. Never waits.
    pub(crate) fn is_alive(&mut self) -> bool {
        if !self.buffered().is_empty() {
            return false;
        }
        self.make_room();
        let mut cx = Context::from_waker(noop_waker_ref());
        let room = &mut self.buf[self.end..];
        match Pin::new(&mut *self.stream).poll_read(&mut cx, room) {
            Poll::Pending => true,
            Poll::Ready(Ok(0)) => false,
            Poll::Ready(Ok(n)) => {
                log::debug!("idle connection had {n} unasked bytes; closing it");
                false
            }
            Poll::Ready(Err(e)) => {
                log::debug!("idle connection failed: {e}");
                false
            }
        }
    }
}

/// Whether `host` and `port` are `addr` written out (an IP address host, as
/// `127.0.0.1` or `[::1]`), so that naming both would say the same twice.
fn is_literally(host: &str, port: u16, addr: SocketAddr) -> bool {
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    port == addr.port()
        && ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip == addr.ip())
}

/// Opens a connection to `key`: DNS with `resolver`, TCP, and (for https)
/// TLS with `tls`. The caller bounds it with the connect timeout.
pub(crate) async fn connect(
    key: &Key,
    route: Route<'_>,
    dns: &Dns,
    tls: &Arc<rustls::ClientConfig>,
    tracer: Tracer<'_>,
) -> Result<Conn, Error> {
    // The resolver is asked about an IP address too, as text.
    let host = key.host.to_string();
    // Through a proxy, the TCP connection is to the proxy.
    let (to_host, to_port) = match &route {
        Route::Direct => (host.as_str(), key.port),
        Route::Forward(proxy) | Route::Tunnel(proxy) => (proxy.host.as_str(), proxy.port),
    };
    let looking = tracer.is_on().then(Instant::now);
    let addrs = dns
        .lookup(to_host, to_port)
        .await
        .map_err(|e| Error::with_source(ErrorKind::Dns, format!("resolving {to_host}"), e))?;
    if let Some(started) = looking {
        let took = started.elapsed();
        tracer.emit(|| Event::DnsResolved {
            host: to_host,
            addrs: &addrs,
            took,
        });
    }
    if addrs.is_empty() {
        return Err(Error::new(
            ErrorKind::Dns,
            format!("{to_host} has no address"),
        ));
    }
    let mut stream = happy_eyeballs(addrs, ATTEMPT_DELAY)
        .await
        .map_err(|(addr, e)| {
            // The error's URL names the host: the address is said only when
            // it adds something (a name's address, or a proxy's).
            let via = match &route {
                Route::Direct => "",
                Route::Forward(_) | Route::Tunnel(_) => "the proxy ",
            };
            let message = match addr {
                Some(addr) if via.is_empty() && is_literally(to_host, to_port, addr) => {
                    String::new()
                }
                Some(addr) if is_literally(to_host, to_port, addr) => format!("{via}{addr}"),
                Some(addr) if via.is_empty() => format!("at {addr}"),
                Some(addr) => format!("{via}{to_host} at {addr}"),
                None => format!("{via}{to_host}"),
            };
            Error::with_source(ErrorKind::Connect, message, e)
        })?;
    #[cfg(feature = "tracing")]
    if let Ok(peer) = stream.peer_addr() {
        // Inside `http.connect` (hooks.rs), current while it connects.
        tracing::Span::current().record("network.peer.address", tracing::field::display(peer));
    }
    if let Err(e) = stream.set_nodelay(true) {
        log::debug!("set_nodelay on a connection to {key}: {e}");
    }
    log::debug!("connected to {to_host}:{to_port} for {key}");
    if let Route::Tunnel(proxy) = route {
        tunnel(&mut stream, proxy, key).await?;
    }
    if !key.https {
        return Ok(Conn::new(Box::new(stream)));
    }
    let name = rustls::pki_types::ServerName::try_from(host).map_err(|e| {
        Error::with_source(
            ErrorKind::Tls,
            format!("{} is not a valid TLS server name", key.host),
            e,
        )
    })?;
    let handshake = futures_rustls::TlsConnector::from(tls.clone()).connect(name, stream);
    #[cfg(feature = "tracing")]
    let span = super::hooks::spans::tls(&key.host);
    #[cfg(feature = "tracing")]
    let handshake = tracing::Instrument::instrument(handshake, span.clone());
    let tls = handshake.await.map_err(|e| tls_error(key, e))?;
    #[cfg(feature = "tracing")]
    if let Some(version) = tls.get_ref().1.protocol_version() {
        span.record("tls.protocol.version", tracing::field::debug(version));
    }
    Ok(Conn::new(Box::new(tls)))
}

/// A failed handshake: rustls's own error when there is one, as the source,
/// and which [`TlsFailure`] it is.
fn tls_error(key: &Key, e: io::Error) -> Error {
    let message = format!("handshake with {}", key.host);
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => Error::tls_handshake(tls_failure(tls), message, tls.clone()),
        None => Error::tls_handshake(TlsFailure::Other, message, e),
    }
}

fn tls_failure(e: &rustls::Error) -> TlsFailure {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => TlsFailure::UnknownIssuer,
            C::NotValidForName | C::NotValidForNameContext { .. } => TlsFailure::WrongName,
            C::Expired | C::ExpiredContext { .. } => TlsFailure::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => TlsFailure::NotYetValid,
            C::Revoked => TlsFailure::Revoked,
            _ => TlsFailure::Other,
        },
        _ => TlsFailure::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::io::Cursor;
    use std::future::Future;

    /// Drives a future that never waits on a timer or socket (in-memory streams).
    pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(noop_waker_ref());
        loop {
            if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn fill_appends_and_consume_drops() {
        let mut conn = Conn::new(Box::new(Cursor::new(b"hello world".to_vec())));
        let n = block_on(conn.fill(Deadline::none())).unwrap();
        assert_eq!(n, 11);
        conn.consume(6);
        assert_eq!(conn.buffered(), b"world");
        conn.consume(5);
        assert_eq!(block_on(conn.fill(Deadline::none())).unwrap(), 0);
        assert!(conn.buffered().is_empty());
    }

    #[test]
    fn buffer_grows_past_one_read_when_nothing_is_consumed() {
        let data = vec![7u8; 3 * READ_SIZE];
        let mut conn = Conn::new(Box::new(Cursor::new(data.clone())));
        while block_on(conn.fill(Deadline::none())).unwrap() > 0 {}
        assert_eq!(conn.buffered(), &data[..]);
    }

    #[test]
    fn a_connection_with_unread_bytes_is_not_alive() {
        let mut conn = Conn::new(Box::new(Cursor::new(b"junk".to_vec())));
        assert!(
            !conn.is_alive(),
            "a cursor with bytes left reads them at once"
        );
        let mut closed = Conn::new(Box::new(Cursor::new(Vec::new())));
        assert!(!closed.is_alive(), "EOF means closed");
    }
}

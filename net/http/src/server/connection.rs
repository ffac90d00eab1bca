//! One connection's life: the accept loop, then per connection reading
//! request heads and bodies, calling the handler, writing responses, and
//! closing (gracefully, or at a forced shutdown).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use ferrio_reactor::time::Instant;
use futures_util::future::{select, Either};
use futures_util::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, FutureExt};
use http::{Method, StatusCode, Version};

use super::{Config, OpenConnection, RemoteAddr, ServerRequest, ServerResponse, Shared};
use crate::codec::{encode_response, parse_request_head, HeadScan, Reject};
use crate::deadline::Deadline;
use crate::headers;
use ferrio_net::{TcpListener, TcpStream};

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;

/// How long a closing connection keeps reading (and discarding) what the client
/// still sends, so that the kernel does not answer it with a reset that would
/// destroy the error response before the client reads it.
const LINGER: Duration = Duration::from_secs(1);

/// Bytes a closing connection discards at most while it lingers.
const LINGER_BYTES: usize = 1 << 20;

pub(super) async fn accept_loop<H, F>(listener: TcpListener, handler: Arc<H>, shared: Arc<Shared>)
where
    H: Fn(ServerRequest) -> F + Send + Sync + 'static,
    F: Future<Output = ServerResponse> + Send + 'static,
{
    loop {
        let stop = shared.stop.listen();
        if shared.is_stopping() {
            break;
        }
        let accepted = match select(pin!(listener.accept()), stop).await {
            Either::Left((accepted, _)) => accepted,
            Either::Right(((), _)) => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                log::trace!("accepted {peer}");
                // Responses go out in one write; don't let Nagle hold back its tail.
                if let Err(e) = stream.set_nodelay(true) {
                    log::debug!("{peer}: TCP_NODELAY: {e}");
                }
                let open = OpenConnection::new(shared.clone());
                let task = connection_task(stream, peer, handler.clone(), shared.clone(), open);
                drop(ferrio_executor::spawn(task));
            }
            // `accept` itself pauses while the process is out of
            // descriptors and skips connections that failed in the backlog:
            // what it returns is the listener failing, which retrying
            // would not mend.
            Err(e) => {
                log::warn!("http server: accept failed: {e}; no longer accepting");
                break;
            }
        }
    }
    drop(listener);
    shared.accepting.store(false, Ordering::Release);
    shared.changed.notify(usize::MAX);
    log::debug!("http server: stopped accepting");
}

async fn connection_task<H, F>(
    stream: TcpStream,
    peer: SocketAddr,
    handler: Arc<H>,
    shared: Arc<Shared>,
    open: OpenConnection,
) where
    H: Fn(ServerRequest) -> F + Send + Sync + 'static,
    F: Future<Output = ServerResponse> + Send + 'static,
{
    let force = shared.force.listen();
    if !shared.forced.load(Ordering::Acquire) {
        let conn = Connection::new(stream, peer, &shared);
        if let Either::Right(_) = select(pin!(conn.run(&*handler)), force).await {
            log::debug!("{peer}: closed by a forced shutdown");
        }
    }
    drop(open);
}

/// Why a connection stops waiting for a request.
enum Wait {
    /// Bytes arrived.
    Data,
    /// The client closed, the connection failed, the wait timed out or the
    /// server is shutting down: close without a word.
    Close,
}

/// One client connection: the socket and the bytes read but not yet used
/// (a pipelined request may follow the current one in the same read).
struct Connection<'a, S> {
    io: S,
    peer: SocketAddr,
    buf: Vec<u8>,
    shared: &'a Shared,
    accepted_at: Instant,
}

impl<'a, S: AsyncRead + AsyncWrite + Unpin> Connection<'a, S> {
    fn new(io: S, peer: SocketAddr, shared: &'a Shared) -> Self {
        Connection {
            io,
            peer,
            buf: Vec::new(),
            shared,
            accepted_at: Instant::now(),
        }
    }

    fn config(&self) -> &'a Config {
        &self.shared.config
    }

    /// Serves requests until one of the sides closes.
    async fn run<H, F>(mut self, handler: &H)
    where
        H: Fn(ServerRequest) -> F,
        F: Future<Output = ServerResponse>,
    {
        let mut first = true;
        loop {
            let request = match self.read_request(first).await {
                Ok(Some(request)) => request,
                Ok(None) => break,
                Err(reject) => {
                    log::debug!("{}: {} ({})", self.peer, reject.status, reject.reason);
                    self.shared.requests.fetch_add(1, Ordering::Relaxed);
                    let response = reject_response(&reject);
                    let out = encode_response(&response, Version::HTTP_11, false, true);
                    if self.write(&out).await {
                        self.close(true).await;
                    }
                    break;
                }
            };
            first = false;

            let method = request.method().clone();
            let version = request.version();
            let client_keep_alive = headers::keep_alive(version, request.headers());
            let (response, panicked) = match AssertUnwindSafe(handler(request)).catch_unwind().await
            {
                Ok(response) => (response, false),
                Err(_) => {
                    log::warn!("{}: the request handler panicked; answering 500", self.peer);
                    let reject = Reject::new(StatusCode::INTERNAL_SERVER_ERROR, "handler panicked");
                    (reject_response(&reject), true)
                }
            };
            let close = panicked
                || !client_keep_alive
                || self.shared.is_stopping()
                || headers::has_connection_token(response.headers(), "close");
            let out = encode_response(&response, version, method == Method::HEAD, close);
            self.shared.requests.fetch_add(1, Ordering::Relaxed);
            if !self.write(&out).await {
                break;
            }
            if close {
                self.close(false).await;
                break;
            }
        }
    }

    /// Reads the next request: `Ok(None)` when the connection should close
    /// without a response (the client left, idled out, or the server stops).
    async fn read_request(&mut self, first: bool) -> Result<Option<ServerRequest>, Reject> {
        let config = self.config();
        if self.buf.is_empty() {
            let until = if first {
                Deadline::since(self.accepted_at, config.header_read_timeout, ())
            } else {
                Deadline::after(config.keep_alive_timeout, ())
            };
            match until.run(self.wait_for_data()).await {
                Ok(Wait::Data) => {}
                Ok(Wait::Close) => return Ok(None),
                Err(_) => {
                    log::debug!("{}: idle timeout", self.peer);
                    return Ok(None);
                }
            }
        }

        let head_from = if first {
            self.accepted_at
        } else {
            Instant::now()
        };
        let head_deadline = Deadline::since(head_from, config.header_read_timeout, ());
        // Parsed only when it may be complete (or over its limit), not after
        // every read: re-parsing a head that trickles in costs O(n²).
        let mut scan = HeadScan::default();
        // The first look parses anyway, so bytes that are not HTTP (a TLS
        // handshake) get their 400 at once.
        let mut first_look = true;
        let head = loop {
            let may_be_complete = scan.advance(&self.buf);
            if first_look || may_be_complete || self.buf.len() > config.max_header_bytes {
                if let Some(head) = parse_request_head(&self.buf, config.max_header_bytes)? {
                    break head;
                }
            }
            first_look = false;
            if may_be_complete {
                // Not the end after all: search the rest of what was read.
                continue;
            }
            match self.read_more_by(head_deadline).await {
                Some(Ok(0) | Err(_)) => return Ok(None),
                Some(Ok(_)) => {}
                None => {
                    return Err(Reject::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "request head too slow",
                    ))
                }
            }
        };

        let too_large = || Reject::new(StatusCode::PAYLOAD_TOO_LARGE, "body over the limit");
        if head.content_length > config.max_body_bytes as u64 {
            return Err(too_large());
        }
        // Fits in usize: it is at most `max_body_bytes`. The head and body
        // together may not (with `max_body_bytes(usize::MAX)`).
        let body_len = head.content_length as usize;
        let end = head.len.checked_add(body_len).ok_or_else(too_large)?;
        if self.buf.len() < end {
            if head.expect_continue && !self.write(b"HTTP/1.1 100 Continue\r\n\r\n").await {
                return Ok(None);
            }
            let body_deadline = Deadline::after(config.body_read_timeout, ());
            while self.buf.len() < end {
                match self.read_more_by(body_deadline).await {
                    Some(Ok(0) | Err(_)) => return Ok(None),
                    Some(Ok(_)) => {}
                    None => {
                        return Err(Reject::new(
                            StatusCode::REQUEST_TIMEOUT,
                            "request body too slow",
                        ))
                    }
                }
            }
        }
        let body = self.buf[head.len..end].to_vec();
        self.buf.drain(..end);
        let mut request = head.request.map(|()| body);
        request.extensions_mut().insert(RemoteAddr(self.peer));
        Ok(Some(request))
    }

    /// Waits for the first bytes of a request, or for a shutdown.
    async fn wait_for_data(&mut self) -> Wait {
        let (shared, peer) = (self.shared, self.peer);
        let stop = shared.stop.listen();
        if shared.is_stopping() {
            return Wait::Close;
        }
        match select(pin!(self.read_more()), stop).await {
            Either::Left((Ok(n), _)) if n > 0 => Wait::Data,
            Either::Left((Ok(_), _)) => Wait::Close,
            Either::Left((Err(e), _)) => {
                log::debug!("{peer}: read failed: {e}");
                Wait::Close
            }
            Either::Right(_) => Wait::Close,
        }
    }

    /// Reads once from the socket into the buffer. Cancel-safe: bytes land
    /// in the buffer only when the read completed.
    async fn read_more(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; READ_CHUNK];
        let n = self.io.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// [`read_more`](Self::read_more) by `deadline`: `None` once it passed.
    /// [`Deadline::run`] checks it before the read, so a client that always
    /// has bytes ready cannot keep the connection reading past it.
    async fn read_more_by(&mut self, deadline: Deadline<()>) -> Option<io::Result<usize>> {
        deadline.run(self.read_more()).await.ok()
    }

    /// Writes `bytes` within the write timeout; false if the connection is
    /// gone (failed or timed out), in which case it is dropped.
    async fn write(&mut self, bytes: &[u8]) -> bool {
        let io = &mut self.io;
        let written = Deadline::after(self.shared.config.write_timeout, ())
            .run(async {
                io.write_all(bytes).await?;
                io.flush().await
            })
            .await;
        match written {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                log::debug!("{}: write failed: {e}", self.peer);
                false
            }
            Err(_) => {
                log::debug!("{}: write timed out", self.peer);
                false
            }
        }
    }

    /// Closes the write side, then (if `linger`) reads and discards what the
    /// client still sends for a moment, so that our last response is not
    /// destroyed by a reset. A shutdown cuts the lingering short.
    async fn close(mut self, linger: bool) {
        let _ = Deadline::after(LINGER, ()).run(self.io.close()).await;
        if !linger {
            return;
        }
        let stop = self.shared.stop.listen();
        if self.shared.is_stopping() {
            return;
        }
        let io = &mut self.io;
        let drain = Deadline::after(LINGER, ()).run(async {
            let mut chunk = [0u8; READ_CHUNK];
            let mut discarded = 0;
            while discarded < LINGER_BYTES {
                match io.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => discarded += n,
                }
            }
        });
        select(pin!(drain), stop).await;
    }
}

/// The answer to a request the server refused: `reject`'s status, and its
/// reason as a plain-text body.
fn reject_response(reject: &Reject) -> ServerResponse {
    let mut response = ServerResponse::new(format!("{}\n", reject.reason).into_bytes());
    *response.status_mut() = reject.status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::super::Builder;
    use super::*;
    use std::task::{Context, Poll};

    /// A client that sends `head`, then `x` bytes without end, each read
    /// ready at once; what the server writes goes nowhere.
    struct Flood {
        head: Vec<u8>,
        sent: usize,
    }

    impl AsyncRead for Flood {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let from_head = self.head.len().saturating_sub(self.sent).min(buf.len());
            let at = self.sent.min(self.head.len());
            buf[..from_head].copy_from_slice(&self.head[at..at + from_head]);
            buf[from_head..].fill(b'x');
            self.sent += buf.len();
            Poll::Ready(Ok(buf.len()))
        }
    }

    impl AsyncWrite for Flood {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn body_read_timeout_holds_against_a_client_that_is_always_ready() {
        let config = Builder::new()
            .body_read_timeout(Duration::from_millis(20))
            .max_body_bytes(256 << 20)
            .config;
        let shared = Shared::new(config);
        let head = format!(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
            256 << 20
        );
        let flood = Flood {
            head: head.into_bytes(),
            sent: 0,
        };
        let started = std::time::Instant::now();
        let read = ferrio::run(async {
            let mut conn = Connection::new(flood, "127.0.0.1:1".parse().unwrap(), &shared);
            conn.read_request(true)
                .await
                .map(|r| r.map(|r| r.body().len()))
        });
        assert_eq!(
            read.map_err(|r| r.status),
            Err(StatusCode::REQUEST_TIMEOUT),
            "the 20 ms body timeout should end the read (after {:?})",
            started.elapsed()
        );
    }
}

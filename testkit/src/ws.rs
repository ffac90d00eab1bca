//! A WebSocket echo server for the client's tests, examples and doc
//! examples: every text or binary message comes back as it was; pings are
//! answered and a close is returned (by tungstenite). An upgrade to the path
//! `/reject` is refused with 403.
//!
//! Not here: anything but echoing (no broadcast, no subprotocols).

use std::io;
use std::net::SocketAddr;

use async_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use async_tungstenite::tungstenite::http::StatusCode;
use async_tungstenite::tungstenite::Message;
use ferrio_executor::JoinHandle;
use ferrio_net::{TcpListener, TcpStream};
use futures_util::StreamExt;

/// A running echo server; it stops accepting when dropped (connections
/// already open run until their client goes).
///
/// ```
/// ferrio::run(async {
///     let server = ferrio_testkit::ws::EchoServer::bind("127.0.0.1:0").await.unwrap();
///     assert!(server.url("/echo").starts_with("ws://127.0.0.1:"));
/// });
/// ```
#[derive(Debug)]
pub struct EchoServer {
    addr: SocketAddr,
    accepting: JoinHandle<()>,
}

impl EchoServer {
    /// Binds `addr` and starts accepting on the current runtime.
    ///
    /// # Errors
    ///
    /// Binding failed.
    pub async fn bind<A: ferrio_net::ToSocketAddrs>(addr: A) -> io::Result<EchoServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let accepting = ferrio_executor::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        drop(ferrio_executor::spawn(echo(stream, peer)));
                    }
                    Err(e) => {
                        log::warn!("WebSocket echo server: accept failed: {e}");
                        return;
                    }
                }
            }
        });
        log::debug!("WebSocket echo server on {addr}");
        Ok(EchoServer { addr, accepting })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Refuses the upgrade to `/reject`, accepts the rest.
// The signature is tungstenite's `Callback`, large error and all.
#[allow(clippy::result_large_err)]
fn refuse_reject(request: &Request, response: Response) -> Result<Response, ErrorResponse> {
    if request.uri().path() == "/reject" {
        let mut refusal = ErrorResponse::new(Some("not here".to_owned()));
        *refusal.status_mut() = StatusCode::FORBIDDEN;
        return Err(refusal);
    }
    Ok(response)
}

async fn echo(stream: TcpStream, peer: SocketAddr) {
    let mut ws = match async_tungstenite::accept_hdr_async(stream, refuse_reject).await {
        Ok(ws) => ws,
        Err(e) => {
            log::debug!("WebSocket echo: handshake with {peer} failed: {e}");
            return;
        }
    };
    while let Some(message) = ws.next().await {
        let message = match message {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => m,
            // Pings are answered and closes returned by tungstenite itself.
            Ok(_) => continue,
            Err(e) => {
                log::debug!("WebSocket echo: {peer}: {e}");
                return;
            }
        };
        if let Err(e) = ws.send(message).await {
            log::debug!("WebSocket echo: {peer}: {e}");
            return;
        }
    }
}

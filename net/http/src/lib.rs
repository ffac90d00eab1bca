//! ferrio-http: HTTP/1.1 on ferrio-net: a client with aiohttp's connection
//! limits (its `ClientSession` with a `TCPConnector`), and a small server.
//! Re-exported by the facade as `ferrio::http`.
//!
//! ```
//! use ferrio::http::Client;
//! # use ferrio::io::{AsyncReadExt, AsyncWriteExt};
//! ferrio::run(async {
//!     # let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     # let addr = listener.local_addr().unwrap();
//!     # ferrio::spawn(async move {
//!     #     loop {
//!     #         let (mut s, _) = listener.accept().await.unwrap();
//!     #         ferrio::spawn(async move {
//!     #             let mut buf = [0; 1024];
//!     #             let _ = s.read(&mut buf).await;
//!     #             let _ = s.write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 11\r\n\r\n{\"id\": 100}").await;
//!     #         });
//!     #     }
//!     # });
//!     // At most 10 connections open at once, like TCPConnector(limit=10).
//!     let client = Client::builder().limit(10).build().unwrap();
//!     let requests = (1..=20).map(|i| {
//!         let client = client.clone();
//!         let url = format!("http://{addr}/posts/{i}");
//!         async move { client.get(url).send().await?.json::<serde_json::Value>().await }
//!     });
//!     for post in ferrio::gather(requests).await {
//!         assert_eq!(post.unwrap()["id"], 100);
//!     }
//! });
//! ```
//!
//! # The client
//!
//! - **Limits.** [`ClientBuilder::limit`] caps the connections open at once
//!   (connecting, in use or idle) to all hosts, [`ClientBuilder::limit_per_host`]
//!   to one host. Requests beyond a limit wait and are served in the order
//!   they came; a request that times out or is dropped while it waits,
//!   connects or reads gives its slot back. An idle connection to another host
//!   is closed to make room for a waiting request.
//! - **Keep-alive.** A connection goes back to the pool once a response's body
//!   was read to its end, and is reused for the same scheme, host and port
//!   until it sat idle for [`ClientBuilder::pool_idle_timeout`]. A request on
//!   a reused connection that the server had closed, failing before any byte
//!   of a response, is sent once more on a new connection, if its method is
//!   idempotent (GET, HEAD, PUT, DELETE, OPTIONS, TRACE).
//! - **Connections**: host names cached for [`ClientBuilder::ttl_dns_cache`]
//!   (10 s), at most 8 blocking lookups at once, addresses raced by Happy
//!   Eyeballs (RFC 8305, 250 ms apart).
//! - **Timeouts**, each its own [`ErrorKind`]: connect (DNS, TCP and TLS),
//!   read (each read), total (the whole request, body included), pool (waiting
//!   for a connection).
//! - **Bodies**: Content-Length, chunked (with trailers) and close-delimited;
//!   gzip, and with their cargo features deflate, brotli (`br`) and zstd,
//!   asked for with `Accept-Encoding` and decoded transparently, with
//!   [`ClientBuilder::max_body_bytes`] enforced while decoding.
//! - **Redirects** 301, 302, 303, 307, 308: 303 (and 301/302 after POST)
//!   become GET without a body; `Authorization`, `Proxy-Authorization` and
//!   `Cookie` are dropped when the scheme, host or port changes; a loop or
//!   more than [`ClientBuilder::max_redirects`] hops is an error.
//! - **HTTPS** with rustls (ring), Mozilla's roots and any added with
//!   [`ClientBuilder::add_root_certificate`]; SNI and ALPN `http/1.1`.
//! - **Errors**: one [`Error`] with an [`ErrorKind`] and the URL. A response
//!   that breaks HTTP/1.1 in any way is an error within its timeout, never a
//!   panic or a hang.
//!
//! URLs are [`url::Url`]s (re-exported as [`Url`]); methods, status codes,
//! header maps and versions are the `http` crate's.
//!
//! # Cargo features
//!
//! Lean by default, like reqwest: HTTP/1.1, HTTPS (rustls), gzip and JSON.
//! Each of these adds to that, and `full` turns them all on (the facade
//! `ferrio` forwards each under the same name):
//!
//! | feature | adds |
//! |---|---|
//! | `deflate`, `brotli`, `zstd` | response bodies in that coding, and the coding in `Accept-Encoding` |
//! | `cookies` | the cookie jar: [`ClientBuilder::cookie_store`], [`Jar`] |
//! | `multipart` | [`multipart`] bodies, [`RequestBuilder::multipart`] |
//! | `ws` | WebSockets: [`ws`], [`Client::ws_connect`] |
//! | `charset` | [`Response::text`] in charsets other than UTF-8 (else an [`ErrorKind::BodyDecode`] error naming the feature) |
//!
//! A body in a coding that is not built in is handed over as it came (its
//! `Content-Encoding` left in the headers), as with a request's own
//! `Accept-Encoding`.
//!
//! # Contents
//!
//! - [`Client`], [`ClientBuilder`], [`RequestBuilder`], [`Response`]: the client.
//! - [`Body`]: a request body streamed from a `Stream` or an `AsyncRead`.
//! - [`Error`], [`ErrorKind`], [`TimeoutKind`], [`TlsFailure`]: what can go wrong.
//! - [`Certificate`]: an extra root for HTTPS; [`Identity`]: a client certificate.
//! - [`Jar`]: a cookie jar, shared by the clients given it (feature `cookies`).
//! - [`Event`]: what [`ClientBuilder::on_event`] hooks are told.
//! - [`multipart`]: `multipart/form-data` request bodies (feature `multipart`).
//! - [`ws`]: WebSockets, from [`Client::ws_connect`] (feature `ws`).
//! - [`server`]: a small server.

#![forbid(unsafe_code)]

mod client;
mod codec;
mod conn;
#[cfg(feature = "cookies")]
mod cookies;
mod deadline;
mod decompress;
mod dns_cache;
mod error;
mod headers;
mod hooks;
mod lock;
#[cfg(feature = "multipart")]
pub mod multipart;
mod pool;
mod proxy;
mod response;
mod tls;
mod upload;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

// docs/observability.md's code blocks are doctests of this crate, whose
// dev-dependencies have tracing-subscriber for its `tracing` example and
// the facade with `tracing` on; the other pages' are the facade's (its
// src/lib.rs says why). Only while rustdoc collects doctests.
#[cfg(all(doctest, feature = "tracing"))]
#[doc = include_str!("../../../docs/observability.md")]
pub struct ObservabilityGuideDoctests;

// Documented by their own inner docs: an outer doc here would make rustdoc
// resolve their links from this module.
pub mod server;
#[cfg(feature = "ws")]
pub mod ws;

pub use bytes::Bytes;
pub use client::{
    Client, ClientBuilder, RequestBuilder, DEFAULT_MAX_BODY_BYTES, DEFAULT_USER_AGENT,
};
#[cfg(feature = "cookies")]
pub use cookies::Jar;
pub use error::{Error, ErrorKind, TimeoutKind, TlsFailure};
pub use hooks::Event;
pub use http::header::{self, HeaderMap, HeaderName, HeaderValue};
pub use http::{Method, StatusCode, Version};
pub use response::Response;
pub use tls::{Certificate, Identity};
pub use upload::Body;
pub use url::Url;

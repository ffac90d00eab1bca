//! HTTP/1.1 client (aiohttp's `ClientSession` with `TCPConnector` limits) and a small server.

/// A small HTTP/1.1 server: an async handler over a `TcpListener`, with limits and graceful shutdown.
pub mod server;
/// The embedded jsonplaceholder (the fake REST API of seed 004), served locally.
pub mod jsonplaceholder;

//! ferrio-testkit: servers that ferrio's examples, tests and benchmarks run
//! against on loopback. Not published, and not part of ferrio's API.
//!
//! # Contents
//!
//! - [`jsonplaceholder`]: the fake REST API that `fetch_posts` fetches from.
//! - `ws`: a WebSocket echo server (cargo feature `ws`).
//! - `tls`: an HTTPS server with certificates from a private CA, valid,
//!   expired or for other names (cargo feature `tls`).

#![forbid(unsafe_code)]

pub mod jsonplaceholder;
#[cfg(feature = "tls")]
pub mod tls;
#[cfg(feature = "ws")]
pub mod ws;

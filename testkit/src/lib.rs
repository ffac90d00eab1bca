//! ferrio-testkit: servers that ferrio's examples, tests and benchmarks run
//! against on loopback. Not published, and not part of ferrio's API.
//!
//! # Contents
//!
//! - [`jsonplaceholder`]: the fake REST API that `fetch_posts` fetches from.
//! - [`ws`]: a WebSocket echo server.

#![forbid(unsafe_code)]

pub mod jsonplaceholder;
pub mod ws;

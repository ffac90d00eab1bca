//! ferrio-net: TCP, UDP, Unix sockets, DNS, signals and child processes on
//! ferrio's reactor, re-exported by the facade as `ferrio::net` (the
//! sockets), `ferrio::signal` and `ferrio::process`. The HTTP client and
//! server built on it are the `ferrio-http` crate (`ferrio::http`).
//!
//! Sockets are made non-blocking and close-on-exec with socket2, registered
//! with the current reactor through mio, and driven by readiness: an
//! operation runs when the socket may be ready, is retried until the OS says
//! `WouldBlock`, and only then waits for the next event. Nothing busy-loops;
//! an idle socket costs no CPU.
//!
//! Every socket must be created inside a ferrio runtime (`ferrio::run`).
//!
//! # Contents
//!
//! - [`TcpStream`], [`TcpListener`] and the halves of a split stream: TCP
//!   (asyncio's `open_connection` / `start_server`).
//! - [`UdpSocket`] for UDP.
//! - [`UnixStream`], [`UnixListener`], [`UnixDatagram`] (Unix): Unix domain
//!   sockets (asyncio's `open_unix_connection` / `start_unix_server`).
//! - [`lookup_host`], [`Resolver`], [`ToSocketAddrs`]: name resolution
//!   (asyncio's `getaddrinfo`) on the blocking pool, with a timeout.
//! - [`signal`] (Unix): [`signal::ctrl_c`], [`signal::signal`] streams and
//!   [`signal::add_handler`] (asyncio's `loop.add_signal_handler`).
//! - [`process`] (Unix): [`process::Command`] and [`process::Child`], child
//!   processes with pipes on the reactor (asyncio's `create_subprocess_exec`).
//!
//! The sockets implement futures-io's `AsyncRead`/`AsyncWrite`; the helpers
//! on them (`read_exact`, `write_all`, `copy`, `BufReader`, `lines`) are the
//! facade's `ferrio::io`.

#![forbid(unsafe_code)]

mod addr;
mod attempt;
mod dns;
#[cfg(unix)]
mod oneway;
mod ready;
mod socket;
mod stream_io;
mod tcp;
mod udp;
#[cfg(unix)]
mod unix;

#[cfg(unix)]
pub mod process;
#[cfg(unix)]
pub mod signal;

pub use addr::ToSocketAddrs;
pub use dns::{
    lookup_host, lookup_host_timeout, Resolve, Resolver, SystemResolver, DEFAULT_RESOLVE_TIMEOUT,
};
pub use tcp::{
    Incoming, TcpListener, TcpOwnedReadHalf, TcpOwnedWriteHalf, TcpReadHalf, TcpReuniteError,
    TcpStream, TcpWriteHalf, DEFAULT_BACKLOG,
};
pub use udp::UdpSocket;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub use unix::UCred;
#[cfg(unix)]
pub use unix::{
    SocketAddr as UnixSocketAddr, UnixDatagram, UnixIncoming, UnixListener, UnixOwnedReadHalf,
    UnixOwnedWriteHalf, UnixReadHalf, UnixStream, UnixWriteHalf,
};

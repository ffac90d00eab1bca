//! Trying the addresses a name stands for, one after another, until one
//! works: what connecting and binding do. [`try_each`] takes resolved
//! addresses; [`first_that_works`] resolves a [`ToSocketAddrs`] first.
//!
//! It sits above both [`crate::addr`] (what names an address) and
//! [`crate::dns`] (resolving), so neither of those imports the other's user.
//!
//! Not here: what an attempt does (connect, bind: `tcp/`, `udp.rs`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use crate::addr::ToSocketAddrs;
use crate::dns::Resolver;

/// Why no address worked in [`try_each`].
#[derive(Debug)]
pub(crate) enum AllFailed {
    /// There was no address to try.
    NoAddress,
    /// The last address tried, and how it failed.
    Last(SocketAddr, io::Error),
}

impl AllFailed {
    /// As an I/O error that names the address: `"{verb} to {addr}: {error}"`
    /// with the error's kind, or `InvalidInput` for no address.
    pub(crate) fn into_io_error(self, verb: &str) -> io::Error {
        match self {
            AllFailed::NoAddress => io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("no address to {verb} to"),
            ),
            AllFailed::Last(addr, e) => io::Error::new(
                e.kind(),
                AtAddr {
                    what: format!("{verb} to {addr}"),
                    error: e,
                },
            ),
        }
    }
}

/// An attempt's error with the address it was for: shown as `"{what}:
/// {error}"`, and the attempt's own error (the OS's, with its code) as its
/// source, so that whoever names the address some other way can show the
/// error alone.
#[derive(Debug)]
struct AtAddr {
    what: String,
    error: io::Error,
}

impl std::fmt::Display for AtAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.what, self.error)
    }
}

impl std::error::Error for AtAddr {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Runs `attempt` on each of `addrs` in turn until one succeeds; when none
/// does, the last failure (earlier ones are logged at debug level as `verb`
/// failures).
pub(crate) async fn try_each<T, F, Fut>(
    addrs: impl IntoIterator<Item = SocketAddr>,
    verb: &str,
    mut attempt: F,
) -> Result<T, AllFailed>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut failed = AllFailed::NoAddress;
    for addr in addrs {
        match attempt(addr).await {
            Ok(done) => return Ok(done),
            Err(e) => {
                log::debug!("{verb} to {addr} failed: {e}");
                failed = AllFailed::Last(addr, e);
            }
        }
    }
    Err(failed)
}

/// Resolves `addr` with the system resolver, then [`try_each`] of its
/// addresses: the resolver's error, or the last failure naming its address.
pub(crate) async fn first_that_works<T, F, Fut>(
    addr: impl ToSocketAddrs,
    verb: &str,
    attempt: F,
) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let addrs = Resolver::system().lookup(addr).await?;
    try_each(addrs, verb, attempt)
        .await
        .map_err(|failed| failed.into_io_error(verb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_is_tried_until_one_works_and_the_last_failure_names_its_address() {
        let addrs: Vec<SocketAddr> = ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let refuse = |addr: SocketAddr| {
            std::future::ready(if addr.port() == 3 {
                Ok(addr.port())
            } else {
                Err(io::Error::new(io::ErrorKind::ConnectionRefused, "refused"))
            })
        };
        let run = |f| ferrio::run(f);
        assert_eq!(run(try_each(addrs.clone(), "connect", refuse)).unwrap(), 3);
        let Err(AllFailed::Last(last, _)) = run(try_each(addrs[..2].to_vec(), "connect", refuse))
        else {
            panic!("two refusals are a failure");
        };
        assert_eq!(last, addrs[1]);
        let e = AllFailed::Last(
            last,
            io::Error::new(io::ErrorKind::ConnectionRefused, "refused"),
        )
        .into_io_error("connect");
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(e.to_string(), "connect to 127.0.0.1:2: refused");
        let os = std::error::Error::source(&e).expect("the attempt's own error");
        assert_eq!(os.to_string(), "refused");
        let none = run(try_each(Vec::new(), "bind", refuse)).unwrap_err();
        let e = none.into_io_error("bind");
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(e.to_string(), "no address to bind to");
    }
}

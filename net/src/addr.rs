//! What can name a socket address: [`ToSocketAddrs`], resolved asynchronously.
//!
//! IP literals (`SocketAddr`, `(IpAddr, u16)`, `"127.0.0.1:80"`, `"[::1]:80"`) are
//! parsed on the spot and never reach the resolver; host names are resolved by
//! [`crate::dns`] on the blocking pool.
//!
//! Not here: the resolver itself, or trying the addresses in turn
//! (`attempt.rs`, which uses both this module and the resolver).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Something that names one or more socket addresses, possibly through a host
/// name to resolve (the async counterpart of [`std::net::ToSocketAddrs`]).
///
/// Implemented for [`SocketAddr`] (and its V4/V6 forms), `(IpAddr, u16)`,
/// `(&str, u16)`, `(String, u16)`, `"host:port"` strings (`&str`, `String`),
/// slices of `SocketAddr`, and references to any of these. The trait is sealed:
/// its one method is private to ferrio.
///
/// ```
/// use std::net::SocketAddr;
/// ferrio::run(async {
///     let a = ferrio::net::lookup_host("127.0.0.1:8080").await.unwrap();
///     let b = ferrio::net::lookup_host(("127.0.0.1", 8080)).await.unwrap();
///     let c = ferrio::net::lookup_host("127.0.0.1:8080".parse::<SocketAddr>().unwrap()).await.unwrap();
///     assert_eq!(a, b);
///     assert_eq!(b, c);
/// });
/// ```
pub trait ToSocketAddrs: sealed::Sealed {}

pub(crate) mod sealed {
    use super::Target;

    /// Turns an address-like value into the addresses it names, or the host
    /// and port that still have to be resolved.
    pub trait Sealed {
        #[doc(hidden)]
        fn to_target(&self) -> std::io::Result<Target>;
    }
}

/// What a [`ToSocketAddrs`] value names, before any resolving.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Addresses known without a lookup.
    Addrs(Vec<SocketAddr>),
    /// A host name to resolve, and the port to pair with each address.
    Host(String, u16),
}

fn invalid(what: &str, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("invalid socket address {what:?}: {why}"),
    )
}

/// A host and port: an IP literal is taken as is, anything else is a name.
fn host_port(host: &str, port: u16) -> io::Result<Target> {
    if host.is_empty() {
        return Err(invalid(host, "empty host"));
    }
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match literal.parse::<IpAddr>() {
        Ok(ip) => Ok(Target::Addrs(vec![SocketAddr::new(ip, port)])),
        Err(_) if host.contains([':', '[', ']']) => {
            Err(invalid(host, "not an IP address nor a host name"))
        }
        Err(_) => Ok(Target::Host(host.to_owned(), port)),
    }
}

/// `"host:port"`, `"1.2.3.4:port"` or `"[v6]:port"`.
fn host_and_port_str(s: &str) -> io::Result<Target> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(Target::Addrs(vec![addr]));
    }
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| invalid(s, "expected host:port"))?;
    let port = port
        .parse::<u16>()
        .map_err(|_| invalid(s, "the port is not a number from 0 to 65535"))?;
    host_port(host, port)
}

impl sealed::Sealed for SocketAddr {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(vec![*self]))
    }
}
impl ToSocketAddrs for SocketAddr {}

impl sealed::Sealed for SocketAddrV4 {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(vec![SocketAddr::V4(*self)]))
    }
}
impl ToSocketAddrs for SocketAddrV4 {}

impl sealed::Sealed for SocketAddrV6 {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(vec![SocketAddr::V6(*self)]))
    }
}
impl ToSocketAddrs for SocketAddrV6 {}

impl sealed::Sealed for (IpAddr, u16) {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(vec![SocketAddr::new(self.0, self.1)]))
    }
}
impl ToSocketAddrs for (IpAddr, u16) {}

impl sealed::Sealed for (Ipv4Addr, u16) {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(vec![SocketAddr::new(self.0.into(), self.1)]))
    }
}
impl ToSocketAddrs for (Ipv4Addr, u16) {}

impl sealed::Sealed for (Ipv6Addr, u16) {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(vec![SocketAddr::new(self.0.into(), self.1)]))
    }
}
impl ToSocketAddrs for (Ipv6Addr, u16) {}

impl sealed::Sealed for (&str, u16) {
    fn to_target(&self) -> io::Result<Target> {
        host_port(self.0, self.1)
    }
}
impl ToSocketAddrs for (&str, u16) {}

impl sealed::Sealed for (String, u16) {
    fn to_target(&self) -> io::Result<Target> {
        host_port(&self.0, self.1)
    }
}
impl ToSocketAddrs for (String, u16) {}

impl sealed::Sealed for str {
    fn to_target(&self) -> io::Result<Target> {
        host_and_port_str(self)
    }
}
impl ToSocketAddrs for str {}

impl sealed::Sealed for String {
    fn to_target(&self) -> io::Result<Target> {
        host_and_port_str(self)
    }
}
impl ToSocketAddrs for String {}

impl sealed::Sealed for [SocketAddr] {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(self.to_vec()))
    }
}
impl ToSocketAddrs for [SocketAddr] {}

impl sealed::Sealed for Vec<SocketAddr> {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(self.clone()))
    }
}
impl ToSocketAddrs for Vec<SocketAddr> {}

impl<const N: usize> sealed::Sealed for [SocketAddr; N] {
    fn to_target(&self) -> io::Result<Target> {
        Ok(Target::Addrs(self.to_vec()))
    }
}
impl<const N: usize> ToSocketAddrs for [SocketAddr; N] {}

impl<T: ToSocketAddrs + ?Sized> sealed::Sealed for &T {
    fn to_target(&self) -> io::Result<Target> {
        (**self).to_target()
    }
}
impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}

#[cfg(test)]
mod tests {
    use super::sealed::Sealed;
    use super::*;

    fn addr(s: &str) -> Target {
        Target::Addrs(vec![s.parse().unwrap()])
    }

    #[test]
    fn ip_literals_need_no_lookup() {
        assert_eq!("127.0.0.1:80".to_target().unwrap(), addr("127.0.0.1:80"));
        assert_eq!("[::1]:80".to_target().unwrap(), addr("[::1]:80"));
        assert_eq!(("::1", 80).to_target().unwrap(), addr("[::1]:80"));
        assert_eq!(("[::1]", 80).to_target().unwrap(), addr("[::1]:80"));
        assert_eq!(
            (String::from("10.0.0.1"), 1).to_target().unwrap(),
            addr("10.0.0.1:1")
        );
    }

    #[test]
    fn host_names_are_left_to_the_resolver() {
        assert_eq!(
            "localhost:443".to_target().unwrap(),
            Target::Host("localhost".into(), 443)
        );
        assert_eq!(
            ("example.org", 80).to_target().unwrap(),
            Target::Host("example.org".into(), 80)
        );
    }

    #[test]
    fn malformed_addresses_are_invalid_input() {
        for bad in [
            "localhost",
            "localhost:",
            "localhost:99999",
            ":80",
            "::1:80x",
            "[zz]:80",
            "a:b:c",
        ] {
            let err = bad.to_target().unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
    }
}

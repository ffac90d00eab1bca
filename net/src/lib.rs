//! ferrio-net: TCP, UDP, DNS and an HTTP/1.1 client on ferrio's reactor.

pub mod http;

//! The TLS pieces of the client tests (HTTPS, proxy tunnels, client
//! certificates), on the test kit's HTTPS server (`ferrio_testkit::tls`, a
//! private CA made with rcgen): here, a server whose body is made from the
//! connection's TLS state, optionally requiring a client certificate signed
//! by a CA of the test's.
//! Included with `#[path]` by the tests that use it.
#![allow(dead_code)] // each test file uses a different part

use std::sync::Arc;

pub(crate) use ferrio_testkit::tls::{Pki, TlsServer};

/// A CA, and a certificate it signed for `names`.
pub(crate) fn pki(names: &[&str]) -> Pki {
    Pki::new(names)
}

/// `200 OK` with `text` as its body.
pub(crate) fn ok(text: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{text}",
        text.len()
    )
    .into_bytes()
}

/// Serves `body` over TLS on 127.0.0.1 with keep-alive, with the server
/// certificate of `server`; with `client_ca`, only to clients that present a
/// certificate that CA signed. The body ends with whether the server saw a
/// client certificate (` client=yes` / ` client=no`).
pub(crate) async fn https_server(
    server: &Pki,
    client_ca: Option<&Pki>,
    body: &'static str,
) -> TlsServer {
    let provider = ferrio_testkit::tls::provider();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(ca.ca_der.clone()).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(server.chain.clone(), server.key.clone_key())
        .unwrap();
    let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    TlsServer::serve(listener, config, move |_, tls| {
        let client = tls.peer_certificates().is_some_and(|c| !c.is_empty());
        ok(&format!(
            "{body} client={}",
            if client { "yes" } else { "no" }
        ))
    })
}

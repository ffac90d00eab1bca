//! A TLS test server for the client tests that need one (HTTPS, proxy
//! tunnels, client certificates): a CA made with rcgen, a server certificate
//! it signed, and a server on a ferrio `TcpListener` with futures-rustls's
//! server side that answers every request with a body made from the
//! connection's TLS state, optionally requiring a client certificate signed
//! by a CA of the test's.
//! Included with `#[path]` by the tests that use it, so the others do not
//! compile rcgen.
#![allow(dead_code)] // each test file uses a different part

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA, and a certificate it signed for `names` (with its key).
pub(crate) struct Pki {
    pub ca_pem: String,
    pub ca_der: CertificateDer<'static>,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// The leaf and its key as PEM, as a user would have them in files.
    pub chain_pem: String,
    pub key_pem: String,
}

pub(crate) fn pki(names: &[&str]) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let leaf = CertificateParams::new(names)
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        ca_der: ca.der().clone(),
        chain: vec![leaf.der().clone()],
        chain_pem: leaf.pem(),
        key_pem: key.serialize_pem(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    }
}

/// Serves `body` over TLS on 127.0.0.1 with keep-alive, with the server
/// certificate of `server`; with `client_ca`, only to clients that present a
/// certificate that CA signed. The body ends with the subject of the client
/// certificate the server saw, if any (` client=yes` / ` client=no`).
pub(crate) async fn https_server(
    server: &Pki,
    client_ca: Option<&Pki>,
    body: &'static str,
) -> SocketAddr {
    // rustls 0.23.48 deprecates ring's provider (no post-quantum key
    // exchange); ring stays, as aws-lc-rs would add a C and CMake build.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
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
    let addr = listener.local_addr().unwrap();
    serve(listener, config, move |tls| {
        let client = tls.peer_certificates().is_some_and(|c| !c.is_empty());
        format!("{body} client={}", if client { "yes" } else { "no" })
    });
    addr
}

/// Accepts TLS connections on `listener` with `config`, and answers each
/// request head on each connection with `200 OK` and the body `answer` makes
/// from the connection's TLS state. Returns the count of TCP connections
/// accepted, which goes up as they come.
pub(crate) fn serve(
    listener: ferrio::net::TcpListener,
    config: rustls::ServerConfig,
    answer: impl Fn(&rustls::ServerConnection) -> String + Send + Sync + 'static,
) -> Arc<AtomicUsize> {
    let acceptor = futures_rustls::TlsAcceptor::from(Arc::new(config));
    let answer = Arc::new(answer);
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    ferrio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let (acceptor, answer) = (acceptor.clone(), answer.clone());
            ferrio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                loop {
                    let mut chunk = [0u8; 4096];
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        let text = answer(tls.get_ref().1);
                        let reply = format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{text}",
                            text.len()
                        );
                        if tls.write_all(reply.as_bytes()).await.is_err()
                            || tls.flush().await.is_err()
                        {
                            return;
                        }
                    }
                }
            });
        }
    });
    accepted
}

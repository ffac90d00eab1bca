//! HTTPS through the facade: a test CA made with rcgen, a server on a ferrio
//! `TcpListener` with futures-rustls's server side, and the client trusting
//! the CA with `add_root_certificate`.

mod http_client_support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ferrio::http::{Certificate, Client, ErrorKind, Version};
use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use http_client_support::run;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA, and a server certificate it signed for `names`.
struct Pki {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn pki(names: &[&str]) -> Pki {
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
        chain: vec![leaf.der().clone()],
        key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    }
}

/// Serves `body` over TLS on 127.0.0.1 with keep-alive; counts TCP connections.
async fn https_server(pki: &Pki, body: &'static str) -> (SocketAddr, Arc<AtomicUsize>) {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(pki.chain.clone(), pki.key.clone_key())
    .unwrap();
    // The server speaks h2 too: the client must pick http/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = futures_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    ferrio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            ferrio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let alpn = tls.get_ref().1.alpn_protocol().map(|p| p.to_vec());
                let mut buf = Vec::new();
                loop {
                    let mut chunk = [0u8; 4096];
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        let text = format!(
                            "{body} alpn={}",
                            String::from_utf8_lossy(alpn.as_deref().unwrap_or(b"none"))
                        );
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
    (addr, accepted)
}

#[test]
fn https_round_trip_with_a_self_signed_ca() {
    run(async {
        let pki = pki(&["localhost", "127.0.0.1"]);
        let (addr, accepted) = https_server(&pki, "secret").await;
        let ca = Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();
        let client = Client::builder().add_root_certificate(ca).build().unwrap();
        for host in ["localhost", "127.0.0.1", "localhost"] {
            let url = format!("https://{host}:{}/", addr.port());
            let response = client.get(&url).send().await.unwrap();
            assert_eq!(response.version(), Version::HTTP_11);
            assert_eq!(response.text().await.unwrap(), "secret alpn=http/1.1");
        }
        // One connection per host name (they are different origins), each reused.
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn certificate_for_another_name_is_a_tls_error() {
    run(async {
        let pki = pki(&["example.com"]);
        let (addr, _) = https_server(&pki, "never").await;
        let ca = Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();
        let client = Client::builder().add_root_certificate(ca).build().unwrap();
        let err = client
            .get(format!("https://localhost:{}/", addr.port()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
        assert!(std::error::Error::source(&err).is_some());
    });
}

#[test]
fn certificate_from_an_unknown_ca_is_a_tls_error() {
    run(async {
        let pki = pki(&["localhost"]);
        let (addr, _) = https_server(&pki, "never").await;
        let err = Client::new()
            .get(format!("https://localhost:{}/", addr.port()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    });
}

#[test]
fn plain_http_to_a_tls_port_is_an_error_not_a_hang() {
    run(async {
        let pki = pki(&["localhost"]);
        let (addr, _) = https_server(&pki, "never").await;
        let client = Client::builder()
            .read_timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap();
        let err = client
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::MalformedResponse | ErrorKind::Io),
            "{err}"
        );
    });
}

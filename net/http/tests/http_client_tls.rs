//! HTTPS through the facade: a test CA made with rcgen, a server on a ferrio
//! `TcpListener` with futures-rustls's server side, and the client trusting
//! the CA with `add_root_certificate`.

mod http_client_support;
#[path = "http_client_support/tls.rs"]
mod tls_support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ferrio::http::{Certificate, Client, ErrorKind, Version};
use http_client_support::run;
use tls_support::{pki, Pki};

/// Serves `body` over TLS on 127.0.0.1 with keep-alive, offering ALPN `h2`
/// as well (the client must pick http/1.1); the body ends with the protocol
/// picked. Counts TCP connections.
// ring's provider is deprecated in rustls 0.23.48 (no post-quantum key
// exchange); the client under test uses it too.
#[allow(deprecated)]
async fn https_server(pki: &Pki, body: &'static str) -> (SocketAddr, Arc<AtomicUsize>) {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(pki.chain.clone(), pki.key.clone_key())
    .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = tls_support::serve(listener, config, move |tls| {
        let alpn = tls.alpn_protocol().unwrap_or(b"none");
        format!("{body} alpn={}", String::from_utf8_lossy(alpn))
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

//! HTTPS through the facade: the test kit's HTTPS server (a private CA made
//! with rcgen, futures-rustls's server side on a ferrio `TcpListener`), and
//! the client trusting the CA with `add_root_certificate`, or not. Each way a
//! certificate can be refused is its own [`TlsFailure`].

mod http_client_support;
#[path = "http_client_support/tls.rs"]
mod tls_support;

use std::time::Duration;

use ferrio::http::{Certificate, Client, ErrorKind, TlsFailure, Version};
use http_client_support::run;
use tls_support::{ok, pki, Pki, TlsServer};

/// Serves `body` over TLS on 127.0.0.1 with keep-alive, offering ALPN `h2`
/// as well (the client must pick http/1.1); the body ends with the protocol
/// picked.
async fn https_server(pki: &Pki, body: &'static str) -> TlsServer {
    let mut config = pki.server_config();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    TlsServer::serve(listener, config, move |_, tls| {
        let alpn = tls.alpn_protocol().unwrap_or(b"none");
        ok(&format!("{body} alpn={}", String::from_utf8_lossy(alpn)))
    })
}

fn trusting(pki: &Pki) -> Client {
    let ca = Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();
    Client::builder()
        .add_root_certificate(ca)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[test]
fn https_round_trip_with_a_self_signed_ca() {
    run(async {
        let pki = pki(&["localhost", "127.0.0.1"]);
        let server = https_server(&pki, "secret").await;
        let client = trusting(&pki);
        for host in ["localhost", "127.0.0.1", "localhost"] {
            let response = client.get(server.url(host, "/")).send().await.unwrap();
            assert_eq!(response.version(), Version::HTTP_11);
            assert_eq!(response.text().await.unwrap(), "secret alpn=http/1.1");
        }
        // One connection per host name (they are different origins), each reused.
        assert_eq!(server.accepted(), 2);
    });
}

/// The error of a GET of `host` on `server` by `client`, which must be a
/// handshake's TLS error.
async fn refused(client: &Client, server: &TlsServer, host: &str) -> ferrio::http::Error {
    let err = client
        .get(server.url(host, "/"))
        .send()
        .await
        .expect_err("the handshake must fail");
    assert_eq!(err.kind(), ErrorKind::Tls, "{err}");
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
    err
}

#[test]
fn certificate_for_another_name_is_a_wrong_name_tls_error() {
    run(async {
        let pki = pki(&["example.com"]);
        let server = https_server(&pki, "never").await;
        let err = refused(&trusting(&pki), &server, "localhost").await;
        assert_eq!(err.tls_failure(), Some(TlsFailure::WrongName), "{err}");
    });
}

#[test]
fn certificate_from_an_unknown_ca_is_an_unknown_issuer_tls_error() {
    run(async {
        let pki = pki(&["localhost"]);
        let server = https_server(&pki, "never").await;
        let err = refused(&Client::new(), &server, "localhost").await;
        assert_eq!(err.tls_failure(), Some(TlsFailure::UnknownIssuer), "{err}");
        // Another CA than the server's is no better.
        let other = trusting(&tls_support::pki(&["localhost"]));
        let err = refused(&other, &server, "localhost").await;
        assert_eq!(err.tls_failure(), Some(TlsFailure::UnknownIssuer), "{err}");
    });
}

#[test]
fn an_expired_certificate_is_an_expired_tls_error() {
    run(async {
        let pki = Pki::expired(&["localhost"]);
        let server = https_server(&pki, "never").await;
        let err = refused(&trusting(&pki), &server, "localhost").await;
        assert_eq!(err.tls_failure(), Some(TlsFailure::Expired), "{err}");
    });
}

#[test]
fn errors_that_are_not_handshakes_have_no_tls_failure() {
    let err = Certificate::from_pem(b"not a certificate").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls);
    assert_eq!(err.tls_failure(), None);
}

#[test]
fn plain_http_to_a_tls_port_is_an_error_not_a_hang() {
    run(async {
        let pki = pki(&["localhost"]);
        let server = https_server(&pki, "never").await;
        let client = Client::builder()
            .read_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let err = client
            .get(format!("http://{}/", server.local_addr()))
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::MalformedResponse | ErrorKind::Io),
            "{err}"
        );
        assert_eq!(err.tls_failure(), None);
    });
}

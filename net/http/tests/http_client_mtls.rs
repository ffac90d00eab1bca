//! HTTPS with client certificates (mutual TLS) end to end: a local TLS
//! server that requires a certificate signed by its client CA, and the
//! client presenting one with `ClientBuilder::identity`, or not.

mod http_client_support;
#[path = "http_client_support/tls.rs"]
mod tls_support;

use std::time::Duration;

use ferrio::http::{Certificate, Client, ErrorKind, Identity};
use http_client_support::run;
use tls_support::{https_server, pki};

fn builder(server_ca: &str) -> ferrio::http::ClientBuilder {
    Client::builder()
        .add_root_certificate(Certificate::from_pem(server_ca.as_bytes()).unwrap())
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(5))
}

#[test]
fn a_server_that_requires_a_client_certificate_accepts_the_identity() {
    run(async {
        let server = pki(&["localhost"]);
        let client_pki = pki(&["client.test"]);
        let https = https_server(&server, Some(&client_pki), "members only").await;
        let addr = https.local_addr();
        let identity = Identity::from_pem(
            client_pki.chain_pem.as_bytes(),
            client_pki.key_pem.as_bytes(),
        )
        .unwrap();
        let client = builder(&server.ca_pem).identity(identity).build().unwrap();
        let url = format!("https://localhost:{}/", addr.port());
        for _ in 0..2 {
            let text = client.get(&url).send().await.unwrap().text().await.unwrap();
            assert_eq!(text, "members only client=yes");
        }
    });
}

#[test]
fn without_an_identity_or_with_a_stranger_the_request_fails_in_time() {
    run(async {
        let server = pki(&["localhost"]);
        let client_pki = pki(&["client.test"]);
        let https = https_server(&server, Some(&client_pki), "members only").await;
        let addr = https.local_addr();
        let url = format!("https://localhost:{}/", addr.port());
        // A certificate from a CA the server does not trust.
        let stranger = pki(&["stranger.test"]);
        let stranger =
            Identity::from_pem(stranger.chain_pem.as_bytes(), stranger.key_pem.as_bytes()).unwrap();
        for client in [
            builder(&server.ca_pem).build().unwrap(),
            builder(&server.ca_pem).identity(stranger).build().unwrap(),
        ] {
            let err = client.get(&url).send().await.unwrap_err();
            // TLS 1.3: the client's handshake is over when the server
            // refuses, so the refusal, a TLS alert, comes with the first
            // read of the response, as a connection error.
            assert_eq!(err.kind(), ErrorKind::Io, "{err}");
            assert!(err.to_string().contains("alert"), "{err}");
        }
        // The same server still serves those who have one.
        let identity = Identity::from_pem(
            client_pki.chain_pem.as_bytes(),
            client_pki.key_pem.as_bytes(),
        )
        .unwrap();
        let client = builder(&server.ca_pem).identity(identity).build().unwrap();
        assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    });
}

//! Proxies through the facade, against a proxy written in the test: plain
//! HTTP forwarded in absolute form, HTTPS and WebSockets through `CONNECT`
//! tunnels, credentials from the proxy URL, `no_proxy`, and proxies that
//! refuse or do not speak HTTP, each a typed error.

mod http_client_support;
#[path = "http_client_support/proxy.rs"]
mod proxy_support;
#[path = "http_client_support/tls.rs"]
mod tls_support;

use std::time::Duration;

use ferrio::http::{Certificate, Client, ErrorKind};
use http_client_support::{response, run, serve, Action};
use proxy_support::{proxy, Mode};
use tls_support::{https_server, pki};

fn builder() -> ferrio::http::ClientBuilder {
    Client::builder()
        .read_timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
}

/// An origin that answers "hello from <target>" and closes.
async fn origin() -> http_client_support::Server {
    serve(|r| Action::ReplyClose(response("200 OK", &[], format!("hello from {}", r.target)))).await
}

#[test]
fn plain_http_goes_to_the_proxy_in_absolute_form() {
    run(async {
        let origin = origin().await;
        let proxy = proxy(Mode::Open).await;
        let client = builder().proxy(proxy.url()).build().unwrap();
        let url = origin.url("/posts?id=1");
        let text = client.get(&url).send().await.unwrap().text().await.unwrap();
        assert_eq!(text, "hello from /posts?id=1");
        assert_eq!(proxy.lines(), [format!("GET {url} HTTP/1.1")]);
        assert_eq!(
            proxy.log.lock().unwrap()[0].1,
            None,
            "no credentials were given"
        );
    });
}

#[test]
fn credentials_in_the_proxy_url_are_sent_as_proxy_authorization() {
    run(async {
        let origin = origin().await;
        // base64("user:p@ss")
        let proxy = proxy(Mode::RequireAuth("Basic dXNlcjpwQHNz")).await;
        let with_auth = format!("http://user:p%40ss@{}", proxy.addr);
        let client = builder().proxy(with_auth).build().unwrap();
        let text = client
            .get(origin.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(text, "hello from /");
        // Without them the proxy says 407, a response like any other.
        let client = builder().proxy(proxy.url()).build().unwrap();
        let response = client.get(origin.url("/")).send().await.unwrap();
        assert_eq!(response.status(), 407);
    });
}

#[test]
fn https_goes_through_a_connect_tunnel() {
    run(async {
        let pki = pki(&["localhost"]);
        let https = https_server(&pki, None, "secret").await;
        let addr = https.local_addr();
        let proxy = proxy(Mode::RequireAuth("Basic YTpi")).await;
        let client = builder()
            .proxy(format!("http://a:b@{}", proxy.addr))
            .add_root_certificate(Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
            .build()
            .unwrap();
        let url = format!("https://localhost:{}/", addr.port());
        for _ in 0..2 {
            let text = client.get(&url).send().await.unwrap().text().await.unwrap();
            assert_eq!(text, "secret client=no");
        }
        // One tunnel, kept alive for the second request.
        assert_eq!(
            proxy.lines(),
            [format!("CONNECT localhost:{} HTTP/1.1", addr.port())]
        );
    });
}

#[test]
fn a_proxy_that_refuses_connect_is_a_proxy_error_with_the_status() {
    run(async {
        let pki = pki(&["localhost"]);
        let https = https_server(&pki, None, "unreached").await;
        let addr = https.local_addr();
        let url = format!("https://localhost:{}/", addr.port());
        for code in [407, 403] {
            let proxy = proxy(Mode::Refuse(code)).await;
            let client = builder().proxy(proxy.url()).build().unwrap();
            let err = client.get(&url).send().await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Proxy, "{err}");
            assert_eq!(err.status().map(|s| s.as_u16()), Some(code));
            assert_eq!(err.url().map(|u| u.as_str()), Some(url.as_str()));
        }
        let proxy = proxy(Mode::Garbage).await;
        let client = builder().proxy(proxy.url()).build().unwrap();
        let err = client.get(&url).send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Proxy, "{err}");
        assert_eq!(err.status(), None);
    });
}

#[test]
fn no_proxy_hosts_are_reached_directly() {
    run(async {
        let origin = origin().await;
        // Nothing listens on port 1: going through it would fail.
        let client = builder()
            .proxy("127.0.0.1:1")
            .no_proxy("localhost, 127.0.0.1")
            .build()
            .unwrap();
        let text = client
            .get(origin.url("/direct"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(text, "hello from /direct");
        let err = builder()
            .proxy("socks5://127.0.0.1:1080")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidUrl);
    });
}

#[cfg(feature = "ws")]
#[test]
fn a_websocket_goes_through_a_tunnel() {
    run(async {
        let echo = ferrio_testkit::ws::EchoServer::bind("127.0.0.1:0")
            .await
            .unwrap();
        let proxy = proxy(Mode::Open).await;
        let client = builder().proxy(proxy.url()).build().unwrap();
        let mut ws = client.ws_connect(echo.url("/")).await.unwrap();
        ws.send_text("through the proxy").await.unwrap();
        assert_eq!(
            ws.receive().await.unwrap(),
            Some(ferrio::http::ws::Message::Text("through the proxy".into()))
        );
        assert_eq!(
            proxy.lines(),
            [format!("CONNECT {} HTTP/1.1", echo.local_addr())]
        );
    });
}

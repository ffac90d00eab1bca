//! What the client sends where, over TLS (docs/security.md lists every rule;
//! the plain-http ones are pinned next to their features, in
//! http_client_bodies.rs, http_client_requests.rs, http_client_cookies.rs and
//! http_client_proxy.rs). The test kit's HTTPS server stands for
//! `example.test`, which the client's resolver sends to 127.0.0.1: a name
//! that is not loopback, so that the cookie jar does not treat plain http to
//! it as secure (it does for `localhost` and 127.0.0.1).

mod http_client_support;
#[path = "http_client_support/proxy.rs"]
mod proxy_support;
#[path = "http_client_support/tls.rs"]
mod tls_support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrio::http::{Certificate, Client, ClientBuilder};
use ferrio::net::Resolver;
use http_client_support::{ok, response, run, serve, Action};
use proxy_support::{proxy, Mode};
use tls_support::{pki, TlsServer};

const HOST: &str = "example.test";

/// Trusts `ca_pem`, resolves every name to 127.0.0.1, keeps cookies.
fn builder(ca_pem: &str) -> ClientBuilder {
    Client::builder()
        .add_root_certificate(Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .resolver(Resolver::new(|_host: &str, port: u16| {
            Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))])
        }))
        .cookie_store(true)
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(5))
}

/// The `Cookie` and `Authorization` fields of a request, as a body.
fn echo(cookie: Option<&str>, authorization: Option<&str>) -> String {
    format!("cookie={cookie:?} authorization={authorization:?}")
}

#[test]
fn a_secure_cookie_goes_over_https_and_not_over_plain_http_to_the_same_name() {
    run(async {
        let pki = pki(&[HOST]);
        // `/set` sets a Secure cookie and a plain one; anything else echoes.
        let https = TlsServer::bind(&pki, |r| {
            if r.target == "/set" {
                response(
                    "200 OK",
                    &[
                        "set-cookie: token=s3cret; Secure; Path=/",
                        "set-cookie: theme=dark; Path=/",
                    ],
                    "",
                )
            } else {
                ok(echo(r.header("cookie"), None))
            }
        })
        .await
        .unwrap();
        let plain = serve(|r| Action::Reply(ok(echo(r.header("cookie"), None)))).await;
        let client = builder(&pki.ca_pem).build().unwrap();
        let get = |url: String| {
            let request = client.get(url);
            async move { request.send().await.unwrap().text().await.unwrap() }
        };
        get(https.url(HOST, "/set")).await;
        // The jar's order is its own: the pairs, sorted.
        let secure = get(https.url(HOST, "/echo")).await;
        let cookie = secure
            .strip_prefix("cookie=Some(\"")
            .and_then(|rest| rest.split_once('"'))
            .map(|(cookie, _)| cookie)
            .unwrap_or_else(|| panic!("no cookie over https: {secure}"));
        let mut pairs: Vec<&str> = cookie.split("; ").collect();
        pairs.sort_unstable();
        assert_eq!(pairs, ["theme=dark", "token=s3cret"]);
        // The same name over plain http (cookies do not care for ports).
        let insecure = format!("http://{HOST}:{}/echo", plain.addr.port());
        assert_eq!(get(insecure).await, echo(Some("theme=dark"), None));
    });
}

#[test]
fn a_redirect_from_https_to_http_is_followed_without_the_credentials() {
    run(async {
        let plain =
            serve(|r| Action::Reply(ok(echo(r.header("cookie"), r.header("authorization"))))).await;
        let pki = pki(&[HOST]);
        // Same name, other scheme (and port): a downgrade.
        let downgrade = format!("location: http://{HOST}:{}/landing", plain.addr.port());
        let https = TlsServer::bind(&pki, move |r| match r.target.as_str() {
            "/down" => response("302 Found", &[&downgrade], ""),
            _ => ok(echo(r.header("cookie"), r.header("authorization"))),
        })
        .await
        .unwrap();
        let client = builder(&pki.ca_pem).build().unwrap();
        let send = |path: &str| {
            let request = client
                .get(https.url(HOST, path))
                .bearer_auth("s3cret")
                .header("cookie", "sid=1");
            async move {
                let response = request.send().await.unwrap();
                let url = response.url().clone();
                (url, response.text().await.unwrap())
            }
        };
        let (_, text) = send("/echo").await;
        assert_eq!(text, echo(Some("sid=1"), Some("Bearer s3cret")));
        let (url, text) = send("/down").await;
        assert_eq!(url.scheme(), "http", "the downgrade is followed");
        assert_eq!(text, echo(None, None), "no credentials go over plain http");
    });
}

#[test]
fn proxy_credentials_go_to_the_proxy_and_not_through_the_tunnel() {
    run(async {
        // The proxy resolves the name itself: one it knows.
        let pki = pki(&["localhost"]);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let https = TlsServer::bind(&pki, move |r| {
            log.lock()
                .unwrap()
                .push(r.header("proxy-authorization").map(str::to_owned));
            ok("hi")
        })
        .await
        .unwrap();
        // base64("a:b")
        let proxy = proxy(Mode::RequireAuth("Basic YTpi")).await;
        let client = builder(&pki.ca_pem)
            .proxy(format!("http://a:b@{}", proxy.addr))
            .build()
            .unwrap();
        let response = client
            .get(https.url("localhost", "/"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.text().await.unwrap(), "hi");
        // The proxy saw the credentials on CONNECT (else 407), the origin none.
        assert_eq!(
            proxy.log.lock().unwrap()[0],
            (
                format!("CONNECT localhost:{} HTTP/1.1", https.local_addr().port()),
                Some("Basic YTpi".to_owned())
            )
        );
        assert_eq!(*seen.lock().unwrap(), [None]);
    });
}

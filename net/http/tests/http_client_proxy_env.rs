//! `ClientBuilder::proxy_from_env` reading `http_proxy`, `https_proxy` and
//! `no_proxy`. One test alone in its binary: it sets the process's
//! environment, which no other thread may read meanwhile.

mod http_client_support;
#[path = "http_client_support/proxy.rs"]
mod proxy_support;

use std::time::Duration;

use ferrio::http::{Client, ErrorKind};
use http_client_support::{response, run, serve, Action};
use proxy_support::{proxy, Mode};

#[test]
fn proxies_come_from_the_environment_only_when_asked() {
    run(async {
        let origin = serve(|r| Action::ReplyClose(response("200 OK", &[], r.target.clone()))).await;
        let proxy = proxy(Mode::Open).await;
        std::env::set_var("http_proxy", proxy.url());
        std::env::set_var("HTTP_PROXY", "http://127.0.0.1:1");
        std::env::remove_var("no_proxy");
        std::env::remove_var("NO_PROXY");
        let get = |client: Client, path: &'static str| {
            let url = origin.url(path);
            async move { client.get(url).send().await.unwrap().text().await.unwrap() }
        };
        let timeouts = || Client::builder().read_timeout(Duration::from_secs(5));

        // Not asked: direct, whatever the environment says.
        assert_eq!(get(timeouts().build().unwrap(), "/direct").await, "/direct");
        assert!(proxy.lines().is_empty());

        // Asked: lowercase http_proxy (uppercase HTTP_PROXY is ignored: httpoxy).
        let from_env = timeouts().proxy_from_env().build().unwrap();
        assert_eq!(get(from_env, "/proxied").await, "/proxied");
        assert_eq!(
            proxy.lines(),
            [format!("GET {} HTTP/1.1", origin.url("/proxied"))]
        );

        // NO_PROXY (uppercase too) lets the host through directly.
        std::env::set_var("NO_PROXY", "example.com, 127.0.0.1");
        let bypassing = timeouts().proxy_from_env().build().unwrap();
        assert_eq!(get(bypassing, "/bypassed").await, "/bypassed");
        assert_eq!(
            proxy.lines().len(),
            1,
            "the bypassed request did not reach the proxy"
        );

        // A proxy variable that is not a proxy URL fails the build.
        std::env::set_var("https_proxy", "socks5://127.0.0.1:1080");
        let err = timeouts().proxy_from_env().build().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidUrl);

        for name in ["http_proxy", "HTTP_PROXY", "https_proxy", "NO_PROXY"] {
            std::env::remove_var(name);
        }
    });
}

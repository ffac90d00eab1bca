//! 4xx and 5xx responses as errors when asked: `Response::error_for_status`
//! and `ClientBuilder::raise_for_status`, through the facade.

mod http_client_support;

use std::time::Duration;

use ferrio::http::{Client, ErrorKind, StatusCode};
use http_client_support::{ok, response, run, serve, Action};

fn client(raise: bool) -> Client {
    Client::builder()
        .raise_for_status(raise)
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[test]
fn error_for_status_gives_the_code_and_url_of_a_4xx_or_5xx() {
    run(async {
        let server = serve(|r| match r.target.as_str() {
            "/missing" => Action::Reply(response("404 Not Found", &[], "no")),
            "/broken" => Action::Reply(response("500 Internal Server Error", &[], "oops")),
            _ => Action::Reply(ok("fine")),
        })
        .await;
        let client = client(false);
        for (path, status) in [
            ("/missing", StatusCode::NOT_FOUND),
            ("/broken", StatusCode::INTERNAL_SERVER_ERROR),
        ] {
            let url = server.url(path);
            let response = client.get(&url).send().await.unwrap();
            assert_eq!(
                response.status(),
                status,
                "without the option a {status} is a response"
            );
            let err = response.error_for_status().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Status, "{err}");
            assert_eq!(err.status(), Some(status));
            assert_eq!(err.url().map(|u| u.as_str()), Some(url.as_str()));
            assert!(err.to_string().contains(path), "{err}");
        }
        let fine = client.get(server.url("/")).send().await.unwrap();
        let text = fine.error_for_status().unwrap().text().await.unwrap();
        assert_eq!(text, "fine");
    });
}

#[test]
fn raise_for_status_makes_send_fail_on_an_error_status_only() {
    run(async {
        let server = serve(|r| match r.target.as_str() {
            "/teapot" => Action::Reply(response("418 I'm a teapot", &[], "")),
            "/moved" => Action::Reply(response("302 Found", &["location: /gone"], "")),
            "/gone" => Action::Reply(response("410 Gone", &[], "")),
            _ => Action::Reply(ok("fine")),
        })
        .await;
        let client = client(true);
        let err = client.get(server.url("/teapot")).send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Status);
        assert_eq!(err.status(), Some(StatusCode::IM_A_TEAPOT));
        // Redirects are followed first; the error names where they ended.
        let err = client.get(server.url("/moved")).send().await.unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::GONE));
        assert_eq!(err.url().unwrap().path(), "/gone");
        let text = client
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await;
        assert_eq!(text.unwrap(), "fine");
        // Other errors are not status errors.
        let none = client.get("http://127.0.0.1:1/").send().await.unwrap_err();
        assert_ne!(none.kind(), ErrorKind::Status);
        assert_eq!(none.status(), None);
    });
}

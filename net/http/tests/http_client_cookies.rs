//! The cookie jar through the facade: off by default; a login flow through a
//! redirect; domain and path scoping; expiry; a malformed `Set-Cookie`
//! ignored; one jar shared by two clients.

mod http_client_support;

use std::net::SocketAddr;
use std::time::Duration;

use ferrio::http::{Client, Jar, Url};
use ferrio::net::Resolver;
use http_client_support::{ok, response, run, serve, Action, Request, Server};

/// The `Cookie` field of the request the server saw for `path` last.
fn cookie_sent(server: &Server, path: &str) -> Option<String> {
    server
        .stats
        .requests()
        .iter()
        .rev()
        .find(|r| r.target == path)
        .expect("the server saw the request")
        .header("cookie")
        .map(str::to_owned)
}

/// A site: `/login` sets a session and redirects to `/home`, which says who
/// is logged in; `/set?...` answers with the Set-Cookie fields it is given
/// (`;` in a value as `%3B`); anything else says "ok".
fn site(r: &Request) -> Action {
    let (path, query) = r.target.split_once('?').unwrap_or((&r.target, ""));
    match path {
        "/login" => Action::Reply(response(
            "303 See Other",
            &[
                "set-cookie: session=abc123; Path=/; HttpOnly",
                "location: /home",
            ],
            "",
        )),
        "/home" => match r.header("cookie") {
            Some(c) if c.contains("session=abc123") => Action::Reply(ok("welcome back")),
            _ => Action::Reply(response("401 Unauthorized", &[], "log in first")),
        },
        "/set" => {
            let fields: Vec<String> = query
                .split('&')
                .map(|f| format!("set-cookie: {}", f.replace("%3B", ";").replace("%20", " ")))
                .collect();
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            Action::Reply(response("200 OK", &fields, ""))
        }
        _ => Action::Reply(ok("ok")),
    }
}

/// A client with a jar that resolves every `*.test` name to `server`.
fn client_for(server: &Server, jar: Jar) -> Client {
    let ip = server.addr.ip();
    Client::builder()
        .cookie_jar(jar)
        .resolver(Resolver::new(move |_host: &str, port: u16| {
            Ok(vec![SocketAddr::new(ip, port)])
        }))
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn get(client: &Client, url: String) -> String {
    let response = client
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    response.text().await.unwrap()
}

#[test]
fn without_a_jar_cookies_are_not_kept() {
    run(async {
        let server = serve(site).await;
        let client = Client::new();
        let response = client.post(server.url("/login")).send().await.unwrap();
        assert_eq!(
            response.status(),
            401,
            "the session cookie must not follow the redirect"
        );
        client.get(server.url("/other")).send().await.unwrap();
        assert_eq!(cookie_sent(&server, "/other"), None);
    });
}

#[test]
fn a_login_through_a_redirect_keeps_the_session() {
    run(async {
        let server = serve(site).await;
        let client = Client::builder().cookie_store(true).build().unwrap();
        // The cookie set by the 303 goes with the redirected GET.
        let response = client.post(server.url("/login")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "welcome back");
        assert_eq!(get(&client, server.url("/home")).await, "welcome back");
        // A clone shares the jar.
        assert_eq!(
            get(&client.clone(), server.url("/home")).await,
            "welcome back"
        );
        // A request's own Cookie field is sent instead of the jar's.
        let own = client.get(server.url("/mine")).header("cookie", "mine=1");
        own.send().await.unwrap();
        assert_eq!(cookie_sent(&server, "/mine").as_deref(), Some("mine=1"));
    });
}

#[test]
fn cookies_are_scoped_by_domain_and_path() {
    run(async {
        let server = serve(site).await;
        let port = server.addr.port();
        let jar = Jar::new();
        let client = client_for(&server, jar.clone());
        let at = |host: &str, path: &str| format!("http://{host}:{port}{path}");
        get(
            &client,
            at(
                "shop.test",
                "/set?host=1&wide=2%3B Domain=shop.test&cart=3%3B Path=/cart",
            ),
        )
        .await;
        let sent = |path: &'static str| cookie_sent(&server, path).unwrap_or_default();
        get(&client, at("shop.test", "/cart/items")).await;
        let mut names: Vec<String> = sent("/cart/items").split("; ").map(str::to_owned).collect();
        names.sort();
        assert_eq!(names, ["cart=3", "host=1", "wide=2"]);
        // A subdomain gets the Domain cookie only; not the host-only one.
        get(&client, at("eu.shop.test", "/account")).await;
        assert_eq!(sent("/account"), "wide=2");
        // Another site gets nothing.
        get(&client, at("other.test", "/elsewhere")).await;
        assert_eq!(cookie_sent(&server, "/elsewhere"), None);
        // A site may not set a cookie for another.
        get(&client, at("evil.test", "/set?steal=1%3B Domain=shop.test")).await;
        let shop = Url::parse(&at("shop.test", "/")).unwrap();
        assert!(jar.cookies(&shop).iter().all(|(name, _)| name != "steal"));
    });
}

#[test]
fn expired_and_deleted_cookies_are_not_sent() {
    run(async {
        let server = serve(site).await;
        let client = Client::builder().cookie_store(true).build().unwrap();
        get(
            &client,
            server.url("/set?short=1%3B Max-Age=1&gone=1&long=1%3B Max-Age=3600"),
        )
        .await;
        get(&client, server.url("/set?gone=1%3B Max-Age=0")).await;
        get(&client, server.url("/now")).await;
        let now = cookie_sent(&server, "/now").unwrap();
        assert!(now.contains("short=1") && now.contains("long=1"), "{now}");
        assert!(!now.contains("gone"), "deleted with Max-Age=0: {now}");
        ferrio::time::sleep(Duration::from_millis(2100)).await;
        get(&client, server.url("/later")).await;
        assert_eq!(cookie_sent(&server, "/later").as_deref(), Some("long=1"));
    });
}

#[test]
fn a_malformed_set_cookie_is_ignored_and_the_response_is_fine() {
    run(async {
        let server = serve(|r| match r.target.as_str() {
            "/bad" => Action::Reply(response(
                "200 OK",
                &[
                    "set-cookie: =nameless",
                    "set-cookie: ;;;",
                    "set-cookie: good=1",
                ],
                "fine",
            )),
            _ => Action::Reply(ok("ok")),
        })
        .await;
        let client = Client::builder().cookie_store(true).build().unwrap();
        assert_eq!(get(&client, server.url("/bad")).await, "fine");
        get(&client, server.url("/next")).await;
        assert_eq!(cookie_sent(&server, "/next").as_deref(), Some("good=1"));
    });
}

#[test]
fn one_jar_serves_two_clients() {
    run(async {
        let server = serve(site).await;
        let jar = Jar::new();
        let first = Client::builder().cookie_jar(jar.clone()).build().unwrap();
        let second = Client::builder()
            .cookie_jar(jar.clone())
            .limit(1)
            .build()
            .unwrap();
        first.post(server.url("/login")).send().await.unwrap();
        assert_eq!(get(&second, server.url("/home")).await, "welcome back");
        let url = Url::parse(&server.url("/")).unwrap();
        assert_eq!(
            jar.cookies(&url),
            vec![("session".to_owned(), "abc123".to_owned())]
        );
    });
}

/// A response with `n` Set-Cookie fields, each a new cookie (`<round>-<i>`).
fn flood(round: usize, n: usize) -> Vec<u8> {
    let mut wire = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n".to_vec();
    for i in 0..n {
        wire.extend_from_slice(format!("set-cookie: c{round}-{i}=1; Path=/\r\n").as_bytes());
    }
    wire.extend_from_slice(b"\r\nok");
    wire
}

#[test]
fn a_flood_of_set_cookie_is_bounded_by_the_head_limit_and_the_jar_limits() {
    run(async {
        // 10 000 Set-Cookie fields (about 200 KiB): over the default 64 KiB
        // head limit, a TooLarge error, and nothing kept.
        let server = serve(|r| {
            let round: usize = r.target[1..].parse().unwrap_or(0);
            Action::Reply(flood(round, 10_000))
        })
        .await;
        let jar = Jar::new();
        let client = client_for(&server, jar.clone());
        let err = client.get(server.url("/0")).send().await.unwrap_err();
        assert_eq!(err.kind(), ferrio::http::ErrorKind::TooLarge, "{err}");
        assert!(jar
            .cookies(&Url::parse(&server.url("/")).unwrap())
            .is_empty());
        // With room for the heads, the jar keeps 180 cookies for the host,
        // however many responses bring new ones.
        let client = Client::builder()
            .cookie_jar(jar.clone())
            .max_header_bytes(1 << 20)
            .read_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        for round in 1..=3 {
            let response = client
                .get(server.url(&format!("/{round}")))
                .send()
                .await
                .unwrap();
            assert_eq!(response.text().await.unwrap(), "ok");
            let kept = jar.cookies(&Url::parse(&server.url("/")).unwrap());
            assert_eq!(kept.len(), 180, "round {round}");
        }
        // And so the Cookie field sent back holds 180 pairs.
        client.get(server.url("/back")).send().await.unwrap();
        let sent = cookie_sent(&server, "/back").expect("the jar's cookies");
        assert_eq!(sent.split("; ").count(), 180);
    });
}

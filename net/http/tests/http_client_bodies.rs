//! Response bodies and redirects through the facade: Content-Length, chunked
//! with trailers, close-delimited, none for HEAD and 204, gzip decoded,
//! streaming, JSON both ways, and redirect chains, method rules and loops.

mod http_client_support;

use std::time::Duration;

use ferrio::http::{Client, ErrorKind, Method, StatusCode, Version};
use http_client_support::{get_text, gzip, ok, raw, response, run, serve, Action};

#[test]
fn chunked_body_with_trailers_is_reassembled_and_the_connection_reused() {
    run(async {
        let server = serve(|_| {
            Action::Reply(raw("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
                 5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nx-checksum: 42\r\n\r\n"))
        })
        .await;
        let client = Client::new();
        for _ in 0..3 {
            let mut response = client.get(server.url("/")).send().await.unwrap();
            let mut body = Vec::new();
            while let Some(piece) = response.chunk().await.unwrap() {
                body.extend_from_slice(&piece);
            }
            assert_eq!(body, b"hello, world");
            assert_eq!(response.trailers().unwrap()["x-checksum"], "42");
        }
        assert_eq!(server.stats.accepted(), 1);
    });
}

#[test]
fn gzip_is_asked_for_and_decoded() {
    run(async {
        let text = "gzip me ".repeat(1000);
        let compressed = gzip(text.as_bytes());
        let server = serve(move |r| {
            let accepted = r.header("accept-encoding").unwrap_or_default();
            assert!(accepted.split(", ").any(|c| c == "gzip"), "{accepted}");
            Action::Reply(response("200 OK", &["content-encoding: gzip"], &compressed))
        })
        .await;
        let client = Client::new();
        let response = client.get(server.url("/")).send().await.unwrap();
        assert!(response.headers().get("content-encoding").is_none());
        assert_eq!(response.text().await.unwrap(), text);
        // Decoded to its end, the connection is reused.
        let again = get_text(&client, server.url("/")).await;
        assert_eq!(again, text);
        assert_eq!(server.stats.accepted(), 1);
    });
}

#[test]
fn gzip_in_chunks_is_decoded() {
    run(async {
        let body = gzip(&[b'z'; 100_000]);
        let mut wire =
            b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n"
                .to_vec();
        for piece in body.chunks(7) {
            wire.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            wire.extend_from_slice(piece);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b"0\r\n\r\n");
        let server = serve(move |_| Action::Reply(wire.clone())).await;
        let bytes = Client::new()
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(bytes.len(), 100_000);
        assert!(bytes.iter().all(|&b| b == b'z'));
    });
}

#[test]
fn gzip_is_left_alone_when_the_request_chose_its_own_accept_encoding() {
    run(async {
        let compressed = gzip(b"raw");
        let wire = response("200 OK", &["content-encoding: gzip"], &compressed);
        let server = serve(move |_| Action::Reply(wire.clone())).await;
        let response = Client::new()
            .get(server.url("/"))
            .header("accept-encoding", "identity, gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-encoding"], "gzip");
        assert_eq!(&response.bytes().await.unwrap()[..], &compressed[..]);
    });
}

#[test]
fn close_delimited_body_ends_when_the_server_closes() {
    run(async {
        let server =
            serve(|_| Action::ReplyClose(raw("HTTP/1.1 200 OK\r\n\r\nuntil the end"))).await;
        let client = Client::new();
        for _ in 0..2 {
            let text = get_text(&client, server.url("/")).await;
            assert_eq!(text, "until the end");
        }
        assert_eq!(server.stats.accepted(), 2);
    });
}

#[test]
fn http_1_0_response_without_length_is_read_to_close() {
    run(async {
        let server = serve(|_| Action::ReplyClose(raw("HTTP/1.0 200 OK\r\n\r\nold"))).await;
        let response = Client::new().get(server.url("/")).send().await.unwrap();
        assert_eq!(response.version(), Version::HTTP_10);
        assert_eq!(response.text().await.unwrap(), "old");
    });
}

#[test]
fn head_204_and_304_have_no_body_and_keep_the_connection() {
    run(async {
        let server = serve(|r| match r.target.as_str() {
            "/204" => Action::Reply(raw("HTTP/1.1 204 No Content\r\n\r\n")),
            "/304" => Action::Reply(raw(
                "HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n",
            )),
            // A HEAD answer announces a length and sends nothing.
            _ => Action::Reply(raw("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")),
        })
        .await;
        let client = Client::new();
        let head = client.head(server.url("/")).send().await.unwrap();
        assert_eq!(head.content_length(), Some(1000));
        assert!(head.bytes().await.unwrap().is_empty());
        let none = client.get(server.url("/204")).send().await.unwrap();
        assert_eq!(none.status(), StatusCode::NO_CONTENT);
        assert!(none.bytes().await.unwrap().is_empty());
        let same = client.get(server.url("/304")).send().await.unwrap();
        assert_eq!(same.status(), StatusCode::NOT_MODIFIED);
        assert!(same.text().await.unwrap().is_empty());
        assert_eq!(server.stats.accepted(), 1);
    });
}

#[test]
fn informational_responses_are_skipped() {
    run(async {
        let server = serve(|_| {
            Action::Reply(raw(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n\
                 HTTP/1.1 201 Created\r\ncontent-length: 4\r\n\r\ndone",
            ))
        })
        .await;
        let response = Client::new()
            .post(server.url("/"))
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.text().await.unwrap(), "done");
    });
}

#[test]
fn json_goes_out_and_comes_back() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Post {
        id: u32,
        title: String,
    }
    run(async {
        let server = serve(|r| {
            assert_eq!(r.header("content-type"), Some("application/json"));
            let mut post: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            post["id"] = 101.into();
            Action::Reply(response(
                "201 Created",
                &["content-type: application/json; charset=utf-8"],
                post.to_string(),
            ))
        })
        .await;
        let sent = Post {
            id: 0,
            title: "héllo".into(),
        };
        let back: Post = Client::new()
            .post(server.url("/posts"))
            .json(&sent)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            back,
            Post {
                id: 101,
                title: "héllo".into()
            }
        );
    });
}

#[test]
fn requests_carry_method_target_query_and_default_headers() {
    run(async {
        let server = serve(|r| {
            let ua = r.header("user-agent").unwrap_or("").to_owned();
            Action::Reply(ok(format!(
                "{} {} {ua} {}",
                r.method,
                r.target,
                r.header("x-a").unwrap_or("-")
            )))
        })
        .await;
        let client = Client::builder()
            .default_headers({
                let mut h = ferrio::http::HeaderMap::new();
                h.insert("x-a", "default".parse().unwrap());
                h
            })
            .build()
            .unwrap();
        let text = client
            .request(Method::DELETE, server.url("/posts/1?keep=1"))
            .query([("postId", "1"), ("q", "a b&c")])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let ua = ferrio::http::DEFAULT_USER_AGENT;
        assert_eq!(
            text,
            format!("DELETE /posts/1?keep=1&postId=1&q=a+b%26c {ua} default")
        );
        let text = client
            .get(server.url("/"))
            .header("x-a", "mine")
            .send()
            .await
            .unwrap()
            .text()
            .await;
        assert!(text.unwrap().ends_with(" mine"));
    });
}

#[test]
fn redirect_chain_is_followed_to_the_final_url() {
    run(async {
        let server = serve(|r| match r.target.as_str() {
            "/start" => Action::Reply(response(
                "301 Moved Permanently",
                &["location: /two"],
                "moved",
            )),
            "/two" => Action::Reply(response("302 Found", &["location: three"], "")),
            "/three" => Action::Reply(response(
                "307 Temporary Redirect",
                &["location: /final?x=1"],
                "",
            )),
            "/final?x=1" => Action::Reply(ok("arrived")),
            _ => Action::Reply(response("404 Not Found", &[], "")),
        })
        .await;
        let response = Client::new()
            .get(server.url("/start"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.url().as_str(), server.url("/final?x=1"));
        assert_eq!(response.text().await.unwrap(), "arrived");
        assert_eq!(
            server.stats.accepted(),
            1,
            "redirect bodies are drained and the connection reused"
        );
    });
}

#[test]
fn redirect_method_rules() {
    run(async {
        let server = serve(|r| match r.target.as_str() {
            "/303" => Action::Reply(response("303 See Other", &["location: /echo"], "")),
            "/302" => Action::Reply(response("302 Found", &["location: /echo"], "")),
            "/307" => Action::Reply(response("307 Temporary Redirect", &["location: /echo"], "")),
            "/308" => Action::Reply(response("308 Permanent Redirect", &["location: /echo"], "")),
            _ => Action::Reply(ok(format!(
                "{} {}",
                r.method,
                String::from_utf8_lossy(&r.body)
            ))),
        })
        .await;
        let client = Client::new();
        let send = |method: Method, path: &str| {
            let request = client.request(method, server.url(path)).body("data");
            async move { request.send().await.unwrap().text().await.unwrap() }
        };
        assert_eq!(send(Method::POST, "/303").await, "GET ");
        assert_eq!(send(Method::PUT, "/303").await, "GET ");
        assert_eq!(send(Method::POST, "/302").await, "GET ");
        assert_eq!(send(Method::PUT, "/302").await, "PUT data");
        assert_eq!(send(Method::POST, "/307").await, "POST data");
        assert_eq!(send(Method::POST, "/308").await, "POST data");
    });
}

#[test]
fn credentials_are_dropped_on_a_cross_host_redirect_only() {
    run(async {
        let other = serve(|r| {
            Action::Reply(ok(format!(
                "{:?} {:?}",
                r.header("authorization"),
                r.header("cookie")
            )))
        })
        .await;
        let target = other.url("/");
        let server = serve(move |r| match r.target.as_str() {
            "/away" => Action::Reply(response("302 Found", &[&format!("location: {target}")], "")),
            "/here" => Action::Reply(response("302 Found", &["location: /echo"], "")),
            _ => Action::Reply(ok(format!(
                "{:?} {:?}",
                r.header("authorization"),
                r.header("cookie")
            ))),
        })
        .await;
        let client = Client::new();
        let send = |path: &str| {
            let request = client
                .get(server.url(path))
                .header("authorization", "Bearer s3cret")
                .header("cookie", "a=1");
            async move { request.send().await.unwrap().text().await.unwrap() }
        };
        assert_eq!(send("/here").await, r#"Some("Bearer s3cret") Some("a=1")"#);
        assert_eq!(send("/away").await, "None None");
    });
}

#[test]
fn redirect_loop_is_an_error() {
    run(async {
        let server = serve(|r| {
            let next = if r.target == "/a" { "/b" } else { "/a" };
            Action::Reply(response("302 Found", &[&format!("location: {next}")], ""))
        })
        .await;
        let err = Client::new()
            .get(server.url("/a"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Redirect);
        assert!(err.to_string().contains("loop"), "{err}");
    });
}

#[test]
fn too_many_redirects_is_an_error_and_zero_turns_them_off() {
    run(async {
        let server = serve(|r| {
            let n: u32 = r.target.trim_start_matches('/').parse().unwrap_or(0);
            Action::Reply(response(
                "302 Found",
                &[&format!("location: /{}", n + 1)],
                "",
            ))
        })
        .await;
        let client = Client::builder().max_redirects(3).build().unwrap();
        let err = client.get(server.url("/0")).send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Redirect);
        assert_eq!(server.stats.requests().len(), 4, "the start and three hops");
        let off = Client::builder().max_redirects(0).build().unwrap();
        let response = off.get(server.url("/0")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()["location"], "/1");
    });
}

#[cfg(feature = "charset")]
#[test]
fn text_uses_the_charset_of_content_type() {
    run(async {
        let server = serve(|_| {
            Action::Reply(response(
                "200 OK",
                &["content-type: text/plain; charset=iso-8859-1"],
                b"caf\xe9",
            ))
        })
        .await;
        let text = Client::new()
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(text, "café");
    });
}

#[test]
fn per_request_timeout_overrides_the_clients() {
    run(async {
        let server = serve(|_| {
            Action::Delay(
                Duration::from_millis(300),
                Box::new(Action::Reply(ok("late"))),
            )
        })
        .await;
        let client = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let err = client
            .get(server.url("/"))
            .timeout(Duration::from_millis(50))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Timeout(ferrio::http::TimeoutKind::Total)
        );
        assert_eq!(
            err.url().map(|u| u.as_str()),
            Some(server.url("/").as_str())
        );
    });
}

#[test]
fn host_names_are_resolved_with_the_clients_resolver() {
    run(async {
        let server = serve(|r| Action::Reply(ok(r.header("host").unwrap_or("")))).await;
        let resolver = ferrio::net::Resolver::new(|host: &str, port: u16| match host {
            "api.test" | "other.test" => {
                Ok(vec![std::net::SocketAddr::from(([127, 0, 0, 1], port))])
            }
            _ => Err(std::io::Error::new(std::io::ErrorKind::NotFound, "unknown")),
        });
        let client = Client::builder().resolver(resolver).build().unwrap();
        let port = server.addr.port();
        let text = client
            .get(format!("http://api.test:{port}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await;
        assert_eq!(text.unwrap(), format!("api.test:{port}"));
        let text = client
            .get(format!("http://other.test:{port}/"))
            .send()
            .await
            .unwrap()
            .text()
            .await;
        assert_eq!(text.unwrap(), format!("other.test:{port}"));
        assert_eq!(server.stats.accepted(), 2, "two host names are two origins");
    });
}

//! Every way a request can fail, through the facade: each timeout as its own
//! error, and every kind of malformed response an error within its timeout,
//! never a panic or a hang.

mod http_client_support;

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ferrio::http::{Client, Error, ErrorKind, Response, TimeoutKind};
use http_client_support::{gzip, raw, response, run, serve, Action, Server};

/// A client whose reads give up after 2 s: no test here should come near it.
fn client() -> Client {
    Client::builder()
        .read_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// Asserts `future` fails with `kind` in well under the read timeout.
async fn fails_fast<T: std::fmt::Debug>(
    kind: ErrorKind,
    future: impl Future<Output = Result<T, Error>>,
) -> Error {
    let started = Instant::now();
    let err = future.await.expect_err("should fail");
    assert_eq!(err.kind(), kind, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    err
}

/// A server that answers every request with `wire`, then closes.
async fn answering(wire: impl AsRef<[u8]>) -> Server {
    let wire = wire.as_ref().to_vec();
    serve(move |_| Action::ReplyClose(wire.clone())).await
}

async fn get(server: &Server) -> Result<Response, Error> {
    client().get(server.url("/")).send().await
}

#[test]
fn connect_timeout_fires_when_the_tls_handshake_stalls() {
    run(async {
        // Accepts, then says nothing: the TLS ServerHello never comes.
        let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        ferrio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            ferrio::time::sleep(Duration::from_secs(5)).await;
            drop(stream);
        });
        let client = Client::builder()
            .connect_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let started = Instant::now();
        let err = client
            .get(format!("https://{addr}/"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Timeout(TimeoutKind::Connect),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    });
}

#[test]
fn connect_timeout_fires_when_the_accept_backlog_is_full() {
    run(async {
        let listener = ferrio::net::TcpListener::bind_with_backlog("127.0.0.1:0", 1)
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        // Fill the queue of a listener that never accepts; the kernel then
        // drops further SYNs and connecting hangs.
        let mut fillers = Vec::new();
        for _ in 0..8 {
            match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
                Ok(s) => fillers.push(s),
                Err(_) => break,
            }
        }
        let client = Client::builder()
            .connect_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let started = Instant::now();
        let err = client
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Timeout(TimeoutKind::Connect),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(listener);
    });
}

#[test]
fn connection_refused_is_a_connect_error() {
    run(async {
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let err = fails_fast(
            ErrorKind::Connect,
            client().get(format!("http://{addr}/")).send(),
        )
        .await;
        assert!(err.url().is_some());
        assert!(std::error::Error::source(&err).is_some());
    });
}

/// An error and its sources, as a reporter that walks `source()` shows them.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(" | ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[test]
fn a_refused_connection_names_its_address_once() {
    run(async {
        let addr = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        // What the OS says, for comparison (the text differs by platform).
        let os = std::net::TcpStream::connect(addr).unwrap_err().to_string();
        let once = |text: &str, needle: &str| {
            assert_eq!(text.matches(needle).count(), 1, "{needle} in {text}");
        };

        // The HTTP client's error: the URL says where, the source what.
        let err = client()
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connect);
        assert_eq!(
            err.to_string(),
            format!("connect failed for http://{addr}/: {os}")
        );
        once(&chain(&err), &addr.to_string());
        let source = std::error::Error::source(&err).unwrap();
        let io = source.downcast_ref::<std::io::Error>().unwrap();
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);

        // A host name: the address it resolved to is said, once.
        let url = format!("http://localhost:{}/", addr.port());
        let err = client().get(&url).send().await.unwrap_err();
        let text = chain(&err);
        once(&text, "localhost");
        let port = format!(":{}", addr.port());
        assert_eq!(
            text.matches(&port).count(),
            2,
            "the URL's and the address's: {text}"
        );
        assert!(
            text.contains(&format!("at 127.0.0.1{port}: "))
                || text.contains(&format!("at [::1]{port}: ")),
            "{text}"
        );

        // TCP alone: the error names the address; its source is the OS's.
        let err = ferrio::net::TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        assert_eq!(err.to_string(), format!("connect to {addr}: {os}"));
        once(&chain(&err), &addr.to_string());
        assert_eq!(std::error::Error::source(&err).unwrap().to_string(), os);
    });
}

#[test]
fn read_timeout_fires_when_the_head_stalls() {
    run(async {
        let server =
            serve(|_| Action::Stall(raw("HTTP/1.1 200 OK\r\n"), Duration::from_secs(5))).await;
        let client = Client::builder()
            .read_timeout(Duration::from_millis(150))
            .build()
            .unwrap();
        let err = client.get(server.url("/")).send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Read), "{err}");
    });
}

#[test]
fn read_timeout_fires_when_the_body_stalls_midway() {
    run(async {
        let server = serve(|_| {
            Action::Stall(
                raw("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhalf"),
                Duration::from_secs(5),
            )
        })
        .await;
        let client = Client::builder()
            .read_timeout(Duration::from_millis(150))
            .build()
            .unwrap();
        let response = client.get(server.url("/")).send().await.unwrap();
        let started = Instant::now();
        let err = response.bytes().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Read), "{err}");
        assert!(started.elapsed() >= Duration::from_millis(150));
        assert!(started.elapsed() < Duration::from_secs(2));
    });
}

#[test]
fn total_timeout_fires_on_a_body_that_trickles() {
    run(async {
        let server = serve(|_| {
            // One byte every 20 ms: each read is quick, the whole is not.
            let mut bytes = raw("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n");
            bytes.extend_from_slice(&[b'x'; 100]);
            Action::Trickle(bytes, Duration::from_millis(20))
        })
        .await;
        let client = Client::builder()
            .read_timeout(Duration::from_secs(1))
            .timeout(Duration::from_millis(400))
            .build()
            .unwrap();
        let started = Instant::now();
        let err = match client.get(server.url("/")).send().await {
            Ok(response) => response.bytes().await.unwrap_err(),
            Err(e) => e,
        };
        assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Total), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
    });
}

#[test]
fn bad_status_lines_are_malformed() {
    run(async {
        for wire in [
            "HTTP/1.1 abc OK\r\n\r\n",
            "SSH-2.0-OpenSSH_9.0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\ncontent-length: lots\r\n\r\n",
        ] {
            let server = answering(wire).await;
            fails_fast(ErrorKind::MalformedResponse, get(&server)).await;
        }
    });
}

#[test]
fn header_bytes_over_the_cap_are_too_large() {
    run(async {
        let big = format!("x-big: {}", "a".repeat(2000));
        let server = answering(response("200 OK", &[&big], "")).await;
        let client = Client::builder().max_header_bytes(1024).build().unwrap();
        fails_fast(ErrorKind::TooLarge, client.get(server.url("/")).send()).await;
        // A head that never ends is cut off at the cap, not read forever.
        let server = serve(|_| {
            let mut endless = raw("HTTP/1.1 200 OK\r\n");
            endless.extend(std::iter::repeat_n(b"x-more: yes\r\n", 10_000).flatten());
            Action::Stall(endless, Duration::from_secs(5))
        })
        .await;
        let client = Client::builder().max_header_bytes(4096).build().unwrap();
        fails_fast(ErrorKind::TooLarge, client.get(server.url("/")).send()).await;
    });
}

#[test]
fn invalid_chunk_size_is_malformed() {
    run(async {
        let server =
            answering("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n")
                .await;
        let response = get(&server).await.unwrap();
        fails_fast(ErrorKind::MalformedResponse, response.bytes()).await;
    });
}

#[test]
fn body_shorter_than_content_length_is_malformed() {
    run(async {
        let server = answering("HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\nonly this").await;
        let response = get(&server).await.unwrap();
        fails_fast(ErrorKind::MalformedResponse, response.text()).await;
        let server =
            answering("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel").await;
        let response = get(&server).await.unwrap();
        fails_fast(ErrorKind::MalformedResponse, response.bytes()).await;
    });
}

#[test]
fn body_over_max_body_bytes_is_too_large() {
    run(async {
        let client = Client::builder().max_body_bytes(100).build().unwrap();
        // Known from Content-Length before reading.
        let server = answering(response("200 OK", &[], [b'a'; 1000])).await;
        let reply = client.get(server.url("/")).send().await.unwrap();
        fails_fast(ErrorKind::TooLarge, reply.bytes()).await;
        // Found while reading a chunked body.
        let server = answering(format!(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3e8\r\n{}\r\n0\r\n\r\n",
            "b".repeat(1000)
        ))
        .await;
        let reply = client.get(server.url("/")).send().await.unwrap();
        fails_fast(ErrorKind::TooLarge, reply.text()).await;
        // A small gzip body that inflates past the cap.
        let bomb = gzip(&[0u8; 1_000_000]);
        let server = answering(response("200 OK", &["content-encoding: gzip"], &bomb)).await;
        let reply = client.get(server.url("/")).send().await.unwrap();
        fails_fast(ErrorKind::TooLarge, reply.bytes()).await;
    });
}

#[test]
fn gzip_bomb_is_stopped_a_piece_past_max_body_bytes() {
    run(async {
        // 50 MB of zeros in about 50 KB: a few reads' worth on the wire.
        let bomb = gzip(&vec![0u8; 50 << 20]);
        let wire = response("200 OK", &["content-encoding: gzip"], &bomb);
        let server = serve(move |_| Action::Reply(wire.clone())).await;
        let cap = 1 << 20;
        let client = Client::builder().max_body_bytes(cap).build().unwrap();
        let reply = client.get(server.url("/")).send().await.unwrap();
        fails_fast(ErrorKind::TooLarge, reply.bytes()).await;
        // What `bytes` saw come out of the decoder: pieces of at most 64 KiB,
        // so it stopped within 64 KiB past the cap, not megabytes past it.
        let mut reply = client.get(server.url("/")).send().await.unwrap();
        let mut decoded = 0;
        while let Some(piece) = reply.chunk().await.unwrap() {
            assert!(piece.len() <= 64 * 1024, "a piece of {} bytes", piece.len());
            decoded += piece.len();
        }
        assert_eq!(decoded, 50 << 20);
    });
}

#[test]
fn invalid_gzip_is_a_body_decode_error() {
    run(async {
        let server = answering(response(
            "200 OK",
            &["content-encoding: gzip"],
            "this is not gzip",
        ))
        .await;
        let reply = get(&server).await.unwrap();
        fails_fast(ErrorKind::BodyDecode, reply.bytes()).await;
        // Valid gzip, cut short: the missing trailer is noticed at the end.
        let mut truncated = gzip(b"some text that gets cut short");
        truncated.truncate(truncated.len() - 6);
        let server = answering(response("200 OK", &["content-encoding: gzip"], &truncated)).await;
        let reply = get(&server).await.unwrap();
        fails_fast(ErrorKind::BodyDecode, reply.bytes()).await;
    });
}

#[test]
fn invalid_json_is_a_json_error() {
    run(async {
        let server = answering(response(
            "200 OK",
            &["content-type: application/json"],
            "{\"id\": 1,",
        ))
        .await;
        let response = get(&server).await.unwrap();
        fails_fast(ErrorKind::Json, response.json::<serde_json::Value>()).await;
    });
}

#[test]
fn non_utf8_text_is_a_body_decode_error() {
    run(async {
        let server = answering(response(
            "200 OK",
            &["content-type: text/plain"],
            b"caf\xe9",
        ))
        .await;
        let response = get(&server).await.unwrap();
        fails_fast(ErrorKind::BodyDecode, response.text()).await;
    });
}

#[test]
fn server_closing_before_answering_a_fresh_connection_is_an_io_error() {
    run(async {
        let server = serve(|_| Action::Close).await;
        let err = fails_fast(ErrorKind::Io, get(&server)).await;
        assert_eq!(
            server.stats.requests().len(),
            1,
            "a fresh connection is not retried"
        );
        assert!(err.to_string().contains(&server.url("/")), "{err}");
    });
}

#[test]
fn invalid_urls_are_errors_before_any_io() {
    run(async {
        for url in [
            "not a url",
            "ftp://127.0.0.1/",
            "file:///etc/hosts",
            "http://",
        ] {
            let err = client().get(url).send().await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidUrl, "{url}: {err}");
        }
    });
}

#[test]
fn unresolvable_host_is_a_dns_error() {
    run(async {
        let resolver = ferrio::net::Resolver::new(|host: &str, _port: u16| {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{host}: no such host"),
            ))
        });
        let client = Client::builder().resolver(resolver).build().unwrap();
        let err = fails_fast(ErrorKind::Dns, client.get("http://nowhere.test/").send()).await;
        assert_eq!(err.url().map(|u| u.as_str()), Some("http://nowhere.test/"));
    });
}

#[test]
fn slow_dns_counts_towards_the_connect_timeout() {
    run(async {
        let resolver = ferrio::net::Resolver::new(|_: &str, port: u16| {
            std::thread::sleep(Duration::from_millis(600));
            Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))])
        });
        let client = Client::builder()
            .resolver(resolver)
            .connect_timeout(Duration::from_millis(150))
            .build()
            .unwrap();
        let started = Instant::now();
        let err = client.get("http://slow.test/").send().await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Timeout(TimeoutKind::Connect),
            "{err}"
        );
        assert!(started.elapsed() < Duration::from_millis(500));
    });
}

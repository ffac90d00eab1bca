//! `ferrio::http::server` and the embedded jsonplaceholder, driven by raw TCP
//! clients that speak bytes, on 127.0.0.1 only. Every test runs under a
//! timeout and stops by itself.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ferrio::http::server::{self, Builder, ServerRequest, ServerResponse};
use ferrio::net::TcpStream;
use ferrio::time::{sleep, timeout};
use ferrio_testkit::jsonplaceholder;
use futures_util::{AsyncReadExt, AsyncWriteExt};

/// Runs a test body on a fresh runtime, failing it if it takes over 20 s.
#[path = "support/bounded.rs"]
mod bounded;

fn run<F: Future<Output = ()>>(test: F) {
    bounded::run_within(Duration::from_secs(20), "the test", test)
}

/// Answers `<METHOD> <path> <body length>`, after `?sleep=<ms>` if asked.
async fn echo(req: ServerRequest) -> ServerResponse {
    if let Some(ms) = req.uri().query().and_then(|q| q.strip_prefix("sleep=")) {
        sleep(Duration::from_millis(ms.parse().unwrap())).await;
    }
    if req.uri().path() == "/panic" {
        panic!("handler panics on purpose");
    }
    if req.uri().path() == "/big" {
        return ServerResponse::new(vec![b'x'; 32 << 20]);
    }
    let text = format!(
        "{} {} {}",
        req.method(),
        req.uri().path(),
        String::from_utf8_lossy(req.body())
    );
    ServerResponse::new(text.into_bytes())
}

async fn start(builder: Builder) -> server::ServerHandle {
    builder.bind("127.0.0.1:0").await.unwrap().spawn(echo)
}

async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr).await.unwrap()
}

/// A response as read off the wire.
#[derive(Debug)]
struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads one response (head, then a `Content-Length` body), within 5 s.
async fn read_reply(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Reply {
    timeout(Duration::from_secs(5), async {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = conn.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed before a response head");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
        let status = head[9..12].parse().unwrap();
        let mut reply = Reply {
            status,
            head,
            body: String::new(),
        };
        let len: usize = reply
            .header("content-length")
            .map_or(0, |v| v.parse().unwrap());
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 4096];
            let n = conn.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed in a response body");
            buf.extend_from_slice(&chunk[..n]);
        }
        reply.body = String::from_utf8(buf[head_end..head_end + len].to_vec()).unwrap();
        buf.drain(..head_end + len);
        reply
    })
    .await
    .expect("no response within 5 s")
}

/// Reads until the server closes the connection (a reset counts as closed),
/// within `limit`; returns what was read.
/// Sends `request` on a new connection and returns everything the server
/// writes until it closes (within 5 s), as text.
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut conn = connect(addr).await;
    conn.write_all(request).await.unwrap();
    let reply = read_to_close(&mut conn, Duration::from_secs(5)).await;
    String::from_utf8_lossy(&reply).into_owned()
}

async fn read_to_close(conn: &mut TcpStream, limit: Duration) -> Vec<u8> {
    let mut all = Vec::new();
    timeout(limit, async {
        let mut chunk = [0u8; 4096];
        loop {
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => all.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await
    .expect("the server did not close the connection in time");
    all
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")
}

#[test]
fn keep_alive_serves_two_requests_on_one_connection() {
    run(async {
        let server = start(Builder::new()).await;
        let mut conn = connect(server.local_addr()).await;
        let mut buf = Vec::new();
        for path in ["/one", "/two"] {
            conn.write_all(get(path).as_bytes()).await.unwrap();
            let reply = read_reply(&mut conn, &mut buf).await;
            assert_eq!(reply.status, 200);
            assert_eq!(reply.body, format!("GET {path} "));
            assert_eq!(reply.header("connection"), None, "{}", reply.head);
            assert!(reply.header("date").is_some_and(|d| d.ends_with(" GMT")));
        }
        assert_eq!(server.connections_accepted(), 1);
        assert_eq!(server.requests_served(), 2);
        assert_eq!(server.shutdown().await, 0);
    });
}

#[test]
fn timeouts_as_long_as_duration_max_mean_no_timeout() {
    run(async {
        let forever = Duration::MAX;
        let builder = Builder::new()
            .header_read_timeout(forever)
            .body_read_timeout(forever)
            .write_timeout(forever)
            .keep_alive_timeout(forever);
        let server = start(builder).await;
        let mut conn = connect(server.local_addr()).await;
        let mut buf = Vec::new();
        conn.write_all(b"POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n")
            .await
            .unwrap();
        conn.write_all(b"hi").await.unwrap();
        let reply = read_reply(&mut conn, &mut buf).await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "POST /p hi"));
        conn.write_all(get("/again").as_bytes()).await.unwrap();
        assert_eq!(read_reply(&mut conn, &mut buf).await.body, "GET /again ");
        server.shutdown().await;
    });
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    run(async {
        let server = start(Builder::new()).await;
        let mut conn = connect(server.local_addr()).await;
        let both = format!(
            "{}POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello{}",
            get("/a?sleep=50"),
            get("/c")
        );
        conn.write_all(both.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let bodies = [
            read_reply(&mut conn, &mut buf).await.body,
            read_reply(&mut conn, &mut buf).await.body,
            read_reply(&mut conn, &mut buf).await.body,
        ];
        assert_eq!(bodies, ["GET /a ", "POST /b hello", "GET /c "]);
        server.shutdown().await;
    });
}

#[test]
fn a_request_body_is_read_by_content_length_and_expect_continue_is_answered() {
    run(async {
        let server = start(Builder::new()).await;
        let mut conn = connect(server.local_addr()).await;
        conn.write_all(
            b"PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
        )
        .await
        .unwrap();
        let mut buf = Vec::new();
        assert_eq!(read_reply(&mut conn, &mut buf).await.status, 100);
        conn.write_all(b"data").await.unwrap();
        let reply = read_reply(&mut conn, &mut buf).await;
        assert_eq!((reply.status, reply.body.as_str()), (200, "PUT /x data"));
        server.shutdown().await;
    });
}

#[test]
fn head_requests_get_the_length_and_no_body() {
    run(async {
        let server = start(Builder::new()).await;
        let mut conn = connect(server.local_addr()).await;
        conn.write_all(b"HEAD /abc HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        conn.write_all(get("/next").as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let head = read_reply_head_only(&mut conn, &mut buf).await;
        assert!(head.contains("content-length: 10\r\n"), "{head}");
        // The next response follows right after the blank line: no body in between.
        let next = read_reply(&mut conn, &mut buf).await;
        assert_eq!(next.body, "GET /next ");
        server.shutdown().await;
    });
}

/// Reads a response head only (for HEAD), leaving what follows in `buf`.
async fn read_reply_head_only(conn: &mut TcpStream, buf: &mut Vec<u8>) -> String {
    timeout(Duration::from_secs(5), async {
        loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8(buf[..i + 4].to_vec()).unwrap();
                buf.drain(..i + 4);
                return head;
            }
            let mut chunk = [0u8; 4096];
            let n = conn.read(&mut chunk).await.unwrap();
            assert!(n > 0);
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .unwrap()
}

#[test]
fn garbage_gets_400_and_the_connection_is_closed() {
    run(async {
        let server = start(Builder::new()).await;
        for garbage in [
            &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"[..],
            b"HELLO THERE\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
        ] {
            let reply = exchange(server.local_addr(), garbage).await;
            assert!(
                reply.starts_with("HTTP/1.1 400 Bad Request\r\n"),
                "{garbage:?}: {reply}"
            );
            assert!(reply.contains("\r\nconnection: close\r\n"), "{reply}");
        }
        assert_eq!(server.shutdown().await, 0);
    });
}

#[test]
fn oversized_headers_get_431() {
    run(async {
        let server = start(Builder::new().max_header_bytes(4096)).await;
        let mut conn = connect(server.local_addr()).await;
        let big = format!(
            "GET / HTTP/1.1\r\nHost: t\r\nCookie: {}\r\n\r\n",
            "c".repeat(8192)
        );
        // The server may answer and close before it has read all of this.
        let _ = conn.write_all(big.as_bytes()).await;
        let reply = read_to_close(&mut conn, Duration::from_secs(5)).await;
        let reply = String::from_utf8_lossy(&reply);
        assert!(
            reply.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{reply}"
        );
        server.shutdown().await;
    });
}

#[test]
fn a_60_kib_head_sent_a_byte_at_a_time_is_answered_well_within_the_header_timeout() {
    run(async {
        let header_timeout = Duration::from_secs(10);
        let server = start(Builder::new().header_read_timeout(header_timeout)).await;
        let addr = server.local_addr();
        let started = Instant::now();
        // A blocking client on its own thread, so the server sees the bytes
        // as they trickle in rather than in one read.
        let reply = ferrio::spawn_blocking(move || {
            use std::io::{Read, Write};
            let mut conn = std::net::TcpStream::connect(addr).unwrap();
            conn.set_nodelay(true).unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(15)))
                .unwrap();
            let head = format!(
                "GET /trickled HTTP/1.1\r\nHost: t\r\nConnection: close\r\nCookie: {}\r\n\r\n",
                "c".repeat(60 * 1024)
            );
            for byte in head.as_bytes() {
                conn.write_all(std::slice::from_ref(byte)).unwrap();
            }
            let mut reply = Vec::new();
            conn.read_to_end(&mut reply).unwrap();
            reply
        })
        .await
        .unwrap();
        let reply = String::from_utf8_lossy(&reply);
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(reply.ends_with("GET /trickled "), "{reply}");
        assert!(
            started.elapsed() < header_timeout / 2,
            "took {:?}",
            started.elapsed()
        );
        server.shutdown().await;
    });
}

#[test]
fn an_oversized_body_gets_413_before_it_is_sent() {
    run(async {
        let server = start(Builder::new().max_body_bytes(1000)).await;
        let request = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n";
        let reply = exchange(server.local_addr(), request).await;
        assert!(reply.starts_with("HTTP/1.1 413 "), "{reply}");
        server.shutdown().await;
    });
}

#[test]
fn a_content_length_near_the_largest_number_gets_413_when_bodies_are_unlimited() {
    run(async {
        let server = start(Builder::new().max_body_bytes(usize::MAX)).await;
        let huge = usize::MAX;
        let request = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {huge}\r\n\r\n");
        let reply = exchange(server.local_addr(), request.as_bytes()).await;
        assert!(reply.starts_with("HTTP/1.1 413 "), "{reply}");
        server.shutdown().await;
    });
}

#[test]
fn a_client_that_stalls_mid_head_is_closed_within_the_header_timeout() {
    run(async {
        let limit = Duration::from_millis(300);
        let server = start(Builder::new().header_read_timeout(limit)).await;
        let mut conn = connect(server.local_addr()).await;
        let start = Instant::now();
        conn.write_all(b"GET /slow HTTP/1.1\r\nHost: t\r\nX-Wai")
            .await
            .unwrap();
        let reply = read_to_close(&mut conn, Duration::from_secs(5)).await;
        let took = start.elapsed();
        assert!(took >= limit - Duration::from_millis(50), "{took:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
        let reply = String::from_utf8_lossy(&reply);
        assert!(reply.starts_with("HTTP/1.1 408 "), "{reply}");
        assert_eq!(server.shutdown().await, 0);
    });
}

#[test]
fn a_client_that_connects_and_sends_nothing_is_closed_within_the_header_timeout() {
    run(async {
        let limit = Duration::from_millis(300);
        let server = start(Builder::new().header_read_timeout(limit)).await;
        let mut conn = connect(server.local_addr()).await;
        let start = Instant::now();
        let reply = read_to_close(&mut conn, Duration::from_secs(5)).await;
        assert!(reply.is_empty());
        assert!(start.elapsed() < Duration::from_secs(3));
        server.shutdown().await;
    });
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_its_timeout() {
    run(async {
        let idle = Duration::from_millis(300);
        let server = start(Builder::new().keep_alive_timeout(idle)).await;
        let mut conn = connect(server.local_addr()).await;
        let mut buf = Vec::new();
        conn.write_all(get("/").as_bytes()).await.unwrap();
        assert_eq!(read_reply(&mut conn, &mut buf).await.status, 200);
        let start = Instant::now();
        assert!(read_to_close(&mut conn, Duration::from_secs(5))
            .await
            .is_empty());
        let took = start.elapsed();
        assert!(
            took >= idle - Duration::from_millis(50) && took < Duration::from_secs(3),
            "{took:?}"
        );
        // The counter follows.
        for _ in 0..100 {
            if server.open_connections() == 0 {
                break;
            }
            sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(server.open_connections(), 0);
        server.shutdown().await;
    });
}

#[test]
fn http_1_0_and_connection_close_requests_close_after_the_response() {
    run(async {
        let server = start(Builder::new()).await;
        for request in [
            "GET /a HTTP/1.0\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        ] {
            let mut conn = connect(server.local_addr()).await;
            conn.write_all(request.as_bytes()).await.unwrap();
            let reply = read_to_close(&mut conn, Duration::from_secs(5)).await;
            let reply = String::from_utf8(reply).unwrap();
            assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
            assert!(
                reply.ends_with("connection: close\r\n\r\nGET /a "),
                "{reply}"
            );
        }
        server.shutdown().await;
    });
}

#[test]
fn a_handler_that_panics_gets_500_and_the_server_lives_on() {
    run(async {
        let server = start(Builder::new()).await;
        let reply = exchange(server.local_addr(), get("/panic").as_bytes()).await;
        assert!(reply.starts_with("HTTP/1.1 500 "), "{reply}");
        let mut conn = connect(server.local_addr()).await;
        conn.write_all(get("/fine").as_bytes()).await.unwrap();
        assert_eq!(read_reply(&mut conn, &mut Vec::new()).await.status, 200);
        server.shutdown().await;
    });
}

#[test]
fn graceful_shutdown_finishes_requests_in_flight_and_stops_accepting() {
    run(async {
        let server = start(Builder::new()).await;
        let addr = server.local_addr();
        let mut busy = connect(addr).await;
        busy.write_all(get("/slow?sleep=300").as_bytes())
            .await
            .unwrap();
        let mut idle = connect(addr).await;
        idle.write_all(get("/quick").as_bytes()).await.unwrap();
        let mut idle_buf = Vec::new();
        assert_eq!(read_reply(&mut idle, &mut idle_buf).await.status, 200);

        let stopper = server.clone();
        let shutdown = ferrio::spawn(async move {
            let start = Instant::now();
            (stopper.shutdown().await, start.elapsed())
        });
        // The idle keep-alive connection is closed at once...
        assert!(read_to_close(&mut idle, Duration::from_secs(2))
            .await
            .is_empty());
        // ...the busy one gets its answer, marked as the last.
        let reply = read_reply(&mut busy, &mut Vec::new()).await;
        assert_eq!(reply.body, "GET /slow ");
        assert_eq!(reply.header("connection"), Some("close"));
        let (forced, took) = shutdown.await.unwrap();
        assert_eq!(forced, 0);
        assert!(took < Duration::from_secs(3), "{took:?}");
        assert_eq!(server.open_connections(), 0);
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "still accepting after a shutdown"
        );
    });
}

#[test]
fn shutdown_closes_requests_that_overrun_the_grace_period() {
    run(async {
        let grace = Duration::from_millis(200);
        let server = start(Builder::new().shutdown_grace(grace)).await;
        let mut conn = connect(server.local_addr()).await;
        conn.write_all(get("/forever?sleep=60000").as_bytes())
            .await
            .unwrap();
        while server.open_connections() == 0 {
            sleep(Duration::from_millis(5)).await;
        }
        sleep(Duration::from_millis(50)).await;
        let start = Instant::now();
        assert_eq!(server.shutdown().await, 1);
        let took = start.elapsed();
        assert!(took >= grace && took < Duration::from_secs(3), "{took:?}");
        assert!(read_to_close(&mut conn, Duration::from_secs(2))
            .await
            .is_empty());
        assert_eq!(server.open_connections(), 0);
    });
}

#[test]
fn jsonplaceholder_answers_with_latency_and_counts_connections_open_at_once() {
    run(async {
        let latency = Duration::from_millis(100);
        let api = jsonplaceholder::Server::builder()
            .latency(latency)
            .bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = api.local_addr();
        let start = Instant::now();
        let replies = ferrio::gather((1..=5).map(|id| async move {
            let mut conn = connect(addr).await;
            conn.write_all(get(&format!("/posts/{id}")).as_bytes())
                .await
                .unwrap();
            read_reply(&mut conn, &mut Vec::new()).await
        }))
        .await;
        let took = start.elapsed();
        assert!(
            took >= latency && took < latency * 4,
            "five requests at once took {took:?}"
        );
        for (i, reply) in replies.iter().enumerate() {
            assert_eq!(reply.status, 200);
            assert_eq!(
                reply.header("content-type"),
                Some("application/json; charset=utf-8")
            );
            let post: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
            assert_eq!(post["id"], i + 1);
        }
        assert_eq!(api.max_open_connections(), 5);

        let mut conn = connect(addr).await;
        conn.write_all(get("/posts/101").as_bytes()).await.unwrap();
        let missing = read_reply(&mut conn, &mut Vec::new()).await;
        assert_eq!((missing.status, missing.body.as_str()), (404, "{}"));
        api.shutdown().await;
    });
}

#[test]
fn a_client_that_stalls_mid_body_gets_408_within_the_body_timeout() {
    run(async {
        let limit = Duration::from_millis(300);
        let server = start(Builder::new().body_read_timeout(limit)).await;
        let mut conn = connect(server.local_addr()).await;
        conn.write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            .await
            .unwrap();
        let start = Instant::now();
        let reply = read_to_close(&mut conn, Duration::from_secs(5)).await;
        let took = start.elapsed();
        assert!(
            took >= limit - Duration::from_millis(50) && took < Duration::from_secs(3),
            "{took:?}"
        );
        assert!(String::from_utf8_lossy(&reply).starts_with("HTTP/1.1 408 "));
        assert_eq!(server.shutdown().await, 0);
    });
}

#[test]
fn a_client_that_never_reads_its_response_is_dropped_after_the_write_timeout() {
    run(async {
        let limit = Duration::from_millis(300);
        let server = start(Builder::new().write_timeout(limit)).await;
        let mut conn = connect(server.local_addr()).await;
        // 32 MiB cannot fit in the socket buffers of both ends.
        conn.write_all(get("/big").as_bytes()).await.unwrap();
        let start = Instant::now();
        for _ in 0..500 {
            if server.requests_served() == 1 && server.open_connections() == 0 {
                break;
            }
            sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(server.open_connections(), 0, "the connection is still open");
        assert!(start.elapsed() < Duration::from_secs(3));
        assert_eq!(server.shutdown().await, 0);
    });
}

#[test]
fn a_hundred_clients_at_once_are_all_served() {
    run(async {
        let server = start(Builder::new()).await;
        let addr = server.local_addr();
        let replies = ferrio::gather((0..100).map(|i| async move {
            let mut conn = connect(addr).await;
            let mut buf = Vec::new();
            let mut bodies = Vec::new();
            for j in 0..3 {
                conn.write_all(get(&format!("/{i}/{j}?sleep=20")).as_bytes())
                    .await
                    .unwrap();
                bodies.push(read_reply(&mut conn, &mut buf).await.body);
            }
            bodies
        }))
        .await;
        for (i, bodies) in replies.iter().enumerate() {
            for (j, body) in bodies.iter().enumerate() {
                assert_eq!(body, &format!("GET /{i}/{j} "));
            }
        }
        assert_eq!(server.requests_served(), 300);
        assert_eq!(server.connections_accepted(), 100);
        assert_eq!(server.max_open_connections(), 100);
        assert_eq!(server.shutdown().await, 0);
    });
}

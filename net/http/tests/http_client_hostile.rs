//! The HTTP client against hostile servers, through the facade: a server that
//! never stops sending (a body without end, a flood of `100 Continue` heads, a
//! slow drip) meets the total timeout; an early answer to an upload is
//! returned, not lost in a reset; huge header counts and bodies are typed
//! errors.
//!
//! Each server here is a plain `std::net` thread, so it keeps sending however
//! the client's runtime behaves, and stops by itself (when the client goes,
//! or after [`SERVER_LIFE`]). Each test runs in a thread of its own under a
//! watchdog ([`within`]): a runtime timeout would not do, since what is tested
//! is that a future which is always ready still meets its deadline.
//!
//! Not here: well-behaved servers' malformed bytes (`http_client_errors.rs`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ferrio::http::{Client, ErrorKind, StatusCode, TimeoutKind};

/// The longest a test server lives, whatever the client does.
const SERVER_LIFE: Duration = Duration::from_secs(30);

/// Runs `test` in a runtime on a thread of its own, failing if it has not
/// finished after `limit` (it is then left running; the server threads end
/// by themselves).
fn within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    test: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(test());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: the test panicked"),
    }
}

/// A one-connection server on 127.0.0.1: `serve` gets the accepted stream.
fn server(serve: impl FnOnce(TcpStream) + Send + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            stream.set_nodelay(true).unwrap();
            serve(stream);
        }
    });
    addr
}

/// Reads until the end of a request head (the blank line), at most 64 KiB;
/// returns what was read.
fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") && seen.len() < 64 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => seen.push(byte[0]),
            _ => break,
        }
    }
    seen
}

/// Writes `piece` again and again until the client goes or [`SERVER_LIFE`] is up.
fn flood(stream: &mut TcpStream, piece: &[u8]) {
    let started = Instant::now();
    while started.elapsed() < SERVER_LIFE {
        if stream.write_all(piece).is_err() {
            return;
        }
    }
}

#[test]
fn total_timeout_fires_while_an_endless_body_keeps_arriving() {
    let addr = server(|mut s| {
        read_head(&mut s);
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000000000\r\n\r\n")
            .unwrap();
        flood(&mut s, &[b'x'; 64 * 1024]);
    });
    let (err, elapsed, read) = within(Duration::from_secs(15), "the body read", move || {
        ferrio::run(async move {
            let started = Instant::now();
            let client = Client::new();
            let mut response = client
                .get(format!("http://{addr}/"))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .expect("the head arrives at once");
            let mut read = 0usize;
            let err = loop {
                match response.chunk().await {
                    Ok(Some(piece)) => read += piece.len(),
                    Ok(None) => panic!("a body of 10^12 bytes ended after {read}"),
                    Err(e) => break e,
                }
                ferrio::time::sleep(Duration::from_millis(1)).await;
            };
            (err, started.elapsed(), read)
        })
    });
    assert_eq!(
        err.kind(),
        ErrorKind::Timeout(TimeoutKind::Total),
        "the 1 s total timeout should end the body ({read} bytes read): {err}"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "the 1 s total timeout fired after {elapsed:?}"
    );
}

#[test]
fn total_timeout_fires_during_a_flood_of_100_continue_heads() {
    let addr = server(|mut s| {
        read_head(&mut s);
        flood(&mut s, &b"HTTP/1.1 100 Continue\r\n\r\n".repeat(1000));
    });
    let (err, elapsed) = within(Duration::from_secs(15), "the head read", move || {
        ferrio::run(async move {
            let started = Instant::now();
            let err = Client::new()
                .get(format!("http://{addr}/"))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .expect_err("no final head ever comes");
            (err, started.elapsed())
        })
    });
    assert_eq!(
        err.kind(),
        ErrorKind::Timeout(TimeoutKind::Total),
        "the 1 s total timeout should end the informational flood: {err}"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "the 1 s total timeout fired after {elapsed:?}"
    );
}

#[test]
fn total_timeout_fires_on_a_slow_drip_that_never_trips_the_read_timeout() {
    let addr = server(|mut s| {
        read_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n");
        let started = Instant::now();
        // A byte every 10 ms: each read waits far less than the read timeout.
        while started.elapsed() < SERVER_LIFE && s.write_all(b"x").is_ok() {
            thread::sleep(Duration::from_millis(10));
        }
    });
    let (err, elapsed) = within(Duration::from_secs(15), "the drip read", move || {
        ferrio::run(async move {
            let started = Instant::now();
            let client = Client::builder()
                .read_timeout(Duration::from_millis(500))
                .timeout(Duration::from_secs(1))
                .build()
                .unwrap();
            let response = client.get(format!("http://{addr}/")).send().await.unwrap();
            let err = response
                .bytes()
                .await
                .expect_err("the drip outlasts the timeout");
            (err, started.elapsed())
        })
    });
    assert_eq!(
        err.kind(),
        ErrorKind::Timeout(TimeoutKind::Total),
        "the total timeout, not the read timeout, should end the drip: {err}"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "the 1 s total timeout fired after {elapsed:?}"
    );
}

/// The 413 the upload servers answer with.
const TOO_LARGE: &[u8] =
    b"HTTP/1.1 413 Payload Too Large\r\nconnection: close\r\ncontent-length: 9\r\n\r\ntoo large";

/// POSTs 16 MiB to `addr` with a 5 s total timeout; the response's status
/// and body, and how long that took.
fn upload(addr: SocketAddr) -> (StatusCode, String, Duration) {
    within(Duration::from_secs(15), "the upload", move || {
        ferrio::run(async move {
            let started = Instant::now();
            let response = Client::new()
                .post(format!("http://{addr}/upload"))
                .body(vec![b'u'; 16 << 20])
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .unwrap_or_else(|e| panic!("the early 413 should be the response: {e}"));
            let status = response.status();
            let text = response.text().await.unwrap();
            (status, text, started.elapsed())
        })
    })
}

#[test]
fn early_answer_to_an_upload_is_returned_when_the_server_then_closes() {
    let addr = server(|mut s| {
        read_head(&mut s);
        let mut first = [0u8; 1024];
        let _ = s.read(&mut first);
        let _ = s.write_all(TOO_LARGE);
        // Dropped with most of the body unread: the kernel resets the connection.
    });
    let (status, text, elapsed) = upload(addr);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(text, "too large");
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[test]
fn early_answer_to_an_upload_is_returned_when_the_server_stops_reading() {
    let addr = server(|mut s| {
        read_head(&mut s);
        let mut first = [0u8; 1024];
        let _ = s.read(&mut first);
        let _ = s.write_all(TOO_LARGE);
        // Holds the connection open, reading nothing more.
        thread::sleep(Duration::from_secs(10));
    });
    let (status, text, elapsed) = upload(addr);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(text, "too large");
    assert!(
        elapsed < Duration::from_secs(3),
        "the 413 should come long before the 5 s timeout; took {elapsed:?}"
    );
}

/// A server that answers the first request with `wire`, then closes.
fn answering(wire: Vec<u8>) -> SocketAddr {
    server(move |mut s| {
        read_head(&mut s);
        let _ = s.write_all(&wire);
    })
}

/// `n` short header lines, each with a name of its own (repeats of one name
/// would share an entry of the map).
fn fields(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| format!("{i:x}:\r\n").into_bytes())
        .collect()
}

#[test]
fn more_header_fields_than_a_header_map_holds_are_too_large() {
    let mut wire = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n".to_vec();
    wire.extend(fields(24_577));
    wire.extend_from_slice(b"\r\n");
    let addr = answering(wire);
    let err = within(Duration::from_secs(15), "the head read", move || {
        ferrio::run(async move {
            let client = Client::builder().max_header_bytes(1 << 20).build().unwrap();
            client
                .get(format!("http://{addr}/"))
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .expect_err("24,577 fields do not fit a HeaderMap")
        })
    });
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
}

#[test]
fn more_trailer_fields_than_a_header_map_holds_are_too_large() {
    let mut wire =
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n".to_vec();
    wire.extend(fields(24_577));
    wire.extend_from_slice(b"\r\n");
    let addr = answering(wire);
    let err = within(Duration::from_secs(15), "the body read", move || {
        ferrio::run(async move {
            let client = Client::builder().max_header_bytes(1 << 20).build().unwrap();
            let response = client
                .get(format!("http://{addr}/"))
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .unwrap();
            response
                .bytes()
                .await
                .expect_err("24,577 trailer fields do not fit a HeaderMap")
        })
    });
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
}

#[test]
fn default_client_refuses_a_body_past_64_mib() {
    const CAP: usize = 64 << 20;
    // Announced: refused from the head, before a byte of the body is read.
    let addr =
        answering(format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", CAP + 1).into_bytes());
    // Not announced: a close-delimited body that runs one byte past the cap.
    let past_the_cap = || {
        server(|mut s| {
            read_head(&mut s);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
            let piece = vec![b'x'; 1 << 20];
            for _ in 0..CAP >> 20 {
                if s.write_all(&piece).is_err() {
                    return;
                }
            }
            let _ = s.write_all(b"x");
        })
    };
    let (endless, endless_again) = (past_the_cap(), past_the_cap());
    let (announced, streamed, read) = within(Duration::from_secs(30), "the reads", move || {
        ferrio::run(async move {
            let client = Client::new();
            let get = |addr: SocketAddr| client.get(format!("http://{addr}/")).send();
            let announced = get(addr).await.unwrap().bytes().await.unwrap_err();
            let streamed = get(endless).await.unwrap().bytes().await.unwrap_err();
            // The same body read piece by piece: no cap, all of it.
            let mut response = get(endless_again).await.unwrap();
            let mut read = 0;
            while let Some(piece) = response.chunk().await.unwrap() {
                read += piece.len();
            }
            (announced, streamed, read)
        })
    });
    assert_eq!(announced.kind(), ErrorKind::TooLarge, "{announced}");
    assert_eq!(streamed.kind(), ErrorKind::TooLarge, "{streamed}");
    assert!(streamed.to_string().contains("67108864"), "{streamed}");
    assert_eq!(read, CAP + 1, "chunk() streams past the cap");
}

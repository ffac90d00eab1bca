//! WebSockets through the facade: against the test kit's echo server (text,
//! binary, ping/pong, the close handshake, the size limit, a refused
//! upgrade, the connection limit) and against hand-written peers that
//! misbehave (garbage, an oversized frame, silence), each a typed error
//! within its timeout.

mod http_client_support;

use std::time::{Duration, Instant};

use ferrio::http::ws::Message;
use ferrio::http::{Client, ErrorKind, TimeoutKind};
use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use ferrio::net::TcpListener;
use ferrio_testkit::ws::EchoServer;
use futures_util::{SinkExt, StreamExt};
use http_client_support::{ok, run, serve, Action};

fn client() -> Client {
    Client::builder()
        .read_timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[test]
fn text_and_binary_messages_come_back_from_the_echo_server() {
    run(async {
        let server = EchoServer::bind("127.0.0.1:0").await.unwrap();
        let mut ws = client().ws_connect(server.url("/echo")).await.unwrap();
        assert_eq!(ws.url().scheme(), "ws");
        ws.send_text("hello").await.unwrap();
        ws.send_binary(vec![0u8, 1, 2, 255]).await.unwrap();
        let big = "x".repeat(200_000);
        ws.send(Message::Text(big.clone())).await.unwrap();
        assert_eq!(
            ws.receive().await.unwrap(),
            Some(Message::Text("hello".into()))
        );
        assert_eq!(
            ws.receive().await.unwrap(),
            Some(Message::Binary(vec![0u8, 1, 2, 255].into()))
        );
        assert_eq!(ws.receive().await.unwrap(), Some(Message::Text(big)));
    });
}

#[test]
fn split_gives_a_writer_and_a_reader_that_two_tasks_own_as_with_tokio_tungstenite() {
    run(async {
        let server = EchoServer::bind("127.0.0.1:0").await.unwrap();
        let ws = client().ws_connect(server.url("/echo")).await.unwrap();
        // `StreamExt::split`: the socket is a Stream and a Sink.
        let (mut write, mut read) = ws.split();
        let writer = ferrio::spawn(async move {
            for i in 0..100 {
                write.send(Message::Text(format!("message {i}"))).await?;
            }
            // Sink::close sends the close frame; the server answers it.
            write.close().await
        });
        let reader = ferrio::spawn(async move {
            let mut seen = Vec::new();
            // Ends (None) after the server's answer to the close.
            while let Some(message) = read.next().await {
                seen.push(message?);
            }
            Ok::<_, ferrio::http::Error>(seen)
        });
        writer
            .await
            .unwrap()
            .expect("every message and the close were sent");
        let seen = reader.await.unwrap().expect("every echo was read");
        assert_eq!(seen.len(), 101, "{:?}", seen.last());
        for (i, message) in seen[..100].iter().enumerate() {
            assert_eq!(message, &Message::Text(format!("message {i}")));
        }
        assert!(matches!(seen[100], Message::Close(_)), "{:?}", seen[100]);
    });
}

#[test]
fn a_ping_gets_a_pong_and_close_is_a_handshake() {
    run(async {
        let server = EchoServer::bind("127.0.0.1:0").await.unwrap();
        let mut ws = client().ws_connect(server.url("/")).await.unwrap();
        ws.ping(&b"are you there"[..]).await.unwrap();
        assert_eq!(
            ws.receive().await.unwrap(),
            Some(Message::Pong((&b"are you there"[..]).into()))
        );
        let started = Instant::now();
        ws.close().await.expect("the server answers the close");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the close took {:?}",
            started.elapsed()
        );
        assert_eq!(
            ws.receive().await.unwrap(),
            None,
            "a closed socket reads nothing"
        );
        let err = ws.send_text("too late").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WebSocket, "{err}");
    });
}

#[test]
fn a_message_over_the_size_limit_is_too_large() {
    run(async {
        let server = EchoServer::bind("127.0.0.1:0").await.unwrap();
        let mut ws = client()
            .ws_connect(server.url("/"))
            .max_message_size(1024)
            .await
            .unwrap();
        ws.send_text("x".repeat(1000)).await.unwrap();
        assert!(matches!(ws.receive().await.unwrap(), Some(Message::Text(t)) if t.len() == 1000));
        // Sending is not limited; the echo coming back is.
        ws.send_text("y".repeat(5000)).await.unwrap();
        let err = ws.receive().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    });
}

#[test]
fn a_refused_upgrade_is_an_error_with_the_status() {
    run(async {
        let server = EchoServer::bind("127.0.0.1:0").await.unwrap();
        let err = client()
            .ws_connect(server.url("/reject"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WebSocket, "{err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
        // A plain HTTP server that answers 200 refuses too.
        let http = serve(|_| Action::Reply(ok("not a websocket"))).await;
        let err = client()
            .ws_connect(format!("ws://{}/", http.addr))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WebSocket, "{err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
        let err = client().ws_connect("ftp://127.0.0.1/").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidUrl);
    });
}

#[test]
fn a_websocket_holds_a_slot_of_the_clients_limit_until_dropped() {
    run(async {
        let server = EchoServer::bind("127.0.0.1:0").await.unwrap();
        let http = serve(|_| Action::Reply(ok("ok"))).await;
        let client = Client::builder()
            .limit(1)
            .pool_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let ws = client.ws_connect(server.url("/")).await.unwrap();
        let err = client.get(http.url("/")).send().await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::PoolTimeout,
            "the socket holds the only slot"
        );
        drop(ws);
        let response = client.get(http.url("/")).send().await.unwrap();
        assert_eq!(response.status(), 200);
    });
}

/// A peer that answers the upgrade by hand with what `answer` makes of the
/// right `Sec-WebSocket-Accept`, then writes `after` and stays silent for a
/// while.
async fn scripted_peer(
    answer: impl FnOnce(&str) -> Vec<u8> + Send + 'static,
    after: Vec<u8>,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    ferrio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client hung up during its request");
            head.extend_from_slice(&buf[..n]);
        }
        let head = String::from_utf8(head).unwrap();
        let key = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("sec-websocket-key")
                    .then(|| value.trim().to_owned())
            })
            .expect("a Sec-WebSocket-Key");
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        if stream.write_all(&answer(&accept)).await.is_err() {
            return;
        }
        let _ = stream.write_all(&after).await;
        ferrio::time::sleep(Duration::from_secs(10)).await;
    });
    format!("ws://{addr}/")
}

/// The right answer to the upgrade.
fn switching(accept: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {accept}\r\n\r\n"
    )
    .into_bytes()
}

/// A peer that completes the upgrade by hand, then writes `after` and
/// stays silent for a while.
async fn misbehaving_peer(after: Vec<u8>) -> String {
    scripted_peer(switching, after).await
}

#[test]
fn garbage_from_the_peer_is_a_websocket_error_at_once() {
    run(async {
        // Reserved opcode 0x3 with the reserved bits set: not a WebSocket frame.
        let url = misbehaving_peer(b"\xf3\x05hello, this is not a frame".to_vec()).await;
        let mut ws = client().ws_connect(url).await.unwrap();
        let started = Instant::now();
        let err = ws.receive().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WebSocket, "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
    });
}

#[test]
fn a_frame_announcing_a_gigabyte_is_too_large_before_it_arrives() {
    run(async {
        // A final binary frame, unmasked, 64-bit length: 1 GiB; no payload follows.
        let mut frame = vec![0x82, 127];
        frame.extend_from_slice(&(1u64 << 30).to_be_bytes());
        let url = misbehaving_peer(frame).await;
        let mut ws = client()
            .ws_connect(url)
            .max_message_size(1 << 20)
            .await
            .unwrap();
        let started = Instant::now();
        let err = ws.receive().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
    });
}

#[test]
fn a_silent_peer_times_out_the_read_and_a_silent_server_the_connect() {
    run(async {
        let url = misbehaving_peer(Vec::new()).await;
        let client = Client::builder()
            .read_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let mut ws = client.ws_connect(url).await.unwrap();
        let err = ws.receive().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Read), "{err}");
        // Read as a Stream, the socket keeps the same read timeout.
        let started = Instant::now();
        let err = ws.next().await.expect("an error, not the end").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Read), "{err}");
        assert!(started.elapsed() >= Duration::from_millis(200));
        // Accepts, never answers the upgrade.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        ferrio::spawn(async move {
            let (_stream, _) = listener.accept().await.unwrap();
            ferrio::time::sleep(Duration::from_secs(10)).await;
        });
        let client = Client::builder()
            .connect_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let err = client
            .ws_connect(format!("ws://{addr}/"))
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Timeout(TimeoutKind::Connect),
            "{err}"
        );
    });
}

#[test]
fn close_with_sends_the_code_and_reason() {
    run(async {
        let server = EchoServer::bind("127.0.0.1:0").await.unwrap();
        let mut ws = client().ws_connect(server.url("/")).await.unwrap();
        ws.close_with(4000, "bye now").await.unwrap();
        assert_eq!(ws.receive().await.unwrap(), None);
    });
}

#[test]
fn a_wrong_upgrade_answer_is_a_websocket_error_in_time() {
    run(async {
        type Answer = fn(&str) -> Vec<u8>;
        let answers: [(&str, Answer); 3] = [
            ("a wrong Sec-WebSocket-Accept", |_| {
                switching("dGhlIHNhbXBsZSBub25jZQ==")
            }),
            ("no Sec-WebSocket-Accept", |_| {
                b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n".to_vec()
            }),
            ("no Upgrade field", |accept| {
                format!("HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nsec-websocket-accept: {accept}\r\n\r\n").into_bytes()
            }),
        ];
        for (what, answer) in answers {
            let url = scripted_peer(answer, Vec::new()).await;
            let started = Instant::now();
            let err = client().ws_connect(url).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::WebSocket, "{what}: {err}");
            assert_eq!(err.status(), None, "{what}: the upgrade was not refused");
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{what}: {:?}",
                started.elapsed()
            );
        }
    });
}

#[test]
fn an_endless_upgrade_answer_is_too_large_in_time() {
    run(async {
        // A 101 whose head never ends, as fields or as one field: the
        // handshake reads at most 124 fields and 64 KiB (tungstenite's
        // limits), so memory stays bounded and the error comes at once, well
        // before the connect timeout.
        let status = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
        let mut fields = status.clone();
        let mut one_field = status;
        while fields.len() < 1 << 20 {
            fields.extend_from_slice(b"x-filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        one_field.extend_from_slice(b"x-filler: ");
        one_field.resize(1 << 20, b'a');
        for (what, head) in [("fields", fields), ("one field", one_field)] {
            let url = scripted_peer(move |_| head, Vec::new()).await;
            let started = Instant::now();
            let err = client().ws_connect(url).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TooLarge, "{what}: {err}");
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{what}: {:?}",
                started.elapsed()
            );
        }
    });
}

#[test]
fn close_gives_up_on_a_peer_that_never_answers_it_after_the_read_timeout() {
    run(async {
        // The peer keeps talking (a ping and a text message every 10 ms)
        // and never sends its close frame. close() drops what comes and
        // waits no longer than the read timeout (it would wait 10 s).
        let mut chatter = Vec::new();
        for _ in 0..100 {
            chatter.extend_from_slice(&[0x89, 0x00, 0x81, 0x02, b'h', b'i']);
        }
        let url = misbehaving_peer(chatter).await;
        let client = Client::builder()
            .read_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let mut ws = client.ws_connect(url).await.unwrap();
        let started = Instant::now();
        let err = ws.close().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Read), "{err}");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(3),
            "close took {took:?}"
        );
    });
}

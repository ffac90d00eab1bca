//! Streaming response bodies through the facade: as a `Stream` of pieces and
//! as an `AsyncRead`, whole, decompressed, with errors typed and the
//! connection back in the pool at the end.

mod http_client_support;

use std::time::Duration;

use ferrio::http::{Client, ErrorKind};
use ferrio::io::AsyncReadExt;
use futures_util::StreamExt;
use http_client_support::{gzip, raw, run, serve, Action};

/// A chunked response carrying `body` in pieces of `size`.
fn chunked(body: &[u8], size: usize, extra: &str) -> Vec<u8> {
    let mut wire =
        format!("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n{extra}\r\n").into_bytes();
    for piece in body.chunks(size) {
        wire.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        wire.extend_from_slice(piece);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    wire
}

fn client() -> Client {
    Client::builder()
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[test]
fn a_body_streams_in_pieces_and_the_connection_is_reused() {
    run(async {
        let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let wire = chunked(&body, 10_000, "");
        let server = serve(move |_| Action::Reply(wire.clone())).await;
        let client = client();
        for _ in 0..2 {
            let response = client.get(server.url("/")).send().await.unwrap();
            // As with reqwest: the stream is Unpin, so no `pin!` is needed.
            let mut stream = response.bytes_stream();
            let (mut got, mut pieces) = (Vec::new(), 0);
            while let Some(piece) = stream.next().await {
                got.extend_from_slice(&piece.unwrap());
                pieces += 1;
            }
            assert!(got == body, "{} bytes", got.len());
            assert!(pieces > 1, "came in pieces");
        }
        assert_eq!(
            server.stats.accepted(),
            1,
            "streamed to the end, the connection was kept"
        );
    });
}

#[test]
fn a_gzip_body_reads_decoded_through_async_read() {
    run(async {
        let text = "line of text\n".repeat(10_000);
        let wire = chunked(&gzip(text.as_bytes()), 1000, "content-encoding: gzip\r\n");
        let server = serve(move |_| Action::Reply(wire.clone())).await;
        let response = client().get(server.url("/")).send().await.unwrap();
        let mut reader = response.into_async_read();
        let mut got = String::new();
        reader.read_to_string(&mut got).await.unwrap();
        assert!(got == text, "{} bytes", got.len());
    });
}

#[test]
fn a_broken_body_is_an_error_in_the_stream_and_the_reader() {
    run(async {
        // Says 100 bytes, sends 5 and closes.
        let short = raw("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello");
        let server = serve(move |_| Action::ReplyClose(short.clone())).await;
        let response = client().get(server.url("/")).send().await.unwrap();
        let results: Vec<_> = response.bytes_stream().collect().await;
        let err = results
            .into_iter()
            .find_map(Result::err)
            .expect("an error at the end");
        assert_eq!(err.kind(), ErrorKind::MalformedResponse, "{err}");

        let response = client().get(server.url("/")).send().await.unwrap();
        let mut got = Vec::new();
        let err = response
            .into_async_read()
            .read_to_end(&mut got)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
        let inner = err
            .into_inner()
            .unwrap()
            .downcast::<ferrio::http::Error>()
            .unwrap();
        assert_eq!(inner.kind(), ErrorKind::MalformedResponse);

        // A server that stalls mid-body: the read timeout, as TimedOut.
        let stall = serve(|_| {
            let head = raw("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc");
            Action::Stall(head, Duration::from_secs(5))
        })
        .await;
        let client = Client::builder()
            .read_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let response = client.get(stall.url("/")).send().await.unwrap();
        let err = response
            .into_async_read()
            .read_to_end(&mut Vec::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    });
}

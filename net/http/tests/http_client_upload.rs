//! Streaming uploads through the facade: a body from a `Stream` or an
//! `AsyncRead`, chunked when its length is unknown, exact when the request
//! gives one; a failing stream or a wrong length is a typed error; a 307
//! is not followed with a spent body.

mod http_client_support;

use std::time::Duration;

use ferrio::http::{Body, Bytes, Client, ErrorKind};
use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use ferrio::net::TcpListener;
use http_client_support::{ok, response, run, serve, Action};

fn client() -> Client {
    Client::builder()
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// A server that reads one chunked request body by hand and answers with
/// its length and whether it was chunked; returns its URL and the body seen.
async fn chunk_reader() -> (String, ferrio::sync::oneshot::Receiver<(String, Vec<u8>)>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (tx, rx) = ferrio::sync::oneshot::channel();
    ferrio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut piece = [0u8; 8192];
        // Read until the last chunk's "0\r\n\r\n".
        let head_end = loop {
            let n = s.read(&mut piece).await.unwrap();
            assert!(n > 0, "closed early");
            buf.extend_from_slice(&piece[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                if buf[i + 4..].windows(5).any(|w| w == b"0\r\n\r\n") {
                    break i + 4;
                }
            }
        };
        let head = String::from_utf8(buf[..head_end].to_vec())
            .unwrap()
            .to_ascii_lowercase();
        let mut rest = &buf[head_end..];
        let mut body = Vec::new();
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16).unwrap();
            rest = &rest[line_end + 2..];
            if size == 0 {
                break;
            }
            body.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        s.write_all(&ok("got it")).await.unwrap();
        let _ = tx.send((head, body));
    });
    (url, rx)
}

#[test]
fn a_stream_of_unknown_length_goes_chunked() {
    run(async {
        let (url, seen) = chunk_reader().await;
        let pieces: Vec<Result<Bytes, std::io::Error>> = (0..50)
            .map(|i| Ok(Bytes::from(format!("piece {i};"))))
            .collect();
        let expected: String = (0..50).map(|i| format!("piece {i};")).collect();
        let body = Body::wrap_stream(futures_util::stream::iter(pieces));
        let response = client().post(&url).body_stream(body).send().await.unwrap();
        assert_eq!(response.text().await.unwrap(), "got it");
        let (head, body) = seen.await.unwrap();
        assert!(head.contains("transfer-encoding: chunked"), "{head}");
        assert!(!head.contains("content-length"), "{head}");
        assert_eq!(String::from_utf8(body).unwrap(), expected);
    });
}

#[test]
fn a_reader_with_a_content_length_is_sent_as_it_is() {
    run(async {
        let server = serve(|r| Action::Reply(ok(format!("{} bytes", r.body.len())))).await;
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 256) as u8).collect();
        let body = Body::from_async_read(futures_util::io::Cursor::new(data.clone()));
        let response = client()
            .put(server.url("/file"))
            .header("content-length", data.len().to_string())
            .body_stream(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.text().await.unwrap(), "100000 bytes");
        let seen = server.stats.requests().pop().unwrap();
        assert_eq!(seen.body, data);
        assert_eq!(seen.header("transfer-encoding"), None);
    });
}

#[test]
fn a_failing_stream_or_a_wrong_length_is_an_invalid_request() {
    run(async {
        let server = serve(|_| Action::Reply(ok("ok"))).await;
        let failing = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"first")),
            Err(std::io::Error::other("disk on fire")),
        ]);
        let err = client()
            .post(server.url("/"))
            .body_stream(Body::wrap_stream(failing))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
        assert!(err.to_string().contains("disk on fire"), "{err}");

        let short = Body::from_async_read(&b"only this"[..]);
        let err = client()
            .post(server.url("/"))
            .header("content-length", "100")
            .body_stream(short)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    });
}

#[test]
fn a_307_is_returned_rather_than_followed_with_a_spent_body() {
    run(async {
        let server = serve(|r| match r.target.as_str() {
            "/old" => Action::Reply(response("307 Temporary Redirect", &["location: /new"], "")),
            _ => Action::Reply(ok("moved")),
        })
        .await;
        let body = Body::from_async_read(&b"payload"[..]);
        let response = client()
            .post(server.url("/old"))
            .header("content-length", "7")
            .body_stream(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 307);
        assert_eq!(server.stats.requests().len(), 1);
    });
}

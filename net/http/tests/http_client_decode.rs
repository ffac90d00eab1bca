//! Compressed response bodies through the facade: deflate, brotli and zstd
//! asked for and decoded as gzip is, and bombs in each stopped by
//! `max_body_bytes` while decoding, quickly, as a typed error. Needs the
//! default features (each coding is one).
#![cfg(all(feature = "deflate", feature = "brotli", feature = "zstd"))]

mod http_client_support;

use std::io::Write;
use std::time::{Duration, Instant};

use ferrio::http::{Client, ErrorKind};
use http_client_support::{gzip, response, run, serve, Action, Server};

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 5,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &data[..], &mut out, &params).unwrap();
    out
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).unwrap()
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// The codings compiled in by default, each with its encoder.
type Encoder = fn(&[u8]) -> Vec<u8>;
const CODINGS: [(&str, Encoder); 3] = [("deflate", deflate), ("br", brotli), ("zstd", zstd)];

/// A server answering every request with `body` in `coding`, chunked in
/// pieces of 1000 bytes (as a server that compresses on the fly sends it).
async fn serving(coding: &'static str, body: Vec<u8>) -> Server {
    let mut wire = format!(
        "HTTP/1.1 200 OK\r\ncontent-encoding: {coding}\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for piece in body.chunks(1000) {
        wire.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        wire.extend_from_slice(piece);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    serve(move |_| Action::Reply(wire.clone())).await
}

fn client() -> Client {
    Client::builder()
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[test]
fn every_compiled_coding_is_asked_for() {
    run(async {
        let server = serve(|_| Action::Reply(response("200 OK", &[], ""))).await;
        client().get(server.url("/")).send().await.unwrap();
        let request = server.stats.requests().pop().unwrap();
        assert_eq!(
            request.header("accept-encoding"),
            Some("gzip, deflate, br, zstd")
        );
    });
}

#[test]
fn deflate_brotli_and_zstd_bodies_are_decoded_and_the_connection_reused() {
    run(async {
        let text = "compress me, ".repeat(20_000);
        for (coding, encode) in CODINGS {
            let server = serving(coding, encode(text.as_bytes())).await;
            let client = client();
            for _ in 0..2 {
                let response = client.get(server.url("/")).send().await.unwrap();
                assert!(response.headers().get("content-encoding").is_none());
                let body = response
                    .text()
                    .await
                    .unwrap_or_else(|e| panic!("{coding}: {e}"));
                assert!(body == text, "{coding}: {} bytes decoded", body.len());
            }
            assert_eq!(
                server.stats.accepted(),
                1,
                "{coding}: decoded to its end, kept alive"
            );
        }
    });
}

#[test]
fn a_bomb_in_any_coding_stops_at_the_body_cap_quickly() {
    run(async {
        // 24 MiB of zeros is a few KiB (brotli: a few dozen bytes) on the wire.
        let zeros = vec![0u8; 24 << 20];
        let cap = 1 << 20;
        for (coding, encode) in CODINGS {
            let bomb = encode(&zeros);
            assert!(bomb.len() < 256 * 1024, "{coding}: {} bytes", bomb.len());
            let server = serving(coding, bomb).await;
            let client = Client::builder().max_body_bytes(cap).build().unwrap();
            let started = Instant::now();
            let response = client.get(server.url("/")).send().await.unwrap();
            let err = response
                .bytes()
                .await
                .expect_err("the bomb should be refused");
            assert_eq!(err.kind(), ErrorKind::TooLarge, "{coding}: {err}");
            // Decoding all 24 MiB (in a debug build) would take far longer.
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{coding}: took {:?}",
                started.elapsed()
            );
        }
    });
}

#[test]
fn garbage_or_a_cut_short_stream_is_a_decode_error() {
    run(async {
        for (coding, encode) in CODINGS {
            let garbage = b"not compressed in any way at all ".repeat(50);
            let server = serving(coding, garbage).await;
            let err = client()
                .get(server.url("/"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await;
            assert_eq!(
                err.unwrap_err().kind(),
                ErrorKind::BodyDecode,
                "{coding}: garbage"
            );
            let mut cut = encode(&b"some text, ".repeat(1000));
            cut.truncate(cut.len() - 3);
            let server = serving(coding, cut).await;
            let err = client()
                .get(server.url("/"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await;
            assert_eq!(
                err.unwrap_err().kind(),
                ErrorKind::BodyDecode,
                "{coding}: cut short"
            );
        }
    });
}

#[test]
fn a_request_with_its_own_accept_encoding_gets_the_body_as_sent() {
    run(async {
        let compressed = brotli(b"raw");
        let wire = response("200 OK", &["content-encoding: br"], &compressed);
        let server = serve(move |_| Action::Reply(wire.clone())).await;
        let response = client()
            .get(server.url("/"))
            .header("accept-encoding", "br")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-encoding"], "br");
        assert_eq!(&response.bytes().await.unwrap()[..], &compressed[..]);
    });
}

#[test]
fn stacked_and_unknown_codings_are_passed_through_as_sent() {
    run(async {
        // The client decodes one coding it knows; anything else it hands
        // over as the server sent it, Content-Encoding and all, for the
        // caller to decode (as reqwest does): stacked codings (in one field
        // or two), and codings it does not know.
        let text = b"layered text, ".repeat(100);
        let stacked = brotli(&gzip(&text));
        let cases: [(&[&str], Vec<u8>); 4] = [
            (&["content-encoding: gzip, br"], stacked.clone()),
            (&["content-encoding: gzip", "content-encoding: br"], stacked),
            (&["content-encoding: x-foo"], text.clone()),
            (&["content-encoding: identity, x-foo"], text.clone()),
        ];
        for (fields, body) in cases {
            let wire = response("200 OK", fields, &body);
            let server = serve(move |_| Action::Reply(wire.clone())).await;
            let response = client().get(server.url("/")).send().await.unwrap();
            let seen: Vec<_> = response
                .headers()
                .get_all("content-encoding")
                .iter()
                .collect();
            assert_eq!(
                seen.len(),
                fields.len(),
                "{fields:?}: Content-Encoding is kept"
            );
            assert_eq!(
                response.content_length(),
                Some(body.len() as u64),
                "{fields:?}"
            );
            assert_eq!(
                &response.bytes().await.unwrap()[..],
                &body[..],
                "{fields:?}"
            );
        }
        // Passed through, a body is still held to max_body_bytes.
        let wire = response("200 OK", &["content-encoding: x-foo"], vec![b'x'; 4096]);
        let server = serve(move |_| Action::Reply(wire.clone())).await;
        let client = Client::builder().max_body_bytes(1024).build().unwrap();
        let response = client.get(server.url("/")).send().await.unwrap();
        let err = response.bytes().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    });
}

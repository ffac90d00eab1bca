//! HTTP/1.1 on byte slices, both directions, free of I/O ("sans-IO", as
//! httparse and ureq-proto do it): the client's side (encoding a request
//! head, parsing a response head, deciding how the body is framed, decoding
//! Content-Length, chunked and close-delimited bodies) and the server's side
//! (finding and parsing a request head, encoding a response). Every path here
//! is tested with plain byte slices, and fuzzed (`fuzz/`).
//!
//! Not here: sockets, buffers that grow, timeouts, gzip (`conn.rs` and the
//! server's connection do the I/O, `response.rs` reads bodies and decodes
//! content), header semantics both sides share (`headers.rs`).

use std::fmt;

mod body;
mod head;
#[cfg(test)]
mod proptests;

#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use body::BodyKind;
pub(crate) use body::{encode_chunk, framing, BodyDecoder, LAST_CHUNK};
#[cfg(test)]
use body::{Decoded, Framing, MAX_CHUNK_LINE};
#[cfg(test)]
use head::STACK_FIELDS;
pub(crate) use head::{
    encode_request_head, encode_response, parse_request_head, parse_response_head, HeadScan,
    Present, Reject, ResponseHead,
};

/// A way in which the bytes from the server broke HTTP/1.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProtoError {
    /// The status line or a header line did not parse.
    Head(String),
    /// The head was not complete within `limit` bytes.
    HeadTooLarge { limit: usize },
    /// More header (or trailer) fields than a `HeaderMap` can hold
    /// (24,576), however few bytes they took.
    TooManyFields,
    /// A `Content-Length` that is not a number, or several that disagree.
    ContentLength,
    /// A chunk-size line that is not hex digits (plus extensions), or too long.
    ChunkSize,
    /// Chunk data not followed by CRLF.
    ChunkTerminator,
    /// Trailer fields that did not parse, or were over the header limit.
    Trailers,
    /// The trailers were over the header limit.
    TrailersTooLarge { limit: usize },
    /// The connection ended before the body did.
    Truncated,
}

impl ProtoError {
    /// Whether this is a size limit (rather than a syntax error).
    pub(crate) fn is_too_large(&self) -> bool {
        matches!(
            self,
            ProtoError::HeadTooLarge { .. }
                | ProtoError::TrailersTooLarge { .. }
                | ProtoError::TooManyFields
        )
    }
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtoError::Head(e) => write!(f, "invalid response head: {e}"),
            ProtoError::HeadTooLarge { limit } => {
                write!(f, "response head over the {limit}-byte limit")
            }
            ProtoError::TooManyFields => f.write_str("more header fields than a HeaderMap holds"),
            ProtoError::ContentLength => f.write_str("invalid Content-Length"),
            ProtoError::ChunkSize => f.write_str("invalid chunk size line"),
            ProtoError::ChunkTerminator => f.write_str("chunk data not followed by CRLF"),
            ProtoError::Trailers => f.write_str("invalid chunked trailers"),
            ProtoError::TrailersTooLarge { limit } => {
                write!(f, "chunked trailers over the {limit}-byte limit")
            }
            ProtoError::Truncated => f.write_str("connection closed before the end of the body"),
        }
    }
}

impl std::error::Error for ProtoError {}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{HeaderMap, HeaderValue};
    use http::{Method, StatusCode, Version};
    use url::Url;

    fn head(bytes: &[u8]) -> ResponseHead {
        parse_response_head(bytes, 64 * 1024).unwrap().unwrap().0
    }

    /// Decodes all of `input`, offered `step` bytes more at a time, as a socket would.
    fn decode_all(kind: BodyKind, input: &[u8], step: usize) -> Result<Vec<u8>, ProtoError> {
        let mut decoder = BodyDecoder::new(kind, 1024);
        let mut out = Vec::new();
        let mut buffered: Vec<u8> = Vec::new();
        let mut offered = 0;
        loop {
            let d = decoder.decode(&buffered)?;
            out.extend_from_slice(d.data);
            let (consumed, progress) = (d.consumed, d.consumed > 0 || !d.data.is_empty());
            buffered.drain(..consumed);
            if decoder.is_done() {
                return Ok(out);
            }
            if !progress {
                if offered == input.len() {
                    decoder.end_of_input()?;
                    return Ok(out);
                }
                let end = (offered + step).min(input.len());
                buffered.extend_from_slice(&input[offered..end]);
                offered = end;
            }
        }
    }

    #[test]
    fn request_head_has_target_host_and_headers() {
        let url = Url::parse("http://example.com:8080/a/b?x=1&y=2").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("accept", HeaderValue::from_static("*/*"));
        let mut out = Vec::new();
        encode_request_head(&Method::GET, &url, &headers, &mut out);
        assert_eq!(
            out,
            b"GET /a/b?x=1&y=2 HTTP/1.1\r\nhost: example.com:8080\r\naccept: */*\r\n\r\n"
        );
    }

    #[test]
    fn host_field_has_any_port_that_is_not_the_default() {
        for port in [1, 9, 10, 80, 443, 8080, 65535] {
            let url = Url::parse(&format!("http://h:{port}/")).unwrap();
            let mut out = Vec::new();
            encode_request_head(&Method::GET, &url, &HeaderMap::new(), &mut out);
            let host = match port {
                80 => "h".to_owned(),
                _ => format!("h:{port}"),
            };
            let expected = format!("GET / HTTP/1.1\r\nhost: {host}\r\n\r\n");
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }

    #[test]
    fn request_head_omits_default_port_and_brackets_ipv6() {
        let mut out = Vec::new();
        let url = Url::parse("https://[::1]:443/").unwrap();
        encode_request_head(&Method::HEAD, &url, &HeaderMap::new(), &mut out);
        assert_eq!(out, b"HEAD / HTTP/1.1\r\nhost: [::1]\r\n\r\n");
    }

    #[test]
    fn response_head_parses_status_version_and_headers() {
        let bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2\r\n\r\nhello";
        let (head, len) = parse_response_head(bytes, 1024).unwrap().unwrap();
        assert_eq!(len, bytes.len() - 5);
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(head.version, Version::HTTP_11);
        assert_eq!(head.headers.get_all("x-a").iter().count(), 2);
    }

    #[test]
    fn response_head_with_more_fields_than_the_stack_room_keeps_them_all_in_order() {
        let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..3 * STACK_FIELDS {
            bytes.extend_from_slice(format!("x-f: {i}\r\nx-{i}:\r\n").as_bytes());
        }
        bytes.extend_from_slice(b"\r\nbody");
        let (head, len) = parse_response_head(&bytes, 64 * 1024).unwrap().unwrap();
        assert_eq!(len, bytes.len() - 4);
        let values: Vec<_> = head.headers.get_all("x-f").iter().collect();
        assert_eq!(values.len(), 3 * STACK_FIELDS);
        assert!(values
            .iter()
            .enumerate()
            .all(|(i, v)| v.as_bytes() == i.to_string().as_bytes()));
        assert_eq!(head.headers["x-95"], "");
        assert_eq!(head.headers.len(), 6 * STACK_FIELDS);
    }

    #[test]
    fn partial_head_asks_for_more() {
        assert!(parse_response_head(b"HTTP/1.1 200 OK\r\nContent-Le", 1024)
            .unwrap()
            .is_none());
        assert!(parse_response_head(b"", 1024).unwrap().is_none());
    }

    #[test]
    fn bad_status_lines_are_errors() {
        for bad in [
            &b"HTTP/1.1 OK\r\n\r\n"[..],
            b"HTTP/2.0 200 OK\r\n\r\n",
            b"garbage\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 099 Low\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n",
        ] {
            let err = parse_response_head(bad, 1024).unwrap_err();
            assert!(matches!(err, ProtoError::Head(_)), "{bad:?} gave {err:?}");
        }
    }

    #[test]
    fn head_over_the_limit_is_too_large() {
        let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
        bytes.extend(std::iter::repeat_n(b"X-Filler: aaaaaaaaaa\r\n", 100).flatten());
        let err = parse_response_head(&bytes, 1000).unwrap_err();
        assert_eq!(err, ProtoError::HeadTooLarge { limit: 1000 });
        assert!(err.is_too_large());
        // The same head within its limit, with more fields than the first guess.
        bytes.extend_from_slice(b"\r\n");
        assert_eq!(head(&bytes).headers.len(), 100);
    }

    /// One past what a `HeaderMap` holds, each field as short as can be.
    const TOO_MANY_FIELDS: usize = 24_577;

    #[test]
    fn more_fields_than_a_header_map_holds_are_too_large_not_a_panic() {
        let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
        bytes.extend(std::iter::repeat_n(b"a:\r\n", TOO_MANY_FIELDS).flatten());
        bytes.extend_from_slice(b"\r\n");
        let err = parse_response_head(&bytes, bytes.len()).unwrap_err();
        assert_eq!(err, ProtoError::TooManyFields);
        assert!(err.is_too_large());

        // Repeats of one name share an entry: these need names of their own.
        let mut wire = b"0\r\n".to_vec();
        for i in 0..TOO_MANY_FIELDS {
            wire.extend_from_slice(format!("{i:x}:\r\n").as_bytes());
        }
        wire.extend_from_slice(b"\r\n");
        let mut decoder = BodyDecoder::new(BodyKind::Chunked, wire.len());
        let mut rest = &wire[..];
        let err = loop {
            match decoder.decode(rest) {
                Ok(d) if d.consumed > 0 => rest = &rest[d.consumed..],
                Ok(d) => panic!("stalled with {} bytes left: {d:?}", rest.len()),
                Err(e) => break e,
            }
        };
        assert_eq!(err, ProtoError::TooManyFields);
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let get = Method::GET;
        let f = |bytes: &[u8], method: &Method| framing(method, &head(bytes));
        assert_eq!(
            f(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", &get).unwrap(),
            Framing {
                kind: BodyKind::Length(10),
                keep_alive: true
            }
        );
        assert_eq!(
            f(
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
                &Method::HEAD
            )
            .unwrap()
            .kind,
            BodyKind::Empty
        );
        for status in ["204 No Content", "304 Not Modified", "100 Continue"] {
            let bytes = format!("HTTP/1.1 {status}\r\nContent-Length: 10\r\n\r\n");
            assert_eq!(f(bytes.as_bytes(), &get).unwrap().kind, BodyKind::Empty);
        }
        assert_eq!(
            f(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                &get
            )
            .unwrap(),
            Framing {
                kind: BodyKind::Chunked,
                keep_alive: true
            }
        );
        assert_eq!(
            f(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
                &get
            )
            .unwrap(),
            Framing {
                kind: BodyKind::Chunked,
                keep_alive: false
            }
        );
        assert_eq!(
            f(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", &get).unwrap(),
            Framing {
                kind: BodyKind::CloseDelimited,
                keep_alive: false
            }
        );
        assert_eq!(
            f(b"HTTP/1.1 200 OK\r\n\r\n", &get).unwrap(),
            Framing {
                kind: BodyKind::CloseDelimited,
                keep_alive: false
            }
        );
        assert!(
            !f(
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n",
                &get
            )
            .unwrap()
            .keep_alive
        );
        assert!(
            !f(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", &get)
                .unwrap()
                .keep_alive
        );
        assert!(
            f(
                b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n",
                &get
            )
            .unwrap()
            .keep_alive
        );
    }

    #[test]
    fn content_length_must_be_one_number() {
        let f = |bytes: &[u8]| framing(&Method::GET, &head(bytes));
        assert_eq!(
            f(b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\n")
                .unwrap()
                .kind,
            BodyKind::Length(3)
        );
        for bad in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        ] {
            assert_eq!(f(bad).unwrap_err(), ProtoError::ContentLength, "{bad:?}");
        }
    }

    #[test]
    fn content_length_body_stops_at_its_length() {
        for step in [1, 3, 100] {
            let out = decode_all(BodyKind::Length(5), b"helloEXTRA", step).unwrap();
            assert_eq!(out, b"hello");
        }
    }

    #[test]
    fn content_length_body_cut_short_is_truncated() {
        assert_eq!(
            decode_all(BodyKind::Length(10), b"hello", 2),
            Err(ProtoError::Truncated)
        );
    }

    #[test]
    fn close_delimited_body_ends_at_eof() {
        assert_eq!(
            decode_all(BodyKind::CloseDelimited, b"all of it", 4).unwrap(),
            b"all of it"
        );
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers() {
        let wire = b"5;name=value\r\nhello\r\n7 \r\n, world\r\n0\r\nX-Sum: 12\r\nX-B: 2\r\n\r\n";
        for step in [1, 2, 5, 1000] {
            let mut decoder = BodyDecoder::new(BodyKind::Chunked, 1024);
            let out = decode_all(BodyKind::Chunked, wire, step).unwrap();
            assert_eq!(out, b"hello, world", "step {step}");
            let d = decoder.decode(wire).unwrap();
            assert_eq!(d.data, b"hello");
            let mut rest = &wire[d.consumed..];
            while !decoder.is_done() {
                let d = decoder.decode(rest).unwrap();
                rest = &rest[d.consumed..];
            }
            assert!(rest.is_empty());
            let trailers = decoder.take_trailers().unwrap();
            assert_eq!(trailers.get("x-sum").unwrap(), "12");
            assert_eq!(trailers.len(), 2);
        }
    }

    #[test]
    fn chunked_body_accepts_bare_lf() {
        assert_eq!(
            decode_all(BodyKind::Chunked, b"3\nabc\n0\n\n", 1).unwrap(),
            b"abc"
        );
    }

    #[test]
    fn invalid_chunk_sizes_are_errors() {
        for bad in [
            &b"zz\r\nabc\r\n0\r\n\r\n"[..],
            b"\r\nabc\r\n0\r\n\r\n",
            b"-3\r\nabc\r\n0\r\n\r\n",
            b"3x\r\nabc\r\n0\r\n\r\n",
            b"11111111111111111\r\n",
            b"3\r\r\nabc\r\n0\r\n\r\n",
        ] {
            assert_eq!(
                decode_all(BodyKind::Chunked, bad, 3),
                Err(ProtoError::ChunkSize),
                "{bad:?}"
            );
        }
        let endless = vec![b'1'; MAX_CHUNK_LINE + 1];
        assert_eq!(
            decode_all(BodyKind::Chunked, &endless, 512),
            Err(ProtoError::ChunkSize)
        );
    }

    #[test]
    fn chunk_without_crlf_after_data_is_an_error() {
        assert_eq!(
            decode_all(BodyKind::Chunked, b"3\r\nabcd\r\n0\r\n\r\n", 100),
            Err(ProtoError::ChunkTerminator)
        );
    }

    #[test]
    fn unfinished_chunked_body_is_truncated() {
        assert_eq!(
            decode_all(BodyKind::Chunked, b"5\r\nhel", 2),
            Err(ProtoError::Truncated)
        );
        assert_eq!(
            decode_all(BodyKind::Chunked, b"5\r\nhello\r\n0\r\n", 2),
            Err(ProtoError::Truncated)
        );
    }

    #[test]
    fn trailers_over_the_limit_or_invalid_are_errors() {
        let mut wire = b"0\r\n".to_vec();
        wire.extend(std::iter::repeat_n(b"X-T: 0123456789\r\n", 100).flatten());
        wire.extend_from_slice(b"\r\n");
        assert_eq!(
            decode_all(BodyKind::Chunked, &wire, 50),
            Err(ProtoError::TrailersTooLarge { limit: 1024 })
        );
        assert_eq!(
            decode_all(BodyKind::Chunked, b"0\r\nnot a field\r\n\r\n", 50),
            Err(ProtoError::Trailers)
        );
    }

    /// Random bytes, and random mutations of valid responses, through every
    /// parser: errors are fine, panics and endless loops are not.
    #[test]
    fn parsers_never_panic_on_arbitrary_bytes() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let valid: &[&[u8]] = &[
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n",
            b"HTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\n\r\nrest",
        ];
        for round in 0..20_000 {
            let mut input: Vec<u8> = if round % 2 == 0 {
                (0..next() % 200).map(|_| next() as u8).collect()
            } else {
                valid[round % valid.len()].to_vec()
            };
            for _ in 0..next() % 4 {
                if !input.is_empty() {
                    let i = (next() as usize) % input.len();
                    input[i] = next() as u8;
                }
            }
            let framing = match parse_response_head(&input, 256) {
                Ok(Some((head, len))) => framing(&Method::GET, &head).ok().map(|f| (f, len)),
                _ => None,
            };
            let (kind, body) = match framing {
                Some((f, len)) => (f.kind, &input[len..]),
                None => (BodyKind::Chunked, &input[..]),
            };
            let _ = decode_all(kind, body, 1 + (next() % 7) as usize);
        }
    }

    #[test]
    fn empty_body_is_done_at_once() {
        let mut decoder = BodyDecoder::new(BodyKind::Empty, 10);
        assert!(decoder.is_done());
        assert_eq!(
            decoder.decode(b"next response").unwrap(),
            Decoded {
                consumed: 0,
                data: b""
            }
        );
    }
}

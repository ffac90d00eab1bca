//! Property tests: what the codec encodes, it decodes to the same thing,
//! however the bytes are split across reads. Request heads (the client's
//! encoder, the server's parser behind its head scan), response heads (the
//! server's encoder, the client's parser and framing) and chunked bodies
//! (the upload's chunk encoder, the client's body decoder), each fed in two
//! pieces split at every index and in random multi-piece splits.
//!
//! Header values have no space or tab at either end: HTTP's optional
//! whitespace around a value is not part of it (RFC 9110, 5.5), so the
//! parsers drop it, as they must.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};
use proptest::prelude::*;
use url::Url;

use super::{
    encode_chunk, encode_request_head, encode_response, framing, parse_request_head,
    parse_response_head, BodyDecoder, BodyKind, HeadScan, LAST_CHUNK,
};

/// Cases per property: enough to vary the heads and splits, while the
/// every-index splits keep each case at hundreds of parses (the whole file
/// runs in about a second in a debug build).
const CASES: u32 = 40;

/// Fields the codec itself reads or writes, left to its own tests.
const OWN: [&str; 7] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "expect",
    "date",
    "keep-alive",
];

fn fields() -> impl Strategy<Value = Vec<(HeaderName, HeaderValue)>> {
    let name = "[a-z][a-z0-9!#$%&'*+.^_`|~-]{0,15}"
        .prop_filter("a field the codec owns", |n| !OWN.contains(&n.as_str()));
    // Visible ASCII (and obs-text), with spaces and tabs inside only.
    let value = proptest::collection::vec(
        prop_oneof![0x21u8..=0x7e, 0x80u8..=0xff, Just(b' '), Just(b'\t')],
        0..24,
    )
    .prop_map(|mut v| {
        while v.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            v.remove(0);
        }
        while v.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
            v.pop();
        }
        v
    });
    proptest::collection::vec((name, value), 0..8).prop_map(|fields| {
        fields
            .into_iter()
            .map(|(n, v)| {
                (
                    HeaderName::from_bytes(n.as_bytes()).unwrap(),
                    HeaderValue::from_bytes(&v).unwrap(),
                )
            })
            .collect()
    })
}

fn header_map(fields: &[(HeaderName, HeaderValue)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in fields {
        map.append(name.clone(), value.clone());
    }
    map
}

/// `bytes` cut at each of `cuts` (sorted, deduplicated, within range).
fn pieces(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    let mut at = 0;
    for cut in cuts.into_iter().chain([bytes.len()]) {
        out.push(bytes[at..cut].to_vec());
        at = cut;
    }
    out
}

/// Every way to feed `bytes`: two pieces split at each index, and the
/// random multi-piece split `cuts`.
fn splits(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<Vec<u8>>> {
    let mut all: Vec<Vec<Vec<u8>>> = (0..=bytes.len())
        .map(|i| vec![bytes[..i].to_vec(), bytes[i..].to_vec()])
        .collect();
    all.push(pieces(bytes, cuts));
    all
}

/// The server's way to read a request head: scan each read for a possible
/// end, parse only then. The head and where it ended.
fn read_request_head(reads: &[Vec<u8>]) -> (http::Request<()>, usize) {
    let mut buf = Vec::new();
    let mut scan = HeadScan::default();
    for read in reads {
        buf.extend_from_slice(read);
        while scan.advance(&buf) {
            if let Some(head) =
                parse_request_head(&buf, 64 * 1024).expect("a head the client encoded")
            {
                return (head.request, head.len);
            }
        }
        assert!(
            parse_request_head(&buf, 64 * 1024).unwrap().is_none(),
            "the scan missed a complete head"
        );
    }
    panic!("the head never completed");
}

/// The client's way to read a response head: parse after each read.
fn read_response_head(reads: &[Vec<u8>]) -> (super::ResponseHead, usize, Vec<u8>) {
    let mut buf = Vec::new();
    for read in reads {
        buf.extend_from_slice(read);
        if let Some((head, len)) = parse_response_head(&buf, 64 * 1024).expect("a valid head") {
            return (head, len, buf);
        }
    }
    panic!("the head never completed");
}

/// The client's way to read a body: decode what is buffered after each
/// read, keeping what the decoder leaves. The data, and the bytes left.
fn read_body(mut decoder: BodyDecoder, reads: &[Vec<u8>]) -> (Vec<u8>, usize) {
    let (mut buf, mut data) = (Vec::new(), Vec::new());
    for read in reads {
        buf.extend_from_slice(read);
        loop {
            let decoded = decoder.decode(&buf).expect("a body the codec encoded");
            data.extend_from_slice(decoded.data);
            let used = decoded.consumed;
            buf.drain(..used);
            if decoder.is_done() {
                return (data, buf.len());
            }
            if used == 0 {
                break;
            }
        }
    }
    panic!("the body never completed ({} bytes of data)", data.len());
}

proptest! {
    // No regression files: a failure prints its minimal case, which
    // becomes a plain unit test beside the codec's others.
    #![proptest_config(ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn request_heads_round_trip_however_split(
        method in prop_oneof![
            Just(Method::GET), Just(Method::POST), Just(Method::PUT), Just(Method::DELETE),
            Just(Method::PATCH), Just(Method::OPTIONS), Just(Method::HEAD),
            "[A-Z][A-Z_-]{0,9}".prop_map(|m| Method::from_bytes(m.as_bytes()).unwrap()),
        ],
        host in prop_oneof![
            "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){0,2}",
            Just("127.0.0.1".to_owned()),
            Just("[::1]".to_owned()),
        ],
        port in proptest::option::of(1u16..),
        path in "(/[a-zA-Z0-9._~!$&'()*+,;=:@%-]{0,12}){0,4}",
        query in proptest::option::of("[a-zA-Z0-9._~!$&'()*+,;=:@/?%-]{0,16}"),
        fields in fields(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut text = format!("http://{host}");
        if let Some(port) = port {
            text.push_str(&format!(":{port}"));
        }
        text.push_str(&path);
        if let Some(query) = &query {
            text.push('?');
            text.push_str(query);
        }
        let url = Url::parse(&text).unwrap();
        let headers = header_map(&fields);
        let mut wire = Vec::new();
        encode_request_head(&method, &url, &headers, &mut wire);
        let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
        for reads in splits(&wire, &cuts) {
            let (request, len) = read_request_head(&reads);
            prop_assert_eq!(len, wire.len());
            prop_assert_eq!(request.method(), &method);
            prop_assert_eq!(request.uri().to_string(), target);
            prop_assert_eq!(request.version(), Version::HTTP_11);
            let mut got = request.headers().clone();
            let host_field = got.remove(http::header::HOST).unwrap();
            prop_assert_eq!(host_field.to_str().unwrap(), url[url::Position::BeforeHost..url::Position::BeforePath].to_owned());
            prop_assert_eq!(&got, &headers);
        }
    }

    #[test]
    fn response_heads_and_bodies_round_trip_however_split(
        status in 200u16..600,
        http10 in any::<bool>(),
        close in any::<bool>(),
        fields in fields(),
        body in proptest::collection::vec(any::<u8>(), 0..48),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let status = StatusCode::from_u16(status).unwrap();
        let mut response = http::Response::new(body.clone());
        *response.status_mut() = status;
        *response.headers_mut() = header_map(&fields);
        let version = if http10 { Version::HTTP_10 } else { Version::HTTP_11 };
        let wire = encode_response(&response, version, false, close);
        let bodyless = status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;
        for reads in splits(&wire, &cuts) {
            let (head, len, buf) = read_response_head(&reads);
            prop_assert_eq!(head.status, status);
            prop_assert_eq!(head.version, Version::HTTP_11);
            let mut got = head.headers.clone();
            for own in ["date", "content-length", "connection"] {
                got.remove(own);
            }
            prop_assert_eq!(&got, response.headers());
            let framing = framing(&Method::GET, &head).unwrap();
            prop_assert_eq!(framing.keep_alive, !close);
            if bodyless {
                prop_assert_eq!(framing.kind, BodyKind::Empty);
                prop_assert_eq!(len, wire.len());
                continue;
            }
            prop_assert_eq!(framing.kind, BodyKind::Length(body.len() as u64));
            // The body as the rest of the reads bring it: the bytes after
            // the head in the read that completed it, then the later ones.
            let done_at = reads
                .iter()
                .scan(0, |total, r| { *total += r.len(); Some(*total) })
                .position(|total| total == buf.len())
                .unwrap();
            let mut body_reads = vec![buf[len..].to_vec()];
            body_reads.extend(reads[done_at + 1..].iter().cloned());
            let (data, left) = read_body(BodyDecoder::new(framing.kind, 1024), &body_reads);
            prop_assert_eq!(&data, &body);
            prop_assert_eq!(left, 0);
        }
    }

    #[test]
    fn chunked_bodies_round_trip_however_split(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..6),
        after in proptest::collection::vec(any::<u8>(), 0..4),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut wire = Vec::new();
        for chunk in &chunks {
            encode_chunk(chunk, &mut wire);
        }
        wire.extend_from_slice(LAST_CHUNK);
        let body_len = wire.len();
        // Bytes of the next response may follow in the same reads.
        wire.extend_from_slice(&after);
        let expected = chunks.concat();
        for reads in splits(&wire, &cuts) {
            let mut decoder = BodyDecoder::new(BodyKind::Chunked, 1024);
            // Only the body's bytes count: feed up to its end, then see
            // that the decoder stopped there.
            let (data, left) = read_body_upto(&mut decoder, &reads);
            prop_assert_eq!(&data, &expected);
            prop_assert_eq!(left, wire.len() - body_len);
            prop_assert_eq!(decoder.take_trailers().map(|t| t.len()), Some(0));
        }
    }
}

/// [`read_body`] that keeps the decoder (for its trailers).
fn read_body_upto(decoder: &mut BodyDecoder, reads: &[Vec<u8>]) -> (Vec<u8>, usize) {
    let (mut buf, mut data) = (Vec::new(), Vec::new());
    let mut fed = 0;
    for read in reads {
        buf.extend_from_slice(read);
        fed += read.len();
        loop {
            let decoded = decoder.decode(&buf).expect("a body the codec encoded");
            data.extend_from_slice(decoded.data);
            let used = decoded.consumed;
            buf.drain(..used);
            if decoder.is_done() {
                // What the decoder left of this read, plus the reads after.
                let total: usize = reads.iter().map(Vec::len).sum();
                return (data, buf.len() + total - fed);
            }
            if used == 0 {
                break;
            }
        }
    }
    panic!("the body never completed ({} bytes of data)", data.len());
}

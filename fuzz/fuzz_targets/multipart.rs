//! Multipart bodies: a form built through the public API, encoded as the
//! client sends it, parsed back by `multer` (a parser the client shares no
//! code with), and compared part by part.
//!
//! Input: records, each a flags byte (bit 0: a file name, bit 1: a content
//! type), then for the name, the file name and the type a length byte and
//! that many bytes (read as UTF-8, lossily), then two bytes of length and
//! the data. Invariants: encoding fails only for a content type with a
//! control character; otherwise the parser finds every part, in order, with
//! its name and file name as the HTML standard encodes them (`"`, CR and LF
//! as %22, %0D, %0A; the other control characters but tab likewise), its content type (or `application/octet-stream` for a
//! file), and its data byte for byte.
//!
//! Names and file names hold no backslash and no `name`: multer reads `\"`
//! as an escaped quote and finds `filename=` inside a quoted name, while the
//! HTML standard (which browsers and the client follow) escapes neither.
#![no_main]

use std::pin::pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use ferrio_http::fuzzing::multipart_body;
use ferrio_http::multipart::{Form, Part};
use libfuzzer_sys::fuzz_target;

struct Spec {
    name: String,
    file_name: Option<String>,
    mime: Option<String>,
    data: Vec<u8>,
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if input.len() < n {
        return None;
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Some(head)
}

fn text(input: &mut &[u8]) -> Option<String> {
    let len = usize::from(*take(input, 1)?.first()?);
    Some(String::from_utf8_lossy(take(input, len)?).into_owned())
}

fn specs(mut input: &[u8]) -> Option<Vec<Spec>> {
    let mut specs = Vec::new();
    while !input.is_empty() {
        let flags = take(&mut input, 1)?[0];
        let name = text(&mut input)?;
        let file_name = text(&mut input)?;
        let mime = text(&mut input)?;
        let len = take(&mut input, 2)?;
        let len = usize::from(u16::from_le_bytes([len[0], len[1]]));
        let len = len.min(input.len());
        let data = take(&mut input, len)?.to_vec();
        specs.push(Spec {
            name,
            file_name: (flags & 1 == 1).then_some(file_name),
            mime: (flags & 2 == 2).then_some(mime),
            data,
        });
    }
    Some(specs)
}

/// The HTML standard's `"`, CR and LF as %22, %0D and %0A, and the other
/// control characters but tab likewise (multipart.rs).
fn escape(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '"' => "%22".to_owned(),
            '\t' => c.to_string(),
            c if c.is_ascii_control() => format!("%{:02X}", c as u8),
            c => c.to_string(),
        })
        .collect()
}

/// Runs a future that never waits (multer over a stream that is all ready).
fn ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the parser waits on a stream that is all there"),
    }
}

fuzz_target!(|input: &[u8]| {
    let Some(specs) = specs(input) else {
        return;
    };
    let awkward = |s: &str| s.contains('\\') || s.contains("name");
    if specs
        .iter()
        .any(|s| awkward(&s.name) || s.file_name.as_deref().is_some_and(awkward))
    {
        return;
    }
    let mut form = Form::new();
    for spec in &specs {
        let mut part = Part::bytes(spec.data.clone());
        if let Some(file_name) = &spec.file_name {
            part = part.file_name(file_name.clone());
        }
        if let Some(mime) = &spec.mime {
            part = part.mime(mime.clone());
        }
        form = form.part(spec.name.clone(), part);
    }
    let bad_mime = specs.iter().any(|s| {
        s.mime
            .as_deref()
            .is_some_and(|m| m.bytes().any(|b| b.is_ascii_control()))
    });
    let (body, content_type) = match multipart_body(&form) {
        Ok(encoded) => encoded,
        Err(e) => {
            assert!(bad_mime, "encoding failed: {e}");
            return;
        }
    };
    assert!(
        !bad_mime,
        "a content type with a control character was sent"
    );
    let boundary = multer::parse_boundary(&content_type).expect("a boundary");
    // The body in pieces of 1 to 64 bytes, as reads would bring it.
    let step = 1 + body.len() % 64;
    let chunks: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(step)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let mut multipart = multer::Multipart::new(futures_util::stream::iter(chunks), boundary);
    for (i, spec) in specs.iter().enumerate() {
        let field = ready(multipart.next_field())
            .unwrap_or_else(|e| panic!("part {i}: {e}"))
            .unwrap_or_else(|| panic!("part {i} missing"));
        assert_eq!(
            field.name(),
            Some(escape(&spec.name).as_str()),
            "part {i}'s name"
        );
        assert_eq!(
            field.file_name().map(str::to_owned),
            spec.file_name.as_deref().map(escape),
            "part {i}'s file name"
        );
        let expected_type = match (&spec.mime, &spec.file_name) {
            (Some(mime), _) => Some(mime.trim_matches([' ', '\t']).as_bytes().to_vec()),
            (None, Some(_)) => Some(b"application/octet-stream".to_vec()),
            (None, None) => None,
        };
        let sent_type = field
            .headers()
            .get(http::header::CONTENT_TYPE)
            .map(|v| v.as_bytes().to_vec());
        assert_eq!(sent_type, expected_type, "part {i}'s content type");
        let data = ready(field.bytes()).unwrap_or_else(|e| panic!("part {i}'s data: {e}"));
        assert!(data == spec.data, "part {i}'s data differs");
    }
    assert!(
        ready(multipart.next_field()).unwrap().is_none(),
        "a part too many"
    );
});

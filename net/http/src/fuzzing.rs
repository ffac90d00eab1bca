//! The crate's sans-IO parsers, opened to the fuzz targets in `fuzz/` (and
//! to nothing else): compiled only with the `fuzzing` feature, hidden from
//! the docs, and no part of the API. Each function is a thin wrapper that
//! takes and returns plain bytes, strings and numbers, so that the parsers'
//! own types stay private.
//!
//! Not here: any invariant the targets check; they live in `fuzz/`.

use http::{HeaderValue, Method};
use url::Url;

use super::codec;

/// Parses a response head with a header cap of `max_bytes`, then decides its
/// framing for a GET: `Ok(Some(n))` for a head of `n` bytes with a usable
/// framing, `Ok(None)` when more bytes are needed, `Err` with the reason.
pub fn response_head(buf: &[u8], max_bytes: usize) -> Result<Option<usize>, String> {
    match codec::parse_response_head(buf, max_bytes) {
        Ok(Some((head, len))) => codec::framing(&Method::GET, &head)
            .map(|_| Some(len))
            .map_err(|e| e.to_string()),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// How a body is delimited, for [`BodyDecoder::new`].
#[derive(Debug, Clone, Copy)]
pub enum Framing {
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes.
    Close,
}

/// The response body decoder.
#[derive(Debug)]
pub struct BodyDecoder(codec::BodyDecoder);

impl BodyDecoder {
    /// A decoder for a body framed as `framing`, accepting up to
    /// `max_trailer_bytes` of chunked trailers.
    pub fn new(framing: Framing, max_trailer_bytes: usize) -> BodyDecoder {
        let kind = match framing {
            Framing::Length(n) => codec::BodyKind::Length(n),
            Framing::Chunked => codec::BodyKind::Chunked,
            Framing::Close => codec::BodyKind::CloseDelimited,
        };
        BodyDecoder(codec::BodyDecoder::new(kind, max_trailer_bytes))
    }

    /// Decodes from `input`: how many bytes it used up, and the body data
    /// (a part of those bytes).
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<(usize, &'a [u8]), String> {
        self.0
            .decode(input)
            .map(|d| (d.consumed, d.data))
            .map_err(|e| e.to_string())
    }

    /// Whether the whole body was decoded.
    pub fn is_done(&self) -> bool {
        self.0.is_done()
    }

    /// The input ended: fine only for a body that is done or ends at a close.
    pub fn end_of_input(&mut self) -> Result<(), String> {
        self.0.end_of_input().map_err(|e| e.to_string())
    }

    /// How many trailer fields a chunked body ended with.
    pub fn trailer_count(&mut self) -> Option<usize> {
        self.0.take_trailers().map(|t| t.len())
    }
}

/// Parses a request head as the server does: `Ok(Some(n))` for a head of
/// `n` bytes, `Ok(None)` when more are needed, `Err` with the status it
/// would be answered with.
pub fn request_head(buf: &[u8], max_bytes: usize) -> Result<Option<usize>, u16> {
    match codec::parse_request_head(buf, max_bytes) {
        Ok(Some(head)) => Ok(Some(head.len)),
        Ok(None) => Ok(None),
        Err(reject) => Err(reject.status.as_u16()),
    }
}

/// Where a redirect from `base` with `Location: location` goes, as the
/// client decides it; `None` for a redirect the client refuses (or a
/// `location` that is no header value, or a `base` that is no URL).
pub fn redirect(base: &str, location: &[u8]) -> Option<String> {
    let base = Url::parse(base).ok()?;
    let location = HeaderValue::from_bytes(location).ok()?;
    super::client::redirect_target(&base, &location)
        .ok()
        .map(String::from)
}

/// The request head the client would send for a GET of `url` (which must
/// parse) with no header fields of its own.
pub fn get_request_head(url: &str) -> Option<Vec<u8>> {
    let url = Url::parse(url).ok()?;
    let mut out = Vec::new();
    codec::encode_request_head(&Method::GET, &url, &http::HeaderMap::new(), &mut out);
    Some(out)
}

//! Decompression of response bodies by their Content-Encoding: gzip, and
//! (each behind its default-on cargo feature) deflate, brotli (`br`) and
//! zstd. Each decodes a bounded step at a time, so that a small body that
//! inflates to gigabytes (a "bomb") is stopped by `max_body_bytes` having
//! decoded at most one step past it, whatever the coding.
//!
//! Not here: the transfer framing (Content-Length, chunked; `codec/`'s
//! `BodyDecoder`), reading from the connection and the body cap itself
//! (`response.rs`).

use std::io::Write;

use bytes::{Buf, Bytes};
use http::header::{HeaderMap, HeaderValue, CONTENT_ENCODING};

use super::error::{Error, ErrorKind};

/// How many decoded bytes one step may produce before the client looks at
/// them. [`Response::chunk`](super::Response::chunk) returns one step's
/// output and [`Response::bytes`](super::Response::bytes) checks
/// `max_body_bytes` after each. For gzip and deflate a step can overshoot this
/// by one write's output: flate2 inflates into its own 32 KiB buffer, which
/// reaches ours at the next write, so a step is under 64 KiB; brotli and zstd
/// decode into a buffer of exactly this size.
pub(crate) const STEP: usize = 32 * 1024;

/// The `Accept-Encoding` the client sends by default: every coding compiled
/// in, such as `gzip, deflate, br, zstd`.
pub(crate) fn accept_encoding() -> HeaderValue {
    let codings = [
        ("gzip", true),
        ("deflate", cfg!(feature = "deflate")),
        ("br", cfg!(feature = "brotli")),
        ("zstd", cfg!(feature = "zstd")),
    ];
    let list: Vec<&str> = codings
        .iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| *name)
        .collect();
    HeaderValue::from_str(&list.join(", ")).expect("coding names are tokens")
}

/// The one coding of a body, if it is one this client decodes (and the only
/// one applied; `identity` does not count).
fn coding_of(headers: &HeaderMap) -> Option<Coding> {
    let mut codings = headers
        .get_all(CONTENT_ENCODING)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"));
    let (Some(coding), None) = (codings.next(), codings.next()) else {
        return None;
    };
    let is = |name: &str| coding.eq_ignore_ascii_case(name);
    if is("gzip") || is("x-gzip") {
        return Some(Coding::Gzip);
    }
    #[cfg(feature = "deflate")]
    if is("deflate") {
        return Some(Coding::Deflate);
    }
    #[cfg(feature = "brotli")]
    if is("br") {
        return Some(Coding::Brotli);
    }
    #[cfg(feature = "zstd")]
    if is("zstd") {
        return Some(Coding::Zstd);
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Gzip,
    #[cfg(feature = "deflate")]
    Deflate,
    #[cfg(feature = "brotli")]
    Brotli,
    #[cfg(feature = "zstd")]
    Zstd,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            #[cfg(feature = "deflate")]
            Coding::Deflate => "deflate",
            #[cfg(feature = "brotli")]
            Coding::Brotli => "brotli",
            #[cfg(feature = "zstd")]
            Coding::Zstd => "zstd",
        }
    }
}

/// A body being decoded, one bounded step at a time: [`feed`](Decompressor::feed)
/// a piece of the encoded body, [`step`](Decompressor::step) until it gives
/// `None`, feed the next; [`finish`](Decompressor::finish) at the end.
pub(crate) struct Decompressor {
    coding: Coding,
    state: State,
    /// Encoded bytes not yet given to the decoder: a piece is decoded over
    /// several steps when it inflates to more than one step's worth.
    pending: Bytes,
    /// Encoded bytes seen: an empty body is empty, not a broken stream.
    seen: u64,
}

// The flate2 decoders are the large variants (with `deflate` on, the enum is
// all large variants and clippy is quiet). A body's `Decompressor` is boxed in the
// response (response.rs), so the size costs nothing per response; boxing
// gzip's would cost an allocation.
#[allow(clippy::large_enum_variant)]
enum State {
    Gzip(flate2::write::GzDecoder<Vec<u8>>),
    /// `deflate` is zlib (RFC 9110), but some servers send raw deflate: the
    /// first two bytes say which, so the decoder is made once they are here.
    #[cfg(feature = "deflate")]
    DeflateUndecided,
    #[cfg(feature = "deflate")]
    Zlib(flate2::write::ZlibDecoder<Vec<u8>>),
    #[cfg(feature = "deflate")]
    RawDeflate(flate2::write::DeflateDecoder<Vec<u8>>),
    #[cfg(feature = "brotli")]
    Brotli {
        state: Box<brotli_decompressor::BrotliState<Brotli, Brotli, Brotli>>,
        /// The stream's end was decoded.
        done: bool,
    },
    #[cfg(feature = "zstd")]
    Zstd {
        /// Made at the first step, where making it can fail as a decode
        /// error of the body.
        decoder: Option<zstd::stream::raw::Decoder<'static>>,
        /// The last frame is complete and flushed (zstd's "0 to go" hint).
        done: bool,
    },
}

#[cfg(feature = "brotli")]
type Brotli = brotli_decompressor::StandardAlloc;

/// The largest zstd window accepted, as a power of two: 8 MiB, what RFC 8878
/// asks HTTP decoders to support, so a body cannot make the client allocate
/// the format's maximum.
#[cfg(feature = "zstd")]
const ZSTD_WINDOW_LOG_MAX: u32 = 23;

impl Decompressor {
    /// A decoder for the body described by `headers`, if it has one coding
    /// this client decodes.
    pub(crate) fn for_headers(headers: &HeaderMap) -> Option<Decompressor> {
        coding_of(headers).map(Decompressor::new)
    }

    fn new(coding: Coding) -> Decompressor {
        let state = match coding {
            Coding::Gzip => State::Gzip(flate2::write::GzDecoder::new(Vec::new())),
            #[cfg(feature = "deflate")]
            Coding::Deflate => State::DeflateUndecided,
            #[cfg(feature = "brotli")]
            Coding::Brotli => {
                let mut state = brotli_decompressor::BrotliState::new(
                    Brotli::default(),
                    Brotli::default(),
                    Brotli::default(),
                );
                // The standard window (at most 16 MiB), not the "large
                // window" extension's 1 GiB.
                state.large_window = false;
                State::Brotli {
                    state: Box::new(state),
                    done: false,
                }
            }
            #[cfg(feature = "zstd")]
            Coding::Zstd => State::Zstd {
                decoder: None,
                done: false,
            },
        };
        Decompressor {
            coding,
            state,
            pending: Bytes::new(),
            seen: 0,
        }
    }

    /// Takes a piece of the encoded body; [`step`](Decompressor::step) decodes it.
    pub(crate) fn feed(&mut self, data: Bytes) {
        self.seen += data.len() as u64;
        if self.pending.is_empty() {
            self.pending = data;
        } else {
            // Only raw deflate's first byte waits here for the second.
            let mut joined = Vec::with_capacity(self.pending.len() + data.len());
            joined.extend_from_slice(&self.pending);
            joined.extend_from_slice(&data);
            self.pending = joined.into();
        }
    }

    /// Decodes pending input until it is used up or about [`STEP`] bytes
    /// came out; returns them, or `None` once no more come out of the input
    /// given so far.
    pub(crate) fn step(&mut self) -> Result<Option<Bytes>, Error> {
        let coding = self.coding;
        let fail = |e| decode_error(coding, e);
        let out = match &mut self.state {
            State::Gzip(w) => flate_step(w, &mut self.pending).map_err(fail)?,
            #[cfg(feature = "deflate")]
            State::DeflateUndecided => {
                if self.pending.len() < 2 {
                    return Ok(None);
                }
                self.state = if is_zlib_header(&self.pending) {
                    State::Zlib(flate2::write::ZlibDecoder::new(Vec::new()))
                } else {
                    State::RawDeflate(flate2::write::DeflateDecoder::new(Vec::new()))
                };
                return self.step();
            }
            #[cfg(feature = "deflate")]
            State::Zlib(w) => flate_step(w, &mut self.pending).map_err(fail)?,
            #[cfg(feature = "deflate")]
            State::RawDeflate(w) => flate_step(w, &mut self.pending).map_err(fail)?,
            #[cfg(feature = "brotli")]
            State::Brotli { state, done } => {
                brotli_step(state, done, &mut self.pending).map_err(fail)?
            }
            #[cfg(feature = "zstd")]
            State::Zstd { decoder, done } => {
                zstd_step(decoder, done, &mut self.pending).map_err(fail)?
            }
        };
        Ok((!out.is_empty()).then(|| Bytes::from(out)))
    }

    /// The end of the body: the decoder's last output, after checking that
    /// the stream was complete (gzip's CRC and length, brotli's last block,
    /// zstd's last frame).
    pub(crate) fn finish(self) -> Result<Option<Bytes>, Error> {
        if self.seen == 0 {
            return Ok(None);
        }
        let coding = self.coding;
        #[cfg(any(feature = "deflate", feature = "brotli", feature = "zstd"))]
        let truncated = || {
            decode_error(
                coding,
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the stream is cut short"),
            )
        };
        let rest = match self.state {
            State::Gzip(w) => flate_finish(w),
            #[cfg(feature = "deflate")]
            State::DeflateUndecided => return Err(truncated()),
            #[cfg(feature = "deflate")]
            State::Zlib(w) => flate_finish(w),
            #[cfg(feature = "deflate")]
            State::RawDeflate(w) => flate_finish(w),
            #[cfg(feature = "brotli")]
            State::Brotli { done, .. } => {
                return if done { Ok(None) } else { Err(truncated()) };
            }
            #[cfg(feature = "zstd")]
            State::Zstd { done, .. } => {
                return if done { Ok(None) } else { Err(truncated()) };
            }
        }
        .map_err(|e| decode_error(coding, e))?;
        Ok((!rest.is_empty()).then(|| Bytes::from(rest)))
    }
}

/// The flate2 writers (gzip, zlib, raw deflate) decode into a `Vec`.
trait FlateWriter: Write {
    fn output(&mut self) -> &mut Vec<u8>;
    fn try_finish(&mut self) -> std::io::Result<()>;
}

macro_rules! flate_writer {
    ($($ty:ty),*) => {$(
        impl FlateWriter for $ty {
            fn output(&mut self) -> &mut Vec<u8> {
                self.get_mut()
            }
            fn try_finish(&mut self) -> std::io::Result<()> {
                <$ty>::try_finish(self)
            }
        }
    )*};
}

flate_writer!(flate2::write::GzDecoder<Vec<u8>>);
#[cfg(feature = "deflate")]
flate_writer!(
    flate2::write::ZlibDecoder<Vec<u8>>,
    flate2::write::DeflateDecoder<Vec<u8>>
);

fn flate_step(w: &mut impl FlateWriter, pending: &mut Bytes) -> std::io::Result<Vec<u8>> {
    while !pending.is_empty() && w.output().len() < STEP {
        // One write inflates into the decoder's own buffer (32 KiB), which
        // reaches our Vec at the next write.
        let n = w.write(pending)?;
        if n == 0 {
            // Input past the end of the stream.
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "bytes after the end of the stream",
            ));
        }
        pending.advance(n);
    }
    Ok(std::mem::take(w.output()))
}

fn flate_finish(mut w: impl FlateWriter) -> std::io::Result<Vec<u8>> {
    w.try_finish()?;
    Ok(std::mem::take(w.output()))
}

/// Whether `bytes` start with a zlib header (RFC 1950: deflate method, and
/// the first two bytes a multiple of 31).
#[cfg(feature = "deflate")]
fn is_zlib_header(bytes: &[u8]) -> bool {
    bytes[0] & 0x0f == 8 && (u16::from(bytes[0]) << 8 | u16::from(bytes[1])) % 31 == 0
}

#[cfg(feature = "brotli")]
fn brotli_step(
    state: &mut brotli_decompressor::BrotliState<Brotli, Brotli, Brotli>,
    done: &mut bool,
    pending: &mut Bytes,
) -> std::io::Result<Vec<u8>> {
    use brotli_decompressor::{BrotliDecompressStream, BrotliResult};
    if *done {
        return match pending.is_empty() {
            true => Ok(Vec::new()),
            false => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "bytes after the end of the stream",
            )),
        };
    }
    let mut out = vec![0; STEP];
    let (mut available_in, mut input_offset) = (pending.len(), 0);
    let (mut available_out, mut output_offset, mut total_out) = (out.len(), 0, 0);
    let result = BrotliDecompressStream(
        &mut available_in,
        &mut input_offset,
        pending,
        &mut available_out,
        &mut output_offset,
        &mut out,
        &mut total_out,
        state,
    );
    pending.advance(input_offset);
    out.truncate(output_offset);
    match result {
        BrotliResult::ResultFailure => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{:?}", state.error_code),
        )),
        BrotliResult::ResultSuccess => {
            *done = true;
            if !pending.is_empty() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "bytes after the end of the stream",
                ));
            }
            Ok(out)
        }
        // Out of input, or the step's buffer is full: the next step goes on.
        BrotliResult::NeedsMoreInput | BrotliResult::NeedsMoreOutput => Ok(out),
    }
}

#[cfg(feature = "zstd")]
fn zstd_step(
    decoder: &mut Option<zstd::stream::raw::Decoder<'static>>,
    done: &mut bool,
    pending: &mut Bytes,
) -> std::io::Result<Vec<u8>> {
    use zstd::stream::raw::{DParameter, Decoder, Operation};
    let decoder = match decoder {
        Some(decoder) => decoder,
        None => {
            let mut new = Decoder::new()?;
            new.set_parameter(DParameter::WindowLogMax(ZSTD_WINDOW_LOG_MAX))?;
            decoder.insert(new)
        }
    };
    let mut out = vec![0; STEP];
    let mut written = 0;
    // Until the buffer is full or a call makes no progress: with no input
    // left, a call still flushes what the decoder holds.
    while written < out.len() {
        let status = decoder.run_on_buffers(pending, &mut out[written..])?;
        pending.advance(status.bytes_read);
        written += status.bytes_written;
        if status.bytes_read == 0 && status.bytes_written == 0 {
            // Said nothing new (after a frame's end, it asks for the next
            // frame's header): `done` stands as the last progress left it.
            break;
        }
        *done = status.remaining == 0;
    }
    out.truncate(written);
    Ok(out)
}

fn decode_error(coding: Coding, e: std::io::Error) -> Error {
    Error::with_source(
        ErrorKind::BodyDecode,
        format!("invalid {}", coding.name()),
        e,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &'static str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.append(CONTENT_ENCODING, HeaderValue::from_static(value));
        map
    }

    #[test]
    fn one_known_coding_is_recognised_alone_only() {
        assert_eq!(coding_of(&headers("gzip")), Some(Coding::Gzip));
        assert_eq!(coding_of(&headers("X-GZIP")), Some(Coding::Gzip));
        assert_eq!(coding_of(&headers("identity, gzip")), Some(Coding::Gzip));
        assert_eq!(coding_of(&headers("gzip, br")), None);
        assert_eq!(coding_of(&headers("compress")), None);
        assert_eq!(coding_of(&HeaderMap::new()), None);
        #[cfg(feature = "brotli")]
        assert_eq!(coding_of(&headers("br")), Some(Coding::Brotli));
        #[cfg(feature = "zstd")]
        assert_eq!(coding_of(&headers("zstd")), Some(Coding::Zstd));
        #[cfg(feature = "deflate")]
        assert_eq!(coding_of(&headers("Deflate")), Some(Coding::Deflate));
    }

    #[test]
    fn accept_encoding_lists_the_compiled_codings() {
        let list = accept_encoding();
        let list = list.to_str().unwrap();
        assert!(list.starts_with("gzip"), "{list}");
        assert_eq!(list.contains("br"), cfg!(feature = "brotli"));
        assert_eq!(list.contains("zstd"), cfg!(feature = "zstd"));
        assert_eq!(list.contains("deflate"), cfg!(feature = "deflate"));
    }

    /// The most one step can produce: see [`STEP`].
    const STEP_MAX: usize = STEP + 32 * 1024;

    /// `len` zeros, gzip-compressed (about a thousandth of `len`).
    fn gzip_bomb(len: usize) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..len / zeros.len() {
            encoder.write_all(&zeros).unwrap();
        }
        encoder.finish().unwrap()
    }

    /// Decodes `encoded` fed as one piece, a step at a time, until more than
    /// `cap` bytes came out (as `Response::bytes` does); returns the largest
    /// step and the total decoded.
    fn decode_up_to(coding: Coding, encoded: &[u8], cap: usize) -> (usize, usize) {
        let mut decoder = Decompressor::new(coding);
        decoder.feed(Bytes::copy_from_slice(encoded));
        let (mut largest, mut total) = (0, 0);
        while let Some(out) = decoder.step().unwrap() {
            largest = largest.max(out.len());
            total += out.len();
            if total > cap {
                break;
            }
        }
        (largest, total)
    }

    #[test]
    fn gzip_bomb_in_one_piece_is_decoded_a_bounded_step_at_a_time() {
        let cap = 1 << 20;
        let bomb = gzip_bomb(16 << 20);
        assert!(bomb.len() < 64 * 1024, "one piece as read off the wire");
        let (largest, total) = decode_up_to(Coding::Gzip, &bomb, cap);
        assert!(largest <= STEP_MAX, "a step of {largest} bytes");
        assert!(total > cap);
        assert!(
            total <= cap + STEP_MAX,
            "decoded {total} bytes for a cap of {cap}"
        );
    }

    #[test]
    fn gzip_decoded_in_steps_is_the_whole_body() {
        let text: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&text).unwrap();
        let compressed = encoder.finish().unwrap();
        let mut decoder = Decompressor::new(Coding::Gzip);
        let mut out = Vec::new();
        for piece in compressed.chunks(10_000) {
            decoder.feed(Bytes::copy_from_slice(piece));
            while let Some(step) = decoder.step().unwrap() {
                out.extend_from_slice(&step);
            }
        }
        out.extend_from_slice(&decoder.finish().unwrap().unwrap_or_default());
        assert_eq!(out, text);
    }

    #[test]
    fn bytes_after_the_end_of_the_gzip_stream_are_an_error() {
        let mut body = gzip_bomb(1 << 20);
        body.extend_from_slice(b"trailing garbage");
        let mut decoder = Decompressor::new(Coding::Gzip);
        decoder.feed(Bytes::from(body));
        let err = loop {
            match decoder.step() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("trailing bytes were accepted"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), ErrorKind::BodyDecode);
    }

    #[cfg(feature = "deflate")]
    #[test]
    fn deflate_is_zlib_or_raw_and_may_arrive_a_byte_at_a_time() {
        let text = b"hello, deflate! hello, deflate! hello, deflate!".repeat(100);
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(&text).unwrap();
        let mut raw =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        raw.write_all(&text).unwrap();
        for encoded in [zlib.finish().unwrap(), raw.finish().unwrap()] {
            let mut decoder = Decompressor::new(Coding::Deflate);
            let mut out = Vec::new();
            for byte in &encoded {
                decoder.feed(Bytes::copy_from_slice(&[*byte]));
                while let Some(step) = decoder.step().unwrap() {
                    out.extend_from_slice(&step);
                }
            }
            out.extend_from_slice(&decoder.finish().unwrap().unwrap_or_default());
            assert_eq!(out, text);
        }
        let mut cut = Decompressor::new(Coding::Deflate);
        cut.feed(Bytes::from_static(b"\x78"));
        assert_eq!(cut.step().unwrap(), None);
        assert_eq!(cut.finish().unwrap_err().kind(), ErrorKind::BodyDecode);
    }

    /// `len` zeros in `coding`.
    fn zeros_in(coding: Coding, len: usize) -> Vec<u8> {
        let zeros = vec![0u8; len];
        match coding {
            #[cfg(feature = "brotli")]
            Coding::Brotli => {
                let mut out = Vec::new();
                let params = brotli::enc::BrotliEncoderParams {
                    quality: 5,
                    ..Default::default()
                };
                brotli::BrotliCompress(&mut &zeros[..], &mut out, &params).unwrap();
                out
            }
            #[cfg(feature = "zstd")]
            Coding::Zstd => zstd::stream::encode_all(&zeros[..], 3).unwrap(),
            _ => gzip_bomb(len),
        }
    }

    /// Decodes `encoded` fed in pieces of `piece` bytes, as from the wire.
    fn decode_in_pieces(coding: Coding, encoded: &[u8], piece: usize) -> Result<Vec<u8>, Error> {
        let mut decoder = Decompressor::new(coding);
        let mut out = Vec::new();
        for piece in encoded.chunks(piece) {
            decoder.feed(Bytes::copy_from_slice(piece));
            while let Some(step) = decoder.step()? {
                out.extend_from_slice(&step);
            }
        }
        out.extend_from_slice(&decoder.finish()?.unwrap_or_default());
        Ok(out)
    }

    #[cfg(any(feature = "brotli", feature = "zstd"))]
    fn codings() -> Vec<Coding> {
        [
            #[cfg(feature = "brotli")]
            Coding::Brotli,
            #[cfg(feature = "zstd")]
            Coding::Zstd,
        ]
        .to_vec()
    }

    #[cfg(any(feature = "brotli", feature = "zstd"))]
    #[test]
    fn brotli_and_zstd_bombs_are_decoded_a_bounded_step_at_a_time() {
        let cap = 1 << 20;
        for coding in codings() {
            let bomb = zeros_in(coding, 16 << 20);
            assert!(bomb.len() < 64 * 1024, "{coding:?}: one piece off the wire");
            let (largest, total) = decode_up_to(coding, &bomb, cap);
            assert!(largest <= STEP, "{coding:?}: a step of {largest} bytes");
            assert!(total > cap, "{coding:?}: decoded only {total}");
            assert!(
                total <= cap + STEP,
                "{coding:?}: decoded {total} bytes for a cap of {cap}"
            );
        }
    }

    #[cfg(any(feature = "brotli", feature = "zstd"))]
    #[test]
    fn brotli_and_zstd_in_small_pieces_are_the_whole_body() {
        let text: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for coding in codings() {
            let encoded = match coding {
                #[cfg(feature = "brotli")]
                Coding::Brotli => {
                    let mut out = Vec::new();
                    let params = brotli::enc::BrotliEncoderParams::default();
                    brotli::BrotliCompress(&mut &text[..], &mut out, &params).unwrap();
                    out
                }
                _ => zstd::stream::encode_all(&text[..], 3).unwrap(),
            };
            for piece in [1, 7, 4096, encoded.len()] {
                let out = decode_in_pieces(coding, &encoded, piece).unwrap();
                assert!(out == text, "{coding:?} in pieces of {piece}");
            }
        }
    }

    #[cfg(any(feature = "brotli", feature = "zstd"))]
    #[test]
    fn cut_short_garbage_or_trailing_bytes_are_decode_errors() {
        for coding in codings() {
            let encoded = zeros_in(coding, 100_000);
            let cut = &encoded[..encoded.len() - 2];
            let err = decode_in_pieces(coding, cut, 100).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BodyDecode, "{coding:?} cut short");
            let garbage = b"this is not compressed at all, not even slightly".repeat(10);
            let err = decode_in_pieces(coding, &garbage, 100).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BodyDecode, "{coding:?} garbage");
            if coding != Coding::Zstd {
                // zstd allows frames one after another; brotli is one stream.
                let mut trailing = encoded.clone();
                trailing.extend_from_slice(b"more");
                let err = decode_in_pieces(coding, &trailing, 100).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::BodyDecode, "{coding:?} trailing");
            }
        }
    }
}

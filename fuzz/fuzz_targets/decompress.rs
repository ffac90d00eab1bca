//! Each built-in `Content-Encoding` decoder (gzip, deflate as zlib or raw,
//! br, zstd), fed a body in pieces and stepped as the response's reader
//! does, under a body cap.
//!
//! Input: a coding byte, a mode byte, three bytes of cap (up to 1 MiB), a
//! count byte and that many piece sizes, then the data: in mode 0 the
//! encoded body itself (arbitrary, so mostly broken, sometimes a bomb); in
//! mode 1 the plain body, which the target encodes first. Invariants: no
//! panic; no step gives more than the coding's step bound, so decoding stops
//! at most one step past the cap; an error is BodyDecode; in mode 1, the
//! decoded data is the plain body (or, over the cap, a prefix of it).
#![no_main]

use std::io::Write;

use ferrio_http::fuzzing::{decode_body, decoder_step_bound};
use ferrio_http::ErrorKind;
use libfuzzer_sys::fuzz_target;

const CODINGS: [&str; 4] = ["gzip", "deflate", "br", "zstd"];

fn encode(coding: &str, raw_deflate: bool, plain: &[u8]) -> Vec<u8> {
    use flate2::{write, Compression};
    match coding {
        "gzip" => {
            let mut w = write::GzEncoder::new(Vec::new(), Compression::fast());
            w.write_all(plain).unwrap();
            w.finish().unwrap()
        }
        "deflate" if raw_deflate => {
            let mut w = write::DeflateEncoder::new(Vec::new(), Compression::fast());
            w.write_all(plain).unwrap();
            w.finish().unwrap()
        }
        "deflate" => {
            let mut w = write::ZlibEncoder::new(Vec::new(), Compression::fast());
            w.write_all(plain).unwrap();
            w.finish().unwrap()
        }
        "br" => {
            let mut out = Vec::new();
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 1, 22);
            w.write_all(plain).unwrap();
            drop(w);
            out
        }
        _ => zstd::bulk::compress(plain, 1).unwrap(),
    }
}

fuzz_target!(|input: &[u8]| {
    if input.len() < 6 {
        return;
    }
    let coding = CODINGS[usize::from(input[0]) % CODINGS.len()];
    let (mode, raw_deflate) = (input[1] & 1, input[1] & 2 != 0);
    let cap =
        usize::from(input[2]) | usize::from(input[3]) << 8 | usize::from(input[4] & 0x0f) << 16;
    let count = usize::from(input[5]);
    let Some(sizes) = input.get(6..6 + count) else {
        return;
    };
    let data = &input[6 + count..];
    let encoded = if mode == 1 {
        encode(coding, raw_deflate, data)
    } else {
        data.to_vec()
    };
    // The body in pieces of the given sizes (cycled; 0: the rest at once).
    let mut pieces = Vec::new();
    let mut rest = &encoded[..];
    let mut turn = 0;
    while !rest.is_empty() {
        let size = sizes.get(turn % sizes.len().max(1)).copied().unwrap_or(0);
        turn += 1;
        let n = if size == 0 {
            rest.len()
        } else {
            usize::from(size).min(rest.len())
        };
        pieces.push(&rest[..n]);
        rest = &rest[n..];
    }
    let run = decode_body(coding, &pieces, cap).expect("a built-in coding");
    let bound = decoder_step_bound(coding);
    for &step in &run.steps {
        assert!(step <= bound, "{coding}: a step of {step} bytes");
    }
    assert!(
        run.data.len() <= cap + bound,
        "{coding}: {} bytes past a cap of {cap}",
        run.data.len()
    );
    assert_eq!(run.over_cap, run.data.len() > cap);
    if let Some(e) = &run.error {
        assert_eq!(e.kind(), ErrorKind::BodyDecode, "{e:?}");
    }
    if mode == 1 {
        if run.over_cap {
            assert!(
                data.len() > cap && data.starts_with(&run.data),
                "{coding}: a wrong prefix"
            );
        } else {
            assert!(run.error.is_none(), "{coding}: {:?}", run.error);
            assert!(run.data == data, "{coding}: the round trip differs");
        }
    }
});

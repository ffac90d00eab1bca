//! The body decoder (Content-Length, chunked, close-delimited) fed in random
//! small slices, as reads from a socket would feed it.
//!
//! Input: a framing byte, eight bytes of Content-Length, a trailer cap byte,
//! a slicing seed byte, then the wire. Invariants, on every call: it never
//! uses more than it was offered (no byte consumed twice); its data lies in
//! what it used; it makes progress or asks for more. And the whole: the same
//! data and the same outcome as one call with all of the input at once.
#![no_main]

use ferrio_http::fuzzing::{BodyDecoder, Framing};
use libfuzzer_sys::fuzz_target;

/// What decoding a whole input gave: the body data, whether it ended well,
/// and (when it did) how many bytes the body took.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    data: Vec<u8>,
    ok: bool,
    /// 0 after an error: a call that fails reports nothing of what it
    /// used, so where the error was found depends on the slicing.
    consumed: usize,
}

/// Decodes `wire`, offered `next_size()` more bytes at a time.
fn decode(
    framing: Framing,
    cap: usize,
    wire: &[u8],
    mut next_size: impl FnMut() -> usize,
) -> Outcome {
    let mut decoder = BodyDecoder::new(framing, cap);
    let (mut offered, mut consumed, mut data) = (0, 0, Vec::new());
    loop {
        let buffered = &wire[consumed..offered];
        let (used, piece) = match decoder.decode(buffered) {
            Ok(step) => step,
            Err(_) => {
                return Outcome {
                    data,
                    ok: false,
                    consumed: 0,
                }
            }
        };
        assert!(
            used <= buffered.len(),
            "used {used} of {} offered",
            buffered.len()
        );
        let piece_at = (piece.as_ptr() as usize).wrapping_sub(buffered.as_ptr() as usize);
        assert!(
            piece.is_empty() || piece_at + piece.len() <= used,
            "data outside the bytes used"
        );
        data.extend_from_slice(piece);
        consumed += used;
        if decoder.is_done() {
            return Outcome {
                data,
                ok: true,
                consumed,
            };
        }
        if used == 0 && piece.is_empty() {
            // No progress: it must be asking for more.
            if offered == wire.len() {
                let ok = decoder.end_of_input().is_ok();
                let consumed = if ok { consumed } else { 0 };
                return Outcome { data, ok, consumed };
            }
            offered = offered.saturating_add(next_size()).min(wire.len());
        }
    }
}

fuzz_target!(|input: &[u8]| {
    if input.len() < 11 {
        return;
    }
    let (head, wire) = input.split_at(11);
    let length = u64::from_le_bytes(head[1..9].try_into().unwrap()) % 4096;
    let framing = match head[0] % 3 {
        0 => Framing::Length(length),
        1 => Framing::Chunked,
        _ => Framing::Close,
    };
    let cap = usize::from(head[9]) * 4;
    let mut seed = u32::from(head[10]) | 1;
    let sliced = decode(framing, cap, wire, || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        1 + (seed % 16) as usize
    });
    let whole = decode(framing, cap, wire, || usize::MAX);
    assert_eq!(sliced, whole, "sliced decoding differs from one-shot");
});

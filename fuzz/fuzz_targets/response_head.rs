//! The client's response head parser and framing decision, on any bytes.
//!
//! The first byte picks the header cap (so that the too-large paths are
//! reached with small inputs); the rest is the wire. Invariants: no panic;
//! a complete head lies within the input and the cap, and parses the same
//! from its own bytes alone (nothing after a head changes it).
#![no_main]

use ferrio_http::fuzzing::response_head;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cap, wire)) = data.split_first() else {
        return;
    };
    let max = 16 + usize::from(cap) * 32;
    if let Ok(Some(len)) = response_head(wire, max) {
        assert!(len <= wire.len() && len <= max, "head of {len} bytes");
        assert_eq!(
            response_head(&wire[..len], max),
            Ok(Some(len)),
            "the head alone parses as it did with what followed"
        );
    }
});

//! The server's request head parser, on any bytes.
//!
//! The first byte picks the header cap; the rest is the wire. Invariants: no
//! panic; a complete head lies within the input and the cap, and parses the
//! same from its own bytes alone; every rejection is a 4xx or 5xx status.
#![no_main]

use ferrio_http::fuzzing::request_head;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cap, wire)) = data.split_first() else {
        return;
    };
    let max = 16 + usize::from(cap) * 32;
    match request_head(wire, max) {
        Ok(Some(len)) => {
            assert!(len <= wire.len() && len <= max, "head of {len} bytes");
            assert_eq!(request_head(&wire[..len], max), Ok(Some(len)));
        }
        Ok(None) => {}
        Err(status) => assert!((400..600).contains(&status), "rejected with {status}"),
    }
});

//! The proxy's answer to the client's `CONNECT`, in pieces (and with reads
//! that wait), as the client reads it before TLS goes through the tunnel.
//!
//! Input: two bytes of port, a flags byte (bit 0: an IPv6 target), a count
//! byte and that many piece sizes, then the proxy's answer. Invariants: it
//! ends (no wait nothing would end); the request is exactly the CONNECT with
//! the proxy's credentials; the client reads at most its 8 KiB cap and one
//! read more; a tunnel is up only for a 2xx status line whose head ends the
//! bytes read; an error is Proxy (with the status, when there was one) or Io.
#![no_main]

use ferrio_http::fuzzing::proxy_connect;
use ferrio_http::ErrorKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if input.len() < 4 {
        return;
    }
    let port = u16::from_le_bytes([input[0], input[1]]).max(1);
    let host = if input[2] & 1 == 1 {
        "[2001:db8::1]"
    } else {
        "origin.example"
    };
    let count = usize::from(input[3]);
    let Some(pieces) = input.get(4..4 + count) else {
        return;
    };
    let reply = &input[4 + count..];
    let run = proxy_connect(
        "http://al%40ice:s3cret@proxy.test:3128",
        host,
        port,
        reply,
        pieces,
    )
    .expect("the proxy URL and the target parse");
    // base64("al@ice:s3cret")
    let authority = format!("{host}:{port}");
    let expected = format!(
        "CONNECT {authority} HTTP/1.1\r\nhost: {authority}\r\n\
         proxy-authorization: Basic YWxAaWNlOnMzY3JldA==\r\n\r\n"
    );
    assert_eq!(run.request, expected.as_bytes(), "the CONNECT request");
    assert!(run.read <= 8 * 1024 + 1024, "read {} bytes", run.read);
    let read = &reply[..run.read];
    match &run.result {
        Ok(()) => {
            let end = read.windows(4).position(|w| w == b"\r\n\r\n");
            assert_eq!(
                end,
                Some(read.len() - 4),
                "a tunnel with bytes after its head"
            );
            let line = &read[..read.windows(2).position(|w| w == b"\r\n").unwrap()];
            assert!(line.starts_with(b"HTTP/1."), "{line:?}");
            let code = &line[9..12];
            assert!(
                code[0] == b'2' && code.iter().all(u8::is_ascii_digit),
                "{line:?}"
            );
        }
        Err(e) => match e.kind() {
            ErrorKind::Proxy => {
                if let Some(status) = e.status() {
                    assert!(!status.is_success(), "{e}");
                }
            }
            ErrorKind::Io => assert_eq!(run.read, reply.len(), "Io before the end: {e}"),
            other => panic!("{other:?}: {e}"),
        },
    }
});

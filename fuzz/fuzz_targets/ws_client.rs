//! The client's WebSocket reader fed what a server sends after the upgrade,
//! in pieces (and with reads that wait), as `WebSocket::receive` reads it;
//! in echo mode the client also sends each message back, as an echo client.
//!
//! Input: two bytes of the message cap (1 to 65536), a flags byte (bit 0:
//! echo), a count byte and that many piece sizes, then the server's bytes.
//! Invariants: it ends (no wait nothing would end); no message over the cap,
//! no control payload over 125 bytes; an error is a typed one (TooLarge,
//! WebSocket or Io); everything the client writes is masked client frames,
//! and in echo mode its data frames are the messages it read, in order.
#![no_main]

use ferrio_http::fuzzing::ws_client_read;
use ferrio_http::ws::Message;
use ferrio_http::ErrorKind;
use libfuzzer_sys::fuzz_target;

/// A frame the client wrote: its opcode and unmasked payload.
struct Frame {
    opcode: u8,
    payload: Vec<u8>,
}

/// The client's frames; every one must be masked (RFC 6455, 5.3).
fn client_frames(mut bytes: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 2, "a cut frame header");
        let (b0, b1) = (bytes[0], bytes[1]);
        assert!(b1 & 0x80 != 0, "an unmasked client frame");
        assert!(b0 & 0x70 == 0, "reserved bits set");
        let (len, mut at) = match b1 & 0x7f {
            126 => (u64::from(u16::from_be_bytes([bytes[2], bytes[3]])), 4),
            127 => (u64::from_be_bytes(bytes[2..10].try_into().unwrap()), 10),
            n => (u64::from(n), 2),
        };
        let key: [u8; 4] = bytes[at..at + 4].try_into().unwrap();
        at += 4;
        let len = usize::try_from(len).unwrap();
        let payload = bytes[at..at + len]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 4])
            .collect();
        frames.push(Frame {
            opcode: b0 & 0x0f,
            payload,
        });
        bytes = &bytes[at + len..];
    }
    frames
}

fuzz_target!(|input: &[u8]| {
    if input.len() < 4 {
        return;
    }
    let max = 1 + usize::from(u16::from_le_bytes([input[0], input[1]]));
    let echo = input[2] & 1 == 1;
    let count = usize::from(input[3]);
    let Some(pieces) = input.get(4..4 + count) else {
        return;
    };
    let server = &input[4 + count..];
    let run = ws_client_read(server, pieces, max, echo);
    assert!(
        run.messages.len() <= server.len() / 2,
        "more messages than frames"
    );
    let mut data = Vec::new();
    for message in &run.messages {
        match message {
            Message::Text(text) => {
                assert!(text.len() <= max, "a text message over the cap");
                data.push((1, text.as_bytes().to_vec()));
            }
            Message::Binary(bytes) => {
                assert!(bytes.len() <= max, "a binary message over the cap");
                data.push((2, bytes.to_vec()));
            }
            Message::Ping(p) | Message::Pong(p) => assert!(p.len() <= 125),
            Message::Close(Some(frame)) => assert!(frame.reason.len() <= 123),
            Message::Close(None) => {}
        }
    }
    if let Some(e) = &run.error {
        assert!(
            matches!(
                e.kind(),
                ErrorKind::TooLarge | ErrorKind::WebSocket | ErrorKind::Io
            ),
            "{e:?}"
        );
    }
    let written = client_frames(&run.written);
    let echoed: Vec<(u8, Vec<u8>)> = written
        .into_iter()
        .filter(|f| f.opcode == 1 || f.opcode == 2)
        .map(|f| (f.opcode, f.payload))
        .collect();
    if echo {
        assert!(echoed.len() <= data.len(), "more echoes than messages");
        assert!(
            echoed[..] == data[..echoed.len()],
            "the echoes are not the messages read"
        );
    } else {
        assert!(echoed.is_empty(), "data frames nobody sent");
    }
});

//! A readiness wake that is seen stays seen (docs/architecture.md, "A wake
//! that is seen stays seen"): a task awaiting `readable()`/`writable()` when
//! the event arrives completes with that event, even when another task
//! sharing the socket (by `Rc` or `Arc`) is woken by the same event first and
//! drains it (a short read, a read until `WouldBlock`, a write that fills the
//! buffer again) before the waiter runs. TCP, Unix streams, UDP and Unix
//! datagrams.
//!
//! Each scenario is one test per size of the other task's buffer: shorter
//! than, equal to and longer than what arrives (or, for writers, than the
//! room a drain makes). On one worker the other task is always woken first
//! (the operations' wakers are woken before the futures' list), so without the
//! rule the waiter finds the readiness cleared and sleeps until its deadline.
//! On two workers the order varies, so those tests show the rule only when
//! the reader happens to run first. Loopback only; every wait is bounded.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use ferrio::net::{UdpSocket, UnixDatagram, UnixStream};
use ferrio::time::{sleep, timeout};

/// How long a woken waiter has to complete: a lost wake leaves it asleep for
/// good, so the test fails instead of hanging.
const WAKE_LIMIT: Duration = Duration::from_secs(5);

/// Long enough for spawned tasks to reach their first `Pending`.
const SETTLE: Duration = Duration::from_millis(50);

/// What the peer sends in each read scenario: one segment, one event.
const SENT: &[u8] = b"8 bytes!";

/// One test per size of the other task's buffer (shorter than, equal to,
/// longer than what arrives), in a module named for the scenario:
/// `$body` runs with `$len` bound to the size.
macro_rules! per_size {
    ($scenario:ident, [$shorter:expr, $equal:expr, $longer:expr], |$len:ident| $body:expr) => {
        mod $scenario {
            use super::*;

            #[test]
            fn shorter() {
                let $len: usize = $shorter;
                $body
            }

            #[test]
            fn equal() {
                let $len: usize = $equal;
                $body
            }

            #[test]
            fn longer() {
                let $len: usize = $longer;
                $body
            }
        }
    };
}

#[path = "support/tcp_pair.rs"]
mod tcp_pair;
use tcp_pair::connected_pair;

/// A task sharing `$stream` (an `Rc` or `Arc` clone) that reads with a
/// buffer of `$len` bytes until end-of-stream, and returns everything.
macro_rules! read_to_end_with {
    ($spawn:path, $stream:expr, $len:expr) => {{
        let stream = $stream;
        let len = $len;
        $spawn(async move {
            let mut buf = vec![0u8; len];
            let mut got = Vec::new();
            loop {
                let n = (&*stream).read(&mut buf).await?;
                if n == 0 {
                    return std::io::Result::Ok(got);
                }
                got.extend_from_slice(&buf[..n]);
            }
        })
    }};
}

/// Two tasks share the server side of a connected stream pair (`$pair`: TCP
/// or Unix; `$share`: `Rc::new` or `Arc::new`, spawned with `$spawn`): one
/// reads with a buffer of `$len` bytes until end-of-stream, one awaits
/// `readable()`. The client sends `SENT`; the `readable()` waiter must
/// complete with that event.
macro_rules! readable_beside_a_reader {
    ($pair:expr, $share:path, $spawn:path, $len:expr) => {{
        let (mut client, server) = $pair;
        let server = $share(server);
        let reader = read_to_end_with!($spawn, server.clone(), $len);
        let watcher = {
            let server = server.clone();
            $spawn(async move { server.readable().await })
        };
        sleep(SETTLE).await;
        client.write_all(SENT).await.unwrap();
        // Expected to wake it: the readable event of `SENT`'s arrival, for
        // which it was waiting, whatever the reader did with the bytes.
        let watched = timeout(WAKE_LIMIT, watcher).await;
        assert!(
            matches!(watched, Ok(Ok(Ok(())))),
            "the readable() waiter (reader's buffer {} bytes, {} sent) should complete \
             with the event it was waiting for: {watched:?}",
            $len,
            SENT.len()
        );
        // Expected to wake the reader: the end-of-stream.
        client.shutdown(std::net::Shutdown::Write).unwrap();
        let read = timeout(WAKE_LIMIT, reader).await;
        match read {
            Ok(Ok(Ok(got))) => assert_eq!(got, SENT, "the reader gets every byte once"),
            other => panic!("the reader should end at the end-of-stream: {other:?}"),
        }
    }};
}

per_size!(
    tcp_readable_waiter_shared_by_rc_beside_a_reader,
    [3, SENT.len(), 64],
    |len| {
        ferrio::run(async {
            readable_beside_a_reader!(connected_pair().await, Rc::new, ferrio::spawn_local, len);
        });
    }
);

per_size!(
    tcp_readable_waiter_shared_by_arc_beside_a_reader,
    [3, SENT.len(), 64],
    |len| {
        ferrio::run(async {
            readable_beside_a_reader!(connected_pair().await, Arc::new, ferrio::spawn, len);
        });
    }
);

per_size!(
    tcp_readable_waiter_beside_a_reader_on_two_workers,
    [3, SENT.len(), 64],
    |len| {
        let mut runtime = ferrio::Runtime::builder().workers(2).build().unwrap();
        runtime.block_on(async {
            readable_beside_a_reader!(connected_pair().await, Arc::new, ferrio::spawn, len);
        });
    }
);

/// Fills `$stream`'s send buffer (and the peer's receive buffer) until the
/// socket says `WouldBlock`; evaluates to how many bytes went out. A macro,
/// for TCP and Unix streams alike.
macro_rules! fill_send_buffer {
    ($stream:expr) => {{
        let stream = $stream;
        let chunk = vec![7u8; 64 * 1024];
        let mut sent = 0;
        stream.writable().await.unwrap();
        // Bounded: loopback buffers are a few MiB at most.
        let mut tries = 0..100_000;
        loop {
            assert!(tries.next().is_some(), "the send buffer never filled");
            match stream.try_write(&chunk) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break sent,
                Err(e) => panic!("try_write failed: {e}"),
            }
        }
    }};
}

/// Reads and discards `$n` bytes from `$stream`.
macro_rules! drain {
    ($stream:expr, $n:expr) => {{
        let stream = $stream;
        let mut buf = vec![0u8; 64 * 1024];
        let mut left: usize = $n;
        while left > 0 {
            let got = stream.read(&mut buf[..left.min(64 * 1024)]).await.unwrap();
            assert_ne!(got, 0, "the peer closed before sending everything");
            left -= got;
        }
    }};
}

/// The write direction: two tasks share a client (of `$pair`, TCP or Unix)
/// whose send buffer is full (`full` bytes went out before `WouldBlock`);
/// one writes `3 * full` more bytes in chunks of `full * $sixteenths / 16`
/// (so it fills the buffer again at every event), one awaits `writable()`.
/// The server drains `full` bytes; the `writable()` waiter must complete with
/// a writable event that drain caused.
///
/// The chunks are sized by `full`, not in bytes: a writer whose chunks are so
/// small that its budget of operations per poll runs out before the room is
/// filled yields, and the waiter then runs while the socket is still
/// writable, which would not show the rule.
macro_rules! writable_beside_a_writer {
    ($pair:expr, $share:path, $spawn:path, $sixteenths:expr) => {{
        let (client, mut server) = $pair;
        let client = $share(client);
        let full = fill_send_buffer!(&*client);
        let writer = {
            let client = client.clone();
            let chunk = vec![1u8; (full * $sixteenths / 16).max(1)];
            $spawn(async move {
                let mut left = 3 * full;
                while left > 0 {
                    let n = (&*client).write(&chunk[..chunk.len().min(left)]).await?;
                    left -= n;
                }
                std::io::Result::Ok(())
            })
        };
        let watcher = {
            let client = client.clone();
            $spawn(async move { client.writable().await })
        };
        sleep(SETTLE).await;
        drain!(&mut server, full);
        // Expected to wake it: a writable event of the drain, for which it was
        // waiting, whatever the writer did with the room.
        let watched = timeout(WAKE_LIMIT, watcher).await;
        assert!(
            matches!(watched, Ok(Ok(Ok(())))),
            "the writable() waiter (writer's chunks {}/16 of the {full} bytes the buffer \
             holds) should complete with the event it was waiting for: {watched:?}",
            $sixteenths
        );
        // Expected to wake the writer: the room the rest of the drain makes.
        drain!(&mut server, 3 * full);
        let wrote = timeout(WAKE_LIMIT, writer).await;
        assert!(
            matches!(wrote, Ok(Ok(Ok(())))),
            "the writer should finish: {wrote:?}"
        );
    }};
}

per_size!(
    tcp_writable_waiter_beside_a_writer_that_fills_the_buffer_again,
    [1, 16, 64],
    |len| {
        ferrio::run(async {
            writable_beside_a_writer!(connected_pair().await, Rc::new, ferrio::spawn_local, len);
        });
    }
);

per_size!(
    unix_stream_readable_waiter_beside_a_reader,
    [3, SENT.len(), 64],
    |len| {
        ferrio::run(async {
            readable_beside_a_reader!(
                UnixStream::pair().unwrap(),
                Rc::new,
                ferrio::spawn_local,
                len
            );
            readable_beside_a_reader!(UnixStream::pair().unwrap(), Arc::new, ferrio::spawn, len);
        });
    }
);

per_size!(
    unix_stream_writable_waiter_beside_a_writer_that_fills_the_buffer_again,
    [1, 16, 64],
    |len| {
        ferrio::run(async {
            writable_beside_a_writer!(UnixStream::pair().unwrap(), Arc::new, ferrio::spawn, len);
        });
    }
);

/// Two tasks share a datagram socket (`$receiver`, with `$send` sending to
/// it from its peer): one receives with a buffer of `$len` bytes until an
/// empty datagram, one awaits `readable()`. The peer sends `SENT`; the
/// `readable()` waiter must complete with that event, though the receiver
/// took the datagram (whole or cut to its buffer) and then found nothing.
macro_rules! datagram_readable_beside_a_receiver {
    ($receiver:expr, $send:expr, $len:expr) => {{
        let receiver = Arc::new($receiver);
        let send = $send;
        let len: usize = $len;
        let reader = {
            let receiver = receiver.clone();
            ferrio::spawn(async move {
                let mut buf = vec![0u8; len];
                let mut got = Vec::new();
                loop {
                    let n = receiver.recv(&mut buf).await?;
                    if n == 0 {
                        return std::io::Result::Ok(got);
                    }
                    got.push(buf[..n].to_vec());
                }
            })
        };
        let watcher = {
            let receiver = receiver.clone();
            ferrio::spawn(async move { receiver.readable().await })
        };
        sleep(SETTLE).await;
        send(SENT).await;
        // Expected to wake it: the readable event of `SENT`'s arrival, for
        // which it was waiting, whatever the receiver did with the datagram.
        let watched = timeout(WAKE_LIMIT, watcher).await;
        assert!(
            matches!(watched, Ok(Ok(Ok(())))),
            "the readable() waiter (receiver's buffer {len} bytes, {} sent) should complete \
             with the event it was waiting for: {watched:?}",
            SENT.len()
        );
        // Expected to wake the receiver: the empty datagram that ends it.
        send(b"").await;
        let read = timeout(WAKE_LIMIT, reader).await;
        match read {
            Ok(Ok(Ok(got))) => assert_eq!(
                got,
                [SENT[..len.min(SENT.len())].to_vec()],
                "the receiver gets the datagram once, cut to its buffer"
            ),
            other => panic!("the receiver should end at the empty datagram: {other:?}"),
        }
    }};
}

per_size!(
    udp_readable_waiter_beside_a_receiver,
    [3, SENT.len(), 64],
    |len| {
        ferrio::run(async {
            let receiver = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let sender = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            sender
                .connect(receiver.local_addr().unwrap())
                .await
                .unwrap();
            receiver
                .connect(sender.local_addr().unwrap())
                .await
                .unwrap();
            datagram_readable_beside_a_receiver!(
                receiver,
                |datagram: &'static [u8]| {
                    let sender = sender.clone();
                    async move {
                        assert_eq!(sender.send(datagram).await.unwrap(), datagram.len());
                    }
                },
                len
            );
        });
    }
);

per_size!(
    unix_datagram_readable_waiter_beside_a_receiver,
    [3, SENT.len(), 64],
    |len| {
        ferrio::run(async {
            let (sender, receiver) = UnixDatagram::pair().unwrap();
            let sender = Rc::new(sender);
            datagram_readable_beside_a_receiver!(
                receiver,
                |datagram: &'static [u8]| {
                    let sender = sender.clone();
                    async move {
                        assert_eq!(sender.send(datagram).await.unwrap(), datagram.len());
                    }
                },
                len
            );
        });
    }
);

//! Several tasks waiting on one socket in the same direction: every waiter
//! that is registered when readiness arrives is woken (docs/architecture.md, rule R6), whether
//! it waits through `readable()`/`writable()` or through a read or write on
//! `&TcpStream`. Loopback only; every wait is bounded.

use std::sync::Arc;
use std::time::Duration;

use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use ferrio::net::TcpStream;
use ferrio::time::{sleep, timeout};

/// How long the woken tasks have to finish once the event arrived: a lost
/// wakeup leaves a task asleep for good, so this fails instead of hanging.
const WAKE_LIMIT: Duration = Duration::from_secs(5);

/// Long enough for spawned tasks to reach their first `Pending`.
const SETTLE: Duration = Duration::from_millis(50);

#[path = "support/tcp_pair.rs"]
mod tcp_pair;
use tcp_pair::connected_pair;

/// Fills `stream`'s send buffer (and the peer's receive buffer) until the
/// socket says `WouldBlock`, which also clears its write readiness; returns
/// how many bytes went out.
async fn fill_send_buffer(stream: &TcpStream) -> usize {
    let chunk = vec![7u8; 64 * 1024];
    let mut sent = 0;
    // `try_write` clears the readiness that `writable` saw when it blocks.
    stream.writable().await.unwrap();
    // Bounded: loopback buffers are a few MiB at most.
    for _ in 0..100_000 {
        match stream.try_write(&chunk) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return sent,
            Err(e) => panic!("try_write failed: {e}"),
        }
    }
    panic!("the send buffer never filled");
}

/// Reads and discards `n` bytes.
async fn drain(stream: &mut TcpStream, n: usize) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut left = n;
    while left > 0 {
        let got = stream.read(&mut buf[..left.min(64 * 1024)]).await.unwrap();
        assert_ne!(got, 0, "the peer closed before sending everything");
        left -= got;
    }
}

#[test]
fn two_tasks_awaiting_readable_on_one_stream_both_wake_on_one_byte() {
    ferrio::run(async {
        let (mut client, server) = connected_pair().await;
        let server = Arc::new(server);
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let server = server.clone();
                ferrio::spawn(async move { server.readable().await })
            })
            .collect();
        sleep(SETTLE).await;
        client.write_all(b"x").await.unwrap();
        for (i, waiter) in waiters.into_iter().enumerate() {
            let woke = timeout(WAKE_LIMIT, waiter).await;
            assert!(
                matches!(woke, Ok(Ok(Ok(())))),
                "waiter {i} should have been woken by the byte's readable event: {woke:?}"
            );
        }
    });
}

#[test]
fn a_read_through_a_shared_reference_and_a_readable_waiter_both_wake() {
    ferrio::run(async {
        let (mut client, server) = connected_pair().await;
        let server = Arc::new(server);
        let reader = {
            let server = server.clone();
            ferrio::spawn(async move {
                let mut buf = [0u8; 1];
                (&*server).read(&mut buf).await.map(|n| buf[..n].to_vec())
            })
        };
        let watcher = {
            let server = server.clone();
            ferrio::spawn(async move { server.readable().await })
        };
        sleep(SETTLE).await;
        client.write_all(b"y").await.unwrap();
        let read = timeout(WAKE_LIMIT, reader).await;
        assert!(
            matches!(&read, Ok(Ok(Ok(bytes))) if bytes == b"y"),
            "the reader should have been woken by the byte: {read:?}"
        );
        let watched = timeout(WAKE_LIMIT, watcher).await;
        assert!(
            matches!(watched, Ok(Ok(Ok(())))),
            "the readable() waiter should have been woken by the same event: {watched:?}"
        );
    });
}

#[test]
fn two_tasks_awaiting_writable_on_a_full_stream_both_wake_when_the_peer_drains() {
    ferrio::run(async {
        let (client, mut server) = connected_pair().await;
        let client = Arc::new(client);
        let sent = fill_send_buffer(&client).await;
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let client = client.clone();
                ferrio::spawn(async move { client.writable().await })
            })
            .collect();
        sleep(SETTLE).await;
        drain(&mut server, sent).await;
        for (i, waiter) in waiters.into_iter().enumerate() {
            let woke = timeout(WAKE_LIMIT, waiter).await;
            assert!(
                matches!(woke, Ok(Ok(Ok(())))),
                "waiter {i} should have been woken by the writable event after the drain: {woke:?}"
            );
        }
    });
}

#[test]
fn a_write_through_a_shared_reference_and_a_writable_waiter_both_wake() {
    ferrio::run(async {
        let (client, mut server) = connected_pair().await;
        let client = Arc::new(client);
        let sent = fill_send_buffer(&client).await;
        let writer = {
            let client = client.clone();
            ferrio::spawn(async move { (&*client).write(b"z").await })
        };
        let watcher = {
            let client = client.clone();
            ferrio::spawn(async move { client.writable().await })
        };
        sleep(SETTLE).await;
        drain(&mut server, sent).await;
        let wrote = timeout(WAKE_LIMIT, writer).await;
        assert!(
            matches!(wrote, Ok(Ok(Ok(1)))),
            "the writer should have been woken by the writable event: {wrote:?}"
        );
        let watched = timeout(WAKE_LIMIT, watcher).await;
        assert!(
            matches!(watched, Ok(Ok(Ok(())))),
            "the writable() waiter should have been woken by the same event: {watched:?}"
        );
    });
}

/// Counts how often the future it wraps is polled.
struct CountPolls<F> {
    inner: std::pin::Pin<Box<F>>,
    polls: Arc<std::sync::atomic::AtomicUsize>,
}

impl<F: std::future::Future> std::future::Future for CountPolls<F> {
    type Output = F::Output;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        self.polls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.as_mut().poll(cx)
    }
}

#[test]
fn two_readers_of_one_quiet_stream_sleep_instead_of_waking_each_other() {
    ferrio::run(async {
        let (mut client, server) = connected_pair().await;
        let server = Arc::new(server);
        let polls: Vec<_> = (0..2)
            .map(|_| Arc::new(std::sync::atomic::AtomicUsize::new(0)))
            .collect();
        let readers: Vec<_> = polls
            .iter()
            .map(|polls| {
                let server = server.clone();
                ferrio::spawn(CountPolls {
                    inner: Box::pin(async move {
                        let mut buf = [0u8; 1];
                        (&*server).read(&mut buf).await.map(|n| buf[..n].to_vec())
                    }),
                    polls: polls.clone(),
                })
            })
            .collect();
        // Nothing arrives for a while: a hand-over of the poll path's waker
        // would have the two readers wake each other thousands of times.
        sleep(Duration::from_millis(200)).await;
        let quiet: Vec<usize> = polls
            .iter()
            .map(|p| p.load(std::sync::atomic::Ordering::Relaxed))
            .collect();
        assert!(
            quiet.iter().all(|&n| n <= 2),
            "each reader should be polled once (or twice) while nothing arrives, not {quiet:?}"
        );
        // One byte wakes both; one reads it, the other reads the EOF.
        client.write_all(b"z").await.unwrap();
        client.close().await.unwrap();
        let mut got = Vec::new();
        for reader in readers {
            let read = timeout(WAKE_LIMIT, reader).await;
            match read {
                Ok(Ok(Ok(bytes))) => got.push(bytes),
                other => panic!("a reader should be woken by the byte or the EOF: {other:?}"),
            }
        }
        got.sort();
        assert_eq!(got, [b"".to_vec(), b"z".to_vec()]);
    });
}

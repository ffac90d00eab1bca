//! Soak: thousands of loopback echo clients with random message sizes, every
//! byte checked, a third of them cancelled mid-message; afterwards the
//! runtime holds no task and no socket registration. Nothing lost, nothing
//! leaked. Bounded: one runtime-level timeout over the whole run.
//!
//! Not here: single-behaviour TCP tests (`net_tcp.rs`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use ferrio::net::{TcpListener, TcpStream};
use ferrio::time::{sleep, timeout};

/// Clients; each holds one descriptor and its server connection another.
const CLIENTS: usize = 3_000;
/// Messages each finishing client echoes.
const MESSAGES: usize = 8;
/// The largest message, in bytes (small enough that writing a whole message
/// before reading its echo never fills both loopback buffers).
const MAX_MESSAGE: usize = 8 << 10;
/// Upper bound of the whole soak: a hang fails instead of blocking the suite.
const LIMIT: Duration = Duration::from_secs(120);

#[path = "support/rlimit.rs"]
mod rlimit;
#[path = "support/rng.rs"]
mod rng;
use rlimit::ensure_descriptors;
use rng::Rng;

/// Counts a live server connection while it exists.
struct Live(Arc<AtomicUsize>);

impl Live {
    fn new(count: &Arc<AtomicUsize>) -> Live {
        count.fetch_add(1, Ordering::AcqRel);
        Live(count.clone())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Accepts forever, echoing each connection in its own task until the peer
/// closes or resets it.
async fn echo_server(listener: TcpListener, live: Arc<AtomicUsize>) {
    loop {
        let (mut stream, _) = listener.accept().await.expect("accept on loopback");
        let live = Live::new(&live);
        ferrio::spawn(async move {
            let _live = live;
            let mut buf = vec![0; 16 << 10];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if stream.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
}

/// How a client ends.
#[derive(Clone, Copy, PartialEq)]
enum Fate {
    /// Echoes all its messages, checks every byte, closes.
    Finish,
    /// Sends half a message, then waits to be aborted.
    CancelMidWrite,
    /// Sends a whole message, reads half its echo, then waits to be aborted.
    CancelMidRead,
}

async fn client(
    addr: std::net::SocketAddr,
    id: usize,
    fate: Fate,
    stuck: Arc<AtomicUsize>,
) -> std::io::Result<usize> {
    let mut rng = Rng(id as u64 + 1);
    let mut stream = TcpStream::connect(addr).await?;
    let mut sent = vec![0; MAX_MESSAGE];
    let mut got = vec![0; MAX_MESSAGE];
    let mut echoed = 0;
    for m in 0..MESSAGES {
        let len = 1 + rng.below(MAX_MESSAGE as u64) as usize;
        rng.fill(&mut sent[..len]);
        if m == MESSAGES / 2 && fate != Fate::Finish {
            let half = len.div_ceil(2);
            if fate == Fate::CancelMidWrite {
                stream.write_all(&sent[..half]).await?;
            } else {
                stream.write_all(&sent[..len]).await?;
                stream.read_exact(&mut got[..half]).await?;
                assert_eq!(got[..half], sent[..half], "client {id}: echo differs");
            }
            stuck.fetch_add(1, Ordering::AcqRel);
            std::future::pending::<()>().await;
        }
        stream.write_all(&sent[..len]).await?;
        stream.read_exact(&mut got[..len]).await?;
        assert_eq!(got[..len], sent[..len], "client {id}: echo differs");
        echoed += len;
    }
    Ok(echoed)
}

/// Polls `done` every few milliseconds until it holds; panics with `what` if
/// it does not within `within`.
async fn wait_until(what: &str, within: Duration, done: impl Fn() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
        sleep(Duration::from_millis(5)).await;
    }
}

#[test]
fn thousands_of_echo_clients_a_third_cancelled_mid_message_leave_no_task_or_socket_behind() {
    // One worker unless FERRIO_WORKERS says otherwise.
    soak(ferrio::Runtime::new().unwrap());
}

#[test]
fn the_same_soak_on_two_workers_loses_no_byte_and_leaves_nothing_behind() {
    soak(ferrio::Runtime::builder().workers(2).build().unwrap());
}

fn soak(mut rt: ferrio::Runtime) {
    ensure_descriptors(2 * CLIENTS as u64 + 256);
    let started = Instant::now();
    let workers = rt.workers();
    let live = Arc::new(AtomicUsize::new(0));
    let (finished, cancelled) = rt.block_on(async {
        timeout(LIMIT, async {
            let listener = TcpListener::bind_with_backlog("127.0.0.1:0", 4096)
                .await
                .unwrap();
            let addr = listener.local_addr().unwrap();
            let server = ferrio::spawn(echo_server(listener, live.clone()));
            let stuck = Arc::new(AtomicUsize::new(0));
            let mut finishing = Vec::new();
            let mut cancelling = Vec::new();
            for id in 0..CLIENTS {
                let fate = match id % 6 {
                    0 => Fate::CancelMidWrite,
                    3 => Fate::CancelMidRead,
                    _ => Fate::Finish,
                };
                let task = ferrio::spawn(client(addr, id, fate, stuck.clone()));
                match fate {
                    Fate::Finish => finishing.push((id, task)),
                    _ => cancelling.push((id, task)),
                }
            }
            let to_cancel = cancelling.len();
            wait_until(
                "every cancelled client reaching the middle of its message",
                Duration::from_secs(60),
                || stuck.load(Ordering::Acquire) == to_cancel,
            )
            .await;
            for (_, task) in &cancelling {
                task.abort();
            }
            for (id, task) in cancelling {
                let err = task
                    .await
                    .expect_err("a client waiting forever was aborted");
                assert!(err.is_cancelled(), "client {id}: {err}");
            }
            let mut finished = 0;
            for (id, task) in finishing {
                let echoed = task.await.unwrap();
                let echoed = echoed.unwrap_or_else(|e| panic!("client {id}: {e}"));
                assert!(echoed >= MESSAGES, "client {id} echoed {echoed} bytes");
                finished += 1;
            }
            // Every client is gone: the server sees each connection close.
            wait_until(
                "every server connection ending after its client closed",
                Duration::from_secs(30),
                || live.load(Ordering::Acquire) == 0,
            )
            .await;
            server.abort();
            assert!(server.await.unwrap_err().is_cancelled());
            (finished, to_cancel)
        })
        .await
        .expect("the soak finished within its limit")
    });
    assert_eq!(finished + cancelled, CLIENTS);
    assert_eq!(
        cancelled,
        CLIENTS.div_ceil(3),
        "ids 0, 3, 6, ... of {CLIENTS}"
    );
    // On several workers a connection's task may still be returning on
    // another worker when `main` ends: its `Live` guard (what `main` waited
    // for) drops inside the task, just before the task completes. The
    // workers keep running between `block_on` calls; give it a bounded while.
    let deadline = Instant::now() + Duration::from_secs(5);
    while rt.task_count() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(rt.task_count(), 0, "every client and server task ended");
    assert_eq!(rt.io_source_count(), 0, "every socket was deregistered");
    eprintln!(
        "soak: {CLIENTS} clients ({cancelled} cancelled mid-message) on {workers} worker(s) in {:?}",
        started.elapsed()
    );
}

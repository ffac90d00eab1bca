//! Sockets and timers used after the runtime they were made in is gone, or
//! inside another runtime (docs/architecture.md, rule R7): a socket fails at once with an
//! error that names the cause, a timer moves to the runtime that polls it.
//! Nothing waits forever. Loopback only; every wait is bounded.

use std::future::Future;
use std::io::ErrorKind;
use std::time::{Duration, Instant};

use ferrio::io::AsyncReadExt;
use ferrio::net::{TcpListener, UdpSocket};
use ferrio::time::{sleep, timeout};
use ferrio::Runtime;

#[path = "support/tcp_pair.rs"]
mod tcp_pair;
use tcp_pair::connected_pair;

/// How long an operation may take to fail: it must fail at once, and a hang
/// is turned into a test failure after this.
const LIMIT: Duration = Duration::from_secs(5);

/// Runs `op` inside a fresh `ferrio::run`, bounded by [`LIMIT`], and returns
/// its error; panics if it hung or succeeded.
fn fails_in_a_new_runtime<T: std::fmt::Debug>(
    what: &str,
    op: impl std::future::Future<Output = std::io::Result<T>>,
) -> std::io::Error {
    let started = Instant::now();
    let outcome = ferrio::run(timeout(LIMIT, op));
    let err = match outcome {
        Ok(Err(e)) => e,
        Ok(Ok(v)) => panic!("{what} succeeded on a dead runtime's socket: {v:?}"),
        Err(_) => panic!("{what} hung instead of failing at once"),
    };
    assert!(
        started.elapsed() < LIMIT / 2,
        "{what} should fail at once, took {:?}",
        started.elapsed()
    );
    err
}

fn assert_names_the_shut_down(err: &std::io::Error) {
    assert_eq!(err.kind(), ErrorKind::Other, "{err}");
    assert!(
        err.to_string().contains("runtime") && err.to_string().contains("shut down"),
        "the error should name the runtime that shut down: {err}"
    );
}

#[test]
fn accept_on_a_listener_whose_runtime_was_dropped_fails_at_once() {
    let mut first = Runtime::new().unwrap();
    let listener = first.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    drop(first);
    let err = fails_in_a_new_runtime("accept", listener.accept());
    assert_names_the_shut_down(&err);
}

#[test]
fn accept_with_a_connection_pending_on_a_dead_runtimes_listener_fails_at_once() {
    let mut first = Runtime::new().unwrap();
    let listener = first.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    drop(first);
    // A plain std client: the connection waits in the backlog.
    let _client = std::net::TcpStream::connect(addr).unwrap();
    let err = fails_in_a_new_runtime("accept", listener.accept());
    assert_names_the_shut_down(&err);
}

#[test]
fn reading_a_stream_whose_runtime_was_dropped_fails_at_once() {
    let mut first = Runtime::new().unwrap();
    let (mut client, _server) = first.block_on(connected_pair());
    drop(first);
    let err = fails_in_a_new_runtime("read", async {
        let mut buf = [0u8; 16];
        client.read(&mut buf).await
    });
    assert_names_the_shut_down(&err);
    let err = fails_in_a_new_runtime("readable", client.readable());
    assert_names_the_shut_down(&err);
}

/// Wakes a thread parked in [`block_on_thread`].
struct ThreadWaker(std::thread::Thread);

impl std::task::Wake for ThreadWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread, outside any runtime, parking between
/// wakes; `None` if it is still pending after [`LIMIT`].
fn block_on_thread<F: std::future::Future>(future: F) -> Option<F::Output> {
    let waker = std::task::Waker::from(std::sync::Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    let deadline = Instant::now() + LIMIT;
    while Instant::now() < deadline {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
        std::thread::park_timeout(deadline.saturating_duration_since(Instant::now()));
    }
    None
}

#[test]
fn a_waiter_on_a_socket_whose_runtime_is_dropped_meanwhile_is_woken_with_the_error() {
    let mut first = Runtime::new().unwrap();
    let (client, server) = first.block_on(connected_pair());
    // Another thread, outside any runtime, waits on the socket while its
    // runtime is alive; then the runtime is dropped.
    let (started, waiting) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        block_on_thread(async move {
            let readable = client.readable();
            let mut readable = std::pin::pin!(readable);
            let first = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(readable.as_mut().poll(cx).is_pending())
            })
            .await;
            assert!(first, "nothing was sent: the first poll waits");
            started.send(()).unwrap();
            readable.await
        })
    });
    waiting
        .recv_timeout(LIMIT)
        .expect("the waiter thread started waiting");
    drop(first);
    match waiter.join().unwrap() {
        Some(Err(e)) => assert_names_the_shut_down(&e),
        Some(Ok(())) => panic!("no byte was sent: readable() should fail, not succeed"),
        None => panic!("the runtime's drop should have woken the waiter with an error"),
    }
    drop(server);
}

#[test]
fn a_socket_of_a_live_runtime_used_inside_another_fails_at_once() {
    let mut first = Runtime::new().unwrap();
    let listener = first.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    // `first` lives on but does not run: nothing would ever wake the accept.
    let err = fails_in_a_new_runtime("accept", listener.accept());
    assert_eq!(err.kind(), ErrorKind::Other, "{err}");
    assert!(
        err.to_string().contains("another ferrio runtime"),
        "the error should say the socket belongs to another runtime: {err}"
    );
    drop(first);
}

#[test]
fn receiving_on_a_udp_socket_whose_runtime_was_dropped_fails_at_once() {
    let mut first = Runtime::new().unwrap();
    let socket = first.block_on(UdpSocket::bind("127.0.0.1:0")).unwrap();
    drop(first);
    let err = fails_in_a_new_runtime("recv_from", async {
        let mut buf = [0u8; 16];
        socket.recv_from(&mut buf).await
    });
    assert_names_the_shut_down(&err);
}

#[test]
fn a_sleep_armed_in_a_dropped_runtime_completes_at_its_deadline_in_the_next() {
    let started = Instant::now();
    let mut nap = Box::pin(sleep(Duration::from_millis(200)));
    let mut first = Runtime::new().unwrap();
    let early = first.block_on(timeout(Duration::from_millis(10), nap.as_mut()));
    assert!(early.is_err(), "the sleep was armed and had not fired yet");
    drop(first);
    ferrio::run(timeout(LIMIT, nap)).expect("the sleep completes");
    // (The timeout's own timer polls it again after LIMIT: completing only
    // then would mean the sleep's timer stayed on the dead reactor.)
    assert!(
        started.elapsed() < LIMIT / 2,
        "the sleep should move to the running runtime and fire at its deadline, took {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "never before its deadline"
    );
}

#[test]
fn a_sleep_armed_in_one_live_runtime_completes_when_polled_in_another() {
    let started = Instant::now();
    let mut nap = Box::pin(sleep(Duration::from_millis(100)));
    let mut first = Runtime::new().unwrap();
    let early = first.block_on(timeout(Duration::from_millis(10), nap.as_mut()));
    assert!(early.is_err(), "the sleep was armed and had not fired yet");
    // `first` lives on but does not run; its timers would never fire.
    ferrio::run(timeout(LIMIT, nap)).expect("the sleep completes");
    assert!(
        started.elapsed() < LIMIT / 2,
        "the sleep should move to the running runtime and fire at its deadline, took {:?}",
        started.elapsed()
    );
    drop(first);
}

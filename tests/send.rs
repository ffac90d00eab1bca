//! Every public future (and handle) a user stores is `Send` when its inputs
//! are: checked here at compile time, so a change that makes one `!Send`
//! fails the build of this test. Nothing here runs a future; the few tests
//! that build a value do so inside a runtime only where construction needs it.

use std::time::Duration;

use ferrio::sync::{
    broadcast, mpsc, watch, BoundedSemaphore, Condition, Event, LifoQueue, Mutex, PriorityQueue,
    Queue, RwLock, Semaphore,
};
use ferrio::time::{Instant, Interval, Sleep, Timeout, TimeoutHandle, TimeoutScope};
use ferrio::{AsCompleted, Handle, JoinError, JoinHandle, JoinSet, TaskGroup, TimerHandle};

fn assert_send<T: Send>() {}
fn assert_send_sync<T: Send + Sync>() {}
fn is_send<T: Send>(_: &T) {}

type Ready = std::future::Ready<u8>;

#[test]
fn stored_future_and_handle_types_are_send() {
    assert_send::<JoinHandle<u8>>();
    assert_send::<Sleep>();
    assert_send::<Timeout<Ready>>();
    assert_send::<TimeoutScope<Ready>>();
    assert_send_sync::<TimeoutHandle>();
    assert_send::<Interval>();
    assert_send::<JoinSet<u8>>();
    assert_send::<TaskGroup<u8, String>>();
    assert_send_sync::<ferrio::TaskGroupSpawner<u8, String>>();
    assert_send::<AsCompleted<Ready>>();
    assert_send_sync::<Handle>();
    assert_send::<TimerHandle>();
    assert_send::<JoinError>();
    assert_send_sync::<Queue<u8>>();
    assert_send_sync::<LifoQueue<u8>>();
    assert_send_sync::<PriorityQueue<u8>>();
    assert_send_sync::<Event>();
    assert_send_sync::<Condition<u8>>();
    assert_send_sync::<BoundedSemaphore>();
    assert_send_sync::<Mutex<u8>>();
    assert_send_sync::<RwLock<u8>>();
    assert_send_sync::<Semaphore>();
    assert_send_sync::<mpsc::Sender<u8>>();
    assert_send_sync::<mpsc::Receiver<u8>>();
    assert_send_sync::<broadcast::Sender<u8>>();
    assert_send_sync::<broadcast::Receiver<u8>>();
    assert_send_sync::<watch::Sender<u8>>();
    assert_send_sync::<watch::Receiver<u8>>();
    assert_send::<ferrio::sync::oneshot::Receiver<u8>>();
    assert_send::<ferrio::net::TcpStream>();
}

/// The futures of `async fn`s have no name: build them (without polling)
/// and check the values.
#[test]
fn async_fn_futures_are_send() {
    ferrio::run(async {
        let queue = Queue::<u8>::new();
        is_send(&queue.get());
        is_send(&queue.put(1));
        is_send(&queue.join());
        let lifo = LifoQueue::<u8>::new();
        is_send(&lifo.get());
        let prio = PriorityQueue::<u8>::new();
        is_send(&prio.put(1));

        let event = Event::new();
        is_send(&event.wait());
        let cond = Condition::new(0u8);
        is_send(&cond.lock());
        let guard = cond.lock().await;
        is_send(&cond.wait(guard));
        let sem = BoundedSemaphore::new(1);
        is_send(&sem.acquire());
        let mutex = Mutex::new(0u8);
        is_send(&mutex.lock());
        let rwlock = RwLock::new(0u8);
        is_send(&rwlock.read());
        is_send(&rwlock.write());
        let semaphore = Semaphore::new(1);
        is_send(&semaphore.acquire());
        is_send(&semaphore.acquire_arc());

        let (tx, rx) = mpsc::channel::<u8>(1);
        is_send(&tx.send(1));
        is_send(&rx.recv());
        let (btx, mut brx) = broadcast::channel::<u8>(1);
        is_send(&btx.broadcast(1));
        is_send(&brx.recv());
        let (wtx, mut wrx) = watch::channel(0u8);
        is_send(&wtx.closed());
        is_send(&wrx.changed());
        is_send(&wrx.wait_for(|v| *v > 0));

        let mut set = JoinSet::<u8>::new();
        is_send(&set.join_next());
        let group = TaskGroup::<u8, String>::new();
        is_send(&group.join());
        let handles: Vec<JoinHandle<u8>> = Vec::new();
        is_send(&ferrio::wait(
            handles,
            ferrio::ReturnWhen::AllCompleted,
            None,
        ));
        is_send(&ferrio::select(async { 1 }, async { 2 }));
        is_send(&ferrio::gather([async { 1 }]));
        is_send(&ferrio::time::timeout(Duration::from_secs(1), async { 1 }));
        is_send(&ferrio::time::sleep_until(Instant::now()));
        is_send(&ferrio::net::TcpStream::connect("127.0.0.1:9"));
        is_send(&ferrio::net::TcpListener::bind("127.0.0.1:0"));
        let scope = ferrio::time::timeout_scope(Duration::from_secs(1), |_cm| async { 1 });
        is_send(&scope);
    });
}

/// Signals, child processes, Unix sockets and files (`#[cfg(unix)]` where
/// they are Unix-only).
#[test]
fn os_types_and_futures_are_send() {
    #[cfg(unix)]
    {
        assert_send_sync::<ferrio::signal::SignalKind>();
        assert_send::<ferrio::signal::Signal>();
        assert_send::<ferrio::process::Command>();
        assert_send::<ferrio::process::Child>();
        assert_send::<ferrio::process::ChildStdin>();
        assert_send::<ferrio::process::ChildStdout>();
        assert_send::<ferrio::process::ChildStderr>();
        assert_send_sync::<ferrio::net::UnixStream>();
        assert_send_sync::<ferrio::net::UnixListener>();
        assert_send_sync::<ferrio::net::UnixDatagram>();
        assert_send::<ferrio::net::UnixOwnedReadHalf>();
        assert_send::<ferrio::net::UnixOwnedWriteHalf>();
    }
    assert_send::<ferrio::fs::File>();
    assert_send::<ferrio::fs::ReadDir>();
    assert_send_sync::<ferrio::fs::DirEntry>();
    assert_send_sync::<ferrio::fs::OpenOptions>();
    ferrio::run(async {
        #[cfg(unix)]
        {
            let mut usr2 = ferrio::signal::signal(ferrio::signal::SignalKind::user_defined2())
                .expect("SIGUSR2 can be listened for");
            is_send(&usr2.recv());
            is_send(&ferrio::signal::ctrl_c());
            let mut command = ferrio::process::Command::new("true");
            is_send(&command.output());
            let mut child = command.spawn().expect("true runs");
            is_send(&child.wait());
            is_send(&child.kill());
            is_send(&ferrio::net::UnixStream::connect("/nonexistent"));
            let (a, _b) = ferrio::net::UnixDatagram::pair().expect("socketpair");
            is_send(&a.send(b"x"));
            let listener = ferrio::net::UnixListener::bind(
                std::env::temp_dir().join(format!("ferrio-send-{}.sock", std::process::id())),
            );
            if let Ok(listener) = &listener {
                is_send(&listener.accept());
                let _ = std::fs::remove_file(listener.local_addr().unwrap().as_pathname().unwrap());
            }
            is_send(&child.communicate(b""));
        }
        is_send(&ferrio::fs::read("/nonexistent"));
        is_send(&ferrio::fs::write("/nonexistent", "x"));
        is_send(&ferrio::fs::read_dir("/"));
        is_send(&ferrio::fs::File::open("/nonexistent"));
    });
}

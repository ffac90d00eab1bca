//! `ferrio::Handle` (asyncio's `get_running_loop()`): spawning and scheduling
//! callbacks onto the loop from inside it and from other threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrio::time::Instant;

use ferrio::time::{sleep, timeout};
use ferrio::Handle;

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn handle_current_exists_only_inside_a_runtime() {
    assert!(Handle::try_current().is_none());
    let caught = std::panic::catch_unwind(Handle::current).unwrap_err();
    let message = caught
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| caught.downcast_ref::<String>().map(String::as_str))
        .unwrap();
    assert!(message.contains("outside a ferrio runtime"), "{message}");
    ferrio::run(async { assert!(Handle::try_current().is_some()) });
}

#[test]
fn a_thread_spawns_onto_the_loop_through_the_handle() {
    // One worker: the loop is this thread (tests/workers.rs covers several).
    let mut rt = ferrio::Runtime::builder().workers(1).build().unwrap();
    rt.block_on(async {
        let handle = Handle::current();
        let loop_thread = std::thread::current().id();
        let task =
            std::thread::spawn(move || handle.spawn(async move { std::thread::current().id() }))
                .join()
                .unwrap();
        let ran_on = timeout(LIMIT, task)
            .await
            .expect("a task spawned from a thread runs on the loop")
            .unwrap();
        assert_eq!(ran_on, loop_thread);
    });
}

#[test]
fn call_soon_from_a_thread_runs_the_callback_on_the_loop() {
    // One worker: the loop is this thread (several workers run callbacks on
    // any of theirs: tests/workers.rs).
    let mut rt = ferrio::Runtime::builder().workers(1).build().unwrap();
    rt.block_on(async {
        let handle = Handle::current();
        let (tx, rx) = ferrio::sync::oneshot::channel();
        std::thread::spawn(move || {
            handle.call_soon(move || tx.send(std::thread::current().id()).unwrap());
        });
        let ran_on = timeout(LIMIT, rx)
            .await
            .expect("call_soon's callback ran")
            .unwrap();
        assert_eq!(ran_on, std::thread::current().id());
    });
}

#[test]
fn call_later_and_call_at_fire_no_earlier_than_due() {
    ferrio::run(async {
        let handle = Handle::current();
        let fired = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        let later = handle.call_later(Duration::from_millis(30), {
            let fired = fired.clone();
            move || fired.lock().unwrap().push(("later", Instant::now()))
        });
        let at = handle.call_at(start + Duration::from_millis(10), {
            let fired = fired.clone();
            move || fired.lock().unwrap().push(("at", Instant::now()))
        });
        assert!(later.when() >= start + Duration::from_millis(30));
        assert!(timeout(LIMIT, at.finished()).await.expect("call_at fired"));
        assert!(timeout(LIMIT, later.finished())
            .await
            .expect("call_later fired"));
        let fired = fired.lock().unwrap();
        assert_eq!(
            fired.iter().map(|f| f.0).collect::<Vec<_>>(),
            ["at", "later"]
        );
        assert!(fired[0].1 >= start + Duration::from_millis(10));
        assert!(fired[1].1 >= start + Duration::from_millis(30));
    });
}

#[test]
fn a_cancelled_call_never_runs() {
    ferrio::run(async {
        let ran = Arc::new(AtomicBool::new(false));
        let call = Handle::current().call_later(Duration::from_millis(10), {
            let ran = ran.clone();
            move || ran.store(true, Ordering::SeqCst)
        });
        call.cancel();
        sleep(Duration::from_millis(40)).await;
        assert!(call.is_finished());
        assert!(!ran.load(Ordering::SeqCst));
        assert!(
            !timeout(LIMIT, call.finished()).await.unwrap(),
            "reported as cancelled"
        );
    });
}

#[test]
fn a_runtime_handle_spawns_before_and_across_block_on() {
    let mut rt = ferrio::Runtime::new().unwrap();
    let handle = rt.handle();
    let task = std::thread::spawn(move || handle.spawn(async { 6 * 7 }))
        .join()
        .unwrap();
    assert_eq!(rt.block_on(task).unwrap(), 42);
    let handle = rt.handle();
    let (tx, rx) = ferrio::sync::oneshot::channel();
    handle.call_later(Duration::from_millis(5), move || tx.send(()).unwrap());
    rt.block_on(async {
        timeout(LIMIT, rx)
            .await
            .expect("the call scheduled before block_on fires during it")
            .unwrap()
    });
}

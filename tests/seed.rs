//! The seeded scheduler through the public API (docs/testing.md, "Seeds and
//! shuffles"): `Builder::seed`, `#[ferrio::test(seed = ..)]`,
//! `#[ferrio::test(shuffle = ..)]`, `ferrio::testing`. Every run has a
//! deadline of its own: a runtime built here runs its body under
//! `ferrio::time::timeout`, a macro test has `timeout_ms`.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::process::Command;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use ferrio::time::timeout;

/// Generous: every run here takes milliseconds.
const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `body` on a runtime from `builder`, under the deadline.
fn run_on<F: Future>(builder: ferrio::Builder, body: F) -> F::Output {
    let mut rt = builder.build().unwrap();
    // Woken when `body` completes; the timeout only if the loop hangs.
    rt.block_on(timeout(DEADLINE, body))
        .expect("the run finishes well within its deadline")
}

/// Whether `FERRIO_SEED` seeds the runtimes of this process (then a test
/// of the default order has nothing to check).
fn env_seeded() -> bool {
    std::env::var_os("FERRIO_SEED").is_some()
}

/// Six tasks that each take five steps (yielding between them); the order
/// in which the steps ran, as task numbers.
async fn poll_order() -> Vec<usize> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let log = log.clone();
            ferrio::spawn_local(async move {
                for _ in 0..5 {
                    log.borrow_mut().push(i);
                    ferrio::yield_now().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let order = log.borrow().clone();
    order
}

fn seeded(seed: u64) -> ferrio::Builder {
    ferrio::Runtime::builder().seed(seed)
}

#[test]
fn without_a_seed_the_order_is_first_in_first_out() {
    if env_seeded() {
        return;
    }
    let order = run_on(ferrio::Runtime::builder(), poll_order());
    let round_robin: Vec<usize> = (0..5).flat_map(|_| 0..6).collect();
    assert_eq!(order, round_robin);
}

#[test]
fn the_same_seed_gives_the_same_poll_order_twenty_times() {
    let first = run_on(seeded(12_345), poll_order());
    for _ in 0..19 {
        assert_eq!(run_on(seeded(12_345), poll_order()), first);
    }
    // Every step ran, in an order that is not the FIFO one.
    assert_eq!(first.len(), 30);
    let round_robin: Vec<usize> = (0..5).flat_map(|_| 0..6).collect();
    assert_ne!(first, round_robin);
}

#[test]
fn different_seeds_give_different_poll_orders() {
    let orders: Vec<Vec<usize>> = (1..=10)
        .map(|seed| run_on(seeded(seed), poll_order()))
        .collect();
    let mut distinct = orders.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        orders.len(),
        "ten seeds, ten orders: {orders:?}"
    );
}

#[test]
fn the_main_future_takes_its_turn_among_the_ready_tasks() {
    // Main yields while a task is ready: in FIFO order the task always runs
    // first; under seeds, main sometimes goes first.
    let main_first = |builder: ferrio::Builder| {
        run_on(builder, async {
            let ran = Rc::new(Cell::new(false));
            let task = ferrio::spawn_local({
                let ran = ran.clone();
                async move { ran.set(true) }
            });
            // Ready again at once: the task and main are both ready.
            ferrio::yield_now().await;
            let first = !ran.get();
            task.await.unwrap();
            first
        })
    };
    if !env_seeded() {
        assert!(!main_first(ferrio::Runtime::builder()));
    }
    let firsts = (1..=40).filter(|&seed| main_first(seeded(seed))).count();
    assert!(
        firsts > 0 && firsts < 40,
        "main went first under {firsts} of 40 seeds"
    );
}

/// Records the order in which wakers are woken.
struct Recorder {
    index: usize,
    woken: Arc<Mutex<Vec<usize>>>,
}

impl Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.woken.lock().unwrap().push(self.index);
    }
}

/// Eight timers that expire together (the same deadline, on a paused
/// clock); the order in which the reactor delivered them.
async fn timer_delivery_order() -> Vec<usize> {
    let woken = Arc::new(Mutex::new(Vec::new()));
    // Before `run_on`'s deadline, which is on the same paused clock here
    // (there it still ends a hang: an idle loop jumps to it).
    let deadline = ferrio::time::Instant::now() + Duration::from_secs(1);
    let mut sleeps: Vec<Pin<Box<ferrio::time::Sleep>>> = Vec::new();
    for index in 0..8 {
        let mut sleep = Box::pin(ferrio::time::sleep_until(deadline));
        let waker = Waker::from(Arc::new(Recorder {
            index,
            woken: woken.clone(),
        }));
        // Armed with the recording waker: pending, the deadline is ahead.
        assert!(sleep
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        sleeps.push(sleep);
    }
    // Woken by the clock's jump to the shared deadline, with the eight.
    ferrio::time::sleep_until(deadline).await;
    let order = woken.lock().unwrap().clone();
    order
}

#[test]
fn timers_that_expire_together_are_delivered_in_a_seeded_order() {
    let paused = |builder: ferrio::Builder| builder.start_paused(true);
    if !env_seeded() {
        // Unseeded: in the order they were armed.
        let order = run_on(paused(ferrio::Runtime::builder()), timer_delivery_order());
        assert_eq!(order, (0..8).collect::<Vec<_>>());
    }
    let first = run_on(paused(seeded(77)), timer_delivery_order());
    let mut sorted = first.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (0..8).collect::<Vec<_>>(),
        "each timer delivered once"
    );
    for _ in 0..5 {
        assert_eq!(run_on(paused(seeded(77)), timer_delivery_order()), first);
    }
    let orders: Vec<_> = (1..=5)
        .map(|seed| run_on(paused(seeded(seed)), timer_delivery_order()))
        .collect();
    assert!(
        orders.iter().any(|o| *o != first) && orders.iter().any(|o| *o != orders[0]),
        "other seeds, other orders: {first:?} {orders:?}"
    );
}

#[test]
fn a_seed_with_several_workers_is_refused_and_the_seed_is_reported() {
    let err = seeded(1).workers(2).build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("one-worker"), "{err}");
    let rt = seeded(9).build().unwrap();
    assert_eq!(rt.seed(), Some(9));
    assert_eq!(rt.workers(), 1);
}

// The race, as a user would write it: a balance that two tasks update.
// `deposit` reads it, awaits something (here a yield: a log write, a
// round trip), and writes back; `charge_fee` yields once first, "so the
// deposit lands first", then does the same. In FIFO order the deposit
// finishes before the fee reads; in another order both read the same
// balance and one update is lost.

async fn deposit(balance: Rc<Cell<u64>>, amount: u64) {
    let read = balance.get();
    ferrio::yield_now().await; // e.g. writing an audit log line
    balance.set(read + amount);
}

async fn charge_fee(balance: Rc<Cell<u64>>, fee: u64) {
    ferrio::yield_now().await; // "let the deposit finish first"
    let read = balance.get();
    ferrio::yield_now().await;
    balance.set(read - fee);
}

async fn deposit_then_fee() {
    let balance = Rc::new(Cell::new(100));
    let d = ferrio::spawn_local(deposit(balance.clone(), 50));
    let f = ferrio::spawn_local(charge_fee(balance.clone(), 10));
    d.await.unwrap();
    f.await.unwrap();
    assert_eq!(balance.get(), 140, "an update was lost");
}

#[test]
fn the_shuffle_finds_the_lost_update_and_its_seed_replays_it() {
    if !env_seeded() {
        // The default order passes: the bug hides.
        run_on(ferrio::Runtime::builder(), deposit_then_fee());
    }
    let failure = ferrio::testing::find_failing_seed(100, || async {
        timeout(DEADLINE, deposit_then_fee()).await.unwrap()
    })
    .expect("some order within 100 seeds loses an update");
    assert!(
        failure.message().contains("an update was lost"),
        "{failure}"
    );
    assert!(failure
        .to_string()
        .contains(&format!("seed = {}", failure.seed())));
    // The replay fails again, every time; the seed before it passed.
    for _ in 0..3 {
        let replay = catch_unwind(AssertUnwindSafe(|| {
            run_on(seeded(failure.seed()), deposit_then_fee())
        }));
        assert!(
            replay.is_err(),
            "seed {} replays the failure",
            failure.seed()
        );
    }
    if failure.seed() > 1 {
        run_on(seeded(failure.seed() - 1), deposit_then_fee());
    }
}

#[ferrio::test(shuffle = 100, timeout_ms = 20_000)]
#[should_panic(expected = "failed under seed")]
async fn shuffle_fails_the_racy_test_naming_the_seed() {
    deposit_then_fee().await;
}

#[ferrio::test(shuffle = 30, timeout_ms = 20_000)]
async fn shuffle_passes_a_test_without_a_race() {
    // The same tasks, with each read-and-write in one step: no order loses one.
    let balance = Rc::new(Cell::new(100));
    let d = ferrio::spawn_local({
        let b = balance.clone();
        async move {
            ferrio::yield_now().await;
            b.set(b.get() + 50);
        }
    });
    let f = ferrio::spawn_local({
        let b = balance.clone();
        async move {
            ferrio::yield_now().await;
            b.set(b.get() - 10);
        }
    });
    d.await.unwrap();
    f.await.unwrap();
    assert_eq!(balance.get(), 140);
}

#[ferrio::test(seed = 5, timeout_ms = 20_000)]
async fn a_seeded_test_runs_on_a_seeded_one_worker_runtime() {
    // Poll order under this seed is the same as a `Builder::seed(5)` run's.
    let order = poll_order().await;
    let again = std::thread::spawn(|| run_on(seeded(5), poll_order()))
        .join()
        .unwrap();
    assert_eq!(order, again);
}

#[ferrio::test(shuffle = 3, timeout_ms = 20_000)]
async fn a_shuffled_test_may_return_a_result() -> Result<(), std::io::Error> {
    ferrio::yield_now().await;
    Ok(())
}

/// Set in the child process: run the failing seeded test.
const CHILD: &str = "FERRIO_SEED_TEST_CHILD";

#[ferrio::test(seed = 4242, timeout_ms = 20_000)]
async fn child_fails_under_seed_4242() {
    if std::env::var_os(CHILD).is_some() {
        panic!("failing on purpose");
    }
}

#[test]
fn a_failing_seeded_test_prints_its_seed() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_fails_under_seed_4242",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ferrio: test failed with FERRIO_SEED=4242"),
        "stderr: {stderr}"
    );
}

//! An ordering bug that FIFO hides, found with a seeded shuffle and
//! replayed with its seed (docs/testing.md, "Seeds and shuffles").
//!
//! `charge_fee` yields once "so that the deposit lands first". In ferrio's
//! (and asyncio's) FIFO order it does, and the balance is right; under some
//! other order both tasks read the same balance and one update is lost.
//!
//! ```text
//! $ cargo run --example race
//! default order: balance 140
//! ... (the failing run's panic message)
//! failed under seed N: an update was lost ...; replay it with #[ferrio::test(seed = N)], Builder::seed(N) or FERRIO_SEED=N
//! replaying seed N: fails again
//! ```

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

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

/// Both updates, concurrently; the balance they leave.
async fn deposit_and_fee() -> u64 {
    let balance = Rc::new(Cell::new(100));
    let d = ferrio::spawn_local(deposit(balance.clone(), 50));
    let f = ferrio::spawn_local(charge_fee(balance.clone(), 10));
    d.await.unwrap();
    f.await.unwrap();
    balance.get()
}

/// The check a test would make, with a deadline: woken when both tasks end.
async fn checked() {
    let balance = ferrio::time::timeout(Duration::from_secs(10), deposit_and_fee())
        .await
        .expect("two short tasks finish");
    assert_eq!(balance, 140, "an update was lost");
}

fn main() {
    // The default order passes.
    let balance = ferrio::run(deposit_and_fee());
    println!("default order: balance {balance}");

    // Other orders do not.
    let Some(failure) = ferrio::testing::find_failing_seed(100, checked) else {
        println!("no seed of 1..=100 loses an update");
        return;
    };
    println!("{failure}");

    // The seed replays it: the same order, the same failure.
    let replay = std::panic::catch_unwind(|| {
        let mut rt = ferrio::Runtime::builder()
            .seed(failure.seed())
            .build()
            .unwrap();
        rt.block_on(checked());
    });
    let verdict = if replay.is_err() {
        "fails again"
    } else {
        "passed (?)"
    };
    println!("replaying seed {}: {verdict}", failure.seed());
}

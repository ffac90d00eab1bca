//! The asyncio primer's notebook cells on tasks, ported (seed 003): awaiting a
//! coroutine runs it to completion before going on; a task made with
//! `create_task` (`ferrio::spawn`) starts only when the code that created it
//! yields to the loop; a task prints as pending until it is done; awaiting a
//! task gives its value.
//!
//! A notebook keeps one event loop running across cells, so this example keeps
//! one [`ferrio::Runtime`] and runs each cell's `main` with `block_on`: a task a
//! cell leaves behind goes on running, as it does in Jupyter.
//!
//! ```text
//! $ cargo run --example tasks
//! == In [8]: await foo() runs foo to completion first ==
//! hello there!
//! text
//! All done!
//!
//! == In [14]: create_task, and main does not wait ==
//! hello there!
//! All done!
//! text
//!
//! == In [15]: create_task, then main sleeps 2 s ==
//! hello there!
//! text
//! All done!
//!
//! == In [19]: a task prints as pending ==
//! <Task pending id=3>
//! Start fetching
//!
//! == In [20]: awaiting a task gives its value ==
//! Start fetching
//! {"data": 1}
//! ```

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use ferrio::time::sleep;
use ferrio::Runtime;

async fn foo() {
    println!("text");
    sleep(Duration::from_secs(1)).await;
}

/// In [8]: `await foo()` inside `main`.
async fn main_awaits_foo() {
    println!("hello there!");
    foo().await;
    println!("All done!");
}

/// In [14]: the task is created, but `main` never yields before it ends.
async fn main_creates_task() {
    println!("hello there!");
    let _task = ferrio::spawn(foo());
    println!("All done!");
}

/// In [15]: `main` sleeps, and the loop runs the task meanwhile.
async fn main_creates_task_and_sleeps() {
    println!("hello there!");
    let _task = ferrio::spawn(foo());
    sleep(Duration::from_secs(2)).await;
    println!("All done!");
}

async fn fetch_data() -> BTreeMap<&'static str, i32> {
    println!("Start fetching");
    sleep(Duration::from_secs(2)).await;
    BTreeMap::from([("data", 1)])
}

/// In [19]: printing the task, not its value.
async fn main_prints_task() {
    let task1 = ferrio::spawn(fetch_data());
    println!("{task1:?}");
}

/// In [20]: awaiting the task for its value.
async fn main_awaits_task() {
    let task1 = ferrio::spawn(fetch_data());
    let value = task1.await.expect("fetch_data does not panic");
    println!("{value:?}");
}

/// Runs one notebook cell on the loop that outlives it.
fn cell(rt: &mut Runtime, heading: &str, main: impl Future<Output = ()>) {
    println!("== {heading} ==");
    rt.block_on(main);
    // The notebook's loop does not stop when the cell's coroutine returns:
    // tasks the cell made ready take their turn, and print under the cell.
    rt.block_on(ferrio::yield_now());
    println!();
}

fn main() {
    env_logger::init();
    let mut rt = Runtime::new().expect("cannot create the event loop");
    cell(
        &mut rt,
        "In [8]: await foo() runs foo to completion first",
        main_awaits_foo(),
    );
    cell(
        &mut rt,
        "In [14]: create_task, and main does not wait",
        main_creates_task(),
    );
    cell(
        &mut rt,
        "In [15]: create_task, then main sleeps 2 s",
        main_creates_task_and_sleeps(),
    );
    cell(
        &mut rt,
        "In [19]: a task prints as pending",
        main_prints_task(),
    );
    cell(
        &mut rt,
        "In [20]: awaiting a task gives its value",
        main_awaits_task(),
    );
}

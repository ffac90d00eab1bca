//! "AsyncIO About", ported: three coroutines that sleep 2 s, 1 s and 3 s,
//! awaited together. They all start at once and finish in order of their
//! sleeps, yet the results come back in the order they were passed, like
//! `asyncio.gather`; the whole takes a bit over 3 s, not 6 s.
//!
//! ```text
//! $ cargo run --example gather
//! A: started
//! B: started
//! C: started
//! B: finished
//! A: finished
//! C: finished
//! Result: ["a", "b", "c"]
//! ```

use std::time::Duration;

use ferrio::time::sleep;

async fn a() -> &'static str {
    println!("A: started");
    sleep(Duration::from_secs(2)).await;
    println!("A: finished");
    "a"
}

async fn b() -> &'static str {
    println!("B: started");
    sleep(Duration::from_secs(1)).await;
    println!("B: finished");
    "b"
}

async fn c() -> &'static str {
    println!("C: started");
    sleep(Duration::from_secs(3)).await;
    println!("C: finished");
    "c"
}

async fn main_async() {
    // `join!` is `gather` for futures of different types: a tuple, in input order.
    let (a, b, c) = ferrio::join!(a(), b(), c());
    let result = [a, b, c];
    println!("Result: {result:?}");
}

fn main() {
    env_logger::init();
    ferrio::run(main_async());
}

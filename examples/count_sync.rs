//! countsync.py, ported: the synchronous count. `std::thread::sleep` blocks the
//! whole thread, so nothing overlaps and three counts take about three seconds
//! (compare `count_async`, which takes one).
//!
//! ```text
//! $ cargo run --example count_sync
//! One
//! Two
//! One
//! Two
//! One
//! Two
//! count_sync executed in 3.00 seconds.
//! ```

use std::time::{Duration, Instant};

fn count() {
    println!("One");
    std::thread::sleep(Duration::from_secs(1));
    println!("Two");
}

fn main() {
    env_logger::init();
    let s = Instant::now();
    for _ in 0..3 {
        count();
    }
    let elapsed = s.elapsed().as_secs_f64();
    println!(
        "{} executed in {elapsed:0.2} seconds.",
        env!("CARGO_CRATE_NAME")
    );
}

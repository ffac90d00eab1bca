//! countasync.py, ported: three counts run concurrently on one thread, so the
//! three one-second sleeps overlap and the program takes about one second.
//!
//! ```text
//! $ cargo run --example count_async
//! One
//! One
//! One
//! Two
//! Two
//! Two
//! count_async executed in  1.00 seconds.
//! ```

use std::time::{Duration, Instant};

async fn count() {
    println!("One");
    ferrio::time::sleep(Duration::from_secs(1)).await;
    println!("Two");
}

async fn main_async() {
    ferrio::join!(count(), count(), count());
}

fn main() {
    env_logger::init();
    let s = Instant::now();
    ferrio::run(main_async());
    let elapsed = s.elapsed().as_secs_f64();
    println!(
        "{} executed in {elapsed: >5.2} seconds.",
        env!("CARGO_CRATE_NAME")
    );
}

//! rand.py, ported: three coroutines each draw random integers in 0..=10 until
//! one beats their threshold, sleeping `idx + 1` seconds between draws, each in
//! its own ANSI colour. Seeded with 444 on a generator that draws exactly like
//! Python's `random`, so it prints the very numbers rand.py prints, in the same
//! order (about 12 s; `--scale 0.1` shrinks the sleeps tenfold).
//!
//! ```text
//! $ cargo run --example makerandom
//! Initiated makerandom(0).                  (cyan)
//! makerandom(0) == 4 too low; retrying.
//! Initiated makerandom(1).                  (red)
//! makerandom(1) == 4 too low; retrying.
//! Initiated makerandom(2).                  (magenta)
//! makerandom(2) == 0 too low; retrying.
//! makerandom(0) == 4 too low; retrying.
//! makerandom(1) == 7 too low; retrying.
//! makerandom(0) == 4 too low; retrying.
//! makerandom(2) == 4 too low; retrying.
//! makerandom(0) == 8 too low; retrying.
//! ---> Finished: makerandom(1) == 10
//! ...
//! ---> Finished: makerandom(2) == 9
//! ...
//! ---> Finished: makerandom(0) == 10
//!
//! r1: 10, r2: 10, r3: 9
//! ```

#[path = "common/pyrandom.rs"]
mod pyrandom;

use std::sync::Mutex;
use std::time::Duration;

use pyrandom::Random;

#[path = "common/cli.rs"]
mod cli;

/// ANSI colours: end of colour, cyan, red, magenta.
const C: [&str; 4] = ["\x1b[0m", "\x1b[36m", "\x1b[91m", "\x1b[35m"];

/// Python's module-level generator after `random.seed(444)`.
static RANDOM: Mutex<Random> = Mutex::new(Random::new(444));

fn randint(a: i64, b: i64) -> i64 {
    RANDOM.lock().unwrap().randint(a, b)
}

async fn makerandom(idx: usize, threshold: i64, scale: f64) -> i64 {
    let c = C[idx + 1];
    println!("{c}Initiated makerandom({idx}).");
    let mut i = randint(0, 10);
    while i <= threshold {
        println!("{c}makerandom({idx}) == {i} too low; retrying.");
        ferrio::time::sleep(Duration::from_secs_f64((idx + 1) as f64 * scale)).await;
        i = randint(0, 10);
    }
    println!("{c}---> Finished: makerandom({idx}) == {i}{}", C[0]);
    i
}

async fn main_async(scale: f64) -> Vec<i64> {
    // asyncio.gather wraps each coroutine in a task. Spawning does the same, so
    // when two sleeps end together the tasks resume in deadline order, as in
    // asyncio, and draw their numbers in the order rand.py draws them.
    let tasks = (0..3).map(|i| ferrio::spawn(makerandom(i, 10 - i as i64 - 1, scale)));
    ferrio::gather(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("makerandom does not panic"))
        .collect()
}

fn main() {
    env_logger::init();
    let mut cli = cli::Cli::from_env(
        "makerandom",
        "usage: makerandom [--scale SECONDS_PER_SECOND]",
    );
    let scale = cli.scale(true);
    cli.finish();
    let r = ferrio::run(main_async(scale));
    println!();
    println!("r1: {}, r2: {}, r3: {}", r[0], r[1], r[2]);
}

//! chained.py, ported: each chain awaits `part1` then feeds its result to
//! `part2`; each part sleeps a random 0..=10 s. The chains run concurrently, so
//! the program takes as long as the longest chain. Seeded with 444 on a
//! generator that draws exactly like Python's `random`: the same arguments
//! print the same lines as chained.py, in the same order.
//!
//! Arguments: none for chains 1 2 3, otherwise the chain numbers (integers).
//! `--scale S` (optional, first) multiplies every sleep by `S`; the default 1
//! is faithful to chained.py.
//!
//! ```text
//! $ cargo run --example chained
//! part1(1) sleeping for 4 seconds.
//! part1(2) sleeping for 4 seconds.
//! part1(3) sleeping for 0 seconds.
//! Returning part1(3) == result3-1.
//! part2(3, 'result3-1') sleeping for 4 seconds.
//! Returning part1(1) == result1-1.
//! part2(1, 'result1-1') sleeping for 7 seconds.
//! Returning part1(2) == result2-1.
//! part2(2, 'result2-1') sleeping for 4 seconds.
//! Returning part2(3, 'result3-1') == result3-2 derived from result3-1.
//! -->Chained result3 => result3-2 derived from result3-1 (took 4.00 seconds).
//! Returning part2(2, 'result2-1') == result2-2 derived from result2-1.
//! -->Chained result2 => result2-2 derived from result2-1 (took 8.00 seconds).
//! Returning part2(1, 'result1-1') == result1-2 derived from result1-1.
//! -->Chained result1 => result1-2 derived from result1-1 (took 11.00 seconds).
//! Program finished in 11.00 seconds.
//! ```

#[path = "common/pyrandom.rs"]
mod pyrandom;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use pyrandom::Random;

#[path = "common/cli.rs"]
mod cli;

/// Python's module-level generator after `random.seed(444)`.
static RANDOM: Mutex<Random> = Mutex::new(Random::new(444));

fn randint(a: i64, b: i64) -> i64 {
    RANDOM.lock().unwrap().randint(a, b)
}

/// `await asyncio.sleep(seconds)`, scaled. `asyncio.sleep(0)` still yields to
/// the loop once, which a zero-length ferrio `sleep` does not: use `yield_now`.
async fn asyncio_sleep(seconds: i64, scale: f64) {
    if seconds <= 0 {
        ferrio::yield_now().await;
    } else {
        ferrio::time::sleep(Duration::from_secs_f64(seconds as f64 * scale)).await;
    }
}

/// Python's `repr` of a `str`: single quotes unless the text holds a single
/// quote and no double quote, with backslashes, the quote and control
/// characters escaped.
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

async fn part1(n: i64, scale: f64) -> String {
    let i = randint(0, 10);
    println!("part1({n}) sleeping for {i} seconds.");
    asyncio_sleep(i, scale).await;
    let result = format!("result{n}-1");
    println!("Returning part1({n}) == {result}.");
    result
}

async fn part2(n: i64, arg: String, scale: f64) -> String {
    // Python formats the tuple `(n, arg)`: `arg` appears as its repr.
    let args = format!("({n}, {})", py_repr(&arg));
    let i = randint(0, 10);
    println!("part2{args} sleeping for {i} seconds.");
    asyncio_sleep(i, scale).await;
    let result = format!("result{n}-2 derived from {arg}");
    println!("Returning part2{args} == {result}.");
    result
}

async fn chain(n: i64, scale: f64) {
    let start = Instant::now();
    let p1 = part1(n, scale).await;
    let p2 = part2(n, p1, scale).await;
    let end = start.elapsed().as_secs_f64();
    println!("-->Chained result{n} => {p2} (took {end:0.2} seconds).");
}

async fn main_async(args: Vec<i64>, scale: f64) {
    // Like asyncio.gather, one task per chain: when sleeps end together the
    // chains resume in deadline order, as in asyncio.
    let tasks = args.into_iter().map(|n| ferrio::spawn(chain(n, scale)));
    for result in ferrio::gather(tasks).await {
        result.expect("a chain does not panic");
    }
}

/// `[--scale S] [N ...]`: the chain numbers (default 1 2 3) and the sleep scale.
fn parse_args() -> (Vec<i64>, f64) {
    let mut cli = cli::Cli::from_env(
        "chained",
        "usage: chained [--scale SECONDS_PER_SECOND] [N ...]",
    );
    let scale = cli.scale(true);
    let args = cli.rest();
    if args.is_empty() {
        return (vec![1, 2, 3], scale);
    }
    let numbers = args
        .iter()
        .map(|a| {
            // Python's int() accepts surrounding whitespace, a sign and underscores between digits.
            let digits = a.trim().replace('_', "");
            digits.parse::<i64>().unwrap_or_else(|_| {
                eprintln!("chained: invalid literal for int(): {}", py_repr(a));
                std::process::exit(2)
            })
        })
        .collect();
    (numbers, scale)
}

fn main() {
    env_logger::init();
    let (args, scale) = parse_args();
    let start = Instant::now();
    ferrio::run(main_async(args, scale));
    let end = start.elapsed().as_secs_f64();
    println!("Program finished in {end:0.2} seconds.");
}

//! Producers and consumers over a bounded queue, in the style of Real Python's
//! asyncq.py (from the tutorial of seed 001): each producer puts a random
//! number of random items, sleeping a random while before each; each consumer
//! sleeps a random while, takes an item and marks it done with `task_done`.
//! `main` waits for the producers, then for `queue.join()` (every item
//! processed), then cancels the consumers, which would otherwise wait forever.
//!
//! The queue holds at most `--maxsize` items (default 2): a producer that finds
//! it full waits in `put` until a consumer makes room. Sleeps are 0.0 to 1.0 s
//! (asyncq.py's 0 to 10 s, tenfold shorter); the generator is Python's, seeded
//! with 444, so a run prints the same items in the same order every time.
//!
//! ```text
//! $ cargo run --example queue
//! Producer 0 sleeping for 0.4 seconds.
//! Producer 2 sleeping for 0.7 seconds.
//! Producer 3 sleeping for 0.4 seconds.
//! Producer 4 sleeping for 1.0 seconds.
//! Consumer 0 sleeping for 0.7 seconds.
//! Consumer 1 sleeping for 0.8 seconds.
//! Consumer 2 sleeping for 0.4 seconds.
//! Producer 0 added <137ec5c561> to queue.
//! Producer 0 sleeping for 0.6 seconds.
//! Producer 3 added <fe9465dc65> to queue.
//! Producer 3 sleeping for 0.3 seconds.
//! Consumer 2 got element <137ec5c561> in 0.00005 seconds.
//! ...
//! Producer 0 sleeping for 0.0 seconds.
//! Producer 0 waits: the queue is full.
//! Consumer 0 got element <8350d2af26> in 0.20048 seconds.
//! ...
//! 3 consumers cancelled.
//! Program completed in 4.10765 seconds.
//! ```
//!
//! Options: `-p`/`--nprod N` producers (default 5), `-c`/`--ncon N` consumers
//! (default 3), `--maxsize N` (default 2).

#[path = "common/pyrandom.rs"]
mod pyrandom;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use ferrio::sync::Queue;
use pyrandom::Random;

#[path = "common/cli.rs"]
mod cli;

/// Python's module-level generator after `random.seed(444)`.
static RANDOM: Mutex<Random> = Mutex::new(Random::new(444));

fn randint(a: i64, b: i64) -> i64 {
    RANDOM.lock().unwrap().randint(a, b)
}

/// An item: ten random hex digits (asyncq.py's `os.urandom(5).hex()`).
fn makeitem() -> String {
    format!("{:010x}", RANDOM.lock().unwrap().getrandbits(40))
}

/// Sleeps a random 0.0 to 1.0 s, saying so.
async fn randsleep(caller: &str) {
    let tenths = randint(0, 10);
    println!("{caller} sleeping for {:.1} seconds.", tenths as f64 / 10.0);
    ferrio::time::sleep(Duration::from_millis(100 * tenths as u64)).await;
}

/// An item, and when it was put.
type Entry = (String, Instant);

async fn produce(name: usize, queue: Queue<Entry>) {
    let n = randint(0, 10);
    for _ in 0..n {
        randsleep(&format!("Producer {name}")).await;
        let item = makeitem();
        if queue.full() {
            println!("Producer {name} waits: the queue is full.");
        }
        queue
            .put((item.clone(), Instant::now()))
            .await
            .expect("the queue is never shut down");
        println!("Producer {name} added <{item}> to queue.");
    }
}

async fn consume(name: usize, queue: Queue<Entry>) {
    loop {
        randsleep(&format!("Consumer {name}")).await;
        let Ok((item, put_at)) = queue.get().await else {
            return;
        };
        let waited = put_at.elapsed().as_secs_f64();
        println!("Consumer {name} got element <{item}> in {waited:0.5} seconds.");
        queue.task_done().expect("one task_done per item taken");
    }
}

async fn main_async(nprod: usize, ncon: usize, maxsize: usize) {
    let queue = Queue::bounded(maxsize);
    let producers: Vec<_> = (0..nprod)
        .map(|n| ferrio::spawn(produce(n, queue.clone())))
        .collect();
    let consumers: Vec<_> = (0..ncon)
        .map(|n| ferrio::spawn(consume(n, queue.clone())))
        .collect();
    for done in ferrio::gather(producers).await {
        done.expect("a producer does not panic");
    }
    // Every item put has been taken and marked done: the consumers are idle.
    queue.join().await;
    for consumer in &consumers {
        consumer.abort();
    }
    let mut cancelled = 0;
    for consumer in consumers {
        if consumer.await.is_err_and(|e| e.is_cancelled()) {
            cancelled += 1;
        }
    }
    println!("{cancelled} consumers cancelled.");
}

struct Options {
    nprod: usize,
    ncon: usize,
    maxsize: usize,
}

fn parse_args() -> Options {
    let mut cli = cli::Cli::from_env(
        "queue",
        "usage: queue [-p|--nprod N] [-c|--ncon N] [--maxsize N]",
    );
    let nprod = cli.value(["-p", "--nprod"]).unwrap_or(5);
    let ncon = cli.value(["-c", "--ncon"]).unwrap_or(3);
    let maxsize = cli.value("--maxsize").unwrap_or(2);
    if maxsize == 0 {
        cli.fail(&"--maxsize must be at least 1");
    }
    cli.finish();
    Options {
        nprod,
        ncon,
        maxsize,
    }
}

fn main() {
    env_logger::init();
    let options = parse_args();
    let start = Instant::now();
    ferrio::run(main_async(options.nprod, options.ncon, options.maxsize));
    let elapsed = start.elapsed().as_secs_f64();
    println!("Program completed in {elapsed:0.5} seconds.");
}

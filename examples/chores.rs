//! The chores of seed 000 ("Asynchronous Python Programming with asyncio"),
//! ported: do laundry (1 h), make dinner (1 h), run the dishwasher (30 min),
//! water the plants (30 min).
//!
//! Done one after the other they take 3 hours. Done the way the seed
//! suggests, they take 1.5: start the laundry, and while it runs make dinner;
//! after dinner start the dishwasher, and while it runs water the plants.
//! One worker (one thread) does it all; what saves the time is not waiting
//! idle for a chore that runs by itself.
//!
//! The clock is scaled: one hour lasts one second (`--scale S` makes it `S`
//! seconds). Times in brackets are hours:minutes on the chores' clock.
//!
//! ```text
//! $ cargo run --example chores
//! == One after the other ==
//! [0:00] Do laundry: started (1 h 00 min)
//! [1:00] Do laundry: finished
//! [1:00] Make dinner: started (1 h 00 min)
//! [2:00] Make dinner: finished
//! [2:00] Run the dishwasher: started (0 h 30 min)
//! [2:30] Run the dishwasher: finished
//! [2:30] Water plants: started (0 h 30 min)
//! [3:00] Water plants: finished
//! Total time: 3 h 00 min (3.00 s)
//!
//! == Concurrently ==
//! [0:00] Do laundry: started (1 h 00 min)
//! [0:00] Make dinner: started (1 h 00 min)
//! [1:00] Do laundry: finished
//! [1:00] Make dinner: finished
//! [1:00] Run the dishwasher: started (0 h 30 min)
//! [1:00] Water plants: started (0 h 30 min)
//! [1:30] Run the dishwasher: finished
//! [1:30] Water plants: finished
//! Total time: 1 h 30 min (1.50 s)
//!
//! One after the other: 3 h 00 min; concurrently: 1 h 30 min.
//! ```

use std::time::{Duration, Instant};

#[path = "common/cli.rs"]
mod cli;

struct Chore {
    name: &'static str,
    minutes: u32,
}

const LAUNDRY: Chore = Chore {
    name: "Do laundry",
    minutes: 60,
};
const DINNER: Chore = Chore {
    name: "Make dinner",
    minutes: 60,
};
const DISHWASHER: Chore = Chore {
    name: "Run the dishwasher",
    minutes: 30,
};
const PLANTS: Chore = Chore {
    name: "Water plants",
    minutes: 30,
};

/// The chores' clock: real time since `start`, scaled so that one hour lasts
/// `seconds_per_hour`.
struct Clock {
    start: Instant,
    seconds_per_hour: f64,
}

impl Clock {
    fn start(seconds_per_hour: f64) -> Clock {
        Clock {
            start: Instant::now(),
            seconds_per_hour,
        }
    }

    /// Whole minutes elapsed on the chores' clock. (A timer fires a little
    /// after its deadline, never before: rounding down hides that lateness.)
    fn minutes(&self) -> u32 {
        (self.start.elapsed().as_secs_f64() / self.seconds_per_hour * 60.0) as u32
    }

    /// How long `minutes` of chores last in real time.
    fn real(&self, minutes: u32) -> Duration {
        Duration::from_secs_f64(f64::from(minutes) / 60.0 * self.seconds_per_hour)
    }

    fn now(&self) -> String {
        let m = self.minutes();
        format!("{}:{:02}", m / 60, m % 60)
    }
}

fn hours_minutes(minutes: u32) -> String {
    format!("{} h {:02} min", minutes / 60, minutes % 60)
}

async fn do_chore(clock: &Clock, chore: &Chore) {
    println!(
        "[{}] {}: started ({})",
        clock.now(),
        chore.name,
        hours_minutes(chore.minutes)
    );
    ferrio::time::sleep(clock.real(chore.minutes)).await;
    println!("[{}] {}: finished", clock.now(), chore.name);
}

/// Start and finish each chore before the next.
async fn one_after_the_other(clock: &Clock) {
    for chore in [&LAUNDRY, &DINNER, &DISHWASHER, &PLANTS] {
        do_chore(clock, chore).await;
    }
}

/// Laundry runs while dinner is made; after dinner, the dishwasher runs while
/// the plants are watered.
async fn concurrently(clock: &Clock) {
    ferrio::join!(do_chore(clock, &LAUNDRY), async {
        do_chore(clock, &DINNER).await;
        ferrio::join!(do_chore(clock, &DISHWASHER), do_chore(clock, &PLANTS));
    });
}

/// Prints the total time the chores took on `clock`; returns it in minutes.
fn report(clock: &Clock) -> u32 {
    let total = clock.minutes();
    let real = clock.start.elapsed().as_secs_f64();
    println!("Total time: {} ({real:.2} s)", hours_minutes(total));
    total
}

fn main() {
    env_logger::init();
    let mut cli = cli::Cli::from_env("chores", "usage: chores [--scale SECONDS_PER_HOUR]");
    let scale = cli.scale(false);
    cli.finish();
    ferrio::run(async {
        println!("== One after the other ==");
        let clock = Clock::start(scale);
        one_after_the_other(&clock).await;
        let sequential = report(&clock);
        println!();

        println!("== Concurrently ==");
        let clock = Clock::start(scale);
        concurrently(&clock).await;
        let concurrent = report(&clock);
        println!();
        println!(
            "One after the other: {}; concurrently: {}.",
            hours_minutes(sequential),
            hours_minutes(concurrent)
        );
    });
}

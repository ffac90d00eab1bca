//! Runs one in-process workload on one runtime and prints a `RESULT {...}` line.
//!
//! ```text
//! bench spawn_many ferrio n=1000000
//! bench timers tokio n=100000
//! ```
//!
//! Workloads: spawn_many (n), yield_many (tasks, yields), ping_pong (n),
//! chained_spawn (n), timers (n, offset_ms), pending_tasks (n).
//! Runtimes: ferrio, tokio, smol.

use std::collections::HashMap;
use std::process::ExitCode;

use ferrio_benches::workloads::*;
use ferrio_benches::{Ferrio, Report, Rt, Smol, Tokio};

const USAGE: &str = "usage: bench WORKLOAD RUNTIME [key=value ...]
  WORKLOAD: spawn_many n | yield_many tasks yields | ping_pong n | chained_spawn n
            | timers n offset_ms | pending_tasks n
  RUNTIME:  ferrio | tokio | smol";

fn run<R: Rt>(workload: &str, p: &Params) -> Result<Report, String> {
    Ok(match workload {
        "spawn_many" => spawn_many::<R>(p.get("n", 1_000_000)?),
        "yield_many" => yield_many::<R>(p.get("tasks", 1_000)?, p.get("yields", 1_000)?),
        "ping_pong" => ping_pong::<R>(p.get("n", 1_000_000)?),
        "chained_spawn" => chained_spawn::<R>(p.get("n", 100_000)?),
        "timers" => timers::<R>(p.get("n", 100_000)?, p.get("offset_ms", 0)? as u64),
        "pending_tasks" => pending_tasks::<R>(p.get("n", 1_000_000)?),
        other => return Err(format!("unknown workload {other:?}")),
    })
}

struct Params(HashMap<String, String>);

impl Params {
    fn get(&self, key: &str, default: usize) -> Result<usize, String> {
        match self.0.get(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("{key}: not a number: {v:?}")),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let params = Params(
        args[2..]
            .iter()
            .filter_map(|a| a.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    );
    let result = match args[1].as_str() {
        "ferrio" => run::<Ferrio>(&args[0], &params),
        "tokio" => run::<Tokio>(&args[0], &params),
        "smol" => run::<Smol>(&args[0], &params),
        other => Err(format!("unknown runtime {other:?}")),
    };
    match result {
        Ok(report) => {
            report.text("workload", &args[0]).text("runtime", &args[1]).print();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

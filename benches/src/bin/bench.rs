//! Runs one in-process workload on one runtime and prints a `RESULT {...}` line.
//!
//! ```text
//! bench spawn_many ferrio n=1000000
//! bench timers tokio n=100000
//! bench cpu_fanout ferrio-mt workers=2
//! ```
//!
//! Workloads: spawn_many (n), yield_many (tasks, yields), ping_pong (n),
//! chained_spawn (n), timers (n, offset_ms), pending_tasks (n),
//! cpu_fanout (n, iters), cpu_fanout_skewed (n, iters).
//! Runtimes: ferrio, tokio, smol (one thread each); ferrio-mt, tokio-mt,
//! smol-mt (`workers=N` threads, default 2); tokio-nxct (N tokio
//! current-thread runtimes on N threads, cpu_fanout* only).

use std::collections::HashMap;
use std::process::ExitCode;

use ferrio_benches::workloads::*;
use ferrio_benches::{rt, Ferrio, FerrioMt, Report, Rt, Smol, SmolMt, Tokio, TokioMt};

const USAGE: &str = "usage: bench WORKLOAD RUNTIME [key=value ...] [workers=N]
  WORKLOAD: spawn_many n | yield_many tasks yields | ping_pong n | chained_spawn n
            | timers n offset_ms | pending_tasks n
            | cpu_fanout n [iters] | cpu_fanout_skewed n [iters]
  RUNTIME:  ferrio | tokio | smol | ferrio-mt | tokio-mt | smol-mt
            | tokio-nxct (cpu_fanout* only)
  workers:  threads of the -mt runtimes and of tokio-nxct (default 2)";

fn run<R: Rt>(workload: &str, p: &Params) -> Result<Report, String> {
    Ok(match workload {
        "spawn_many" => spawn_many::<R>(p.get("n", 1_000_000)?),
        "yield_many" => yield_many::<R>(p.get("tasks", 1_000)?, p.get("yields", 1_000)?),
        "ping_pong" => ping_pong::<R>(p.get("n", 1_000_000)?),
        "chained_spawn" => chained_spawn::<R>(p.get("n", 100_000)?),
        "timers" => timers::<R>(p.get("n", 100_000)?, p.get("offset_ms", 0)? as u64),
        "pending_tasks" => pending_tasks::<R>(p.get("n", 1_000_000)?),
        "cpu_fanout" => cpu_fanout::<R>(p.get("n", 10_000)?, false, p.iters()?),
        "cpu_fanout_skewed" => cpu_fanout::<R>(p.get("n", 10_000)?, true, p.iters()?),
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

    /// cpu_fanout's `iters` (spin iterations of a unit of work); without it,
    /// or 0, each process calibrates 50 µs for itself.
    fn iters(&self) -> Result<Option<u64>, String> {
        Ok(Some(self.get("iters", 0)? as u64).filter(|&i| i > 0))
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
    let result = params.get("workers", 2).and_then(|workers| {
        if workers == 0 {
            return Err("workers: at least 1".into());
        }
        rt::set_workers(workers);
        match args[1].as_str() {
            "ferrio" => run::<Ferrio>(&args[0], &params),
            "tokio" => run::<Tokio>(&args[0], &params),
            "smol" => run::<Smol>(&args[0], &params),
            "ferrio-mt" => run::<FerrioMt>(&args[0], &params),
            "tokio-mt" => run::<TokioMt>(&args[0], &params),
            "smol-mt" => run::<SmolMt>(&args[0], &params),
            "tokio-nxct" => match args[0].as_str() {
                "cpu_fanout" => {
                    Ok(cpu_fanout_nxct(params.get("n", 10_000)?, false, params.iters()?, workers))
                }
                "cpu_fanout_skewed" => {
                    Ok(cpu_fanout_nxct(params.get("n", 10_000)?, true, params.iters()?, workers))
                }
                other => {
                    Err(format!("tokio-nxct runs cpu_fanout and cpu_fanout_skewed, not {other:?}"))
                }
            },
            other => Err(format!("unknown runtime {other:?}")),
        }
    });
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

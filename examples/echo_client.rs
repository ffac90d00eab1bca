//! An echo client load generator: N connections each send M messages of S
//! bytes, one at a time, and check every echoed byte. Prints messages per
//! second and the round-trip latency p50 / p99. A round trip that takes over
//! 10 s ends the run with an error naming the connection, not a hang.
//!
//! ```text
//! $ cargo run --release --example echo_server &
//! $ cargo run --release --example echo_client -- --connections 100 --messages 1000 --size 64
//! 100 connections x 1000 messages x 64 bytes to 127.0.0.1:7000
//! 100000 messages in 1.234 s: 81037 msgs/s, latency p50 1.1 ms, p99 2.3 ms
//! ```

use std::io;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use ferrio::net::TcpStream;

#[path = "common/cli.rs"]
mod cli;

/// How long one round trip may take before the client gives up on the server.
const ROUND_TRIP_TIMEOUT: Duration = Duration::from_secs(10);

const USAGE: &str =
    "usage: echo_client [--addr HOST:PORT] [--connections N] [--messages M] [--size S]

  --addr HOST:PORT   echo server (default 127.0.0.1:7000)
  --connections N    concurrent connections (default 100)
  --messages M       messages per connection (default 1000)
  --size S           bytes per message (default 64)";

struct Args {
    addr: String,
    connections: usize,
    messages: usize,
    size: usize,
}

fn parse_args() -> Args {
    let mut cli = cli::Cli::from_env("echo_client", USAGE);
    let args = Args {
        addr: cli
            .value("--addr")
            .unwrap_or_else(|| "127.0.0.1:7000".into()),
        connections: positive(&mut cli, "--connections", 100),
        messages: positive(&mut cli, "--messages", 1000),
        size: positive(&mut cli, "--size", 64),
    };
    cli.finish();
    args
}

/// The value of `flag`, a number above zero, or `default`.
fn positive(cli: &mut cli::Cli, flag: &'static str, default: usize) -> usize {
    match cli.value(flag) {
        None => default,
        Some(0) => cli.fail(&format!("{flag} needs a number above zero")),
        Some(n) => n,
    }
}

fn main() -> ExitCode {
    env_logger::init();
    let args = parse_args();
    println!(
        "{} connections x {} messages x {} bytes to {}",
        args.connections, args.messages, args.size, args.addr
    );
    match ferrio::run(load(&args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_client: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn load(args: &Args) -> io::Result<()> {
    // Connect first, so the timed part measures echoing only.
    let mut streams = Vec::new();
    for _ in 0..args.connections {
        let stream = TcpStream::connect(args.addr.as_str()).await?;
        stream.set_nodelay(true)?;
        streams.push(stream);
    }
    let start = Instant::now();
    let (messages, size) = (args.messages, args.size);
    let tasks: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(id, stream)| ferrio::spawn(client(id, stream, messages, size)))
        .collect();
    // Not allocated up front: connections x messages may not fit in memory
    // (or a usize), and the latencies then grow as the tasks report.
    let mut latencies = Vec::new();
    for task in ferrio::gather(tasks).await {
        let task = task.map_err(|e| io::Error::other(format!("a client task failed: {e}")))?;
        latencies.extend(task?);
    }
    let elapsed = start.elapsed();
    latencies.sort_unstable();
    println!(
        "{} messages in {:.3} s: {:.0} msgs/s, latency p50 {:?}, p99 {:?}",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 50),
        percentile(&latencies, 99),
    );
    Ok(())
}

/// One connection: send, wait for the echo, verify it, `messages` times.
/// Returns each round trip's latency.
async fn client(
    id: usize,
    mut stream: TcpStream,
    messages: usize,
    size: usize,
) -> io::Result<Vec<Duration>> {
    let mut sent = vec![0u8; size];
    let mut got = vec![0u8; size];
    let mut latencies = Vec::with_capacity(messages.min(1 << 16));
    for m in 0..messages {
        for (i, b) in sent.iter_mut().enumerate() {
            *b = (id.wrapping_mul(31) ^ m.wrapping_mul(7) ^ i) as u8;
        }
        let t = Instant::now();
        let round_trip = async {
            stream.write_all(&sent).await?;
            stream.read_exact(&mut got).await
        };
        ferrio::time::timeout(ROUND_TRIP_TIMEOUT, round_trip)
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("connection {id}, message {m}: no echo within {ROUND_TRIP_TIMEOUT:?}"),
                )
            })??;
        latencies.push(t.elapsed());
        if got != sent {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("connection {id}, message {m}: the echo differs from what was sent"),
            ));
        }
    }
    Ok(latencies)
}

/// The `p`th percentile of sorted `values` (nearest rank).
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

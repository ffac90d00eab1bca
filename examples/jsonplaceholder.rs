//! The embedded jsonplaceholder on its own: the fake REST API that fetch_posts reads
//! (`/posts`, `/comments`, `/albums`, `/photos`, `/todos`, `/users`), served
//! by ferrio's HTTP server with a latency per request, like a real network.
//!
//! ```text
//! $ cargo run --release --example jsonplaceholder -- --addr 127.0.0.1:3000 --latency-ms 100
//! jsonplaceholder on http://127.0.0.1:3000 (100 ms latency per request); try
//!   curl http://127.0.0.1:3000/posts/1
//! $ cargo run --release --example fetch_posts -- --base-url http://127.0.0.1:3000
//! ```
//!
//! Options: `--addr HOST:PORT` (default 127.0.0.1:3000; port 0 picks one),
//! `--latency-ms MS` (default 100), `--seconds S` (stop gracefully after S
//! seconds; default: run until killed). Once a second with traffic, it prints
//! the requests served and the connections open (now and at most at once).

use std::time::Duration;

use ferrio::time::{sleep, timeout};
use ferrio_testkit::jsonplaceholder;

#[path = "common/cli.rs"]
mod cli;

const USAGE: &str =
    "usage: jsonplaceholder [--addr HOST:PORT] [--latency-ms MS] [--seconds S] [--workers N]";

struct Options {
    addr: String,
    latency: Duration,
    seconds: Option<u64>,
    /// Worker threads for the HTTP server's connections (0: one per core).
    workers: Option<usize>,
}

fn parse_args() -> Options {
    let mut cli = cli::Cli::from_env("jsonplaceholder", USAGE);
    let options = Options {
        addr: cli
            .value("--addr")
            .unwrap_or_else(|| "127.0.0.1:3000".into()),
        latency: cli
            .value("--latency-ms")
            .map(Duration::from_millis)
            .unwrap_or(jsonplaceholder::DEFAULT_LATENCY),
        seconds: cli.value("--seconds"),
        workers: cli.value("--workers"),
    };
    cli.finish();
    options
}

async fn serve(options: Options) -> std::io::Result<()> {
    let server = jsonplaceholder::Server::builder()
        .latency(options.latency)
        .bind(options.addr.as_str())
        .await?;
    println!(
        "jsonplaceholder on {} ({} ms latency per request); try\n  curl {}/posts/1",
        server.base_url(),
        options.latency.as_millis(),
        server.base_url()
    );
    let report = async {
        let mut served = 0;
        loop {
            sleep(Duration::from_secs(1)).await;
            if server.requests_served() != served {
                served = server.requests_served();
                println!(
                    "{served} requests served; {} connection(s) open, at most {} at once",
                    server.open_connections(),
                    server.max_open_connections()
                );
            }
        }
    };
    match options.seconds {
        Some(s) => {
            let _ = timeout(Duration::from_secs(s), report).await;
        }
        None => report.await,
    }
    let forced = server.shutdown().await;
    println!("stopped ({forced} connection(s) closed forcibly)");
    Ok(())
}

fn main() {
    env_logger::init();
    let options = parse_args();
    let mut builder = ferrio::Runtime::builder();
    if let Some(n) = options.workers {
        builder = builder.workers(n);
    }
    let result = builder
        .build()
        .and_then(|mut rt| rt.block_on(serve(options)));
    if let Err(e) = result {
        eprintln!("jsonplaceholder: {e}");
        std::process::exit(1);
    }
}

//! An echo server: every byte a client sends comes back (asyncio's
//! `start_server` with an echo callback).
//!
//! With `--threaded` the same service runs the classic way, one OS thread per
//! connection with blocking sockets, so the two models can be compared
//! (memory and throughput at many connections; see docs/performance.md).
//!
//! ```text
//! $ RUST_LOG=info cargo run --release --example echo_server -- --addr 127.0.0.1:7000
//! $ cargo run --release --example echo_client -- --addr 127.0.0.1:7000
//! ```

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use ferrio::net::{TcpListener, TcpStream};

#[path = "common/args.rs"]
mod args;

const USAGE: &str = "usage: echo_server [--addr HOST:PORT] [--threaded]

  --addr HOST:PORT  address to listen on (default 127.0.0.1:7000)
  --threaded        one OS thread per connection instead of ferrio tasks
  RUST_LOG=info     logs connects and disconnects";

struct Args {
    addr: String,
    threaded: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: "127.0.0.1:7000".into(),
        threaded: false,
    };
    args::parse(
        std::env::args().skip(1),
        &["--addr"],
        &["--threaded"],
        |flag, value| {
            match (flag, value) {
                ("--addr", Some(value)) => args.addr = value,
                ("--threaded", None) => args.threaded = true,
                (other, _) => return Err(args::unknown(other)),
            }
            Ok(())
        },
    )?;
    Ok(args)
}

fn main() -> ExitCode {
    env_logger::init();
    let args = match args::or_usage("echo_server", USAGE, parse_args()) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let result = if args.threaded {
        threaded(&args.addr)
    } else {
        ferrio::run(serve(&args.addr))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The async server: one task per connection, all on one thread.
async fn serve(addr: &str) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    println!(
        "echo server (async) listening on {}",
        listener.local_addr()?
    );
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                ferrio::spawn(echo(stream, peer));
            }
            Err(e) => {
                // Out-of-descriptor errors are retried inside accept; anything
                // else is logged, and the server goes on after a pause.
                log::error!("accept failed: {e}");
                ferrio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn echo(stream: TcpStream, peer: SocketAddr) {
    log::info!("{peer} connected");
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.split();
    match ferrio::io::copy(&mut rd, &mut wr).await {
        Ok(n) => log::info!("{peer} disconnected after {n} bytes"),
        Err(e) => log::info!("{peer} disconnected: {e}"),
    }
}

/// The threaded server: blocking sockets, one OS thread per connection.
fn threaded(addr: &str) -> io::Result<()> {
    let listener = std::net::TcpListener::bind(addr)?;
    println!(
        "echo server (threaded) listening on {}",
        listener.local_addr()?
    );
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(conn) => conn,
            Err(e) => {
                log::error!("accept failed: {e}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let spawned = std::thread::Builder::new()
            .stack_size(64 << 10)
            .spawn(move || {
                log::info!("{peer} connected");
                let _ = stream.set_nodelay(true);
                match io::copy(&mut &stream, &mut &stream) {
                    Ok(n) => log::info!("{peer} disconnected after {n} bytes"),
                    Err(e) => log::info!("{peer} disconnected: {e}"),
                }
            });
        if let Err(e) = spawned {
            log::error!("could not start a thread for {peer}: {e}");
        }
    }
}

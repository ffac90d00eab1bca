//! An echo server: every byte a client sends comes back (asyncio's
//! `start_server` with an echo callback). A connection that sends nothing
//! costs no buffer, only its task and socket (see `echo_until_closed`).
//! Ctrl-C (or SIGTERM) shuts it down gracefully: it stops accepting, lets the
//! connections in flight finish for up to ten seconds, then cuts the rest.
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
use std::pin::pin;
use std::process::ExitCode;
use std::time::Duration;

use ferrio::time::Instant;

use ferrio::io::AsyncWriteExt;
use ferrio::net::{TcpListener, TcpStream};
use ferrio::signal::{signal, SignalKind};
use ferrio::{Either, JoinHandle};

#[path = "common/cli.rs"]
mod cli;

const USAGE: &str = "usage: echo_server [--addr HOST:PORT] [--workers N] [--threaded]

  --addr HOST:PORT  address to listen on (default 127.0.0.1:7000)
  --workers N       worker threads running the connections (0: one per core;
                    default: FERRIO_WORKERS, else 1)
  --threaded        one OS thread per connection instead of ferrio tasks
  RUST_LOG=info     logs connects and disconnects";

struct Args {
    addr: String,
    workers: Option<usize>,
    threaded: bool,
}

fn parse_args() -> Args {
    let mut cli = cli::Cli::from_env("echo_server", USAGE);
    let args = Args {
        addr: cli
            .value("--addr")
            .unwrap_or_else(|| "127.0.0.1:7000".into()),
        workers: cli.value("--workers"),
        threaded: cli.switch("--threaded"),
    };
    cli.finish();
    args
}

fn main() -> ExitCode {
    env_logger::init();
    let args = parse_args();
    let result = if args.threaded {
        threaded(&args.addr)
    } else {
        // One listener; each accepted connection is a task, and with several
        // workers idle ones take connections from busy ones.
        let mut builder = ferrio::Runtime::builder();
        if let Some(n) = args.workers {
            builder = builder.workers(n);
        }
        builder
            .build()
            .and_then(|mut rt| rt.block_on(serve(&args.addr)))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// How long, after Ctrl-C, connections in flight may take to finish before
/// they are cut.
const GRACE: Duration = Duration::from_secs(10);

/// The async server: one task per connection (on one thread unless
/// `--workers` asks for more), until
/// Ctrl-C (SIGINT) or SIGTERM. Then it stops accepting, lets the connections
/// in flight finish for up to [`GRACE`], cuts the rest, and returns.
async fn serve(addr: &str) -> io::Result<()> {
    // Listen for the signals first, so that one sent at any later moment is seen.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let listener = TcpListener::bind(addr).await?;
    println!(
        "echo server (async) listening on {}",
        listener.local_addr()?
    );
    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    loop {
        let stop = async {
            ferrio::select(pin!(interrupt.recv()), pin!(terminate.recv())).await;
        };
        let accepted = match ferrio::select(pin!(listener.accept()), pin!(stop)).await {
            Either::Left((accepted, _)) => accepted,
            Either::Right(((), _)) => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                connections.retain(|c| !c.is_finished());
                connections.push(ferrio::spawn(echo(stream, peer)));
            }
            Err(e) => {
                // Out-of-descriptor errors are retried inside accept; anything
                // else is logged, and the server goes on after a pause.
                log::error!("accept failed: {e}");
                ferrio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    drop(listener);
    connections.retain(|c| !c.is_finished());
    println!(
        "shutting down: waiting up to {GRACE:?} for {} connection(s)",
        connections.len()
    );
    let deadline = Instant::now() + GRACE;
    let mut cut = 0;
    for mut connection in connections {
        if ferrio::time::timeout_at(deadline, &mut connection)
            .await
            .is_err()
        {
            connection.abort();
            cut += 1;
        }
    }
    println!("stopped; {cut} connection(s) cut at the deadline");
    Ok(())
}

/// One connection: echoes until the client closes, logging either end.
async fn echo(stream: TcpStream, peer: SocketAddr) {
    log::info!("{peer} connected");
    let _ = stream.set_nodelay(true);
    match echo_until_closed(&stream).await {
        Ok(n) => log::info!("{peer} disconnected after {n} bytes"),
        Err(e) => log::info!("{peer} disconnected: {e}"),
    }
}

/// How many bytes are read (and written back) at a time.
const CHUNK: usize = 8 * 1024;

/// Writes back everything `stream` sends until it closes; returns how many
/// bytes that was.
///
/// An idle connection holds no buffer. `ferrio::io::copy` would be shorter,
/// but it keeps an 8 KiB buffer for the whole life of the connection, which
/// is most of what an idle one costs. Here the task waits for the socket
/// to be readable with nothing allocated, then [`echo_now`] reads into a
/// buffer on the stack and writes it straight back without waiting, so the
/// buffer is gone before the task waits again. Only when the client does
/// not take the bytes as fast as it sends them is the rest copied to the
/// heap, until it is written.
async fn echo_until_closed(stream: &TcpStream) -> io::Result<u64> {
    let mut total = 0;
    loop {
        stream.readable().await?;
        match echo_now(stream)? {
            // The readiness was stale: wait again.
            Echo::Nothing => {}
            Echo::Closed => return Ok(total),
            Echo::All(n) => total += n as u64,
            Echo::Partly { rest, read } => {
                // `&TcpStream` is a writer too; `write_all` waits for room.
                let mut out = stream;
                out.write_all(&rest).await?;
                total += read as u64;
            }
        }
    }
}

/// What one [`echo_now`] did.
enum Echo {
    /// Nothing to read after all.
    Nothing,
    /// The client closed its side.
    Closed,
    /// Read this many bytes and wrote them all back.
    All(usize),
    /// Read `read` bytes; the send buffer took only some, `rest` is the others.
    Partly { rest: Vec<u8>, read: usize },
}

/// Reads what `stream` has now and writes it back, without waiting. Not
/// `async` on purpose: the buffer lives on the stack of this call only,
/// never in the connection's task.
fn echo_now(stream: &TcpStream) -> io::Result<Echo> {
    let mut buf = [0; CHUNK];
    let read = match stream.try_read(&mut buf) {
        Ok(0) => return Ok(Echo::Closed),
        Ok(n) => n,
        Err(e) if is_retry(&e) => return Ok(Echo::Nothing),
        Err(e) => return Err(e),
    };
    let written = match stream.try_write(&buf[..read]) {
        Ok(n) => n,
        Err(e) if is_retry(&e) => 0,
        Err(e) => return Err(e),
    };
    Ok(if written == read {
        Echo::All(read)
    } else {
        Echo::Partly {
            rest: buf[written..read].to_vec(),
            read,
        }
    })
}

/// Errors that only mean "not now".
fn is_retry(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
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

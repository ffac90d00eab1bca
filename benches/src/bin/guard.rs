//! The heap bytes the CI guard (`benches/guard.py`) checks, counted by a
//! global allocator that keeps the live total, so the figure is the same on
//! every run (unlike RSS):
//!
//! ```text
//! guard idle_conn n=N      heap bytes per idle TCP connection of a ferrio
//!                          server (task + stream + registration), the lean
//!                          shape of `netbench lean_echo_server`
//! guard pending_task n=N   heap bytes per spawned task awaiting forever
//! ```
//!
//! Each prints `RESULT {"bytes_per_op": ...}`. One worker, whatever
//! `FERRIO_WORKERS` says.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

/// `System`, keeping the sum of the sizes of the live allocations.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` with the caller's arguments;
// the counter is only arithmetic on the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller's contract of `GlobalAlloc::alloc`, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with `layout` (above).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: the caller's contract of `GlobalAlloc::realloc`, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = args
        .iter()
        .find_map(|a| a.strip_prefix("n="))
        .map_or(Ok(1000), str::parse::<usize>);
    let result = match (args.first().map(String::as_str), n) {
        (_, Err(e)) => Err(format!("n=: {e}")),
        (Some("idle_conn"), Ok(n)) => idle_conn(n),
        (Some("pending_task"), Ok(n)) => pending_task(n),
        _ => Err("usage: guard idle_conn|pending_task [n=N]".into()),
    };
    match result {
        Ok(bytes) => {
            println!("RESULT {{\"bytes_per_op\": {bytes:.1}}}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("guard: {e}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<ferrio::Runtime, String> {
    ferrio::Runtime::builder()
        .workers(1)
        .build()
        .map_err(|e| e.to_string())
}

/// `n` tasks awaiting forever, each polled once; bytes per task.
fn pending_task(n: usize) -> Result<f64, String> {
    runtime()?.block_on(async move {
        let mut handles = Vec::with_capacity(n);
        ferrio::yield_now().await;
        let before = live();
        for _ in 0..n {
            handles.push(ferrio::spawn(std::future::pending::<()>()));
        }
        ferrio::yield_now().await;
        let after = live();
        // The handles' vector was allocated before `before`.
        drop(handles);
        Ok((after - before) as f64 / n as f64)
    })
}

/// `n` connections to a ferrio server whose task per connection awaits
/// `readable()` and echoes into a stack buffer, each after one echoed byte
/// (accepted, its task parked on the socket); bytes per connection.
fn idle_conn(n: usize) -> Result<f64, String> {
    let mut rt = runtime()?;
    rt.block_on(async move {
        let listener = ferrio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        // The client thread and its vector exist before the baseline.
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
        let client = std::thread::spawn(move || {
            let mut streams = Vec::with_capacity(n);
            let _ = go_rx.recv();
            let opened = (0..n).try_for_each(|i| {
                let mut s = std::net::TcpStream::connect(addr).map_err(|e| format!("{i}: {e}"))?;
                s.set_read_timeout(Some(Duration::from_secs(10)))
                    .map_err(|e| e.to_string())?;
                s.write_all(b"x").map_err(|e| format!("{i}: {e}"))?;
                s.read_exact(&mut [0u8]).map_err(|e| format!("{i}: {e}"))?;
                streams.push(s);
                Ok(())
            });
            let _ = done_tx.send(opened);
            let _ = hold_rx.recv_timeout(Duration::from_secs(60));
        });
        let mut accepted = Vec::with_capacity(n);
        let before = live();
        let _ = go_tx.send(());
        for _ in 0..n {
            let (stream, _) = ferrio::time::timeout(Duration::from_secs(30), listener.accept())
                .await
                .map_err(|_| "no connection within 30 s")?
                .map_err(|e| e.to_string())?;
            accepted.push(ferrio::spawn(async move {
                let mut buf = [0u8; 64];
                loop {
                    if stream.readable().await.is_err() {
                        return;
                    }
                    match stream.try_read(&mut buf) {
                        Ok(0) => return,
                        Ok(k) => drop(stream.try_write(&buf[..k])),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => return,
                    }
                }
            }));
        }
        // Wait (without blocking the loop) until every echo came back.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let opened = loop {
            match done_rx.try_recv() {
                Ok(r) => break r,
                Err(_) if std::time::Instant::now() > deadline => {
                    break Err("the client did not finish within 30 s".into())
                }
                Err(_) => ferrio::time::sleep(Duration::from_millis(1)).await,
            }
        };
        opened?;
        let after = live();
        let _ = hold_tx.send(());
        let _ = client.join();
        Ok((after - before) as f64 / n as f64)
    })
}

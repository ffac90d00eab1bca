//! `ferrio::process` with real child processes (`sh`, `cat`, `sleep`,
//! `true`, `false`): pipes as async streams, exit statuses, kill, timeouts,
//! reaping without blocking the loop, and many children at once.
#![cfg(unix)]

use std::future::Future;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use ferrio::process::Command;
use ferrio::time::sleep;
use futures_util::TryStreamExt;

/// Generous: every child here finishes in milliseconds, or is killed.
const WAIT: Duration = Duration::from_secs(30);

/// Runs `f` on a fresh runtime, failing the test if it takes longer than [`WAIT`].
#[path = "support/bounded.rs"]
mod bounded;

fn run<F: Future>(what: &str, f: F) -> F::Output {
    bounded::run_within(WAIT, what, f)
}

/// Whether a process with this pid still exists (a zombie does: only a
/// reaped child is gone).
fn exists(pid: u32) -> bool {
    // SAFETY: kill(2) with signal 0 sends nothing; it only checks the pid.
    unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
}

async fn until_gone(pid: u32) {
    let deadline = Instant::now() + WAIT;
    while exists(pid) && Instant::now() < deadline {
        sleep(Duration::from_millis(5)).await;
    }
}

#[test]
fn output_collects_stdout_stderr_and_the_exit_code() {
    run("sh -c", async {
        let out = Command::new("sh")
            .args(["-c", "echo to-out; echo to-err >&2; exit 7"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.stdout, b"to-out\n");
        assert_eq!(out.stderr, b"to-err\n");
        assert_eq!(out.status.code(), Some(7));
    });
}

#[test]
fn wait_returns_the_exit_status() {
    run("true/false", async {
        assert!(Command::new("true").status().await.unwrap().success());
        let status = Command::new("false").spawn().unwrap().wait().await.unwrap();
        assert_eq!(status.code(), Some(1));
        // try_wait after wait: the status is kept.
        let mut child = Command::new("true").spawn().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(child.try_wait().unwrap(), Some(status));
    });
}

#[test]
fn stdin_and_stdout_are_async_streams() {
    run("cat", async {
        let mut cat = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = cat.stdin.take().unwrap();
        let mut lines = BufReader::new(cat.stdout.take().unwrap()).lines();
        for i in 0..20 {
            stdin
                .write_all(format!("line {i}\n").as_bytes())
                .await
                .unwrap();
            // cat answers each line before the next is written.
            let line = lines.try_next().await.unwrap();
            assert_eq!(line.as_deref(), Some(&*format!("line {i}")));
        }
        stdin.close().await.unwrap();
        assert_eq!(
            lines.try_next().await.unwrap(),
            None,
            "cat exits at end-of-file"
        );
        assert!(cat.wait().await.unwrap().success());
    });
}

#[test]
fn communicate_writes_and_reads_at_once_so_big_payloads_do_not_deadlock() {
    run("cat with 4 MiB", async {
        // Far more than a pipe holds (64 KiB): writing all before reading
        // would block both sides forever.
        let input: Vec<u8> = (0..4 << 20).map(|i| (i % 251) as u8).collect();
        let child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.communicate(&input).await.unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout.len(), input.len());
        assert!(out.stdout == input, "cat should return the input unchanged");
    });
}

#[test]
fn communicate_ignores_input_the_child_does_not_read() {
    run("true with input", async {
        let child = Command::new("sh")
            .args(["-c", "exec 0<&-; echo done"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.communicate(&vec![b'x'; 1 << 20]).await.unwrap();
        assert_eq!(out.stdout, b"done\n");
        assert!(out.status.success());
    });
}

#[test]
fn communicate_timeout_kills_a_child_that_never_exits() {
    run("sleep 1000", async {
        let child = Command::new("sleep")
            .arg("1000")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let started = Instant::now();
        let err = child
            .communicate_timeout(b"", Duration::from_millis(100))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert!(
            !exists(pid),
            "the child should be killed and reaped when the error returns"
        );
    });
}

#[test]
fn communicate_timeout_returns_the_output_of_a_child_that_finishes_in_time() {
    run("echo", async {
        let child = Command::new("echo")
            .arg("quick")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child
            .communicate_timeout(b"", Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!(out.stdout, b"quick\n");
    });
}

#[test]
fn kill_and_terminate_end_a_child_that_never_exits() {
    run("sleep 1000", async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        let status = child.kill().await.unwrap();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        // Signalling a reaped child does nothing (its pid may be another's).
        child.start_kill().unwrap();

        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        child.terminate().unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGTERM));
    });
}

#[test]
fn kill_on_drop_kills_and_reaps_the_child() {
    run("sleep 1000, dropped", async {
        let child = Command::new("sleep")
            .arg("1000")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id();
        drop(child);
        until_gone(pid).await;
        assert!(
            !exists(pid),
            "the dropped child should be killed and reaped by the loop"
        );
    });
}

#[test]
fn a_dropped_child_runs_on_and_is_reaped_when_it_exits() {
    run("sh, dropped", async {
        let marker = std::env::temp_dir().join(format!("ferrio-process-{}", std::process::id()));
        let _ = std::fs::remove_file(&marker);
        let child = Command::new("sh")
            .args(["-c", "sleep 0.2; touch \"$0\""])
            .arg(&marker)
            .spawn()
            .unwrap();
        let pid = child.id();
        drop(child);
        until_gone(pid).await;
        assert!(
            !exists(pid),
            "the dropped child should be reaped once it exits"
        );
        assert!(
            marker.exists(),
            "the dropped child should have run to its end"
        );
        std::fs::remove_file(&marker).unwrap();
    });
}

#[test]
fn waiting_for_a_child_does_not_block_the_loop() {
    run("sleep 0.3 beside a ticker", async {
        let ticks = Arc::new(AtomicUsize::new(0));
        let counter = ticks.clone();
        let ticker = ferrio::spawn(async move {
            loop {
                sleep(Duration::from_millis(10)).await;
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        let status = Command::new("sleep").arg("0.3").status().await.unwrap();
        ticker.abort();
        assert!(status.success());
        let ticks = ticks.load(Ordering::SeqCst);
        assert!(
            ticks >= 5,
            "the ticker should run while the child is awaited; it ticked {ticks} times"
        );
    });
}

#[test]
fn many_children_at_once() {
    run("64 children", async {
        let children = (0..64).map(|i| async move {
            let out = Command::new("sh")
                .args(["-c", "read x; echo \"$x\"; exit $(( x % 256 ))"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
                .communicate(format!("{}\n", i * 7).as_bytes())
                .await
                .unwrap();
            (i, out)
        });
        for (i, out) in ferrio::gather(children).await {
            assert_eq!(out.stdout, format!("{}\n", i * 7).as_bytes());
            assert_eq!(out.status.code(), Some((i * 7) % 256));
        }
    });
}

#[test]
fn stderr_is_read_separately_from_stdout() {
    run("sh to stderr", async {
        let mut child = Command::new("sh")
            .args(["-c", "echo oops >&2"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        assert!(child.stdout.is_none());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .await
            .unwrap();
        assert_eq!(err, "oops\n");
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn a_missing_program_is_not_found() {
    run("no such program", async {
        let err = Command::new("/nonexistent/ferrio-test")
            .spawn()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
        assert!(err.to_string().contains("ferrio-test"), "{err}");
    });
}

#[test]
fn a_child_from_an_ended_runtime_is_awaited_on_another() {
    let mut first = ferrio::Runtime::new().unwrap();
    let mut child = first
        .block_on(async {
            Command::new("sh")
                .args(["-c", "read line; echo \"got $line\"; exit 5"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
        })
        .unwrap();
    drop(first);
    run("sh on a second runtime", async {
        // The pipes and the exit watch move to this runtime's reactor.
        child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(b"moved\n")
            .await
            .unwrap();
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .await
            .unwrap();
        assert_eq!(out, "got moved\n");
        assert_eq!(child.wait().await.unwrap().code(), Some(5));
    });
}

#[test]
fn a_dropped_child_whose_runtime_ended_is_reaped_by_a_later_spawn() {
    let pid = ferrio::run(async {
        let child = Command::new("sleep")
            .arg("1000")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        child.id()
        // dropped here, and the runtime ends before its reaper task runs
    });
    run("later spawns", async {
        let deadline = Instant::now() + WAIT;
        while exists(pid) && Instant::now() < deadline {
            assert!(Command::new("true").status().await.unwrap().success());
            sleep(Duration::from_millis(5)).await;
        }
        assert!(!exists(pid), "a later spawn should reap the killed orphan");
    });
}

#[test]
fn a_child_that_writes_forever_is_read_as_far_as_the_reader_wants() {
    run("yes", async {
        // The pipe holds 64 KiB: a child writing forever is held back by the
        // reader, whose memory is what it asks for (here 1 MiB), and ends
        // when killed.
        let mut child = Command::new("yes")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut head = Vec::new();
        stdout.take(1 << 20).read_to_end(&mut head).await.unwrap();
        assert_eq!(head.len(), 1 << 20);
        assert!(head.starts_with(b"y\ny\n"));
        // The reader is gone (take() owned it): the child's next write gets
        // SIGPIPE, unless the kill comes first.
        let status = child.kill().await.unwrap();
        assert!(
            matches!(status.signal(), Some(libc::SIGPIPE | libc::SIGKILL)),
            "{status}"
        );
        // communicate_timeout on one ends at its deadline, the child killed.
        let child = Command::new("yes").stdout(Stdio::piped()).spawn().unwrap();
        let pid = child.id();
        let started = Instant::now();
        let err = child
            .communicate_timeout(b"", Duration::from_millis(200))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(!exists(pid), "killed and reaped");
    });
}

#[test]
fn a_child_that_closes_its_pipes_early_gives_end_of_file_and_its_status() {
    run("sh closing its pipes", async {
        let mut child = Command::new("sh")
            .args(["-c", "exec 0<&- 1>&- 2>&-; sleep 0.3; exit 3"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // End-of-file at once, long before the child exits.
        let started = Instant::now();
        let mut out = Vec::new();
        let mut stdout = child.stdout.take().unwrap();
        assert_eq!(stdout.read_to_end(&mut out).await.unwrap(), 0);
        let mut stderr = child.stderr.take().unwrap();
        assert_eq!(stderr.read_to_end(&mut out).await.unwrap(), 0);
        assert!(
            started.elapsed() < Duration::from_millis(300),
            "{:?}",
            started.elapsed()
        );
        // Writing to the closed stdin fails as a broken pipe, not a hang
        // (the pipe's 64 KiB would otherwise take 1 MiB in pieces).
        let mut stdin = child.stdin.take().unwrap();
        let err = stdin.write_all(&vec![b'x'; 1 << 20]).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
        assert_eq!(child.wait().await.unwrap().code(), Some(3));
    });
}

#[test]
fn a_grandchild_holding_the_pipe_open_does_not_hang_communicate_timeout() {
    run("sh leaving sleep behind", async {
        // The child exits at once, but leaves a grandchild with its stdout:
        // the pipe never reaches end-of-file, and communicate would wait for
        // the grandchild (as asyncio's does). communicate_timeout ends.
        let mut child = Command::new("sh")
            .args(["-c", "sleep 1000 & echo $! >&2; exit 0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut line)
            .await
            .unwrap();
        let grandchild: libc::pid_t = line.trim().parse().unwrap();
        let started = Instant::now();
        let err = child
            .communicate_timeout(b"", Duration::from_millis(200))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        // The error says what held it: not the child, which had exited.
        assert!(err.to_string().contains("exited (exit status: 0)"), "{err}");
        assert!(
            err.to_string().contains("holds its stdout or stderr open"),
            "{err}"
        );
        // SAFETY: kill(2) of the sleep this test started (init reaps it).
        assert_eq!(unsafe { libc::kill(grandchild, libc::SIGKILL) }, 0);
    });
}

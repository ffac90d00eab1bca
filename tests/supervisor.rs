//! `examples/supervisor.rs`, run in a child process that gets a real SIGINT
//! or SIGTERM.
//!
//! The example's file is compiled into this test with `#[path]` (cargo has no
//! `CARGO_BIN_EXE_` for examples). The test binary then runs itself again as
//! the child, with `FERRIO_SUPERVISOR_CHILD` set: in the child, the test
//! `supervisor_child` runs the example's `run`, and the parent sends the
//! signal once the child says it is running. SIGINT and SIGTERM are never
//! sent to the test process itself.
#![cfg(unix)]

#[allow(dead_code)]
#[path = "../examples/supervisor.rs"]
mod supervisor;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use supervisor::{run, Options};

/// Generous: the slowest shutdown here takes its one-second deadline.
const WAIT: Duration = Duration::from_secs(60);

/// The child's part: runs the supervisor with the options the parent chose.
#[test]
fn supervisor_child() {
    let Some(mode) = std::env::var_os("FERRIO_SUPERVISOR_CHILD") else {
        return;
    };
    let options = if mode == "stubborn" {
        Options {
            workers: 3,
            // Jobs far longer than the deadline: every busy worker is cancelled.
            job: Duration::from_secs(600),
            every: Duration::from_millis(1),
            deadline: Duration::from_secs(1),
            stubborn_child: true,
        }
    } else {
        Options {
            workers: 3,
            job: Duration::from_millis(20),
            every: Duration::from_millis(5),
            deadline: Duration::from_secs(20),
            stubborn_child: false,
        }
    };
    let mut out = std::io::stdout();
    let report = ferrio::run(run(&options, &mut out)).unwrap();
    println!("REPORT {report:?}");
}

/// Runs the child in `mode`, waits until it runs, sends `signum` and returns
/// its output once it exited, and how long it took after the signal.
fn signal_the_supervisor(mode: &str, signum: libc::c_int) -> (String, Duration) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "supervisor_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("FERRIO_SUPERVISOR_CHILD", mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let watchdog = std::thread::spawn(move || {
        std::thread::sleep(WAIT);
        // SAFETY: kill(2) of the child this test started; it is reaped only
        // after this thread's sleep would have ended in any passing run.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut transcript = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        transcript.push_str(&line);
        transcript.push('\n');
        if line.contains("Ctrl-C or SIGTERM to stop") {
            break;
        }
    }
    // Let the workers take some jobs first.
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill(2) of the child this test started and has not reaped.
    assert_eq!(unsafe { libc::kill(pid, signum) }, 0);
    let sent = Instant::now();
    for line in lines {
        transcript.push_str(&line.unwrap());
        transcript.push('\n');
    }
    let status = child.wait().unwrap();
    let took = sent.elapsed();
    drop(watchdog);
    assert!(
        status.success(),
        "the supervisor should exit normally after the signal, not die of it: {status:?}\n{transcript}"
    );
    (transcript, took)
}

#[test]
fn sigterm_stops_workers_and_child_gracefully() {
    let (out, took) = signal_the_supervisor("graceful", libc::SIGTERM);
    assert!(out.contains("SIGTERM; shutting down"), "{out}");
    assert!(out.contains("3 workers stopped, 0 cancelled"), "{out}");
    assert!(
        !out.lines().any(|l| l.starts_with("cancelled: ")),
        "nothing should need cancelling:\n{out}"
    );
    assert!(
        out.contains("ended: signal: 15 (SIGTERM) after"),
        "the child should end on SIGTERM:\n{out}"
    );
    assert!(out.contains("child_killed: false"), "{out}");
    assert!(
        !out.contains("jobs_done: 0,"),
        "the workers should have done jobs:\n{out}"
    );
    assert!(
        took < Duration::from_secs(20),
        "well within the deadline: {took:?}\n{out}"
    );
}

#[test]
fn sigint_past_the_deadline_cancels_busy_workers_and_kills_the_child() {
    let (out, took) = signal_the_supervisor("stubborn", libc::SIGINT);
    assert!(out.contains("SIGINT; shutting down within 1s"), "{out}");
    for worker in 0..3 {
        assert!(
            out.contains(&format!("cancelled: worker {worker} (in job ")),
            "worker {worker} was in a 10-minute job and should be cancelled:\n{out}"
        );
    }
    assert!(
        out.contains("cancelled: child ") && out.contains(" (killed)"),
        "the stubborn child should be killed:\n{out}"
    );
    assert!(out.contains("child_killed: true"), "{out}");
    // The stubborn child must really be gone, not left running as an orphan.
    let pid: libc::pid_t = out
        .split("child pid ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("the first line names the child's pid:\n{out}"));
    let gone_by = Instant::now() + Duration::from_secs(10);
    // SAFETY: kill(2) with signal 0 sends nothing; it only checks the pid.
    while unsafe { libc::kill(pid, 0) } == 0 && Instant::now() < gone_by {
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: as above; and a SIGKILL to clean up if the check fails.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    if alive {
        // SAFETY: the stubborn child this test's child started; killing it cleans up.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    assert!(
        !alive,
        "the stubborn child {pid} should have been killed:\n{out}"
    );
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(20),
        "the shutdown should take its one-second deadline: {took:?}\n{out}"
    );
}

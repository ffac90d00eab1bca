//! Debug mode's warnings without a `log` backend: as Python's logging falls
//! back to its last-resort handler, they go to stderr; with a logger
//! installed they go to it alone. Each case runs this test binary again as a
//! child process (a process has one logger, set once) and reads its stderr.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set in the child: which scenario to run ("none" or "logger").
const CHILD: &str = "FERRIO_STDERR_TEST_CHILD";

/// The scenario of the child: a debug-mode runtime with short thresholds, a
/// task that blocks the loop for 600 ms (the watchdog at 100 ms, then the
/// slow poll when it returns), and a task that panics with its handle
/// dropped.
fn warn_three_ways() {
    let mut rt = ferrio::Runtime::builder()
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(50))
        .watchdog_threshold(Duration::from_millis(100))
        .build()
        .unwrap();
    rt.block_on(async {
        let blocker = ferrio::task::Builder::new()
            .name("stderr-blocker")
            .spawn(async { std::thread::sleep(Duration::from_millis(600)) });
        drop(
            ferrio::task::Builder::new()
                .name("stderr-panicker")
                .spawn(async { panic!("nobody awaits this") }),
        );
        // Woken when the blocker returns from its one poll.
        ferrio::time::timeout(Duration::from_secs(20), blocker)
            .await
            .expect("the blocker returns after 600 ms")
            .unwrap();
        // One more turn of the loop, for the panicker to have run.
        ferrio::time::sleep(Duration::from_millis(20)).await;
    });
}

/// A logger that keeps the target of every warning.
struct Keep(std::sync::Mutex<Vec<String>>);

impl log::Log for Keep {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if record.level() == log::Level::Warn {
            self.0.lock().unwrap().push(record.target().to_owned());
        }
    }
    fn flush(&self) {}
}

static KEEP: Keep = Keep(std::sync::Mutex::new(Vec::new()));

/// The child's side: runs only in the child process, as the parent asks.
#[test]
fn child() {
    match std::env::var(CHILD).as_deref() {
        Ok("none") => warn_three_ways(),
        Ok("logger") => {
            log::set_logger(&KEEP).unwrap();
            log::set_max_level(log::LevelFilter::Warn);
            warn_three_ways();
            let targets = KEEP.0.lock().unwrap().clone();
            for target in ["ferrio::watchdog", "ferrio::slow_poll", "ferrio::task"] {
                assert!(targets.iter().any(|t| t == target), "{target}: {targets:?}");
            }
        }
        _ => {} // in the parent's own run: nothing to do
    }
}

/// Runs the `child` test of this binary with `CHILD=scenario`; its stderr.
fn run_child(scenario: &str) -> String {
    let started = Instant::now();
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD, scenario)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("the test binary runs again");
    assert!(
        output.status.success(),
        "the child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The child's own deadline is its 20 s timeout; this is a second look.
    assert!(started.elapsed() < Duration::from_secs(30));
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn without_a_logger_debug_warnings_go_to_stderr() {
    let stderr = run_child("none");
    let line = |target: &str, needle: &str| {
        stderr
            .lines()
            .any(|l| l.starts_with(&format!("[WARN  {target}] ")) && l.contains(needle))
    };
    assert!(
        line("ferrio::watchdog", "'stderr-blocker'"),
        "the watchdog's warning:\n{stderr}"
    );
    assert!(
        line("ferrio::slow_poll", "'stderr-blocker'"),
        "the slow poll's warning:\n{stderr}"
    );
    assert!(
        line("ferrio::task", "'stderr-panicker'") && line("ferrio::task", "nobody awaits this"),
        "the unobserved panic's warning:\n{stderr}"
    );
}

#[test]
fn with_a_logger_installed_nothing_goes_to_stderr() {
    let stderr = run_child("logger");
    assert!(
        !stderr.contains("[WARN  ferrio::"),
        "the logger (which the child checked) had them all:\n{stderr}"
    );
    // The panic hook's own message is the only sign of the panicker.
    assert!(stderr.contains("nobody awaits this"), "{stderr}");
}

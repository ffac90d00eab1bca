//! `ferrio::signal` with real signals sent to this test process.
//!
//! Tests run in parallel threads of one process and a signal goes to the whole
//! process, so each test listens for a signal no other test sends. SIGINT and
//! SIGTERM are never sent to this process: `ctrl_c` is tested in a child (this
//! same test binary, run again with an environment variable that selects the
//! child's part).
#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrio::signal::{add_handler, ctrl_c, signal, SignalKind};
use ferrio::time::{sleep, timeout};
use futures_util::StreamExt;

/// Generous: a signal is delivered in microseconds.
const WAIT: Duration = Duration::from_secs(10);

fn send_to_self(signum: libc::c_int) {
    // SAFETY: kill(2) with our own pid only sends a signal; every caller
    // listens for `signum` before it sends it.
    let rc = unsafe { libc::kill(libc::getpid(), signum) };
    assert_eq!(rc, 0, "kill(getpid(), {signum})");
}

#[test]
fn a_listener_receives_a_signal_sent_to_the_process() {
    ferrio::run(async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        assert_eq!(usr1.kind(), SignalKind::user_defined1());
        for round in 0..3 {
            send_to_self(libc::SIGUSR1);
            timeout(WAIT, usr1.recv())
                .await
                .unwrap_or_else(|_| panic!("SIGUSR1 #{round} was sent; recv should wake"))
                .unwrap();
        }
    });
}

#[test]
fn every_listener_of_one_signal_receives_it() {
    ferrio::run(async {
        let mut a = signal(SignalKind::user_defined2()).unwrap();
        let mut b = signal(SignalKind::user_defined2()).unwrap();
        // The third listens from another task, as a stream.
        let mut c = signal(SignalKind::user_defined2()).unwrap();
        let streamed = ferrio::spawn(async move { c.next().await });
        send_to_self(libc::SIGUSR2);
        timeout(WAIT, a.recv())
            .await
            .expect("listener a should get the SIGUSR2")
            .unwrap();
        timeout(WAIT, b.recv())
            .await
            .expect("listener b should get the same SIGUSR2")
            .unwrap();
        let got = timeout(WAIT, streamed)
            .await
            .expect("the streaming listener should get the same SIGUSR2")
            .unwrap();
        assert!(matches!(got, Some(Ok(()))), "{got:?}");
    });
}

#[test]
fn a_signal_sent_while_nobody_waits_is_kept_for_the_next_recv() {
    ferrio::run(async {
        let mut hup = signal(SignalKind::hangup()).unwrap();
        send_to_self(libc::SIGHUP);
        // Let the loop turn (and the reactor see the event) with nobody waiting.
        sleep(Duration::from_millis(20)).await;
        timeout(WAIT, hup.recv())
            .await
            .expect("the SIGHUP sent earlier should be delivered now")
            .unwrap();
        // It was delivered once: nothing more is pending.
        assert!(
            timeout(Duration::from_millis(50), hup.recv())
                .await
                .is_err(),
            "only one SIGHUP was sent"
        );
    });
}

#[test]
fn a_handler_runs_once_per_signal_until_it_is_aborted() {
    ferrio::run(async {
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = seen.clone();
        let handler = add_handler(SignalKind::window_change(), move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        for expected in 1..=3 {
            send_to_self(libc::SIGWINCH);
            let deadline = Instant::now() + WAIT;
            while seen.load(Ordering::SeqCst) < expected && Instant::now() < deadline {
                sleep(Duration::from_millis(2)).await;
            }
            assert_eq!(
                seen.load(Ordering::SeqCst),
                expected,
                "SIGWINCH #{expected} was sent; the handler should have run for it"
            );
        }
        handler.abort();
        assert!(handler.await.unwrap_err().is_cancelled());
        send_to_self(libc::SIGWINCH);
        sleep(Duration::from_millis(50)).await;
        assert_eq!(seen.load(Ordering::SeqCst), 3, "the aborted handler ran");
    });
}

#[test]
fn signals_that_cannot_be_caught_are_refused() {
    ferrio::run(async {
        for signum in [
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGSEGV,
            0,
            -1,
            100,
            100_000,
        ] {
            let err = signal(SignalKind::from_raw(signum)).unwrap_err();
            assert_eq!(
                err.kind(),
                std::io::ErrorKind::InvalidInput,
                "{signum}: {err}"
            );
        }
    });
}

/// The child's part of `ctrl_c_resolves_when_the_process_gets_sigint`.
#[test]
fn ctrl_c_child() {
    if std::env::var_os("FERRIO_CTRL_C_CHILD").is_none() {
        return;
    }
    ferrio::run(async {
        let interrupted = ctrl_c();
        let mut interrupted = std::pin::pin!(interrupted);
        // Poll once so that the listener exists before the parent is told.
        assert!(
            timeout(Duration::from_millis(1), &mut interrupted)
                .await
                .is_err(),
            "no SIGINT yet"
        );
        println!("listening");
        timeout(WAIT, interrupted)
            .await
            .expect("the parent sends SIGINT")
            .unwrap();
        println!("interrupted");
    });
}

#[test]
fn ctrl_c_resolves_when_the_process_gets_sigint() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "ctrl_c_child", "--nocapture", "--test-threads=1"])
        .env("FERRIO_CTRL_C_CHILD", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let watchdog = {
        let pid = child.id() as libc::pid_t;
        std::thread::spawn(move || {
            std::thread::sleep(WAIT * 3);
            // SAFETY: kill(2) of the child we started; a no-op if it exited and was reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        })
    };
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut transcript = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        transcript.push(line.clone());
        if line.ends_with("listening") {
            break;
        }
    }
    // SAFETY: kill(2) of the child we started and have not reaped yet.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "kill(child, SIGINT)");
    transcript.extend(lines.map(Result::unwrap));
    let status = child.wait().unwrap();
    drop(watchdog);
    assert!(
        status.success(),
        "the child should exit normally after SIGINT, not die of it: {status:?}\n{transcript:?}"
    );
    assert!(
        transcript.iter().any(|l| l.contains("interrupted")),
        "ctrl_c should have returned in the child: {transcript:?}"
    );
}

#[test]
fn a_listener_moves_to_the_runtime_that_polls_it() {
    let mut first = ferrio::Runtime::new().unwrap();
    let mut usr1 = first
        .block_on(async { signal(SignalKind::user_defined1()) })
        .unwrap();
    drop(first);
    ferrio::run(async {
        send_to_self(libc::SIGUSR1);
        timeout(WAIT, usr1.recv())
            .await
            .expect("SIGUSR1 was sent; the listener from the ended runtime should wake here")
            .unwrap();
    });
}

#[test]
fn a_burst_of_a_thousand_signals_is_received_coalesced_and_the_listener_still_works() {
    ferrio::run(async {
        // SIGALRM: no other test here sends it. A burst is coalesced (the
        // kernel keeps one pending signal of a kind, and signal-hook one flag
        // per signal behind a pipe whose writes are dropped when it is full),
        // so the listener's memory does not grow with the burst.
        let mut alarm = signal(SignalKind::from_raw(libc::SIGALRM)).unwrap();
        for _ in 0..1000 {
            send_to_self(libc::SIGALRM);
        }
        // Woken by the burst's deliveries: at least one, at most 1000.
        timeout(WAIT, alarm.recv())
            .await
            .expect("a burst of SIGALRM was sent; recv should wake")
            .unwrap();
        let mut received = 1;
        // Expected to end by a 100 ms quiet timeout, not by the bound.
        while received <= 1000 {
            match timeout(Duration::from_millis(100), alarm.recv()).await {
                Ok(result) => {
                    result.unwrap();
                    received += 1;
                }
                Err(_) => break,
            }
        }
        assert!(
            (1..=1000).contains(&received),
            "{received} receptions of 1000 sends"
        );
        // After the burst, a single signal is received once.
        send_to_self(libc::SIGALRM);
        timeout(WAIT, alarm.recv())
            .await
            .expect("the SIGALRM after the burst should wake recv")
            .unwrap();
        assert!(
            timeout(Duration::from_millis(100), alarm.recv())
                .await
                .is_err(),
            "one signal, one reception"
        );
    });
}

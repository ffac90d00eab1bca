//! The watchdog (debug mode): a thread that notices, while it happens, that
//! the loop has been inside one poll for too long, and logs which task holds
//! it. asyncio reports a slow callback only after it returned; a task
//! blocked for good would never be reported at all.
//!
//! Not here: the after-the-fact slow-poll warning (the observer logs it when
//! the poll returns).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::TaskInfo;

pub(crate) struct Watchdog {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// Sequence number of the last poll begun (executor thread only).
    begun: Cell<u64>,
}

struct Shared {
    state: Mutex<State>,
    /// Sequence number of the last poll that returned: a poll ends with one
    /// atomic store, and only its beginning takes the lock.
    ended: AtomicU64,
    /// Signalled when the executor drops.
    stop: Condvar,
    threshold: Duration,
    /// The worker watched, on a runtime of several.
    worker: Option<usize>,
}

#[derive(Default)]
struct State {
    /// The last poll begun: who, since when, and its sequence number. It is
    /// still running unless `Shared::ended` has reached that number.
    poll: Option<(TaskInfo, Instant, u64)>,
    /// The poll already reported (each stuck poll is reported once).
    reported: u64,
    stopped: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Watchdog {
    /// Starts the thread; `None` (logged) if the OS refuses one.
    /// `worker`: which worker of a runtime of several it watches (named in
    /// the warning and the thread's name).
    pub(crate) fn start(threshold: Duration, worker: Option<usize>) -> Option<Watchdog> {
        let shared = Arc::new(Shared {
            worker,
            state: Mutex::new(State::default()),
            ended: AtomicU64::new(0),
            stop: Condvar::new(),
            threshold,
        });
        let theirs = shared.clone();
        match std::thread::Builder::new()
            .name(match worker {
                Some(w) => format!("ferrio-watchdog-{w}"),
                None => "ferrio-watchdog".into(),
            })
            .spawn(move || watch(&theirs))
        {
            Ok(thread) => Some(Watchdog {
                shared,
                thread: Some(thread),
                begun: Cell::new(0),
            }),
            Err(e) => {
                super::warn(
                    "ferrio::watchdog",
                    format_args!("could not start the watchdog thread: {e}"),
                );
                None
            }
        }
    }

    pub(crate) fn poll_begin(&self, info: &TaskInfo, now: Instant) {
        let seq = self.begun.get() + 1;
        self.begun.set(seq);
        self.shared.lock().poll = Some((info.clone(), now, seq));
    }

    pub(crate) fn poll_end(&self) {
        self.shared.ended.store(self.begun.get(), Ordering::Release);
    }
}

fn watch(shared: &Shared) {
    // Look often enough to report within about a quarter of the threshold.
    let period = (shared.threshold / 4).clamp(Duration::from_millis(1), Duration::from_millis(250));
    let mut state = shared.lock();
    loop {
        state = shared
            .stop
            .wait_timeout(state, period)
            .unwrap_or_else(|e| e.into_inner())
            .0;
        if state.stopped {
            return;
        }
        let Some((info, since, seq)) = state.poll.clone() else {
            continue;
        };
        if shared.ended.load(Ordering::Acquire) >= seq {
            continue; // that poll returned: the loop is between polls
        }
        let blocked = since.elapsed();
        if blocked < shared.threshold || state.reported == seq {
            continue;
        }
        state.reported = seq;
        drop(state);
        let what = match shared.worker {
            Some(w) => format!("worker {w} of the event loop is blocked"),
            None => "the event loop is blocked".to_owned(),
        };
        super::warn("ferrio::watchdog", format_args!(
            "{what}: {} spawned at {} has been inside one poll for {blocked:.3?} and has not returned \
             (a blocking call in async code? move it to spawn_blocking)",
            info.label(), info.location));
        state = shared.lock();
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.stop.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

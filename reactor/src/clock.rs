//! The reactor's clock: std's monotonic clock until someone pauses it
//! (`time::pause`, `Builder::start_paused`), a virtual one from then on.
//!
//! Every deadline the runtime keeps (timers, timeouts, the HTTP client's and
//! server's limits, ...) is read against this clock, so pausing it pauses
//! them all. The rule of the jump (the reactor's `turn_idle`) is in
//! docs/architecture.md, "The clock".
//!
//! Cost while no clock in the process was ever paused: one load of a
//! process-wide counter (`SHIFTED`) per reading on top of std's
//! `Instant::now()`; no reading looks up its runtime or its reactor.
//!
//! Not here: the jump itself (`reactor.rs`), the public functions (`time.rs`).

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::lock::lock;

/// How many live clocks have left std's timeline (were paused at least
/// once). Zero: every clock reads std's, so a reading need not find its runtime.
static SHIFTED: AtomicUsize = AtomicUsize::new(0);

/// Whether some live clock in the process has left std's timeline.
#[inline]
pub(crate) fn any_shifted() -> bool {
    SHIFTED.load(Ordering::Acquire) != 0
}

/// Why the clock refused a `pause`, `resume` or `advance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClockError {
    /// The runtime has several workers: its clock cannot be paused (no
    /// single thread knows that every task is idle).
    SeveralWorkers,
    /// `pause` on a clock already paused.
    AlreadyPaused,
    /// `resume` or `advance` on a clock that is not paused.
    NotPaused,
}

impl fmt::Display for ClockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClockError::SeveralWorkers => {
                "time::pause() requires a one-worker runtime (Runtime::builder().workers(1), the default)"
            }
            ClockError::AlreadyPaused => "the clock is already paused",
            ClockError::NotPaused => "the clock is not paused (call ferrio::time::pause() first)",
        })
    }
}

impl std::error::Error for ClockError {}

pub(crate) struct Clock {
    /// Paused at least once: readings come from `state`, not std.
    shifted: AtomicBool,
    /// Paused now; read by every turn.
    paused: AtomicBool,
    /// False on a runtime with several workers.
    pausable: AtomicBool,
    state: Mutex<State>,
}

struct State {
    /// The clock's reading when it was last paused, moved by advances and jumps.
    base: Instant,
    /// When (std's time) it last resumed; `None` while paused. A running
    /// clock reads `base + unfrozen.elapsed()`.
    unfrozen: Option<Instant>,
}

impl State {
    fn now(&self) -> Instant {
        match self.unfrozen {
            None => self.base,
            Some(since) => self.base + since.elapsed(),
        }
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock {
            shifted: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            pausable: AtomicBool::new(true),
            state: Mutex::new(State {
                base: Instant::now(),
                unfrozen: Some(Instant::now()),
            }),
        }
    }
}

impl Clock {
    /// The clock's reading.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        // The process-wide count first: one load of a static, where the
        // clock's own flag is a load through its reactor.
        if !any_shifted() || !self.shifted.load(Ordering::Acquire) {
            return Instant::now();
        }
        self.now_shifted()
    }

    #[cold]
    fn now_shifted(&self) -> Instant {
        lock(&self.state).now()
    }

    #[inline]
    pub(crate) fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    pub(crate) fn set_pausable(&self, pausable: bool) {
        self.pausable.store(pausable, Ordering::Release);
    }

    pub(crate) fn pause(&self) -> Result<(), ClockError> {
        if !self.pausable.load(Ordering::Acquire) {
            return Err(ClockError::SeveralWorkers);
        }
        let mut state = lock(&self.state);
        if self.is_paused() {
            return Err(ClockError::AlreadyPaused);
        }
        // The first pause starts from std's time; a later one from the
        // clock's own (which runs at std's rate since its last resume).
        state.base = if self.shifted.load(Ordering::Acquire) {
            state.now()
        } else {
            Instant::now()
        };
        state.unfrozen = None;
        if !self.shifted.swap(true, Ordering::AcqRel) {
            SHIFTED.fetch_add(1, Ordering::AcqRel);
        }
        self.paused.store(true, Ordering::Release);
        Ok(())
    }

    pub(crate) fn resume(&self) -> Result<(), ClockError> {
        let mut state = lock(&self.state);
        if !self.is_paused() {
            return Err(ClockError::NotPaused);
        }
        state.unfrozen = Some(Instant::now());
        self.paused.store(false, Ordering::Release);
        Ok(())
    }

    /// Moves a paused clock `by` forward; returns the new reading.
    pub(crate) fn advance(&self, by: Duration) -> Result<Instant, ClockError> {
        let mut state = lock(&self.state);
        if !self.is_paused() {
            return Err(ClockError::NotPaused);
        }
        // An advance past what the platform's instant holds stops at 30
        // years: no deadline in a test lies beyond.
        state.base = state
            .base
            .checked_add(by)
            .unwrap_or_else(|| state.base + Duration::from_secs(60 * 60 * 24 * 365 * 30));
        Ok(state.base)
    }

    /// Moves a paused clock forward to `to` (never backward); the jump of
    /// an idle turn. Returns the reading after it.
    pub(crate) fn jump_to(&self, to: Instant) -> Instant {
        let mut state = lock(&self.state);
        if self.is_paused() && to > state.base {
            state.base = to;
        }
        state.now()
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        if *self.shifted.get_mut() {
            SHIFTED.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

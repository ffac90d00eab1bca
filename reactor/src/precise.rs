//! Precise timer wake-ups on Linux: a `timerfd` armed at the nearest deadline.
//!
//! epoll's timeout is in whole milliseconds (mio rounds it up), so a reactor
//! that slept on the poll timeout alone would wake up to 1 ms after a
//! deadline. Before `turn` blocks on a timer, it arms this timerfd at the exact
//! deadline (nanoseconds); the timerfd's readiness ends the poll on time. The
//! millisecond timeout stays as a safety net. One `timerfd_settime` per new
//! nearest deadline and one 8-byte `read` per expiry are the whole cost.
//!
//! Not here: the timers themselves (`timer.rs`).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use rustix::time::{
    timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags,
    Timespec,
};

/// The token of the timerfd's registration.
pub(crate) const TIMER_TOKEN: mio::Token = mio::Token(usize::MAX - 1);

pub(crate) struct PreciseTimer {
    fd: OwnedFd,
    /// The deadline the timerfd is armed for, to skip re-arming for the same one.
    armed: Option<Instant>,
}

impl PreciseTimer {
    pub(crate) fn new(registry: &mio::Registry) -> io::Result<PreciseTimer> {
        // Miri has epoll but no timerfd (it aborts on the call): under Miri
        // the reactor takes the 1 ms fallback, so its tests can run there.
        if cfg!(miri) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "timerfd is not available under Miri",
            ));
        }
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        registry.register(
            &mut mio::unix::SourceFd(&fd.as_raw_fd()),
            TIMER_TOKEN,
            mio::Interest::READABLE,
        )?;
        Ok(PreciseTimer { fd, armed: None })
    }

    /// Makes the timerfd expire at `deadline` (`now` is the caller's clock
    /// reading; the timerfd runs on the same monotonic clock as `Instant`).
    pub(crate) fn arm(&mut self, deadline: Instant, now: Instant) {
        if self.armed == Some(deadline) {
            return;
        }
        // Relative, at least 1 ns: a zero it_value would disarm the timer.
        let after = deadline
            .saturating_duration_since(now)
            .max(Duration::from_nanos(1));
        let spec = Itimerspec {
            it_interval: Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: Timespec {
                tv_sec: after.as_secs().try_into().unwrap_or(i64::MAX),
                tv_nsec: after.subsec_nanos().into(),
            },
        };
        match timerfd_settime(&self.fd, TimerfdTimerFlags::empty(), &spec) {
            Ok(_) => self.armed = Some(deadline),
            // The millisecond poll timeout still bounds the sleep.
            Err(e) => log::warn!("timerfd_settime failed, timers fall back to 1 ms precision: {e}"),
        }
    }

    /// The timerfd expired: read its counter so the next expiry is a new edge.
    pub(crate) fn expired(&mut self) {
        self.armed = None;
        let mut count = [0u8; 8];
        match rustix::io::read(&self.fd, &mut count) {
            Ok(_) => {}
            Err(e) if e == rustix::io::Errno::AGAIN => {}
            Err(e) => log::warn!("reading the timerfd failed: {e}"),
        }
    }
}

//! [`Instant`], ferrio's instant: a newtype over `std::time::Instant` on the
//! timeline of the runtime's clock, re-exported as `time::Instant`.
//!
//! While a runtime's clock was never paused, its timeline is std's and an
//! `Instant` holds exactly what `std::time::Instant::now()` would give. Once
//! paused (see `time::pause`), the runtime's clock may run ahead of std's or
//! stand still: `Instant::now()` (defined in `time.rs`, where the current
//! runtime is known) reads that clock, `std::time::Instant::now()` does not.
//!
//! Not here: the clock itself (`clock.rs`), reading it (`time.rs`, `context.rs`).

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A measurement of the runtime's clock: what deadlines (`sleep_until`,
/// `timeout_at`, `interval_at`, `timeout_scope_at`) are given in, and what
/// [`Interval::tick`](crate::time::Interval::tick) returns.
///
/// A newtype over [`std::time::Instant`], as tokio's `Instant` is. The
/// difference is [`Instant::now`]: it reads the clock of the runtime current
/// on this thread, which [`pause`](crate::time::pause) can stop and
/// [`advance`](crate::time::advance) can move, so that a test of a 30 s
/// timeout need not take 30 s. `std::time::Instant::now()` does not follow a
/// paused clock: take deadlines from `ferrio::time::Instant::now()`.
/// Outside any runtime, and in a runtime whose clock was never paused, the
/// two read the same.
///
/// ```
/// use std::time::Duration;
/// use ferrio::time::Instant;
/// ferrio::run(async {
///     let start = Instant::now();
///     ferrio::time::sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
///     let std: std::time::Instant = start.into_std();
///     assert_eq!(Instant::from_std(std), start);
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

impl Instant {
    /// The `Instant` that holds `std`, taken as a reading of the runtime's
    /// clock. While the clock was never paused the two timelines are one;
    /// after a pause, a std instant is on another timeline (see the type's docs).
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The `std::time::Instant` this holds.
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// Time from `earlier` to `self`, or `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// `self + duration`, or `None` where the platform's instant cannot hold it.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_add(duration).map(Instant::from_std)
    }

    /// `self - duration`, or `None` where the platform's instant cannot hold it.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_sub(duration).map(Instant::from_std)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.into_std()
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    ///
    /// Where the result overflows the platform's instant (as std's).
    fn add(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std + rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    fn sub(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std - rhs)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturates at zero, as std's.
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

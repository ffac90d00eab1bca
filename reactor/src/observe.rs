//! What the reactor tells an observer: which timer or socket a waker was
//! stored for (so a task dump can say what each task waits on), and its
//! counters.
//!
//! The reactor knows nothing of tasks: it calls a hook, which the runtime
//! installs (the facade hands the tags to the executor). Without a hook a tag
//! costs one atomic load.
//!
//! Not here: which task waits (the hook's business).

use std::sync::OnceLock;
use std::time::Instant;

use crate::scheduled_io::Direction;

/// What a waker was just stored for.
#[derive(Debug)]
#[non_exhaustive]
pub enum WaitOn<'a> {
    /// A timer (a `Sleep`) due at `deadline`.
    Timer {
        /// When it fires.
        deadline: Instant,
    },
    /// A socket becoming ready in `direction`.
    Socket {
        /// Read or write.
        direction: Direction,
        /// What the socket's owner said it is (addresses), if it said.
        label: Option<&'a str>,
    },
}

static HOOK: OnceLock<fn(&WaitOn<'_>)> = OnceLock::new();

/// Installs the process's wait hook, once; returns false if one was
/// installed already (the first stays).
///
/// ```
/// fn hook(wait: &ferrio_reactor::observe::WaitOn<'_>) {
///     log::trace!("waiting on {wait:?}");
/// }
/// ferrio_reactor::observe::set_wait_hook(hook);
/// ```
pub fn set_wait_hook(hook: fn(&WaitOn<'_>)) -> bool {
    HOOK.set(hook).is_ok()
}

/// Reports a stored waker to the hook.
pub(crate) fn waiting(wait: WaitOn<'_>) {
    if let Some(hook) = HOOK.get() {
        hook(&wait);
    }
}

/// A reactor's counters since it was made. `Handle::metrics`.
///
/// ```
/// let reactor = ferrio_reactor::Reactor::new().unwrap();
/// assert_eq!(reactor.handle().metrics().timers_fired, 0);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// OS readiness events received (the reactor's own wake-ups not counted).
    pub io_events: u64,
    /// Timers armed (a `Sleep` polled for the first time, or re-armed).
    pub timers_armed: u64,
    /// Timers that fired.
    pub timers_fired: u64,
    /// Timers armed now.
    pub timers_pending: usize,
    /// Sources registered now.
    pub registrations: usize,
}

impl std::fmt::Display for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "I/O events: {}; timers: {} armed, {} fired, {} pending; registrations: {}",
            self.io_events,
            self.timers_armed,
            self.timers_fired,
            self.timers_pending,
            self.registrations
        )
    }
}

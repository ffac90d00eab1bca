//! The facade's part of observability: the runtime-wide [`Metrics`] (the
//! executor's and the reactor's counters side by side), and the hook that
//! turns the reactor's "a waker waits on this timer/socket" into tags on the
//! current task.
//!
//! Not here: the executor's observer (names, dump, debug mode, trace) or the
//! `Builder` switches (`runtime.rs`).

use std::fmt;

use ferrio_executor::observe::{waiting_on, WaitKind};
use ferrio_reactor::observe::WaitOn;
use ferrio_reactor::Direction;

/// A runtime's counters: tasks, polls, wakes, parks and the blocking pool
/// ([`executor`](Metrics::executor)), I/O events and timers
/// ([`reactor`](Metrics::reactor)). Always on; see docs/observability.md.
///
/// ```
/// use std::time::Duration;
/// ferrio::run(async {
///     ferrio::time::sleep(Duration::from_millis(1)).await;
///     let m = ferrio::metrics();
///     assert!(m.reactor.timers_fired >= 1);
///     println!("{m}");
/// });
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Tasks, polls, wakes, parks, run queue, blocking pool.
    pub executor: ferrio_executor::observe::Metrics,
    /// I/O events, timers, registrations.
    pub reactor: ferrio_reactor::observe::Metrics,
}

impl fmt::Display for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}", self.executor, self.reactor)
    }
}

/// The current runtime's counters (tokio-metrics' runtime figures, built in).
///
/// ```
/// ferrio::run(async {
///     ferrio::spawn(async {}).await.unwrap();
///     assert_eq!(ferrio::metrics().executor.tasks_spawned, 1);
/// });
/// ```
///
/// # Panics
///
/// Outside a runtime, with a message that says so.
#[track_caller]
pub fn metrics() -> Metrics {
    Metrics {
        executor: ferrio_executor::observe::metrics(),
        reactor: ferrio_reactor::context::current().metrics(),
    }
}

/// Installed as the reactor's wait hook when the first runtime is built:
/// tags the running task with the timer or socket it now waits on (the kind
/// always; the detail, built only when the runtime times tasks).
pub(crate) fn reactor_wait(wait: &WaitOn<'_>) {
    match wait {
        WaitOn::Timer { deadline } => waiting_on(WaitKind::Timer, Some(*deadline), String::new),
        WaitOn::Socket { direction, label } => waiting_on(WaitKind::Socket, None, || {
            let dir = match direction {
                Direction::Read => "read",
                Direction::Write => "write",
            };
            match label {
                Some(label) => format!("{dir} {label}"),
                None => dir.to_owned(),
            }
        }),
        _ => {}
    }
}

//! The executor's settings: [`Config`] and the default batch length.
//!
//! Not here: the runtime builder that fills them in (the facade's `Builder`).

use crate::blocking::PoolConfig;
use crate::observer::ObserveConfig;

/// How many tasks run between two turns of the parker (the reactor, in the
/// runtime). An always-ready task therefore delays I/O and timers by at most
/// this many polls.
pub const EVENT_INTERVAL: usize = 61;

/// Settings of an `Executor` or `MultiExecutor`.
#[derive(Clone, Debug)]
pub struct Config {
    /// Tasks polled between two parks (see [`EVENT_INTERVAL`]).
    pub event_interval: usize,
    /// The blocking pool's settings.
    pub blocking: PoolConfig,
    /// Debug mode, timing and the trace (off by default).
    pub observe: ObserveConfig,
    /// A seeded run (tests): the one-worker loop picks which ready task (or
    /// `block_on`'s future) it polls next with a generator seeded by this,
    /// instead of first-in first-out; the same seed gives the same order.
    /// `None` (the default): FIFO, and the seeded code is never reached.
    /// `MultiExecutor` refuses a seed.
    pub seed: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            event_interval: EVENT_INTERVAL,
            blocking: PoolConfig::default(),
            observe: ObserveConfig::default(),
            seed: None,
        }
    }
}

//! [`Elapsed`], the error of a future whose deadline passed first: what
//! `time::timeout` (`time.rs`) and `time::timeout_scope` (`scope.rs`) give,
//! re-exported as `time::Elapsed`. It sits below both, so neither module
//! depends on the other for it.
//!
//! Not here: the futures that give it.

use std::fmt;
use std::time::Duration;

/// The error of [`timeout`]: the deadline passed first (asyncio's `TimeoutError`).
///
/// [`timeout`]: crate::time::timeout
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed {
    pub(crate) after: Duration,
}

impl Elapsed {
    /// The timeout that elapsed.
    pub fn duration(&self) -> Duration {
        self.after
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "deadline has elapsed after {:?}", self.after)
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> Self {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}

//! A [`Park`] that blocks on a condvar: the executor without any reactor, for
//! tests and for programs that only compute and use channels.

use std::sync::Arc;
use std::time::Duration;

use crate::sync::{lock, Condvar, Mutex};

/// What parks the executor when no task is ready. In the runtime it is the
/// reactor: parking means waiting for I/O events or the next timer.
pub trait Park {
    /// Blocks the thread until unparked, or until `timeout` passed
    /// (`Some(Duration::ZERO)`: only collect what is ready, do not block).
    /// Returning early is allowed (a spurious unpark).
    fn park(&mut self, timeout: Option<Duration>);

    /// `park(None)` when nothing at all is left to do but wait on the
    /// parker: no task is ready and no blocking job runs. A parker with a
    /// paused clock may move it to the next timer here instead of blocking
    /// (the runtime's reactor does: docs/architecture.md, "The clock").
    fn park_idle(&mut self) {
        self.park(None);
    }

    /// A handle that ends a current or the next `park` from any thread. An
    /// unpark that arrives before `park` is called is not lost.
    fn unparker(&self) -> Arc<dyn Unpark>;
}

/// Ends a [`Park::park`], from any thread.
pub trait Unpark: Send + Sync + 'static {
    /// Wakes the parked thread (or makes its next park return at once).
    fn unpark(&self);
}

/// Parks the executor's thread on a condvar until unparked or timed out.
///
/// ```
/// use ferrio_executor::{Park, ThreadParker};
/// let mut parker = ThreadParker::new();
/// let unparker = parker.unparker();
/// std::thread::spawn(move || unparker.unpark());
/// parker.park(None); // returns once the other thread unparked it
/// ```
#[derive(Debug, Default)]
pub struct ThreadParker {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// An unpark not yet consumed by a park.
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl ThreadParker {
    /// A new parker.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Park for ThreadParker {
    fn park(&mut self, timeout: Option<Duration>) {
        let mut notified = lock(&self.inner.notified);
        match timeout {
            Some(t) if t.is_zero() => {}
            Some(t) => {
                if !*notified {
                    notified = self
                        .inner
                        .condvar
                        .wait_timeout(notified, t)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
            None => {
                while !*notified {
                    notified = self
                        .inner
                        .condvar
                        .wait(notified)
                        .unwrap_or_else(|e| e.into_inner());
                }
            }
        }
        *notified = false;
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        self.inner.clone()
    }
}

impl Unpark for Inner {
    fn unpark(&self) {
        *lock(&self.notified) = true;
        self.condvar.notify_one();
    }
}

//! The thread-local "current reactor": what sockets and timers created without
//! an explicit [`Handle`] register with.
//!
//! The runtime enters it for the thread that drives the reactor; code on other
//! threads can enter it too with [`enter`].

use std::cell::RefCell;
use std::time::Instant;

use crate::clock;
use crate::reactor::Handle;

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// Restores the previous current reactor when dropped.
#[must_use = "the reactor is current only while the guard lives"]
#[derive(Debug)]
pub struct EnterGuard {
    previous: Option<Handle>,
}

/// Makes `handle` the current reactor of this thread until the guard drops.
pub fn enter(handle: Handle) -> EnterGuard {
    let previous = CURRENT.with(|c| c.borrow_mut().replace(handle));
    EnterGuard { previous }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// The current reactor, if this thread entered one.
pub fn try_current() -> Option<Handle> {
    CURRENT.with(|c| c.borrow().clone())
}

/// The current reactor.
///
/// # Panics
///
/// Outside a ferrio runtime, with a message that says so.
#[track_caller]
pub fn current() -> Handle {
    // A `match`, not `unwrap_or_else`: a closure would lose `#[track_caller]`.
    match try_current() {
        Some(handle) => handle,
        None => panic!("there is no reactor running: this must be called from within a ferrio runtime (ferrio::run or Runtime::block_on)"),
    }
}

/// The clock of the current reactor (std's outside any, or while no clock
/// in the process was ever paused, without looking the reactor up).
#[inline]
pub(crate) fn now() -> Instant {
    if !clock::any_shifted() {
        return Instant::now();
    }
    now_shifted()
}

#[cold]
fn now_shifted() -> Instant {
    CURRENT.with(|c| match c.borrow().as_ref() {
        Some(handle) => handle.inner.clock.now(),
        None => Instant::now(),
    })
}

/// Which reactor is current on this thread, seen from one reactor's handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Current {
    /// No reactor is current (a thread outside any runtime).
    None,
    /// The handle's own reactor.
    This,
    /// Another reactor: this thread runs another runtime.
    Other,
}

/// Which reactor is current, relative to `handle`; clones nothing.
pub(crate) fn relative_to(handle: &Handle) -> Current {
    CURRENT.with(|c| match c.borrow().as_ref() {
        None => Current::None,
        Some(h) if h.ptr_eq(handle) => Current::This,
        Some(_) => Current::Other,
    })
}

impl Handle {
    /// Whether `self` is this thread's current reactor.
    ///
    /// ```
    /// let reactor = ferrio_reactor::Reactor::new().unwrap();
    /// assert!(!reactor.handle().is_current());
    /// let _guard = ferrio_reactor::context::enter(reactor.handle());
    /// assert!(reactor.handle().is_current());
    /// ```
    pub fn is_current(&self) -> bool {
        relative_to(self) == Current::This
    }
}

//! How workers sleep and who wakes them: each worker's [`Parker`] (a token
//! and a condvar, or the shared driver when it holds it), and the [`Idle`]
//! set of workers that are parked or about to park.
//!
//! The rule that no wake is lost (docs/architecture.md, "Several workers"):
//! a worker first enters the idle set, then (after a SeqCst fence) looks at
//! every queue once more before it sleeps; whoever queues work that another
//! worker must pick up (a spawn, an injected task, a second task in a
//! worker's queue) publishes it, then (after a SeqCst fence) reads the idle
//! count and, if it is not zero, takes one worker out of the set and unparks
//! it. Of the two fenced reads at least one sees the other side's write, so
//! either the parker sees the work or the pusher sees the parker. Work that
//! the pushing worker runs itself next (a task woken during its own poll, a
//! lone woken task) wakes nobody; a pinned task woken from another thread
//! unparks its owner directly. An unpark that comes before the park leaves
//! its token, so the park returns at once.
//!
//! Not here: the queues (`queue.rs`), or what a worker does once awake (`mod.rs`).

use std::sync::Arc;

use crate::park::Unpark;
use crate::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::sync::{lock, Condvar, Mutex};

/// One worker's sleep: a token set by `unpark` and consumed by the park.
pub(crate) struct Parker {
    notified: Mutex<bool>,
    condvar: Condvar,
    /// The worker sleeps in the shared driver (the reactor), not on the
    /// condvar: an unpark must go through the driver's own unpark.
    in_driver: AtomicBool,
}

impl Parker {
    pub(crate) fn new() -> Self {
        Parker {
            notified: Mutex::new(false),
            condvar: Condvar::new(),
            in_driver: AtomicBool::new(false),
        }
    }

    /// Sets the token and wakes the worker wherever it sleeps.
    pub(crate) fn unpark(&self, driver: &Arc<dyn Unpark>) {
        *lock(&self.notified) = true;
        self.condvar.notify_one();
        // Paired with `enter_driver`: either the worker sees the token before
        // it blocks in the driver, or this sees it is there and unparks it.
        if self.in_driver.load(Ordering::SeqCst) {
            driver.unpark();
        }
    }

    /// Sleeps on the condvar until the token is set; consumes it.
    pub(crate) fn park(&self) {
        let mut notified = lock(&self.notified);
        while !*notified {
            notified = self
                .condvar
                .wait(notified)
                .unwrap_or_else(|e| e.into_inner());
        }
        *notified = false;
    }

    /// About to block in the driver: true if the caller may (no token is
    /// waiting). The caller calls [`leave_driver`](Parker::leave_driver) after.
    pub(crate) fn enter_driver(&self) -> bool {
        self.in_driver.store(true, Ordering::SeqCst);
        !*lock(&self.notified)
    }

    /// Back from the driver (or decided not to block in it): consumes the
    /// token, if any.
    pub(crate) fn leave_driver(&self) {
        self.in_driver.store(false, Ordering::SeqCst);
        *lock(&self.notified) = false;
    }

    /// Consumes a token without sleeping.
    pub(crate) fn clear(&self) {
        *lock(&self.notified) = false;
    }

    pub(crate) fn is_in_driver(&self) -> bool {
        self.in_driver.load(Ordering::SeqCst)
    }
}

/// The workers that are parked, or about to park, in the order they came.
pub(crate) struct Idle {
    workers: Mutex<Vec<usize>>,
    /// `workers.len()`, read without the lock by every push.
    count: AtomicUsize,
}

impl Idle {
    pub(crate) fn new() -> Self {
        Idle {
            workers: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
        }
    }

    /// `worker` is about to park. The caller fences (SeqCst) and looks at the
    /// queues before it sleeps.
    pub(crate) fn enter(&self, worker: usize) {
        let mut workers = lock(&self.workers);
        debug_assert!(!workers.contains(&worker), "a worker went idle twice");
        workers.push(worker);
        self.count.store(workers.len(), Ordering::SeqCst);
    }

    /// `worker` is awake again: out of the set, if nobody took it out yet.
    pub(crate) fn leave(&self, worker: usize) {
        if self.count.load(Ordering::SeqCst) == 0 {
            return;
        }
        let mut workers = lock(&self.workers);
        if let Some(at) = workers.iter().position(|&w| w == worker) {
            workers.swap_remove(at);
            self.count.store(workers.len(), Ordering::SeqCst);
        }
    }

    /// Whether any worker is idle; the caller fenced (SeqCst) after it
    /// published its work.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        self.count.load(Ordering::SeqCst) != 0
    }

    /// Takes one idle worker other than `except` out of the set, preferring
    /// one that sleeps on its condvar (cheaper to wake, and the one in the
    /// driver keeps watching I/O): the caller unparks it.
    pub(crate) fn take(
        &self,
        except: Option<usize>,
        in_driver: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let mut workers = lock(&self.workers);
        let candidates = || workers.iter().rposition(|&w| Some(w) != except);
        let at = workers
            .iter()
            .rposition(|&w| Some(w) != except && !in_driver(w))
            .or_else(candidates)?;
        let worker = workers.swap_remove(at);
        self.count.store(workers.len(), Ordering::SeqCst);
        Some(worker)
    }
}

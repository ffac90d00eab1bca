//! One worker's run queue: a FIFO of ready tasks that its owner pushes to and
//! pops from, that other threads push pinned tasks into, and that idle
//! workers steal from.
//!
//! A mutex around a `VecDeque`, on purpose: the owner's push and pop are an
//! uncontended lock each (a few nanoseconds), stealing takes half of what can
//! be stolen in one critical section, and pinned tasks (`spawn_local`) share
//! the queue without ever being stolen, so a `!Send` future never leaves its
//! worker. `stealable` is mirrored in an atomic so a worker about to park
//! can see work elsewhere without taking every lock (docs/architecture.md,
//! "Several workers").
//!
//! Not here: which queue a task goes to (`mod.rs`), or parking (`idle.rs`).

use std::collections::VecDeque;
use std::sync::Arc;

use crate::raw::Runnable;
use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::{lock, Mutex};

pub(crate) struct RunQueue {
    inner: Mutex<Inner>,
    /// `Inner::tasks.len()`, readable without the lock.
    len: AtomicUsize,
    /// `Inner::stealable`, readable without the lock.
    stealable: AtomicUsize,
}

struct Inner {
    tasks: VecDeque<Arc<dyn Runnable>>,
    /// How many of `tasks` are not pinned.
    stealable: usize,
}

impl RunQueue {
    pub(crate) fn new() -> Self {
        RunQueue {
            inner: Mutex::new(Inner {
                tasks: VecDeque::new(),
                stealable: 0,
            }),
            len: AtomicUsize::new(0),
            stealable: AtomicUsize::new(0),
        }
    }

    /// Appends a task; returns how many tasks that may move the queue holds
    /// now. The counts need no stronger ordering than the lock's: the pusher
    /// fences (SeqCst) before it reads the idle count, and a parker fences
    /// after it enters the idle set and before it reads these (idle.rs), so
    /// the two cannot both miss.
    pub(crate) fn push(&self, task: Arc<dyn Runnable>) -> usize {
        let mut inner = lock(&self.inner);
        if !task.is_pinned() {
            inner.stealable += 1;
            self.stealable.store(inner.stealable, Ordering::Relaxed);
        }
        inner.tasks.push_back(task);
        self.len.store(inner.tasks.len(), Ordering::Relaxed);
        inner.stealable
    }

    /// Appends several tasks (none pinned) at once.
    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = Arc<dyn Runnable>>) {
        let mut inner = lock(&self.inner);
        for task in tasks {
            if !task.is_pinned() {
                inner.stealable += 1;
            }
            inner.tasks.push_back(task);
        }
        self.stealable.store(inner.stealable, Ordering::Relaxed);
        self.len.store(inner.tasks.len(), Ordering::Relaxed);
    }

    /// The owner takes the oldest task.
    pub(crate) fn pop(&self) -> Option<Arc<dyn Runnable>> {
        if self.len.load(Ordering::Relaxed) == 0 {
            // Only the owner pops; others push pinned tasks and steal. A push
            // from another thread that this misses is seen at the next look,
            // which every loop makes before parking (after the idle
            // protocol's fence), and such a push unparks the owner anyway.
            return None;
        }
        let mut inner = lock(&self.inner);
        let task = inner.tasks.pop_front()?;
        if !task.is_pinned() {
            inner.stealable -= 1;
            self.stealable.store(inner.stealable, Ordering::Relaxed);
        }
        self.len.store(inner.tasks.len(), Ordering::Relaxed);
        Some(task)
    }

    /// Moves half of the stealable tasks (rounded up), oldest first, into
    /// `into`; pinned tasks stay, in their order. Returns how many moved.
    pub(crate) fn steal_half(&self, into: &mut Vec<Arc<dyn Runnable>>) -> usize {
        if self.stealable.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        let mut inner = lock(&self.inner);
        let want = inner.stealable.div_ceil(2);
        if want == 0 {
            return 0;
        }
        let mut taken = 0;
        if inner.stealable == inner.tasks.len() {
            // No pinned task in the way: take from the front in one go.
            into.extend(inner.tasks.drain(..want));
            taken = want;
        } else {
            let mut kept = VecDeque::with_capacity(inner.tasks.len());
            for task in inner.tasks.drain(..) {
                if taken < want && !task.is_pinned() {
                    into.push(task);
                    taken += 1;
                } else {
                    kept.push_back(task);
                }
            }
            inner.tasks = kept;
        }
        inner.stealable -= taken;
        self.stealable.store(inner.stealable, Ordering::Relaxed);
        self.len.store(inner.tasks.len(), Ordering::Relaxed);
        taken
    }

    /// Takes every task, pinned ones included (`pinned_only`: only those).
    pub(crate) fn drain(&self, pinned_only: bool) -> Vec<Arc<dyn Runnable>> {
        let mut inner = lock(&self.inner);
        let all: Vec<_> = inner.tasks.drain(..).collect();
        let (out, kept): (Vec<_>, Vec<_>) =
            all.into_iter().partition(|t| !pinned_only || t.is_pinned());
        inner.stealable = kept.len();
        inner.tasks = kept.into();
        self.stealable.store(inner.stealable, Ordering::SeqCst);
        self.len.store(inner.tasks.len(), Ordering::SeqCst);
        out
    }

    /// Clones of the queued tasks (for the dump).
    pub(crate) fn snapshot(&self) -> Vec<Arc<dyn Runnable>> {
        lock(&self.inner).tasks.iter().cloned().collect()
    }

    /// Tasks queued (the caller fenced first where it matters).
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Tasks queued that may move (the caller fenced first where it matters).
    pub(crate) fn stealable(&self) -> usize {
        self.stealable.load(Ordering::Relaxed)
    }
}

//! asyncio's `Queue`: FIFO between producers and consumers, optionally bounded,
//! with `task_done` / `join` to wait until every item was processed.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use event_listener::Event;
use ferrio_executor::observe::{tagged, WaitKind};

/// A first-in, first-out queue for tasks (asyncio's `Queue`). Cloning gives
/// another handle to the same queue.
///
/// With a `maxsize`, [`put`](Queue::put) waits while the queue is full. Each
/// item put counts as unfinished until a consumer calls
/// [`task_done`](Queue::task_done); [`join`](Queue::join) waits until none are.
/// Waiting putters and getters are served in the order they started waiting.
///
/// ```
/// use ferrio::sync::Queue;
/// ferrio::run(async {
///     let queue = Queue::bounded(2);
///     let consumer = ferrio::spawn({
///         let queue = queue.clone();
///         async move {
///             let mut sum = 0;
///             for _ in 0..5 {
///                 sum += queue.get().await;
///                 queue.task_done().unwrap();
///             }
///             sum
///         }
///     });
///     for i in 1..=5 {
///         queue.put(i).await; // waits while two items are queued
///     }
///     queue.join().await;
///     assert_eq!(consumer.await.unwrap(), 15);
/// });
/// ```
pub struct Queue<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    state: Mutex<State<T>>,
    /// 0 means unbounded, as in asyncio.
    maxsize: usize,
    not_empty: Event,
    not_full: Event,
    all_done: Event,
}

struct State<T> {
    items: VecDeque<T>,
    /// Items put and not yet marked done.
    unfinished: usize,
}

/// `put_nowait` on a full queue; gives the item back.
#[derive(Clone, PartialEq, Eq)]
pub struct QueueFull<T>(pub T);

/// `get_nowait` on an empty queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueEmpty;

/// `task_done` called more times than items were put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError;

impl<T> Queue<T> {
    /// A queue with no size limit.
    pub fn new() -> Self {
        Self::with_maxsize(0)
    }

    /// A queue that holds at most `maxsize` items.
    ///
    /// # Panics
    ///
    /// If `maxsize` is zero (use [`Queue::new`] for an unbounded queue).
    pub fn bounded(maxsize: usize) -> Self {
        assert!(
            maxsize > 0,
            "a bounded queue needs maxsize > 0; use Queue::new() for unbounded"
        );
        Self::with_maxsize(maxsize)
    }

    /// asyncio's constructor: `maxsize` 0 means unbounded.
    pub fn with_maxsize(maxsize: usize) -> Self {
        Queue {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    items: VecDeque::new(),
                    unfinished: 0,
                }),
                maxsize,
                not_empty: Event::new(),
                not_full: Event::new(),
                all_done: Event::new(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State<T>> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The size limit (0: unbounded).
    pub fn maxsize(&self) -> usize {
        self.inner.maxsize
    }

    /// How many items are queued.
    pub fn qsize(&self) -> usize {
        self.state().items.len()
    }

    /// Whether no item is queued.
    pub fn empty(&self) -> bool {
        self.state().items.is_empty()
    }

    /// Whether `put` would wait.
    pub fn full(&self) -> bool {
        self.inner.maxsize > 0 && self.qsize() >= self.inner.maxsize
    }

    /// Puts `item` without waiting, or gives it back if the queue is full.
    pub fn put_nowait(&self, item: T) -> Result<(), QueueFull<T>> {
        {
            let mut state = self.state();
            if self.inner.maxsize > 0 && state.items.len() >= self.inner.maxsize {
                return Err(QueueFull(item));
            }
            state.items.push_back(item);
            state.unfinished += 1;
        }
        self.inner.not_empty.notify(1);
        Ok(())
    }

    /// Puts `item`, waiting while the queue is full. Cancel-safe: if the
    /// future is dropped before it completes, the item was not queued.
    pub async fn put(&self, item: T) {
        let mut item = item;
        loop {
            match self.put_nowait(item) {
                Ok(()) => return,
                Err(QueueFull(back)) => item = back,
            }
            let listener = self.inner.not_full.listen();
            match self.put_nowait(item) {
                Ok(()) => return,
                Err(QueueFull(back)) => item = back,
            }
            tagged(WaitKind::Queue, || "put (full)".to_owned(), listener).await;
        }
    }

    /// Takes the oldest item without waiting.
    pub fn get_nowait(&self) -> Result<T, QueueEmpty> {
        let item = self.state().items.pop_front().ok_or(QueueEmpty)?;
        self.inner.not_full.notify(1);
        Ok(item)
    }

    /// Takes the oldest item, waiting while the queue is empty. Cancel-safe:
    /// no item is lost if the future is dropped.
    pub async fn get(&self) -> T {
        loop {
            if let Ok(item) = self.get_nowait() {
                return item;
            }
            let listener = self.inner.not_empty.listen();
            if let Ok(item) = self.get_nowait() {
                return item;
            }
            tagged(WaitKind::Queue, || "get (empty)".to_owned(), listener).await;
        }
    }

    /// Marks one item taken with `get` as processed.
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let all_done = {
            let mut state = self.state();
            if state.unfinished == 0 {
                return Err(TaskDoneError);
            }
            state.unfinished -= 1;
            state.unfinished == 0
        };
        if all_done {
            self.inner.all_done.notify(usize::MAX);
        }
        Ok(())
    }

    /// Waits until every item put so far was marked done with `task_done`.
    pub async fn join(&self) {
        loop {
            if self.state().unfinished == 0 {
                return;
            }
            let listener = self.inner.all_done.listen();
            if self.state().unfinished == 0 {
                return;
            }
            let detail = || format!("join ({} unfinished)", self.state().unfinished);
            tagged(WaitKind::Queue, detail, listener).await;
        }
    }
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Queue")
            .field("maxsize", &self.inner.maxsize)
            .field("qsize", &state.items.len())
            .field("unfinished", &state.unfinished)
            .finish()
    }
}

impl<T> fmt::Debug for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueFull(..)")
    }
}

impl<T> fmt::Display for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is full")
    }
}

impl<T> std::error::Error for QueueFull<T> {}

impl fmt::Display for QueueEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is empty")
    }
}

impl std::error::Error for QueueEmpty {}

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than there were items in the queue")
    }
}

impl std::error::Error for TaskDoneError {}

//! asyncio's queues: [`Queue`] (first in, first out), [`LifoQueue`] (last in,
//! first out) and [`PriorityQueue`] (lowest first), optionally bounded, with
//! `task_done` / `join` to wait until every item was processed and Python
//! 3.13's `shutdown`.
//!
//! The three share one implementation (a `Store` decides the order); what is
//! not here: channels with separate sender and receiver halves that close
//! when one side is dropped (the channel modules of `ferrio::sync`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::sync::{Mutex, MutexGuard};

use event_listener::{Event, IntoNotification};
use ferrio_executor::observe::{tagged, WaitKind};

/// The order a queue hands items out in.
trait Store<T> {
    fn push(&mut self, item: T);
    fn pop(&mut self) -> Option<T>;
    fn len(&self) -> usize;
    /// Drops every item; returns how many there were.
    fn clear(&mut self) -> usize;
}

impl<T> Store<T> for VecDeque<T> {
    fn push(&mut self, item: T) {
        self.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.pop_front()
    }
    fn len(&self) -> usize {
        VecDeque::len(self)
    }
    fn clear(&mut self) -> usize {
        self.drain(..).count()
    }
}

impl<T> Store<T> for Vec<T> {
    fn push(&mut self, item: T) {
        Vec::push(self, item);
    }
    fn pop(&mut self) -> Option<T> {
        Vec::pop(self)
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn clear(&mut self) -> usize {
        self.drain(..).count()
    }
}

/// A min-heap: Python's `PriorityQueue` hands out the lowest item first.
impl<T: Ord> Store<T> for BinaryHeap<Reverse<T>> {
    fn push(&mut self, item: T) {
        BinaryHeap::push(self, Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        BinaryHeap::pop(self).map(|Reverse(item)| item)
    }
    fn len(&self) -> usize {
        BinaryHeap::len(self)
    }
    fn clear(&mut self) -> usize {
        self.drain().count()
    }
}

/// What every handle of one queue shares.
struct Inner<S> {
    state: Mutex<State<S>>,
    /// 0 means unbounded, as in asyncio.
    maxsize: usize,
    not_empty: Event,
    not_full: Event,
    all_done: Event,
}

struct State<S> {
    items: S,
    /// Items put and not yet marked done.
    unfinished: usize,
    /// Set by `shutdown`: puts fail, gets fail once the queue is empty.
    shut_down: bool,
}

impl<S> Inner<S> {
    fn new(items: S, maxsize: usize) -> Self {
        Inner {
            state: Mutex::new(State {
                items,
                unfinished: 0,
                shut_down: false,
            }),
            maxsize,
            not_empty: Event::new(),
            not_full: Event::new(),
            all_done: Event::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State<S>> {
        ferrio_reactor::lock(&self.state)
    }

    fn qsize<T>(&self) -> usize
    where
        S: Store<T>,
    {
        self.state().items.len()
    }

    fn put_nowait<T>(&self, item: T) -> Result<(), TryPutError<T>>
    where
        S: Store<T>,
    {
        {
            let mut state = self.state();
            if state.shut_down {
                return Err(TryPutError::ShutDown(item));
            }
            if self.maxsize > 0 && state.items.len() >= self.maxsize {
                return Err(TryPutError::Full(item));
            }
            state.items.push(item);
            state.unfinished += 1;
        }
        // Additional: a second put must wake a second getter even if the
        // first one woken has not run yet.
        self.not_empty.notify(1.additional());
        Ok(())
    }

    async fn put<T>(&self, item: T) -> Result<(), QueueShutDown<T>>
    where
        S: Store<T>,
    {
        let mut item = item;
        loop {
            match self.put_nowait(item) {
                Ok(()) => return Ok(()),
                Err(TryPutError::ShutDown(back)) => return Err(QueueShutDown(back)),
                Err(TryPutError::Full(back)) => item = back,
            }
            let listener = self.not_full.listen();
            match self.put_nowait(item) {
                Ok(()) => return Ok(()),
                Err(TryPutError::ShutDown(back)) => return Err(QueueShutDown(back)),
                Err(TryPutError::Full(back)) => item = back,
            }
            tagged(WaitKind::Queue, || "put (full)".to_owned(), listener).await;
        }
    }

    fn get_nowait<T>(&self) -> Result<T, TryGetError>
    where
        S: Store<T>,
    {
        let item = {
            let mut state = self.state();
            match state.items.pop() {
                Some(item) => item,
                None if state.shut_down => return Err(TryGetError::ShutDown),
                None => return Err(TryGetError::Empty),
            }
        };
        self.not_full.notify(1.additional());
        Ok(item)
    }

    async fn get<T>(&self) -> Result<T, QueueShutDown>
    where
        S: Store<T>,
    {
        loop {
            match self.get_nowait() {
                Ok(item) => return Ok(item),
                Err(TryGetError::ShutDown) => return Err(QueueShutDown(())),
                Err(TryGetError::Empty) => {}
            }
            let listener = self.not_empty.listen();
            match self.get_nowait() {
                Ok(item) => return Ok(item),
                Err(TryGetError::ShutDown) => return Err(QueueShutDown(())),
                Err(TryGetError::Empty) => {}
            }
            tagged(WaitKind::Queue, || "get (empty)".to_owned(), listener).await;
        }
    }

    fn task_done(&self) -> Result<(), TaskDoneError> {
        let all_done = {
            let mut state = self.state();
            if state.unfinished == 0 {
                return Err(TaskDoneError);
            }
            state.unfinished -= 1;
            state.unfinished == 0
        };
        if all_done {
            self.all_done.notify(usize::MAX);
        }
        Ok(())
    }

    async fn join(&self) {
        loop {
            if self.state().unfinished == 0 {
                return;
            }
            let listener = self.all_done.listen();
            if self.state().unfinished == 0 {
                return;
            }
            let detail = || format!("join ({} unfinished)", self.state().unfinished);
            tagged(WaitKind::Queue, detail, listener).await;
        }
    }

    fn shutdown<T>(&self, immediate: bool)
    where
        S: Store<T>,
    {
        let all_done = {
            let mut state = self.state();
            state.shut_down = true;
            if immediate {
                let dropped = state.items.clear();
                state.unfinished = state.unfinished.saturating_sub(dropped);
                log::debug!("queue shut down at once: {dropped} items dropped");
            } else {
                log::debug!("queue shut down: {} items left to get", state.items.len());
            }
            state.unfinished == 0
        };
        // Every waiter re-checks: putters fail, getters fail once it is empty.
        self.not_full.notify(usize::MAX);
        self.not_empty.notify(usize::MAX);
        if all_done {
            self.all_done.notify(usize::MAX);
        }
    }

    fn is_shutdown(&self) -> bool {
        self.state().shut_down
    }

    fn unfinished(&self) -> usize {
        self.state().unfinished
    }
}

/// Writes the public surface of one queue type over its `Store`.
macro_rules! queue_type {
    (
        $(#[$doc:meta])*
        $name:ident<T $(: $bound:path)?>, $store:ty, $new_store:expr
    ) => {
        $(#[$doc])*
        pub struct $name<T> {
            inner: std::sync::Arc<Inner<$store>>,
        }

        impl<T $(: $bound)?> $name<T> {
            /// A queue with no size limit.
            pub fn new() -> Self {
                Self::with_maxsize(0)
            }

            /// A queue that holds at most `maxsize` items.
            ///
            /// # Panics
            ///
            /// If `maxsize` is zero (use `new` for an unbounded queue).
            #[track_caller]
            pub fn bounded(maxsize: usize) -> Self {
                assert!(
                    maxsize > 0,
                    "a bounded queue needs maxsize > 0; use new() for unbounded"
                );
                Self::with_maxsize(maxsize)
            }

            /// asyncio's constructor: `maxsize` 0 means unbounded.
            pub fn with_maxsize(maxsize: usize) -> Self {
                $name {
                    inner: std::sync::Arc::new(Inner::new($new_store, maxsize)),
                }
            }

            /// The size limit (0: unbounded).
            pub fn maxsize(&self) -> usize {
                self.inner.maxsize
            }

            /// How many items are queued.
            pub fn qsize(&self) -> usize {
                self.inner.qsize::<T>()
            }

            /// Whether no item is queued.
            pub fn empty(&self) -> bool {
                self.qsize() == 0
            }

            /// Whether `put` would wait.
            pub fn full(&self) -> bool {
                self.inner.maxsize > 0 && self.qsize() >= self.inner.maxsize
            }

            /// Puts `item` without waiting.
            ///
            /// # Errors
            ///
            /// [`TryPutError::Full`] if the queue is full,
            /// [`TryPutError::ShutDown`] after [`shutdown`](Self::shutdown);
            /// both give the item back.
            pub fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
                self.inner.put_nowait(item)
            }

            /// Puts `item`, waiting while the queue is full. Cancel-safe: if
            /// the future is dropped before it completes, the item was not queued.
            ///
            /// # Errors
            ///
            /// [`QueueShutDown`] with the item, if the queue is (or, while
            /// this waits, gets) shut down.
            pub async fn put(&self, item: T) -> Result<(), QueueShutDown<T>> {
                self.inner.put(item).await
            }

            /// Takes the next item without waiting.
            ///
            /// # Errors
            ///
            /// [`TryGetError::Empty`] if no item is queued,
            /// [`TryGetError::ShutDown`] if none is and the queue was shut down.
            pub fn get_nowait(&self) -> Result<T, TryGetError> {
                self.inner.get_nowait()
            }

            /// Takes the next item, waiting while the queue is empty.
            /// Cancel-safe: no item is lost if the future is dropped.
            ///
            /// # Errors
            ///
            /// [`QueueShutDown`] once the queue was shut down and holds no
            /// more items (a waiting `get` is woken by the shutdown).
            pub async fn get(&self) -> Result<T, QueueShutDown> {
                self.inner.get().await
            }

            /// Marks one item taken with `get` as processed.
            ///
            /// # Errors
            ///
            /// [`TaskDoneError`] if called more times than items were put.
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.inner.task_done()
            }

            /// Waits until every item put so far was marked done with
            /// `task_done` (or dropped by an immediate `shutdown`).
            pub async fn join(&self) {
                self.inner.join().await
            }

            /// Shuts the queue down (Python 3.13's `Queue.shutdown`): from now
            /// on `put` fails with [`QueueShutDown`], waiting putters at once;
            /// `get` goes on handing out the items left, then fails, and
            /// waiting getters are woken to fail.
            ///
            /// With `immediate`, the items left are dropped at once (each
            /// counts as done, so a `join` waiting only on them returns) and
            /// every `get` fails from now on.
            pub fn shutdown(&self, immediate: bool) {
                self.inner.shutdown::<T>(immediate)
            }

            /// Whether [`shutdown`](Self::shutdown) was called.
            pub fn is_shutdown(&self) -> bool {
                self.inner.is_shutdown()
            }
        }

        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name {
                    inner: self.inner.clone(),
                }
            }
        }

        impl<T $(: $bound)?> Default for $name<T> {
            fn default() -> Self {
                Self::new()
            }
        }

        impl<T $(: $bound)?> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("maxsize", &self.inner.maxsize)
                    .field("qsize", &self.qsize())
                    .field("unfinished", &self.inner.unfinished())
                    .field("shut_down", &self.is_shutdown())
                    .finish()
            }
        }
    };
}

queue_type! {
    /// A first-in, first-out queue for tasks (asyncio's `Queue`). Cloning
    /// gives another handle to the same queue; it works across threads.
    ///
    /// With a `maxsize`, [`put`](Queue::put) waits while the queue is full.
    /// Each item put counts as unfinished until a consumer calls
    /// [`task_done`](Queue::task_done); [`join`](Queue::join) waits until none
    /// are. Waiting putters and getters are served in the order they started
    /// waiting. [`shutdown`](Queue::shutdown) ends it: `get` then fails with
    /// [`QueueShutDown`] once the items left are taken, which ends a
    /// consumer's `while let Ok(item) = queue.get().await` loop.
    ///
    /// ```
    /// use ferrio::sync::Queue;
    /// ferrio::run(async {
    ///     let queue = Queue::bounded(2);
    ///     let consumer = ferrio::spawn({
    ///         let queue = queue.clone();
    ///         async move {
    ///             let mut sum = 0;
    ///             while let Ok(item) = queue.get().await {
    ///                 sum += item;
    ///                 queue.task_done().unwrap();
    ///             }
    ///             sum
    ///         }
    ///     });
    ///     for i in 1..=5 {
    ///         queue.put(i).await.unwrap(); // waits while two items are queued
    ///     }
    ///     queue.join().await;
    ///     queue.shutdown(false); // the consumer's get fails: it returns
    ///     assert_eq!(consumer.await.unwrap(), 15);
    /// });
    /// ```
    Queue<T>, VecDeque<T>, VecDeque::new()
}

queue_type! {
    /// A last-in, first-out queue for tasks (asyncio's `LifoQueue`): `get`
    /// takes the newest item. Otherwise the same as [`Queue`].
    ///
    /// ```
    /// use ferrio::sync::LifoQueue;
    /// ferrio::run(async {
    ///     let stack = LifoQueue::new();
    ///     for i in 1..=3 {
    ///         stack.put(i).await.unwrap();
    ///     }
    ///     assert_eq!(stack.get().await, Ok(3));
    ///     assert_eq!(stack.get().await, Ok(2));
    /// });
    /// ```
    LifoQueue<T>, Vec<T>, Vec::new()
}

queue_type! {
    /// A priority queue for tasks (asyncio's `PriorityQueue`): `get` takes the
    /// lowest item first (put `(priority, data)` tuples to order by priority).
    /// Otherwise the same as [`Queue`].
    ///
    /// ```
    /// use ferrio::sync::PriorityQueue;
    /// ferrio::run(async {
    ///     let jobs = PriorityQueue::new();
    ///     jobs.put((2, "later")).await.unwrap();
    ///     jobs.put((1, "urgent")).await.unwrap();
    ///     jobs.put((3, "whenever")).await.unwrap();
    ///     assert_eq!(jobs.get().await, Ok((1, "urgent")));
    ///     assert_eq!(jobs.get().await, Ok((2, "later")));
    /// });
    /// ```
    PriorityQueue<T: Ord>, BinaryHeap<Reverse<T>>, BinaryHeap::new()
}

/// The error of `put_nowait`; gives the item back.
#[derive(Clone, PartialEq, Eq)]
pub enum TryPutError<T> {
    /// The queue is full (asyncio's `QueueFull`).
    Full(T),
    /// The queue was shut down (asyncio's `QueueShutDown`).
    ShutDown(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::Full(item) | TryPutError::ShutDown(item) => item,
        }
    }
}

/// The error of `get_nowait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryGetError {
    /// No item is queued (asyncio's `QueueEmpty`).
    Empty,
    /// No item is queued and the queue was shut down (asyncio's `QueueShutDown`).
    ShutDown,
}

/// The queue was shut down (asyncio's `QueueShutDown`): the error of `put`,
/// which gives the item back, and of `get` (with `()`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueShutDown<T = ()>(pub T);

/// `task_done` called more times than items were put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError;

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("Full(..)"),
            TryPutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryPutError::Full(_) => f.write_str("the queue is full"),
            TryPutError::ShutDown(_) => f.write_str("the queue was shut down"),
        }
    }
}

impl<T> std::error::Error for TryPutError<T> {}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryGetError::Empty => f.write_str("the queue is empty"),
            TryGetError::ShutDown => f.write_str("the queue was shut down and is empty"),
        }
    }
}

impl std::error::Error for TryGetError {}

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue was shut down")
    }
}

impl<T> std::error::Error for QueueShutDown<T> {}

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than there were items in the queue")
    }
}

impl std::error::Error for TaskDoneError {}

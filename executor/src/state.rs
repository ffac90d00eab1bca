//! A task's state word: one atomic `usize`, each bit named below, changed only
//! through the transitions of [`State`], each of which asserts (in debug
//! builds) the state it expects to start from and returns a [`Snapshot`] or a
//! small enum that tells the caller what it must do next.
//!
//! Every transition is a single read-modify-write, so all of them fall into
//! one modification order: two threads can never both believe they flipped the
//! same bit. The protocol, in the order a task lives it:
//! - wake ([`State::transition_to_notified`]): set `NOTIFIED`; the caller that
//!   flipped it from clear enqueues the task, so a task sits in a run queue at
//!   most once and is polled once per wake;
//! - run ([`State::transition_to_running`]): clear `NOTIFIED`, then poll (or
//!   drop the future if `CANCELLED`); a wake during the poll sets `NOTIFIED`
//!   again and queues the task for another run;
//! - complete ([`State::transition_to_complete`]): the output is stored first,
//!   then `COMPLETE` is set (Release); a complete task is never polled again;
//! - join: `JOIN_INTEREST` is held by the live `JoinHandle`; whoever sees the
//!   other side gone (the handle dropped, or the task completed) drops the
//!   output. `JOIN_WAKER` says a waker waits in the header's slot.
//!
//! Not here: where the future and the output live (`raw.rs`), or queues
//! (`scheduler.rs`). The word carries no reference count: tasks are `Arc`s.
//! Above the flags it keeps the task's registry slot ([`State::set_slot`]).

use crate::sync::atomic::{AtomicUsize, Ordering};

/// The task is in a run queue (or about to be pushed to one). A new task
/// starts with it set: whoever spawns it queues it once.
const NOTIFIED: usize = 1 << 0;
/// The output (or the error) is stored; the future is gone. Never cleared.
const COMPLETE: usize = 1 << 1;
/// `abort` was called: the next run drops the future instead of polling it.
/// Never cleared.
const CANCELLED: usize = 1 << 2;
/// A `JoinHandle` exists and may still take the output. Starts set; cleared
/// once, when the handle is dropped.
const JOIN_INTEREST: usize = 1 << 3;
/// The `JoinHandle` stored a waker in the header's slot: completion must wake
/// it. Without it, completing skips the slot's lock entirely.
const JOIN_WAKER: usize = 1 << 4;

/// The several-worker scheduler only (`workers/`): a thread is polling the
/// task now. A wake that finds it set leaves the queueing to the thread that
/// polls, which re-queues the task when the poll ends
/// ([`State::transition_to_idle`]), so no second thread can pop the task and
/// poll it meanwhile. The one-worker scheduler never sets it.
const RUNNING: usize = 1 << 5;

/// Four bits: what the task's last poll that left it pending waited on (a
/// `WaitKind` code, 0: nothing tagged), for the dump in every mode. Cleared
/// by the transition to running (in the same read-modify-write), set by
/// [`State::set_wait`] when a poll that a primitive tagged returns `Pending`.
const WAIT_SHIFT: u32 = 6;
const WAIT: usize = 0xF << WAIT_SHIFT;

/// What a new task or blocking job starts as: queued once, with a handle.
const INITIAL: usize = JOIN_INTEREST | NOTIFIED;

/// The bits from here up (on 32-bit targets, 22 bits: 4 million tasks
/// waiting at once) hold the task's slot in its executor's registry,
/// plus one (0: not registered). Only the executor's own thread writes it,
/// once, when the task first waits; keeping it in the word instead of a
/// field of its own keeps a small task in a smaller malloc size class.
const SLOT_SHIFT: u32 = 10;

/// The atomic state word of one task (or blocking job).
pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word at one instant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// What the scheduler must do with a task it popped from a run queue.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// Poll the future.
    Poll,
    /// `abort` was called: drop the future and complete as cancelled.
    Cancel,
    /// The task completed already (it was shut down while queued): do nothing.
    Done,
}

impl State {
    /// The state of a task that was just created: `NOTIFIED | JOIN_INTEREST`.
    pub(crate) fn new() -> Self {
        State {
            val: AtomicUsize::new(INITIAL),
        }
    }

    /// Reads the word (Acquire: a `COMPLETE` seen here makes the output visible).
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Ordering::Acquire))
    }

    /// Run: clears `NOTIFIED` before the poll, so that a wake during the poll
    /// queues the task again.
    ///
    /// Precondition: `NOTIFIED` is set (the task came out of a run queue).
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        let prev = Snapshot(self.val.fetch_and(!(NOTIFIED | WAIT), Ordering::AcqRel));
        debug_assert!(prev.is_notified(), "a task ran without being notified");
        if prev.is_complete() {
            TransitionToRunning::Done
        } else if prev.is_cancelled() {
            TransitionToRunning::Cancel
        } else {
            TransitionToRunning::Poll
        }
    }

    /// Wake: sets `NOTIFIED`. Returns true if this call flipped it on a task
    /// that is not complete: the caller must then queue the task (exactly one
    /// caller per run does).
    pub(crate) fn transition_to_notified(&self) -> bool {
        let prev = Snapshot(self.val.fetch_or(NOTIFIED, Ordering::AcqRel));
        !prev.is_notified() && !prev.is_complete()
    }

    /// Run, in a scheduler whose tasks may be woken while another thread
    /// polls them: clears `NOTIFIED` and sets `RUNNING` in one step.
    ///
    /// Precondition: `NOTIFIED` is set and `RUNNING` clear (the task came out
    /// of a run queue, where it sits at most once).
    pub(crate) fn transition_to_running_exclusive(&self) -> TransitionToRunning {
        let prev = Snapshot(self.val.fetch_xor(NOTIFIED | RUNNING, Ordering::AcqRel));
        if prev.0 & WAIT != 0 {
            self.val.fetch_and(!WAIT, Ordering::Relaxed);
        }
        debug_assert!(prev.is_notified(), "a task ran without being notified");
        debug_assert!(
            prev.is_complete() || !prev.is_running(),
            "a task was polled by two threads"
        );
        if prev.is_complete() {
            TransitionToRunning::Done
        } else if prev.is_cancelled() {
            TransitionToRunning::Cancel
        } else {
            TransitionToRunning::Poll
        }
    }

    /// Wake, in the several-worker scheduler: sets `NOTIFIED`. True if the
    /// caller must queue the task: it flipped the bit, and the task is
    /// neither complete nor being polled (a poll in progress re-queues it
    /// itself at [`transition_to_idle`](State::transition_to_idle)).
    pub(crate) fn transition_to_notified_exclusive(&self) -> bool {
        let prev = Snapshot(self.val.fetch_or(NOTIFIED, Ordering::AcqRel));
        !prev.is_notified() && !prev.is_running() && !prev.is_complete()
    }

    /// The poll of a `RUNNING` task returned `Pending`: clears `RUNNING`.
    /// True if a wake came during the poll (`NOTIFIED` is set, and stays
    /// set): the caller must queue the task again.
    ///
    /// Precondition: `RUNNING` is set.
    pub(crate) fn transition_to_idle(&self) -> bool {
        let prev = Snapshot(self.val.fetch_and(!RUNNING, Ordering::AcqRel));
        debug_assert!(prev.is_running(), "a task went idle without running");
        prev.is_notified()
    }

    /// Abort: sets `CANCELLED`. Returns true if the task was not complete yet
    /// (the abort will take effect at its next run).
    pub(crate) fn transition_to_cancelled(&self) -> bool {
        let prev = Snapshot(self.val.fetch_or(CANCELLED, Ordering::AcqRel));
        !prev.is_complete()
    }

    /// Complete: sets `COMPLETE`, publishing (Release) the output the caller
    /// stored just before. Returns the state before, from which the caller
    /// learns whether a handle is left and whether a join waker must be woken.
    ///
    /// Precondition: `COMPLETE` is clear (a task completes once).
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_or(COMPLETE, Ordering::AcqRel));
        debug_assert!(!prev.is_complete(), "a task completed twice");
        prev
    }

    /// Sets `JOIN_WAKER` after the handle stored its waker in the slot.
    /// Returns the state before: if it was `COMPLETE`, completion may have
    /// missed the waker and the handle must take the output now instead.
    ///
    /// Precondition: `JOIN_INTEREST` is set (only a live handle stores a waker).
    pub(crate) fn set_join_waker(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_or(JOIN_WAKER, Ordering::AcqRel));
        debug_assert!(
            prev.is_join_interested(),
            "a join waker was stored without a JoinHandle"
        );
        prev
    }

    /// The `JoinHandle` is dropped: clears `JOIN_INTEREST`. Returns the state
    /// before: if it was `COMPLETE`, the caller must drop the output.
    ///
    /// Precondition: `JOIN_INTEREST` is set (a task has one handle).
    pub(crate) fn unset_join_interest(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_and(!JOIN_INTEREST, Ordering::AcqRel));
        debug_assert!(prev.is_join_interested(), "a JoinHandle was dropped twice");
        prev
    }

    /// Records the task's registry slot (executor thread, once). The flag
    /// bits are left as they are: other threads may flip them meanwhile.
    ///
    /// # Panics
    ///
    /// If `slot` does not fit above the flags (more than 2^24 tasks waiting
    /// at once on a 32-bit target).
    #[inline]
    pub(crate) fn set_slot(&self, slot: usize) {
        debug_assert!(self.load().slot().is_none(), "a task was registered twice");
        let stored = slot
            .checked_add(1)
            .filter(|s| s.leading_zeros() >= SLOT_SHIFT)
            .expect("too many tasks waiting at once for this target's task state word");
        self.val.fetch_or(stored << SLOT_SHIFT, Ordering::Relaxed);
    }

    /// The poll that just returned `Pending` tagged the task as waiting on
    /// what `code` (a `WaitKind` code, not 0) names. Called once, by the
    /// thread that polled it, before anything else can run it; the bits are
    /// clear since the transition to running, so one `fetch_or` sets them
    /// without touching the bits other threads may set meanwhile.
    pub(crate) fn set_wait(&self, code: u8) {
        debug_assert!(
            self.val.load(Ordering::Relaxed) & WAIT == 0,
            "a wait was tagged twice in one poll"
        );
        self.val
            .fetch_or((usize::from(code) << WAIT_SHIFT) & WAIT, Ordering::Relaxed);
    }

    /// The code `set_wait` stored since the task's last poll began (0: none).
    pub(crate) fn wait_code(&self) -> u8 {
        ((self.val.load(Ordering::Relaxed) & WAIT) >> WAIT_SHIFT) as u8
    }

    /// The slot `set_slot` recorded, if any (executor thread: Relaxed).
    #[inline]
    pub(crate) fn slot(&self) -> Option<usize> {
        Snapshot(self.val.load(Ordering::Relaxed)).slot()
    }
}

impl Snapshot {
    /// The registry slot, if the task has one.
    #[inline]
    fn slot(self) -> Option<usize> {
        (self.0 >> SLOT_SHIFT).checked_sub(1)
    }

    /// `NOTIFIED`: the task is in a run queue.
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }

    /// `RUNNING`: a thread is polling it (several-worker scheduler only).
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }

    /// `COMPLETE`: the output is stored, the future is gone.
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }

    /// `CANCELLED`: `abort` was called.
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }

    /// `JOIN_INTEREST`: a `JoinHandle` is alive.
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }

    /// `JOIN_WAKER`: a waker waits in the header's slot.
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("notified", &self.is_notified())
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_new_task_is_notified_and_has_a_handle() {
        let s = State::new().load();
        assert!(s.is_notified() && s.is_join_interested());
        assert!(!s.is_complete() && !s.is_cancelled() && !s.is_join_waker_set());
    }

    #[test]
    fn only_the_first_wake_after_a_run_queues_the_task() {
        let state = State::new();
        assert!(!state.transition_to_notified(), "already queued at spawn");
        assert_eq!(state.transition_to_running(), TransitionToRunning::Poll);
        assert!(state.transition_to_notified(), "first wake after the run");
        assert!(
            !state.transition_to_notified(),
            "second wake: already queued"
        );
    }

    #[test]
    fn abort_turns_the_next_run_into_a_cancel_and_completion_ends_wakes() {
        let state = State::new();
        assert!(state.transition_to_cancelled());
        assert_eq!(state.transition_to_running(), TransitionToRunning::Cancel);
        let prev = state.transition_to_complete();
        assert!(prev.is_join_interested() && !prev.is_join_waker_set());
        assert!(
            !state.transition_to_notified(),
            "a complete task is never queued"
        );
        assert!(
            !state.transition_to_cancelled(),
            "abort after completion does nothing"
        );
    }

    #[test]
    fn a_wake_during_an_exclusive_poll_is_left_to_the_poller() {
        let state = State::new();
        assert_eq!(
            state.transition_to_running_exclusive(),
            TransitionToRunning::Poll
        );
        assert!(state.load().is_running() && !state.load().is_notified());
        assert!(
            !state.transition_to_notified_exclusive(),
            "the poller queues it, not the waker"
        );
        assert!(!state.transition_to_notified_exclusive(), "second wake");
        assert!(state.transition_to_idle(), "woken during the poll: requeue");
        assert!(state.load().is_notified() && !state.load().is_running());
        assert_eq!(
            state.transition_to_running_exclusive(),
            TransitionToRunning::Poll
        );
        assert!(!state.transition_to_idle(), "no wake this time");
        assert!(
            state.transition_to_notified_exclusive(),
            "idle: the waker queues it"
        );
    }

    #[test]
    fn the_handle_learns_of_completion_from_either_join_transition() {
        let state = State::new();
        assert!(!state.set_join_waker().is_complete());
        assert!(state.transition_to_complete().is_join_waker_set());
        assert!(state.unset_join_interest().is_complete());
        assert!(!state.load().is_join_interested());
    }

    #[test]
    fn the_slot_survives_every_transition_and_leaves_the_flags_alone() {
        let state = State::new();
        assert_eq!(state.slot(), None);
        assert_eq!(state.transition_to_running(), TransitionToRunning::Poll);
        state.set_slot(0);
        assert_eq!(state.slot(), Some(0));
        assert!(state.transition_to_notified());
        assert!(state.transition_to_cancelled());
        assert_eq!(state.transition_to_running(), TransitionToRunning::Cancel);
        let before = state.load();
        assert!(before.is_cancelled() && !before.is_notified() && !before.is_complete());
        assert_eq!(state.slot(), Some(0));
        let other = State::new();
        other.set_slot(123_456);
        assert!(other.load().is_notified() && other.load().is_join_interested());
        other.transition_to_complete();
        assert_eq!(other.slot(), Some(123_456));
    }
}

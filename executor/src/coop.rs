//! The cooperative budget: how many I/O operations one poll of a task may
//! complete before the task has to yield, so that a task whose socket is
//! always ready cannot keep the loop to itself (design.md: "a cooperative
//! budget forces a yield").
//!
//! Why it lives here: the budget is per poll of a task, and only the executor
//! knows where a poll begins and ends, so it gives each poll a fresh budget.
//! It knows nothing of sockets: it only keeps the counter. ferrio-net, which
//! may depend on the executor (design.md's dependency direction), spends it
//! around each socket operation. The reactor, which knows nothing of tasks,
//! stays out of it.
//!
//! Only operations that complete spend the budget: one that waits (Pending)
//! costs nothing, so a task that polls many idle sockets at once is never
//! refused. Outside a task poll (a future polled by hand, another executor)
//! the budget is unlimited.
//!
//! Not here: the executor's own fairness between tasks (a bounded batch of
//! polls between reactor turns, in `scheduler.rs`).

use std::cell::Cell;
use std::task::{Context, Poll};

/// Operations a task may complete in one poll before it yields (as tokio's).
pub const BUDGET_PER_POLL: u32 = 128;

thread_local! {
    /// What is left of the budget of the poll running on this thread;
    /// `None` outside a task poll (unlimited).
    static BUDGET: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Runs `poll` (one poll of a task) with a fresh budget, then restores the
/// budget that was there before (also when `poll` unwinds).
pub(crate) fn with_budget<R>(poll: impl FnOnce() -> R) -> R {
    /// Puts the previous budget back when dropped.
    struct Restore(Option<u32>);
    impl Drop for Restore {
        fn drop(&mut self) {
            BUDGET.with(|b| b.set(self.0));
        }
    }
    let _restore = Restore(BUDGET.with(|b| b.replace(Some(BUDGET_PER_POLL))));
    poll()
}

/// Runs the I/O operation `op` under the budget of the current task poll.
///
/// When the budget is spent, `op` does not run: the task is woken (so it
/// runs again soon, after others had their turn and the reactor its turn)
/// and `Pending` is returned. Otherwise `op` runs, and spends one unit if it
/// completed.
///
/// ```
/// use std::task::Poll;
/// use ferrio_executor::coop;
/// // Outside a task poll the budget is unlimited.
/// let waker = std::task::Waker::noop();
/// let mut cx = std::task::Context::from_waker(&waker);
/// for _ in 0..1000 {
///     assert_eq!(coop::poll_budgeted(&mut cx, |_| Poll::Ready(1)), Poll::Ready(1));
/// }
/// ```
pub fn poll_budgeted<T>(
    cx: &mut Context<'_>,
    op: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    if BUDGET.with(|b| b.get() == Some(0)) {
        log::trace!("cooperative budget spent: the task yields");
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    let polled = op(cx);
    if polled.is_ready() {
        BUDGET.with(|b| {
            if let Some(left) = b.get() {
                b.set(Some(left.saturating_sub(1)));
            }
        });
    }
    polled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poll_completes_at_most_the_budget_then_yields_and_the_next_poll_has_a_fresh_one() {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let completed = |cx: &mut Context<'_>| {
            (0..1000)
                .take_while(|_| poll_budgeted(cx, |_| Poll::Ready(())).is_ready())
                .count()
        };
        assert_eq!(with_budget(|| completed(&mut cx)), BUDGET_PER_POLL as usize);
        assert_eq!(with_budget(|| completed(&mut cx)), BUDGET_PER_POLL as usize);
        assert_eq!(completed(&mut cx), 1000, "unlimited outside a task poll");
    }

    #[test]
    fn operations_that_wait_spend_nothing() {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        with_budget(|| {
            for _ in 0..1000 {
                assert!(poll_budgeted(&mut cx, |_| Poll::<()>::Pending).is_pending());
            }
            assert!(poll_budgeted(&mut cx, |_| Poll::Ready(())).is_ready());
        });
    }
}

//! The cooperative budget: how many I/O operations one poll of a task may
//! complete before the task has to yield, so that a task whose socket is
//! always ready cannot keep the loop to itself (docs/architecture.md, rule E7: the
//! cooperative budget forces a yield).
//!
//! Why it lives here: the budget is per poll of a task, and only the executor
//! knows where a poll begins and ends, so it gives each poll a fresh budget.
//! It knows nothing of sockets: it only keeps the counter. ferrio-net, which
//! may depend on the executor (docs/architecture.md, rule E8), spends it
//! around each socket operation. The reactor, which knows nothing of tasks,
//! stays out of it.
//!
//! Only operations that complete spend the budget: one that waits (Pending)
//! costs nothing, so a task that polls many idle sockets at once is never
//! refused. On a thread that runs no executor (a blocking-pool thread, a
//! future polled by hand outside any runtime) the budget is unlimited.
//!
//! The counter is a cell in the executor's core, set to [`BUDGET_PER_POLL`]
//! before each poll of a task or of `block_on`'s future and back to
//! unlimited after each batch of polls: one store per poll.
//!
//! Not here: `poll_budgeted`, which finds the running executor's budget
//! (`context.rs`, public as `ferrio_executor::coop`); the executor's own
//! fairness between tasks (a bounded batch of polls between reactor turns,
//! in `scheduler.rs`).

use std::cell::Cell;

/// Operations a task may complete in one poll before it yields (as tokio's).
pub const BUDGET_PER_POLL: u32 = 128;

/// The budget of no poll: unlimited.
pub(crate) const UNLIMITED: u32 = u32::MAX;

/// One executor's budget: what is left of the poll running on its thread.
/// It lives in the executor's core, which the thread already finds with one
/// load, so starting a task poll costs one store and ending it nothing.
#[derive(Debug)]
pub(crate) struct Budget(pub(crate) Cell<u32>);

impl Budget {
    pub(crate) fn new() -> Self {
        Budget(Cell::new(UNLIMITED))
    }

    /// A poll of a task (or of `block_on`'s future) begins: a fresh budget.
    #[inline]
    pub(crate) fn reset(&self) {
        self.0.set(BUDGET_PER_POLL);
    }

    /// Between polls: unlimited again (what the loop itself does, say while
    /// dropping futures, is never refused).
    #[inline]
    pub(crate) fn unlimited(&self) {
        self.0.set(UNLIMITED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::poll_budgeted;
    use crate::{Executor, ThreadParker};
    use std::task::{Context, Poll};

    /// How many budgeted operations complete in one poll, up to 1000.
    fn completed(cx: &mut Context<'_>) -> usize {
        (0..1000)
            .take_while(|_| poll_budgeted(cx, |_| Poll::Ready(())).is_ready())
            .count()
    }

    #[test]
    fn a_poll_completes_at_most_the_budget_then_yields_and_the_next_poll_has_a_fresh_one() {
        let mut executor = Executor::new(ThreadParker::new());
        let (main, task) = executor.block_on(async {
            let main = std::future::poll_fn(|cx| Poll::Ready(completed(cx))).await;
            let task = crate::spawn(async {
                let first = std::future::poll_fn(|cx| Poll::Ready(completed(cx))).await;
                crate::yield_now().await;
                let second = std::future::poll_fn(|cx| Poll::Ready(completed(cx))).await;
                (first, second)
            });
            (main, task.await.unwrap())
        });
        let budget = BUDGET_PER_POLL as usize;
        assert_eq!(main, budget, "block_on's future has a budget too");
        assert_eq!(task, (budget, budget), "each poll of a task starts afresh");
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert_eq!(completed(&mut cx), 1000, "unlimited outside a runtime");
    }

    #[test]
    fn operations_that_wait_spend_nothing() {
        let mut executor = Executor::new(ThreadParker::new());
        executor.block_on(std::future::poll_fn(|cx| {
            for _ in 0..1000 {
                assert!(poll_budgeted(cx, |_| Poll::<()>::Pending).is_pending());
            }
            assert!(poll_budgeted(cx, |_| Poll::Ready(())).is_ready());
            Poll::Ready(())
        }));
    }
}

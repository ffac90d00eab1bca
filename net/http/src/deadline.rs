//! The one way a wait of the client, the server and WebSockets is bounded: a
//! [`Deadline`], an instant (or none) and what to report when it passes,
//! whose [`run`](Deadline::run) waits for a future until then.
//!
//! The client's deadlines report a [`TimeoutKind`]: a wait is bounded by the
//! earliest of its step (connect, one read) and the request's total
//! deadline, and reports the one that passed. Other waits report `()`, as
//! what a passed deadline means is plain where they are run (waiting for a
//! pooled connection or a DNS lookup, draining a body, the server's reads,
//! writes and shutdown).
//!
//! Not here: which timeouts there are and what they mean (the client's and
//! server's builders, `error.rs`), or the timer (`ferrio_reactor::time`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ferrio_reactor::time::Instant;

use ferrio_reactor::time::{timeout_at, Timeout};

use super::error::TimeoutKind;

/// An instant to stop waiting at, and the `K` a wait reports when it passes
/// it; or no deadline at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadline<K = TimeoutKind> {
    limit: Option<(Instant, K)>,
}

impl<K> Deadline<K> {
    /// No deadline: a wait ends when its future does.
    pub(crate) fn none() -> Deadline<K> {
        Deadline { limit: None }
    }

    /// `timeout` from now, or none without a timeout (or for one so long
    /// that the instant does not exist, such as `Duration::MAX`).
    pub(crate) fn after(timeout: impl Into<Option<Duration>>, kind: K) -> Deadline<K> {
        match timeout.into() {
            // No clock read for no timeout: the defaults of most waits.
            None => Deadline::none(),
            Some(timeout) => Deadline::since(Instant::now(), timeout, kind),
        }
    }

    /// `timeout` from `start`: as [`after`](Deadline::after), from an
    /// instant of the caller's.
    pub(crate) fn since(
        start: Instant,
        timeout: impl Into<Option<Duration>>,
        kind: K,
    ) -> Deadline<K> {
        let at = timeout.into().and_then(|d| start.checked_add(d));
        Deadline {
            limit: at.map(|at| (at, kind)),
        }
    }

    /// The earlier of the two (none is the latest). On a tie, `self`.
    pub(crate) fn earliest(self, other: Deadline<K>) -> Deadline<K> {
        match (&self.limit, &other.limit) {
            (Some((mine, _)), Some((theirs, _))) if theirs < mine => other,
            (None, Some(_)) => other,
            _ => self,
        }
    }

    /// Whether the deadline has passed (never, for none).
    pub(crate) fn is_past(&self) -> bool {
        self.limit
            .as_ref()
            .is_some_and(|(at, _)| Instant::now() >= *at)
    }

    /// Runs `future` until the deadline: its output, or the deadline's kind
    /// once it passed, in which case `future` is dropped.
    ///
    /// A deadline already past fails before `future` is polled at all
    /// (`timeout_at` looks at its deadline before each poll): a source that
    /// is always ready (a peer streaming without end) must not carry a
    /// request past its deadline one ready read at a time. Without a
    /// deadline no timer is armed, so this also runs where there is no
    /// reactor.
    ///
    /// Not an `async fn`: one would keep `future` twice in its state, as its
    /// argument and inside the timeout, doubling the size of every request
    /// and server connection future that waits on a deadline.
    #[inline(always)]
    pub(crate) fn run<F: Future>(self, future: F) -> Run<F, K> {
        match self.limit {
            None => Run::Unbounded { future },
            Some((at, kind)) => Run::Bounded {
                timeout: timeout_at(at, future),
                kind: Some(kind),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Deadline::run`]: the future itself, or the reactor's
    /// `Timeout` around it. One enum built in place, not nested adapters, so
    /// the future is held once and moved as few times as can be (a
    /// request's futures are kilobytes).
    #[project = RunProj]
    pub(crate) enum Run<F, K> {
        Unbounded { #[pin] future: F },
        Bounded { #[pin] timeout: Timeout<F>, kind: Option<K> },
    }
}

impl<F: Future, K> Future for Run<F, K> {
    type Output = Result<F::Output, K>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            RunProj::Unbounded { future } => future.poll(cx).map(Ok),
            RunProj::Bounded { timeout, kind } => match timeout.poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Ok(output)) => Poll::Ready(Ok(output)),
                Poll::Ready(Err(_)) => match kind.take() {
                    Some(kind) => Poll::Ready(Err(kind)),
                    None => panic!("Deadline::run polled after it completed"),
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;
    use std::task::Poll;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn the_earliest_deadline_wins_and_none_is_the_latest() {
        let now = Instant::now();
        let soon = Deadline::since(now, Duration::from_secs(1), TimeoutKind::Read);
        let late = Deadline::since(now, HOUR, TimeoutKind::Total);
        assert_eq!(soon.earliest(late), soon);
        assert_eq!(late.earliest(soon), soon);
        assert_eq!(Deadline::none().earliest(late), late);
        assert_eq!(late.earliest(Deadline::none()), late);
        assert_eq!(
            Deadline::<TimeoutKind>::none().earliest(Deadline::none()),
            Deadline::none()
        );
    }

    #[test]
    fn on_a_tie_the_first_deadline_wins() {
        let now = Instant::now();
        let total = Deadline::since(now, HOUR, TimeoutKind::Total);
        let read = Deadline::since(now, HOUR, TimeoutKind::Read);
        assert_eq!(total.earliest(read), total);
        assert_eq!(read.earliest(total), read);
    }

    #[test]
    fn a_timeout_too_long_for_an_instant_is_no_deadline() {
        assert_eq!(Deadline::after(Duration::MAX, ()), Deadline::none());
        assert_eq!(Deadline::after(None, ()), Deadline::none());
        assert!(!Deadline::after(Duration::MAX, ()).is_past());
    }

    #[test]
    fn only_a_deadline_that_has_come_is_past() {
        assert!(!Deadline::<()>::none().is_past());
        assert!(!Deadline::after(HOUR, ()).is_past());
        assert!(Deadline::after(Duration::ZERO, ()).is_past());
        let started = Instant::now();
        std::thread::sleep(Duration::from_millis(2));
        assert!(Deadline::since(started, Duration::from_millis(1), ()).is_past());
    }

    #[test]
    fn a_passed_deadline_fails_without_polling_the_future() {
        let polled = ferrio::run(async {
            let mut polled = false;
            let ready = poll_fn(|_| {
                polled = true;
                Poll::Ready(7)
            });
            let result = Deadline::after(Duration::ZERO, TimeoutKind::Read)
                .run(ready)
                .await;
            assert_eq!(result, Err(TimeoutKind::Read));
            polled
        });
        assert!(
            !polled,
            "an always-ready future must not beat a passed deadline"
        );
    }

    #[test]
    fn a_future_that_finishes_in_time_gives_its_output() {
        let out = ferrio::run(async { Deadline::after(HOUR, ()).run(async { 7 }).await });
        assert_eq!(out, Ok(7));
    }

    #[test]
    fn a_future_that_waits_too_long_gives_the_kind() {
        let (result, took) = ferrio::run(async {
            let started = Instant::now();
            let slow = ferrio::time::sleep(HOUR);
            let deadline = Deadline::after(Duration::from_millis(20), TimeoutKind::Connect);
            (deadline.run(slow).await, started.elapsed())
        });
        assert_eq!(result, Err(TimeoutKind::Connect));
        assert!(
            took >= Duration::from_millis(20),
            "fired early, after {took:?}"
        );
    }

    #[test]
    fn a_run_holds_its_future_once() {
        // A future with a 4 KiB buffer across an await, like the server's reads.
        let big = || async {
            let buf = [1u8; 4096];
            std::future::ready(()).await;
            buf.iter().map(|&b| usize::from(b)).sum::<usize>()
        };
        let timeout = std::mem::size_of_val(&timeout_at(Instant::now(), big()));
        let run = std::mem::size_of_val(&Deadline::after(HOUR, ()).run(big()));
        assert!(
            run <= timeout + 16,
            "run's future is {run} bytes, a bare timeout's {timeout}"
        );
    }

    #[test]
    fn no_deadline_runs_without_a_reactor() {
        let mut cx = std::task::Context::from_waker(futures_util::task::noop_waker_ref());
        let run = Deadline::<()>::none().run(async { 7 });
        let mut run = std::pin::pin!(run);
        assert_eq!(run.as_mut().poll(&mut cx), Poll::Ready(Ok(7)));
    }
}

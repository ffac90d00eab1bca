//! Helpers for tests of async code: run a test body under many seeds of the
//! seeded scheduler to find an ordering bug, and report the seed that
//! replays it (docs/testing.md, "Seeds and shuffles").
//!
//! Not here: the seeded scheduler itself (`Builder::seed`, the executor's
//! seeded loop, the reactor's shuffle of wakes).

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::Builder;

/// A seed under which a test body failed, and how it failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedFailure {
    seed: u64,
    message: String,
}

impl SeedFailure {
    /// The seed: `Builder::seed(n)`, `#[ferrio::test(seed = n)]` or
    /// `FERRIO_SEED=n` replays the failure.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The panic's message (or the error's `Debug`, for a body that
    /// returned `Err`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for SeedFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "failed under seed {0}: {1}; replay it with #[ferrio::test(seed = {0})], Builder::seed({0}) or FERRIO_SEED={0}",
            self.seed, self.message
        )
    }
}

impl std::error::Error for SeedFailure {}

/// Runs `body()` on a new seeded runtime once per seed `1..=tries`, each
/// on a runtime of its own built by `Runtime::builder().seed(n)`, and
/// returns the first seed under which it panicked, or `None` if every run
/// passed. The seeds are always the same ones, so a test that uses this is
/// itself deterministic. The panics of the failing run are printed as usual.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// // Two tasks; the second assumes that one yield lets the first finish.
/// let failure = ferrio::testing::find_failing_seed(100, || async {
///     let done = Rc::new(Cell::new(false));
///     let first = ferrio::spawn_local({
///         let done = done.clone();
///         async move {
///             ferrio::yield_now().await;
///             done.set(true);
///         }
///     });
///     let second = ferrio::spawn_local({
///         let done = done.clone();
///         async move {
///             ferrio::yield_now().await;
///             assert!(done.get(), "the first task had not finished");
///         }
///     });
///     first.await.unwrap();
///     second.await.unwrap();
/// });
/// let failure = failure.expect("some seed polls the second task first");
/// println!("{failure}"); // failed under seed N: ...; replay it with ...
/// ```
///
/// # Panics
///
/// If this thread is inside a runtime, or a runtime cannot be built.
pub fn find_failing_seed<F, Fut>(tries: u64, body: F) -> Option<SeedFailure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    find_failing_seed_on(Builder::new(), tries, body)
}

/// [`find_failing_seed`] on runtimes built from `builder` (each run adds
/// its seed to a clone of it).
///
/// # Panics
///
/// As [`find_failing_seed`].
pub fn find_failing_seed_on<F, Fut>(
    builder: Builder,
    tries: u64,
    mut body: F,
) -> Option<SeedFailure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    assert!(
        !crate::in_runtime(),
        "ferrio::testing::find_failing_seed runs runtimes of its own: call it outside one"
    );
    try_seeds(tries, |seed| {
        crate::runtime::run_on(builder.clone().seed(seed), body());
        Ok(())
    })
}

/// Runs `body()` under the seeds `1..=tries`, as [`find_failing_seed`],
/// and panics at the first that fails, naming the seed and how to replay
/// it; returns if every run passed. `#[ferrio::test(shuffle = N)]` does this
/// for a test.
///
/// ```
/// ferrio::testing::shuffle(20, || async {
///     let a = ferrio::spawn(async { 1 });
///     let b = ferrio::spawn(async { 2 });
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3); // no order makes it fail
/// });
/// ```
///
/// # Panics
///
/// Under the first seed with which `body` fails, and as
/// [`find_failing_seed`].
#[track_caller]
pub fn shuffle<F, Fut>(tries: u64, body: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    if let Some(failure) = find_failing_seed(tries, body) {
        panic!("ferrio::testing::shuffle: {failure}");
    }
}

/// Calls `run` for each seed `1..=tries` until one fails (returns `Err` or
/// panics).
pub(crate) fn try_seeds(
    tries: u64,
    mut run: impl FnMut(u64) -> Result<(), String>,
) -> Option<SeedFailure> {
    (1..=tries).find_map(|seed| {
        let failed = match catch_unwind(AssertUnwindSafe(|| run(seed))) {
            Ok(Ok(())) => return None,
            Ok(Err(message)) => message,
            Err(panic) => panic_message(&*panic),
        };
        Some(SeedFailure {
            seed,
            message: failed,
        })
    })
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a payload that is not a string".to_owned()
    }
}

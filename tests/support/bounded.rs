//! The integration tests' `run` with a deadline: a fresh `ferrio::run` whose
//! test fails, naming what it waited for, instead of hanging when `test` takes
//! longer than `limit`. Included by each test with
//! `#[path = "support/bounded.rs"] mod bounded;`.

use std::future::Future;
use std::time::Duration;

/// Runs `test` on a fresh runtime; panics with `what` if it takes longer
/// than `limit`.
pub(crate) fn run_within<F: Future>(limit: Duration, what: &str, test: F) -> F::Output {
    ferrio::run(async {
        ferrio::time::timeout(limit, test)
            .await
            .unwrap_or_else(|_| panic!("{what}: should have finished within {limit:?}"))
    })
}

//! `#[ferrio::main]` and `#[ferrio::test]` used as a program and a test suite
//! would use them.

use std::time::Duration;

use ferrio::time::sleep;

#[ferrio::test]
async fn a_test_runs_inside_a_runtime() {
    assert!(ferrio::in_runtime());
    let task = ferrio::spawn(async { 2 + 2 });
    assert_eq!(task.await.unwrap(), 4);
}

#[ferrio::test(timeout_ms = 10_000)]
async fn a_test_with_a_timeout_that_finishes_in_time() {
    sleep(Duration::from_millis(5)).await;
}

#[ferrio::test(timeout_ms = 30)]
#[should_panic(expected = "`a_test_past_its_timeout_fails_saying_so` timed out after 30 ms")]
async fn a_test_past_its_timeout_fails_saying_so() {
    sleep(Duration::from_secs(60)).await;
}

#[ferrio::test(event_interval = 8, max_blocking_threads = 2)]
async fn a_test_can_return_a_result_and_use_question_marks() -> Result<(), ferrio::JoinError> {
    let n = ferrio::spawn_blocking(|| 21 * 2).await?;
    assert_eq!(n, 42);
    Ok(())
}

mod program {
    /// A whole program's entry point, called by the test below.
    #[ferrio::main(max_blocking_threads = 4)]
    pub(crate) async fn main() -> Result<u32, Box<dyn std::error::Error>> {
        let queue = ferrio::sync::Queue::new();
        queue.put(7).await?;
        Ok(queue.get().await?)
    }
}

#[test]
fn ferrio_main_runs_the_program_on_a_new_runtime() {
    assert!(!ferrio::in_runtime());
    assert_eq!(program::main().unwrap(), 7);
    assert!(
        !ferrio::in_runtime(),
        "the runtime is gone when main returns"
    );
}

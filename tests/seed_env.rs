//! `FERRIO_SEED` (docs/testing.md, "Seeds and shuffles"): it seeds every
//! runtime that is not built with several workers, a builder's seed wins
//! over it, and it keeps a seeded runtime at one worker whatever
//! `FERRIO_WORKERS` says. One test in a binary of its own: the environment
//! is the process's.

#[test]
fn ferrio_seed_seeds_runtimes_unless_the_builder_says_otherwise() {
    std::env::set_var("FERRIO_SEED", "31");
    std::env::remove_var("FERRIO_WORKERS");

    let rt = ferrio::Runtime::new().unwrap();
    assert_eq!(rt.seed(), Some(31));
    // The builder's seed wins.
    let rt = ferrio::Runtime::builder().seed(8).build().unwrap();
    assert_eq!(rt.seed(), Some(8));
    // A runtime built with several workers ignores it (a warning in the log).
    let rt = ferrio::Runtime::builder().workers(2).build().unwrap();
    assert_eq!((rt.seed(), rt.workers()), (None, 2));
    // It wins over FERRIO_WORKERS: a seeded run has one worker.
    std::env::set_var("FERRIO_WORKERS", "3");
    let rt = ferrio::Runtime::new().unwrap();
    assert_eq!((rt.seed(), rt.workers()), (Some(31), 1));
    // Not a number: ignored (a warning in the log), not seeded.
    std::env::set_var("FERRIO_SEED", "lucky");
    let rt = ferrio::Runtime::new().unwrap();
    assert_eq!((rt.seed(), rt.workers()), (None, 3));

    // `ferrio::run` under the variable replays: the same seed, the same order.
    std::env::set_var("FERRIO_SEED", "31");
    let order = || {
        ferrio::run(async {
            let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let tasks: Vec<_> = (0..5)
                .map(|i| {
                    let log = log.clone();
                    ferrio::spawn(async move {
                        ferrio::yield_now().await;
                        log.lock().unwrap().push(i);
                    })
                })
                .collect();
            // Woken when every task is done; the deadline only if the loop hangs.
            ferrio::time::timeout(std::time::Duration::from_secs(20), ferrio::gather(tasks))
                .await
                .unwrap();
            let order = log.lock().unwrap().clone();
            order
        })
    };
    assert_eq!(order(), order());
}

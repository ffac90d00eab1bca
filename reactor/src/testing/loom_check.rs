//! The one loom runner of the workspace: the reactor's models use it
//! (through `testing`), and the executor's model files include this file
//! with `#[path]` (executor/tests/loom.rs, executor/tests/loom_workers.rs),
//! so it uses nothing outside `std` and `loom`.

/// Runs `model` under every interleaving loom explores with at least
/// `min_bound` preemptions (more if `LOOM_MAX_PREEMPTIONS` says so, or that
/// bound when it says less and `min_bound` is 0) and prints how many it
/// explored (the counts docs/architecture.md gives).
pub(crate) fn check(name: &str, min_bound: usize, model: impl Fn() + Sync + Send + 'static) {
    // Counted per model (not in a static): tests run in parallel.
    let iterations = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(
        builder
            .preemption_bound
            .unwrap_or(min_bound.max(1))
            .max(min_bound),
    );
    let bound = builder.preemption_bound;
    let counter = iterations.clone();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        model();
    });
    let explored = iterations.load(std::sync::atomic::Ordering::Relaxed);
    println!("loom model {name}: {explored} interleavings (preemption bound {bound:?})");
}

//! What the unit tests of several files share: a waker that counts its
//! wakes (plain tests) and the runner of the loom models (`--cfg loom`).

/// A waker that counts its wakes.
#[cfg(not(loom))]
#[derive(Default)]
pub(crate) struct Count(pub(crate) std::sync::atomic::AtomicUsize);

#[cfg(not(loom))]
impl std::task::Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Runs `model` under every interleaving loom explores with at least 3
/// preemptions (more if `LOOM_MAX_PREEMPTIONS` says so) and prints how many
/// it explored (the counts docs/architecture.md gives).
#[cfg(loom)]
pub(crate) fn check_model(name: &str, model: impl Fn() + Sync + Send + 'static) {
    // Counted per model (not in a static): tests run in parallel.
    let iterations = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(builder.preemption_bound.unwrap_or(3).max(3));
    let bound = builder.preemption_bound;
    let counter = iterations.clone();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        model();
    });
    let explored = iterations.load(std::sync::atomic::Ordering::Relaxed);
    println!("loom model {name}: {explored} interleavings (preemption bound {bound:?})");
}

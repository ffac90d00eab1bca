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

/// The loom runner, shared with the executor's models.
#[cfg(loom)]
mod loom_check;
#[cfg(loom)]
pub(crate) use loom_check::check;

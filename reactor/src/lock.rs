//! The workspace's one poison-tolerant lock helper: ferrio-reactor's own
//! locks use it, and the crates above use it as `ferrio_reactor::lock`.
//!
//! Not here: the locks themselves (each lives beside the state it guards);
//! the executor's, which are loom's under `--cfg loom` (executor/src/sync.rs),
//! and the waiter lists of `scheduled_io.rs`, loom's likewise.

/// Locks `m`, ignoring poisoning. Only for a lock whose data every change
/// leaves whole, so that a panic while it is held (in a waker's clone or
/// drop, say) leaves a usable lock: each caller says why its data is whole
/// beside the lock. Reached as `ferrio_reactor::lock` by ferrio's crates; not
/// part of the documented API.
///
/// ```
/// let m = std::sync::Mutex::new(1);
/// *ferrio_reactor::lock(&m) += 1;
/// assert_eq!(*m.lock().unwrap(), 2);
/// ```
pub fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

//! The crate's one poison-tolerant lock helper.
//!
//! Not here: the locks themselves (each lives beside the state it guards).

/// Locks `m`, ignoring poisoning: a panic while one of the reactor's locks
/// is held (in a waker's clone or drop, say) leaves its data whole, so a
/// poisoned lock is still a usable one. The waiter lists of
/// `scheduled_io.rs` have their own, because they are loom's locks under
/// `--cfg loom`.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

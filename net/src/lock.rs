//! The crate's one poison-tolerant lock helper.
//!
//! Not here: the locks themselves (each lives beside the state it guards).

/// Locks `m`, ignoring poisoning: each of this crate's locks guards a value
/// that every change leaves whole (a stream's last readiness event, the list
/// of orphaned children), so a poisoned lock is still a usable one.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

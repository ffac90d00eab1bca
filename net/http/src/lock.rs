//! The crate's one poison-tolerant lock helper.
//!
//! Not here: the locks themselves (each lives beside the state it guards).

/// Locks `m`, ignoring poisoning: no lock of this crate guards state that a
/// panic could leave half-updated (the pool's state is consistent between
/// statements that can panic; the cookie store and the DNS cache change in
/// single calls), so a poisoned lock is still a usable one.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

//! The process's limit on open descriptors, for the tests that open many
//! sockets. Included by each test with `#[path = "support/rlimit.rs"] mod rlimit;`.

/// Raises this process's soft descriptor limit to at least `n` (if the hard
/// limit allows).
pub(crate) fn ensure_descriptors(n: u64) {
    #[cfg(unix)]
    // SAFETY: getrlimit/setrlimit only read and write the rlimit they are given.
    unsafe {
        let mut limit = std::mem::zeroed::<libc::rlimit>();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && (limit.rlim_cur as u64) < n {
            limit.rlim_cur = (n as libc::rlim_t).min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
    #[cfg(not(unix))]
    let _ = n;
}

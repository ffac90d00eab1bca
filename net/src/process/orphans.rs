//! The orphans: children dropped unreaped whose reaper task could not run
//! (no runtime, or it ended), reaped at the next spawn.

use std::sync::Mutex;

use super::child::ChildInner;
use ferrio_reactor::lock;

/// Children dropped unreaped whose reaper could not run (no runtime, or it
/// ended): each spawn reaps those that have exited since, so zombies do not
/// pile up in a long-lived process. A change pushes or drains whole
/// children, so `lock` may ignore poisoning.
pub(super) static ORPHANS: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());

/// Reaps the orphans that have exited.
pub(super) fn reap_orphans() {
    lock(&ORPHANS).retain_mut(|child| match child.try_wait() {
        Ok(Some(status)) => {
            log::debug!("reaped orphan pid {}: {status}", child.id());
            false
        }
        Ok(None) => true,
        Err(e) => {
            log::warn!("cannot reap orphan pid {}: {e}", child.id());
            false
        }
    });
}

/// Leaves `inner` to the orphans if it has not exited.
pub(super) fn orphan(mut inner: ChildInner) {
    if let Ok(None) = inner.try_wait() {
        log::debug!(
            "pid {} is left to the orphans, to reap later",
            inner.std.id()
        );
        lock(&ORPHANS).push(inner.std);
    }
}

/// Owns a dropped child while a task waits to reap it; if the task is
/// dropped first (its runtime ended), hands the child to the orphans.
pub(super) struct Reaper(pub(super) Option<ChildInner>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(inner) = self.0.take() {
            orphan(inner);
        }
    }
}

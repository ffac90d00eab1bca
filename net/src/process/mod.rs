//! Child processes on the reactor (asyncio's `create_subprocess_exec`):
//! [`Command`], [`Child`] and its pipes [`ChildStdin`], [`ChildStdout`],
//! [`ChildStderr`].
//!
//! A child is started by `std::process::Command`; what this module adds is
//! waiting without blocking the loop. The pipes to the child are made
//! non-blocking and registered with the reactor, so reading the child's
//! output and writing its input wait like a socket does. The child's exit is
//! watched through a pidfd on Linux (a descriptor that becomes readable when
//! the process exits; pidfd_open(2), Linux 5.3), and through a `SIGCHLD`
//! listener elsewhere or when pidfd_open is refused: each `SIGCHLD` makes
//! every waiting child check its status with a non-blocking `waitpid`.
//!
//! A child whose [`Child`] is dropped before it was reaped is reaped by a
//! task on the loop (or killed first, with [`Command::kill_on_drop`]). If
//! the runtime ends before it exits, or there is none, the next spawn reaps
//! it: zombies do not pile up.
//!
//! A [`Child`] and its pipes may be used from another runtime than the one
//! that spawned them (even after that one ended): they move to the reactor
//! of the runtime that polls them.
//!
//! Not here: pseudo-terminals, process groups and job control, or running a
//! shell command line (run `sh -c` for that).
//!
//! The files, one per concern: `command.rs` (what starts a child), `child.rs`
//! (waiting, killing, dropping), `exit.rs` (the pidfd and `SIGCHLD` ways of
//! noticing an exit), `orphans.rs` (children nobody can reap now) and
//! `pipes.rs` (the standard streams).

mod child;
mod command;
mod exit;
mod orphans;
mod pipes;

pub use child::Child;
pub use command::Command;
pub use pipes::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};

#[cfg(test)]
mod tests {
    //! The `SIGCHLD` way of watching exits, which Linux (where the tests run)
    //! would otherwise never take.

    use std::os::unix::process::ExitStatusExt;
    use std::time::Duration;

    use super::exit::ExitWatch;
    use super::*;

    #[test]
    #[cfg_attr(
        miri,
        ignore = "Miri cannot install signal handlers (sigaction) or spawn processes"
    )]
    fn sigchld_watch_sees_exits_and_kills() {
        ferrio::run(async {
            let within = Duration::from_secs(30);
            let mut quick = Command::new("sh");
            quick.args(["-c", "exit 4"]);
            let mut child = quick.spawn_watching(false).unwrap();
            assert!(matches!(child.inner().exit, ExitWatch::SigChld(_)));
            let status = ferrio::time::timeout(within, child.wait())
                .await
                .expect("SIGCHLD of the exited child should wake wait")
                .unwrap();
            assert_eq!(status.code(), Some(4));

            // Several children, each woken by any SIGCHLD, each finds its own.
            let mut sleepers: Vec<Child> = (0..4)
                .map(|_| {
                    let mut sleep = Command::new("sleep");
                    sleep.arg("1000");
                    sleep.spawn_watching(false).unwrap()
                })
                .collect();
            for child in &mut sleepers {
                let status = ferrio::time::timeout(within, child.kill())
                    .await
                    .expect("SIGCHLD of the killed child should wake wait")
                    .unwrap();
                assert_eq!(status.signal(), Some(libc::SIGKILL));
            }
        });
    }
}

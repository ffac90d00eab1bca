//! How a child's exit is noticed: its pidfd on Linux (readable once it
//! exited), else every `SIGCHLD`; and sending it a signal either way.

use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::{AsRawFd, OwnedFd};
#[cfg(target_os = "linux")]
use std::task::ready;
use std::task::{Context, Poll};

// The pidfd's path (Linux) registers a source of its own.
#[cfg(target_os = "linux")]
use ferrio_reactor::{Direction, Interest};

#[cfg(target_os = "linux")]
use crate::oneway::Oneway;
use crate::signal::{signal, Signal, SignalKind};

/// How the exit of one child is noticed.
pub(super) enum ExitWatch {
    /// Linux: the child's pidfd, readable once it exited.
    #[cfg(target_os = "linux")]
    PidFd(Oneway<PidFd>),
    /// Elsewhere, or when pidfd_open is refused: every `SIGCHLD`.
    SigChld(Signal),
}

impl ExitWatch {
    /// `sigchld` is the listener made before the child started, if the
    /// platform has no pidfd.
    pub(super) fn new(
        handle: &ferrio_reactor::Handle,
        pid: u32,
        sigchld: Option<Signal>,
    ) -> io::Result<ExitWatch> {
        if let Some(sigchld) = sigchld {
            return Ok(ExitWatch::SigChld(sigchld));
        }
        #[cfg(target_os = "linux")]
        {
            let raw = rustix::process::Pid::from_raw(pid as i32)
                .ok_or_else(|| io::Error::other(format!("pid {pid} out of range")))?;
            match rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::NONBLOCK) {
                Ok(fd) => {
                    return Ok(ExitWatch::PidFd(Oneway::new(
                        handle,
                        PidFd(fd),
                        Interest::READABLE,
                    )?))
                }
                Err(e) => log::debug!("pidfd_open({pid}) failed ({e}); watching SIGCHLD"),
            }
        }
        let _ = (handle, pid);
        // The child may already have exited: `poll_wait` checks its status
        // once more after this listener exists, so its SIGCHLD is not missed.
        Ok(ExitWatch::SigChld(signal(SignalKind::child())?))
    }

    /// Ready when the child may have exited.
    pub(super) fn poll_exited(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            #[cfg(target_os = "linux")]
            ExitWatch::PidFd(pidfd) => {
                let registration = pidfd.home()?;
                let event = ready!(registration.poll_ready(cx, Direction::Read))?;
                // A pidfd stays readable once the process exited; clear the
                // readiness so that, if `waitpid` says it did not, we wait again.
                registration.clear_readiness(event);
                Poll::Ready(Ok(()))
            }
            ExitWatch::SigChld(sigchld) => sigchld.poll_recv(cx),
        }
    }

    pub(super) fn send_signal(&self, pid: u32, signal: SignalKind) -> io::Result<()> {
        let sig = rustix::process::Signal::from_named_raw(signal.as_raw()).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{signal} is not a signal"),
            )
        })?;
        match self {
            #[cfg(target_os = "linux")]
            ExitWatch::PidFd(pidfd) => {
                rustix::process::pidfd_send_signal(&pidfd.get_ref().0, sig).map_err(io::Error::from)
            }
            ExitWatch::SigChld(_) => {
                let pid = rustix::process::Pid::from_raw(pid as i32)
                    .ok_or_else(|| io::Error::other(format!("pid {pid} out of range")))?;
                rustix::process::kill_process(pid, sig).map_err(io::Error::from)
            }
        }
    }
}

/// A pidfd as a mio source.
#[cfg(target_os = "linux")]
pub(super) struct PidFd(pub(super) OwnedFd);

#[cfg(target_os = "linux")]
impl mio::event::Source for PidFd {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}

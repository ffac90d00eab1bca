//! [`Child`]: a started child, its `wait`, `kill` and `output`, and what
//! happens when it is dropped unreaped (a reaper task, or the orphans).

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::process::{ExitStatus, Output};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures_io::AsyncRead;

use super::exit::ExitWatch;
use super::orphans::{orphan, Reaper};
use super::pipes::{ChildStderr, ChildStdin, ChildStdout};
use crate::signal::SignalKind;

/// A running (or exited, not yet reaped) child process (asyncio's `Process`).
///
/// Its piped streams are in the public fields; `take()` them to use them
/// from other tasks. Dropping a `Child` before [`wait`](Child::wait)
/// returned leaves the process running (unless
/// [`kill_on_drop`](super::Command::kill_on_drop)); the loop reaps it when it exits.
///
/// ```
/// use std::process::Stdio;
/// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
/// use ferrio::process::Command;
///
/// ferrio::run(async {
///     let mut cat = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
///     let mut stdin = cat.stdin.take().unwrap();
///     stdin.write_all(b"meow").await?;
///     stdin.close().await?; // cat sees end-of-file
///     let mut out = Vec::new();
///     cat.stdout.take().unwrap().read_to_end(&mut out).await?;
///     assert_eq!(out, b"meow");
///     assert!(cat.wait().await?.success());
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Child {
    /// The write end of the child's stdin, if it was piped.
    pub stdin: Option<ChildStdin>,
    /// The read end of the child's stdout, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The read end of the child's stderr, if it was piped.
    pub stderr: Option<ChildStderr>,
    /// `None` only once `Drop` handed it to the reaper task.
    pub(super) inner: Option<ChildInner>,
    pub(super) kill_on_drop: bool,
}

pub(super) struct ChildInner {
    pub(super) std: std::process::Child,
    pub(super) exit: ExitWatch,
    /// Cached once reaped: the pid may belong to another process after that,
    /// so no signal is sent any more.
    pub(super) status: Option<ExitStatus>,
}

impl Child {
    pub(super) fn inner(&mut self) -> &mut ChildInner {
        self.inner.as_mut().expect("Child used after drop")
    }

    /// The child's process id.
    ///
    /// ```
    /// ferrio::run(async {
    ///     let mut child = ferrio::process::Command::new("true").spawn().unwrap();
    ///     assert!(child.id() > 0);
    ///     child.wait().await.unwrap();
    /// });
    /// ```
    // Cannot panic: only `Drop` empties `inner`, and nothing runs after it.
    #[allow(clippy::missing_panics_doc)]
    pub fn id(&self) -> u32 {
        self.inner.as_ref().expect("Child used after drop").std.id()
    }

    /// Waits for the child to exit and returns its status (asyncio's
    /// `Process.wait`). Closes the child's stdin first, if it was piped, so a
    /// child that reads to end-of-file does not wait for input forever.
    ///
    /// Cancel-safe: dropping the future leaves the child as it was.
    ///
    /// # Errors
    ///
    /// The OS's errors of `waitpid`; in practice none.
    ///
    /// ```
    /// use ferrio::process::Command;
    /// ferrio::run(async {
    ///     let status = Command::new("false").spawn().unwrap().wait().await.unwrap();
    ///     assert_eq!(status.code(), Some(1));
    /// });
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        let inner = self.inner();
        poll_fn(|cx| inner.poll_wait(cx)).await
    }

    /// The exit status if the child has exited, without waiting (asyncio's
    /// `Process.returncode`).
    ///
    /// ```
    /// use ferrio::process::Command;
    /// ferrio::run(async {
    ///     let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    ///     assert_eq!(child.try_wait().unwrap(), None);
    ///     child.kill().await.unwrap();
    ///     assert!(child.try_wait().unwrap().is_some());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's errors of `waitpid`; in practice none.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.inner().try_wait()
    }

    /// Sends `signal` to the child (asyncio's `Process.send_signal`). Once
    /// the child was reaped this does nothing: its pid may be another's now.
    /// On Linux the signal goes through the child's pidfd, which cannot
    /// reach another process.
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use ferrio::process::Command;
    /// use ferrio::signal::SignalKind;
    /// ferrio::run(async {
    ///     let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    ///     child.send_signal(SignalKind::hangup()).unwrap();
    ///     assert_eq!(child.wait().await.unwrap().signal(), Some(libc::SIGHUP));
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a number that is no signal; the OS's errors of
    /// `kill`.
    pub fn send_signal(&mut self, signal: SignalKind) -> io::Result<()> {
        let inner = self.inner();
        if inner.try_wait()?.is_some() {
            return Ok(());
        }
        inner.exit.send_signal(inner.std.id(), signal)
    }

    /// Sends `SIGKILL` without waiting (asyncio's `Process.kill`).
    ///
    /// # Errors
    ///
    /// The OS's errors of `kill`.
    pub fn start_kill(&mut self) -> io::Result<()> {
        self.send_signal(SignalKind::from_raw(libc::SIGKILL))
    }

    /// Sends `SIGTERM` without waiting (asyncio's `Process.terminate`).
    ///
    /// # Errors
    ///
    /// The OS's errors of `kill`.
    pub fn terminate(&mut self) -> io::Result<()> {
        self.send_signal(SignalKind::terminate())
    }

    /// Kills the child (`SIGKILL`) and waits until it is gone.
    ///
    /// # Errors
    ///
    /// The OS's errors of `kill` and `waitpid`.
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use ferrio::process::Command;
    /// ferrio::run(async {
    ///     let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    ///     let status = child.kill().await.unwrap();
    ///     assert_eq!(status.signal(), Some(libc::SIGKILL));
    /// });
    /// ```
    pub async fn kill(&mut self) -> io::Result<ExitStatus> {
        self.start_kill()?;
        self.wait().await
    }

    /// Writes `input` to the child's stdin (if piped) and closes it, while
    /// reading its stdout and stderr (if piped) to their end, then waits for
    /// it to exit (asyncio's `Process.communicate`). Writing and reading run
    /// together, so a child that answers before it has read all its input
    /// does not deadlock. Streams that were not piped give empty output; if
    /// the child exits without reading all of `input`, the rest is dropped.
    ///
    /// # Errors
    ///
    /// The OS's errors of reading the pipes or of `waitpid`.
    ///
    /// ```
    /// use std::process::Stdio;
    /// use ferrio::process::Command;
    /// ferrio::run(async {
    ///     let child = Command::new("tr").arg("a-z").arg("A-Z")
    ///         .stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    ///     let out = child.communicate(b"shout").await.unwrap();
    ///     assert_eq!(out.stdout, b"SHOUT");
    /// });
    /// ```
    pub async fn communicate(mut self, input: &[u8]) -> io::Result<Output> {
        let streams = (self.stdin.take(), self.stdout.take(), self.stderr.take());
        let (stdout, stderr) = exchange(streams, input).await?;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// [`communicate`](Child::communicate) with a deadline: if the child has
    /// not finished within `timeout`, it is killed (`SIGKILL`) and reaped, and
    /// the error says so (asyncio's `wait_for(proc.communicate(), t)`
    /// followed by `proc.kill()`). The output read before the deadline is lost.
    /// A child that exited in time but left a process of its own holding its
    /// stdout or stderr open (so that they never end) is not killed, and the
    /// error says so.
    ///
    /// # Errors
    ///
    /// `TimedOut` after the deadline, or those of [`communicate`](Child::communicate).
    ///
    /// ```
    /// use std::time::Duration;
    /// use ferrio::process::Command;
    /// ferrio::run(async {
    ///     let child = Command::new("sleep").arg("1000").spawn().unwrap();
    ///     let err = child.communicate_timeout(b"", Duration::from_millis(50)).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    /// });
    /// ```
    pub async fn communicate_timeout(
        mut self,
        input: &[u8],
        timeout: Duration,
    ) -> io::Result<Output> {
        let pid = self.id();
        let streams = (self.stdin.take(), self.stdout.take(), self.stderr.take());
        let inner = self.inner();
        let finished = ferrio_reactor::time::timeout(timeout, async {
            let (stdout, stderr) = exchange(streams, input).await?;
            let status = poll_fn(|cx| inner.poll_wait(cx)).await?;
            Ok(Output {
                status,
                stdout,
                stderr,
            })
        })
        .await;
        match finished {
            Ok(result) => result,
            Err(_) => {
                // A child that has exited is waited for by its pipes alone:
                // a process it started holds them open.
                if let Some(status) = self.try_wait()? {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "child {pid} exited ({status}), but its output did not end within \
                             {timeout:?}: a process it started holds its stdout or stderr open"
                        ),
                    ));
                }
                let status = self.kill().await?;
                log::debug!("pid {pid} killed after {timeout:?}: {status}");
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("child {pid} did not finish within {timeout:?}; it was killed"),
                ))
            }
        }
    }

    /// Waits for the child to exit and collects its piped stdout and stderr
    /// ([`communicate`](Child::communicate) with no input).
    ///
    /// ```
    /// use ferrio::process::{Command, Stdio};
    /// ferrio::run(async {
    ///     let child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn().unwrap();
    ///     assert_eq!(child.wait_with_output().await.unwrap().stdout, b"hi\n");
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`communicate`](Child::communicate).
    pub async fn wait_with_output(self) -> io::Result<Output> {
        self.communicate(b"").await
    }
}

/// The piped streams of a child: stdin, stdout, stderr.
type Streams = (Option<ChildStdin>, Option<ChildStdout>, Option<ChildStderr>);

/// Writes `input` to stdin and closes it, while reading stdout and stderr to
/// their end. A child that stops reading its stdin (closes it or exits) is
/// no error: the rest of `input` is dropped.
pub(super) async fn exchange(streams: Streams, input: &[u8]) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let (stdin, stdout, stderr) = streams;
    let write = async move {
        if let Some(mut stdin) = stdin {
            use futures_util::AsyncWriteExt;
            match stdin.write_all(input).await {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                result => result?,
            }
            // `stdin` drops here: the child reads end-of-file.
        }
        io::Result::Ok(())
    };
    let (written, stdout, stderr) = futures_util::join!(write, read_all(stdout), read_all(stderr));
    written?;
    Ok((stdout?, stderr?))
}

/// Reads `stream` to its end, if there is one.
pub(super) async fn read_all<R: AsyncRead + Unpin>(stream: Option<R>) -> io::Result<Vec<u8>> {
    use futures_util::AsyncReadExt;
    let mut out = Vec::new();
    if let Some(mut stream) = stream {
        stream.read_to_end(&mut out).await?;
    }
    Ok(out)
}

impl ChildInner {
    pub(super) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.std.try_wait()?;
            if let Some(status) = self.status {
                log::debug!("pid {} exited: {status}", self.std.id());
            }
        }
        Ok(self.status)
    }

    /// Ready with the exit status once the child has exited and been reaped.
    pub(super) fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        loop {
            if let Some(status) = self.try_wait()? {
                return Poll::Ready(Ok(status));
            }
            ready!(self.exit.poll_exited(cx))?;
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut inner) = self.inner.take() else {
            return;
        };
        match inner.try_wait() {
            Ok(Some(_)) => return,
            Ok(None) => {}
            Err(e) => {
                log::warn!("cannot tell whether pid {} exited: {e}", inner.std.id());
                return;
            }
        }
        if self.kill_on_drop {
            if let Err(e) = inner
                .exit
                .send_signal(inner.std.id(), SignalKind::from_raw(libc::SIGKILL))
            {
                log::warn!("kill_on_drop: cannot kill pid {}: {e}", inner.std.id());
            }
        }
        // Reap it when it exits, from a task that costs nothing while it
        // waits. Outside a runtime, or if the runtime ends first, `inner`'s
        // drop leaves it with the orphans.
        if ferrio_executor::try_current().is_some() {
            let mut reaper = Reaper(Some(inner));
            ferrio_executor::spawn(async move {
                let inner = reaper.0.as_mut().expect("only Drop takes it");
                let pid = inner.std.id();
                if let Err(e) = poll_fn(|cx| inner.poll_wait(cx)).await {
                    log::warn!("cannot reap pid {pid}: {e}");
                }
            });
        } else {
            orphan(inner);
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.inner.as_ref().map(|i| i.std.id()))
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}

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

use std::ffi::OsStr;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
#[cfg(target_os = "linux")]
use std::os::fd::OwnedFd;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
pub use std::process::{ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use ferrio_reactor::{Direction, Interest};
use futures_io::{AsyncRead, AsyncWrite};
use mio::unix::pipe;

use crate::lock::lock;
use crate::oneway::Oneway;
use crate::signal::{signal, Signal, SignalKind};

/// What starts a child process: program, arguments, environment, working
/// directory and where its standard streams go (asyncio's
/// `create_subprocess_exec` arguments; std's `Command` with async waiting).
///
/// Standard streams are inherited unless set; [`output`](Command::output)
/// pipes stdout and stderr unless they were set.
///
/// ```
/// use std::process::Stdio;
/// use ferrio::io::AsyncReadExt;
/// use ferrio::process::Command;
///
/// ferrio::run(async {
///     let mut child = Command::new("echo").arg("hello").stdout(Stdio::piped()).spawn()?;
///     let mut out = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut out).await?;
///     assert_eq!(out, "hello\n");
///     assert!(child.wait().await?.success());
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    stdout_set: bool,
    stderr_set: bool,
}

impl Command {
    /// A command that runs `program` (found in `PATH` unless it is a path),
    /// with no arguments.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            kill_on_drop: false,
            stdout_set: false,
            stderr_set: false,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable of the child.
    ///
    /// ```
    /// use ferrio::process::Command;
    /// ferrio::run(async {
    ///     let out = Command::new("sh").args(["-c", "echo $GREETING from $(pwd)"])
    ///         .env_clear().env("PATH", "/usr/bin:/bin").env("GREETING", "hi")
    ///         .current_dir("/").output().await.unwrap();
    ///     assert_eq!(out.stdout, b"hi from /\n");
    /// });
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets several environment variables of the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Where the child's stdin comes from (`Stdio::piped()` gives
    /// [`Child::stdin`]).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// Where the child's stdout goes (`Stdio::piped()` gives [`Child::stdout`]).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// Where the child's stderr goes (`Stdio::piped()` gives [`Child::stderr`]).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// Whether dropping the [`Child`] before it exited kills it (`SIGKILL`).
    /// Off by default: a dropped child runs on (and is reaped when it exits).
    ///
    /// ```
    /// use ferrio::process::Command;
    /// ferrio::run(async {
    ///     let child = Command::new("sleep").arg("1000").kill_on_drop(true).spawn().unwrap();
    ///     drop(child); // killed, and reaped by the loop
    /// });
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The `std::process::Command` underneath, for what this type does not
    /// offer (for example `std::os::unix::process::CommandExt::process_group`).
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child.
    ///
    /// # Errors
    ///
    /// `NotFound` when the program does not exist, `PermissionDenied` when it
    /// cannot be run, and the OS's errors of making pipes or registering them
    /// with the reactor.
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime.
    ///
    /// ```
    /// ferrio::run(async {
    ///     let err = ferrio::process::Command::new("/no/such/program").spawn().unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        self.spawn_watching(cfg!(target_os = "linux"))
    }

    /// [`spawn`](Command::spawn), watching the exit through a pidfd if
    /// `pidfd` (and the OS allows it), else through `SIGCHLD`.
    #[track_caller]
    fn spawn_watching(&mut self, pidfd: bool) -> io::Result<Child> {
        let handle = ferrio_reactor::context::current();
        reap_orphans();
        // The SIGCHLD listener (where there is no pidfd) must exist before the
        // child can exit, or its one SIGCHLD could come before anyone listens.
        let sigchld = if pidfd {
            None
        } else {
            Some(signal(SignalKind::child())?)
        };
        let mut std = self.std.spawn().map_err(|e| {
            io::Error::new(e.kind(), format!("cannot run {:?}: {e}", self.program()))
        })?;
        let pid = std.id();
        let (stdin, stdout, stderr) = (std.stdin.take(), std.stdout.take(), std.stderr.take());
        let exit = match ExitWatch::new(&handle, pid, sigchld) {
            Ok(exit) => exit,
            Err(e) => {
                let _ = std.kill();
                let _ = std.wait();
                return Err(e);
            }
        };
        let mut child = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            inner: Some(ChildInner {
                std,
                exit,
                status: None,
            }),
            // Until the pipes are registered: if one fails, dropping `child`
            // kills the child and reaps it.
            kill_on_drop: true,
        };
        child.stdin = stdin
            .map(|end| {
                let end = pipe::Sender::from(end);
                end.set_nonblocking(true)?;
                let io = Oneway::new(&handle, end, Interest::WRITABLE)?;
                io::Result::Ok(ChildStdin { io: Some(io) })
            })
            .transpose()?;
        child.stdout = stdout
            .map(|end| {
                let end = pipe::Receiver::from(end);
                end.set_nonblocking(true)?;
                let io = Oneway::new(&handle, end, Interest::READABLE)?;
                io::Result::Ok(ChildStdout { io })
            })
            .transpose()?;
        child.stderr = stderr
            .map(|end| {
                let end = pipe::Receiver::from(end);
                end.set_nonblocking(true)?;
                let io = Oneway::new(&handle, end, Interest::READABLE)?;
                io::Result::Ok(ChildStderr { io })
            })
            .transpose()?;
        child.kill_on_drop = self.kill_on_drop;
        log::debug!("spawned {:?} as pid {pid}", self.program());
        Ok(child)
    }

    fn program(&self) -> &OsStr {
        self.std.get_program()
    }

    /// Runs the child to its end and returns its exit status. Its streams are
    /// inherited unless set.
    ///
    /// # Errors
    ///
    /// Those of [`spawn`](Command::spawn) and [`Child::wait`].
    ///
    /// ```
    /// use ferrio::process::Command;
    /// ferrio::run(async {
    ///     assert!(Command::new("true").status().await.unwrap().success());
    ///     assert_eq!(Command::new("sh").args(["-c", "exit 3"]).status().await.unwrap().code(), Some(3));
    /// });
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        self.spawn()?.wait().await
    }

    /// Runs the child to its end and collects its stdout and stderr (piped
    /// unless set; stdin is inherited unless set).
    ///
    /// # Errors
    ///
    /// Those of [`spawn`](Command::spawn) and [`Child::communicate`].
    ///
    /// ```
    /// use ferrio::process::Command;
    /// ferrio::run(async {
    ///     let out = Command::new("sh").args(["-c", "echo out; echo err >&2; exit 1"]).output().await.unwrap();
    ///     assert_eq!((&out.stdout[..], &out.stderr[..]), (&b"out\n"[..], &b"err\n"[..]));
    ///     assert_eq!(out.status.code(), Some(1));
    /// });
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        if !self.stdout_set {
            self.std.stdout(Stdio::piped());
        }
        if !self.stderr_set {
            self.std.stderr(Stdio::piped());
        }
        let child = self.spawn();
        if !self.stdout_set {
            self.std.stdout(Stdio::inherit());
        }
        if !self.stderr_set {
            self.std.stderr(Stdio::inherit());
        }
        child?.communicate(b"").await
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("command", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}

/// A running (or exited, not yet reaped) child process (asyncio's `Process`).
///
/// Its piped streams are in the public fields; `take()` them to use them
/// from other tasks. Dropping a `Child` before [`wait`](Child::wait)
/// returned leaves the process running (unless
/// [`kill_on_drop`](Command::kill_on_drop)); the loop reaps it when it exits.
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
    inner: Option<ChildInner>,
    kill_on_drop: bool,
}

struct ChildInner {
    std: std::process::Child,
    exit: ExitWatch,
    /// Cached once reaped: the pid may belong to another process after that,
    /// so no signal is sent any more.
    status: Option<ExitStatus>,
}

impl Child {
    fn inner(&mut self) -> &mut ChildInner {
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
async fn exchange(streams: Streams, input: &[u8]) -> io::Result<(Vec<u8>, Vec<u8>)> {
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
async fn read_all<R: AsyncRead + Unpin>(stream: Option<R>) -> io::Result<Vec<u8>> {
    use futures_util::AsyncReadExt;
    let mut out = Vec::new();
    if let Some(mut stream) = stream {
        stream.read_to_end(&mut out).await?;
    }
    Ok(out)
}

impl ChildInner {
    fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.std.try_wait()?;
            if let Some(status) = self.status {
                log::debug!("pid {} exited: {status}", self.std.id());
            }
        }
        Ok(self.status)
    }

    /// Ready with the exit status once the child has exited and been reaped.
    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
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

/// Children dropped unreaped whose reaper could not run (no runtime, or it
/// ended): each spawn reaps those that have exited since, so zombies do not
/// pile up in a long-lived process.
static ORPHANS: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());

/// Reaps the orphans that have exited.
fn reap_orphans() {
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
fn orphan(mut inner: ChildInner) {
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
struct Reaper(Option<ChildInner>);

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(inner) = self.0.take() {
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

/// How the exit of one child is noticed.
enum ExitWatch {
    /// Linux: the child's pidfd, readable once it exited.
    #[cfg(target_os = "linux")]
    PidFd(Oneway<PidFd>),
    /// Elsewhere, or when pidfd_open is refused: every `SIGCHLD`.
    SigChld(Signal),
}

impl ExitWatch {
    /// `sigchld` is the listener made before the child started, if the
    /// platform has no pidfd.
    fn new(
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
    fn poll_exited(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
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

    fn send_signal(&self, pid: u32, signal: SignalKind) -> io::Result<()> {
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
struct PidFd(OwnedFd);

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

/// The write end of a child's stdin (asyncio's `Process.stdin`). It
/// implements [`AsyncWrite`]; [`close`](futures_util::AsyncWriteExt::close)
/// (or dropping it) closes the pipe, and the child reads end-of-file.
///
/// A write to a child that closed its stdin or exited fails with `BrokenPipe`.
pub struct ChildStdin {
    /// `None` once closed.
    io: Option<Oneway<pipe::Sender>>,
}

/// The read end of a child's stdout (asyncio's `Process.stdout`). It
/// implements [`AsyncRead`]; a read returns 0 at end-of-file, once the child
/// (and every process it passed the pipe to) closed it.
pub struct ChildStdout {
    io: Oneway<pipe::Receiver>,
}

/// The read end of a child's stderr (asyncio's `Process.stderr`), like
/// [`ChildStdout`].
pub struct ChildStderr {
    io: Oneway<pipe::Receiver>,
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.io {
            Some(pipe) => pipe.poll_transfer(cx, Direction::Write, buf.len(), |mut s| s.write(buf)),
            None => Poll::Ready(Err(closed_stdin())),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        match &mut self.io {
            Some(pipe) => {
                pipe.poll_transfer(cx, Direction::Write, len, |mut s| s.write_vectored(bufs))
            }
            None => Poll::Ready(Err(closed_stdin())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Nothing is buffered here: a write went to the pipe.
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        drop(self.io.take());
        Poll::Ready(Ok(()))
    }
}

fn closed_stdin() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the child's stdin was closed")
}

macro_rules! impl_read_pipe {
    ($ty:ty) => {
        impl AsyncRead for $ty {
            fn poll_read(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                let len = buf.len();
                self.io
                    .poll_transfer(cx, Direction::Read, len, |mut r| r.read(buf))
            }

            fn poll_read_vectored(
                mut self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [io::IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                let len = bufs.iter().map(|b| b.len()).sum();
                self.io
                    .poll_transfer(cx, Direction::Read, len, |mut r| r.read_vectored(bufs))
            }
        }

        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }

        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("fd", &self.io.get_ref().as_raw_fd())
                    .finish()
            }
        }
    };
}

impl_read_pipe!(ChildStdout);
impl_read_pipe!(ChildStderr);

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdin")
            .field("fd", &self.io.as_ref().map(|p| p.get_ref().as_raw_fd()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    //! The `SIGCHLD` way of watching exits, which Linux (where the tests run)
    //! would otherwise never take.

    use std::os::unix::process::ExitStatusExt;
    use std::time::Duration;

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

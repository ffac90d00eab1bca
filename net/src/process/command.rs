//! [`Command`]: what starts a child (program, arguments, environment,
//! streams), and `spawn`, which starts it with its pipes on the reactor
//! and its exit watched.

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use ferrio_reactor::Interest;
use mio::unix::pipe;

use super::child::{Child, ChildInner};
use super::exit::ExitWatch;
use super::orphans::reap_orphans;
use super::pipes::{ChildStderr, ChildStdin, ChildStdout};
use crate::oneway::Oneway;
use crate::signal::{signal, SignalKind};

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
    pub(super) std: std::process::Command,
    pub(super) kill_on_drop: bool,
    pub(super) stdout_set: bool,
    pub(super) stderr_set: bool,
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
    pub(super) fn spawn_watching(&mut self, pidfd: bool) -> io::Result<Child> {
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

    pub(super) fn program(&self) -> &OsStr {
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

//! Unix signals on the reactor (asyncio's `loop.add_signal_handler`):
//! [`ctrl_c`], [`signal`] streams and [`add_handler`].
//!
//! Each [`Signal`] listener owns a signal-hook delivery: signal-hook's handler
//! writes the signal's number to a pipe, and the pipe's read end is registered
//! with the reactor (signal-hook-mio), so a listener waits like a socket does
//! and costs nothing while no signal comes. Every listener has its own pipe,
//! so several listeners of one signal each receive it.
//!
//! Not here: what a signal does to the program (the caller decides), or
//! signals other than the catchable ones (`SIGKILL`, `SIGSTOP`, and the fault
//! signals `SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE` are refused).
//!
//! # The default action
//!
//! Once a signal has been listened for, signal-hook's handler stays installed
//! for the life of the process: when the last listener is dropped, the
//! signal is ignored rather than, say, terminating the process as `SIGINT`
//! and `SIGTERM` do by default. This is what tokio and Python do too.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ferrio_executor::JoinHandle;
use ferrio_reactor::{Direction, Interest};
use signal_hook_mio::v1_0::Signals;

use crate::oneway::Oneway;

/// A kind of signal to listen for: `SIGINT`, `SIGTERM`, ... or any other
/// catchable one by number.
///
/// ```
/// use ferrio::signal::SignalKind;
/// assert_eq!(SignalKind::interrupt().as_raw(), libc::SIGINT);
/// assert_eq!(SignalKind::from_raw(libc::SIGUSR1), SignalKind::user_defined1());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// `SIGINT`: Ctrl-C in a terminal.
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: the polite request to terminate (`kill`'s default, systemd's stop).
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the terminal hung up; daemons take it as "reload".
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGUSR1`.
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`.
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }

    /// `SIGQUIT`: Ctrl-\ in a terminal.
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGWINCH`: the terminal was resized.
    pub const fn window_change() -> SignalKind {
        SignalKind(libc::SIGWINCH)
    }

    /// Any signal, by number. Whether it can be listened for is checked by
    /// [`signal`].
    pub const fn from_raw(signum: libc::c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    pub const fn as_raw(self) -> libc::c_int {
        self.0
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match signal_hook::low_level::signal_name(self.0) {
            Some(name) => f.write_str(name),
            None => write!(f, "signal {}", self.0),
        }
    }
}

impl fmt::Display for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A listener of one signal: each time the signal arrives,
/// [`recv`](Signal::recv) (or the [`Stream`](futures_util::Stream)) yields
/// once. Signals that arrive while nobody awaits are kept and delivered at
/// the next `recv`; several arrivals of one signal in between may be merged
/// into one, as the OS itself merges them.
///
/// Dropping the listener stops listening (see the module's note on the
/// default action). A listener made in one runtime and polled in another
/// moves to the reactor of the one that polls it.
///
/// ```
/// use ferrio::signal::{signal, SignalKind};
///
/// ferrio::run(async {
///     let mut usr1 = signal(SignalKind::user_defined1())?;
///     // SAFETY: raise(3) only sends a signal to this process, which listens for it.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     ferrio::time::timeout(std::time::Duration::from_secs(10), usr1.recv())
///         .await
///         .expect("SIGUSR1 was raised, so recv returns")?;
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Signal {
    kind: SignalKind,
    /// The signal pipe's read end, on the reactor of the runtime that
    /// last polled it.
    io: Oneway<Signals>,
}

/// Starts listening for `kind` on the current runtime (asyncio's
/// `loop.add_signal_handler`, as a stream).
///
/// Signals sent before this call are not seen by the new listener.
///
/// # Errors
///
/// `InvalidInput` for a signal that cannot be caught (`SIGKILL`, `SIGSTOP`)
/// or must not be (`SIGSEGV`, `SIGBUS`, `SIGILL`, `SIGFPE`), or for a number
/// that is no signal; the OS's error if the pipe cannot be made.
///
/// # Panics
///
/// Outside a ferrio runtime.
///
/// ```
/// use ferrio::signal::{signal, SignalKind};
/// ferrio::run(async {
///     assert!(signal(SignalKind::hangup()).is_ok());
///     let refused = signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
///     assert_eq!(refused.kind(), std::io::ErrorKind::InvalidInput);
/// });
/// ```
#[track_caller]
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let signum = kind.as_raw();
    // signal-hook indexes a table of 128 by signal number; the OS refuses
    // numbers past its own last signal (EINVAL) below.
    if !(1..128).contains(&signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{signum} is not a signal number"),
        ));
    }
    if signal_hook::consts::FORBIDDEN.contains(&signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{kind} cannot be listened for: the process must keep its default action"),
        ));
    }
    let signals = Signals::new([signum])
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen for {kind}: {e}")))?;
    let io = Oneway::new_current(signals, Interest::READABLE)?;
    log::debug!("listening for {kind}");
    Ok(Signal { kind, io })
}

impl Signal {
    /// Waits for the next arrival of the signal.
    ///
    /// Cancel-safe: dropping the future before it completed loses no signal.
    ///
    /// # Errors
    ///
    /// Only the reactor's errors; a signal listener itself does not fail.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ferrio::signal::{signal, SignalKind};
    /// ferrio::run(async {
    ///     let mut hup = signal(SignalKind::hangup()).unwrap();
    ///     // Nothing sent it: recv waits.
    ///     let waited = ferrio::time::timeout(Duration::from_millis(20), hup.recv()).await;
    ///     assert!(waited.is_err());
    /// });
    /// ```
    pub async fn recv(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Ready once the signal has arrived since the last time this returned
    /// ready; otherwise registers `cx`'s waker.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let event = ready!(self.io.home()?.poll_ready(cx, Direction::Read))?;
            // `pending` drains the pipe. Nothing in it means the readiness was
            // used up: clear it (the reactor is edge-triggered) and wait again.
            if self.io.get_mut().pending().next().is_some() {
                log::trace!("{} arrived", self.kind);
                return Poll::Ready(Ok(()));
            }
            self.io.home()?.clear_readiness(event);
        }
    }

    /// The signal this listener receives.
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

impl futures_util::Stream for Signal {
    type Item = io::Result<()>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_recv(cx).map(Some)
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}

/// Waits for Ctrl-C (`SIGINT`).
///
/// The listener is made when the future is first polled: a `SIGINT` before
/// that is not seen (and, if nothing else listened for it yet, terminates the
/// process as usual). To not miss one, make the future early, or keep a
/// [`signal`]`(SignalKind::interrupt())` listener instead.
///
/// # Errors
///
/// Those of [`signal`] and [`Signal::recv`].
///
/// ```no_run
/// ferrio::run(async {
///     ferrio::signal::ctrl_c().await.unwrap();
///     println!("interrupted; shutting down");
/// });
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    signal(SignalKind::interrupt())?.recv().await
}

/// Calls `handler` on the runtime each time `kind` arrives, from a task it
/// spawns (asyncio's `loop.add_signal_handler(sig, callback)`). Aborting the
/// returned handle removes the handler (`remove_signal_handler`).
///
/// The listener is made before this returns, so a signal sent right after
/// is seen.
///
/// # Errors
///
/// Those of [`signal`].
///
/// # Panics
///
/// Outside a ferrio runtime.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use ferrio::signal::{add_handler, SignalKind};
///
/// ferrio::run(async {
///     let seen = Arc::new(AtomicUsize::new(0));
///     let counter = seen.clone();
///     let handler = add_handler(SignalKind::user_defined2(), move || {
///         counter.fetch_add(1, Ordering::SeqCst);
///     })
///     .unwrap();
///     // SAFETY: raise(3) only signals this process, which handles SIGUSR2.
///     unsafe { libc::raise(libc::SIGUSR2) };
///     for _ in 0..1000 {
///         if seen.load(Ordering::SeqCst) == 1 {
///             break;
///         }
///         ferrio::time::sleep(Duration::from_millis(10)).await;
///     }
///     assert_eq!(seen.load(Ordering::SeqCst), 1, "the handler ran for the raised SIGUSR2");
///     handler.abort();
/// });
/// ```
#[track_caller]
pub fn add_handler<F>(kind: SignalKind, mut handler: F) -> io::Result<JoinHandle<()>>
where
    F: FnMut() + Send + 'static,
{
    let mut listener = signal(kind)?;
    Ok(ferrio_executor::spawn(async move {
        loop {
            match listener.recv().await {
                Ok(()) => handler(),
                Err(e) => {
                    log::warn!("handler of {kind} stops: {e}");
                    return;
                }
            }
        }
    }))
}

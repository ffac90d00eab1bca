//! [`UnixListener`]: accepts Unix stream connections (asyncio's
//! `start_unix_server`).
//!
//! Not here: the connections themselves (`stream.rs`).

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use ferrio_executor::coop::poll_budgeted;
use ferrio_reactor::{Direction, PollIo};

use super::{with_path, SocketAddr, UnixStream};

/// A Unix stream socket listening at a path (asyncio's `start_unix_server`).
///
/// Dropping it stops listening but leaves the socket file: remove it to bind
/// the path again.
///
/// ```
/// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
/// use ferrio::net::{UnixListener, UnixStream};
///
/// ferrio::run(async {
///     let path = std::env::temp_dir().join(format!("ferrio-doc-listener-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path)?;
///     let server = ferrio::spawn(async move {
///         let (mut conn, _) = listener.accept().await?;
///         conn.write_all(b"welcome").await?;
///         std::io::Result::Ok(())
///     });
///     let mut client = UnixStream::connect(&path).await?;
///     let mut greeting = String::new();
///     client.read_to_string(&mut greeting).await?;
///     assert_eq!(greeting, "welcome");
///     server.await.unwrap()?;
///     std::fs::remove_file(&path)
/// })
/// .unwrap();
/// ```
pub struct UnixListener {
    io: PollIo<mio::net::UnixListener>,
}

impl UnixListener {
    /// Creates the socket file at `path` and listens on it.
    ///
    /// # Errors
    ///
    /// `AddrInUse` when a file is already at `path` (a listener dropped
    /// earlier leaves its file), `NotFound` when the directory does not
    /// exist, `PermissionDenied`; each with the path in the message.
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime.
    ///
    /// ```
    /// ferrio::run(async {
    ///     let path = std::env::temp_dir().join(format!("ferrio-doc-bind-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let first = ferrio::net::UnixListener::bind(&path).unwrap();
    ///     let err = ferrio::net::UnixListener::bind(&path).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    ///     drop(first);
    ///     std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let listener =
            mio::net::UnixListener::bind(path).map_err(|e| with_path(e, "bind", path))?;
        log::debug!("listening on {}", path.display());
        Ok(UnixListener {
            io: PollIo::new_current(listener)?,
        })
    }

    /// Takes over a listening std socket (made non-blocking here).
    ///
    /// # Errors
    ///
    /// The OS's errors of making it non-blocking or registering it.
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime.
    #[track_caller]
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: PollIo::new_current(mio::net::UnixListener::from_std(listener))?,
        })
    }

    /// The address it listens at.
    ///
    /// # Errors
    ///
    /// The OS's errors; in practice none.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Waits for the next connection.
    ///
    /// Cancel-safe: a future dropped before it completed accepted nothing.
    ///
    /// # Errors
    ///
    /// The OS's errors of `accept` (out of descriptors, for example).
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Ready with the next connection; otherwise registers `cx`'s waker.
    ///
    /// # Errors
    ///
    /// As [`accept`](UnixListener::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        match poll_budgeted(cx, |cx| {
            self.io.poll_io(cx, Direction::Read, |l| l.accept())
        }) {
            Poll::Ready(Ok((stream, peer))) => {
                log::trace!("accepted a Unix connection");
                Poll::Ready(UnixStream::from_mio(stream).map(|s| (s, peer)))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// The connections as a [`Stream`](futures_util::Stream) (never ends).
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// ferrio::run(async {
    ///     let path = std::env::temp_dir().join(format!("ferrio-doc-incoming-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let listener = ferrio::net::UnixListener::bind(&path).unwrap();
    ///     let _client = ferrio::net::UnixStream::connect(&path).await.unwrap();
    ///     let conn = listener.incoming().next().await.unwrap().unwrap();
    ///     assert!(conn.peer_addr().unwrap().is_unnamed());
    ///     std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub fn incoming(&self) -> UnixIncoming<'_> {
        UnixIncoming { listener: self }
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

/// The stream of [`UnixListener::incoming`].
pub struct UnixIncoming<'a> {
    listener: &'a UnixListener,
}

impl futures_util::Stream for UnixIncoming<'_> {
    type Item = io::Result<UnixStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|accepted| Some(accepted.map(|(stream, _)| stream)))
    }
}

impl fmt::Debug for UnixIncoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixIncoming")
            .field("listener", self.listener)
            .finish()
    }
}

//! The halves of a split [`TcpStream`]: borrowed ([`TcpReadHalf`], [`TcpWriteHalf`])
//! and owned ([`TcpOwnedReadHalf`], [`TcpOwnedWriteHalf`]).
//!
//! `TcpStream::split` and `into_split` are here too, beside what they make,
//! so that the stream's own file does not know of its halves.
//!
//! Not here: the reads and writes themselves (`stream.rs`).

use std::fmt;
use std::sync::Arc;

use super::stream::TcpStream;
use crate::stream_io::{impl_async_read, impl_async_write};

impl TcpStream {
    /// Splits the stream into a read half and a write half that borrow it;
    /// both can be used at once (for example in `ferrio::io::copy`'s two
    /// ends, or in `join!`), but not moved into spawned tasks: for that, see
    /// [`into_split`](TcpStream::into_split). The pair is tokio's: `split`
    /// borrows, `into_split` owns.
    ///
    /// # Which `split` you get
    ///
    /// With [`AsyncReadExt`](futures_util::AsyncReadExt) in scope (as
    /// `ferrio::io::AsyncReadExt` or `futures::AsyncReadExt`),
    /// `stream.split()` is **not** this method: Rust picks the trait's
    /// `split(self)`, which takes the stream by value and returns
    /// `ferrio::io::{ReadHalf, WriteHalf}` behind a lock. It compiles and
    /// works, so nothing tells you. To get this one, name the type:
    /// `TcpStream::split(&stream)`; to move the halves into tasks, use
    /// [`into_split`](TcpStream::into_split), which no trait shadows.
    ///
    /// ```
    /// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     // `server.split()` would be AsyncReadExt's here.
    ///     let (mut rd, mut wr) = TcpStream::split(&server);
    ///     client.write_all(b"echo me").await.unwrap();
    ///     client.shutdown(std::net::Shutdown::Write).unwrap();
    ///     ferrio::io::copy(&mut rd, &mut wr).await.unwrap();
    ///     let mut got = [0; 7];
    ///     client.read_exact(&mut got).await.unwrap();
    ///     assert_eq!(&got, b"echo me");
    /// });
    /// ```
    pub fn split(&self) -> (TcpReadHalf<'_>, TcpWriteHalf<'_>) {
        (TcpReadHalf(self), TcpWriteHalf(self))
    }

    /// Splits the stream into owned halves, to read in one task and write in
    /// another. Dropping the write half shuts the write side down (the peer
    /// reads end-of-stream); [`reunite`](TcpOwnedReadHalf::reunite) puts the
    /// halves back together.
    ///
    /// ```
    /// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///
    ///     let (mut rd, mut wr) = client.into_split();
    ///     let writer = ferrio::spawn(async move { wr.write_all(b"from a task").await });
    ///     let mut got = [0; 11];
    ///     server.read_exact(&mut got).await.unwrap();
    ///     server.write_all(b"back").await.unwrap();
    ///     let mut back = [0; 4];
    ///     rd.read_exact(&mut back).await.unwrap();
    ///     writer.await.unwrap().unwrap();
    ///     assert_eq!((&got[..], &back[..]), (&b"from a task"[..], &b"back"[..]));
    /// });
    /// ```
    pub fn into_split(self) -> (TcpOwnedReadHalf, TcpOwnedWriteHalf) {
        let stream = Arc::new(self);
        (
            TcpOwnedReadHalf {
                stream: stream.clone(),
            },
            TcpOwnedWriteHalf {
                stream,
                shutdown_on_drop: true,
            },
        )
    }
}

/// The read half of a borrowed [`TcpStream::split`]: it implements
/// `AsyncRead` only. Writing goes through the [`TcpWriteHalf`].
///
/// ```compile_fail
/// use ferrio::io::AsyncWriteExt;
/// # use ferrio::net::TcpStream;
/// async fn write_through_the_read_half(stream: TcpStream) {
///     let (mut rd, _wr) = stream.split();
///     rd.write_all(b"no").await.unwrap(); // a read half does not write
/// }
/// ```
#[derive(Debug)]
pub struct TcpReadHalf<'a>(pub(super) &'a TcpStream);

/// The write half of a borrowed [`TcpStream::split`]: it implements
/// `AsyncWrite` only. Reading goes through the [`TcpReadHalf`].
///
/// ```compile_fail
/// use ferrio::io::AsyncReadExt;
/// # use ferrio::net::TcpStream;
/// async fn read_through_the_write_half(stream: TcpStream) {
///     let (_rd, mut wr) = stream.split();
///     let mut buf = [0; 1];
///     wr.read(&mut buf).await.unwrap(); // a write half does not read
/// }
/// ```
#[derive(Debug)]
pub struct TcpWriteHalf<'a>(pub(super) &'a TcpStream);

impl AsRef<TcpStream> for TcpReadHalf<'_> {
    /// The stream this half belongs to.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (rd, _wr) = stream.split();
    ///     assert_eq!(rd.as_ref().peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

impl AsRef<TcpStream> for TcpWriteHalf<'_> {
    /// The stream this half belongs to.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_rd, wr) = stream.split();
    ///     assert_eq!(wr.as_ref().peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

/// The read half of [`TcpStream::into_split`], to move into its own task.
/// It implements `AsyncRead` only.
///
/// ```compile_fail
/// use ferrio::io::AsyncWriteExt;
/// # use ferrio::net::TcpStream;
/// async fn write_through_the_read_half(stream: TcpStream) {
///     let (mut rd, _wr) = stream.into_split();
///     rd.write_all(b"no").await.unwrap(); // a read half does not write
/// }
/// ```
#[derive(Debug)]
pub struct TcpOwnedReadHalf {
    pub(super) stream: Arc<TcpStream>,
}

/// The write half of [`TcpStream::into_split`], to move into its own task.
/// It implements `AsyncWrite` only. Dropping it shuts the write side down, so
/// the peer reads end-of-stream.
///
/// ```compile_fail
/// use ferrio::io::AsyncReadExt;
/// # use ferrio::net::TcpStream;
/// async fn read_through_the_write_half(stream: TcpStream) {
///     let (_rd, mut wr) = stream.into_split();
///     let mut buf = [0; 1];
///     wr.read(&mut buf).await.unwrap(); // a write half does not read
/// }
/// ```
#[derive(Debug)]
pub struct TcpOwnedWriteHalf {
    pub(super) stream: Arc<TcpStream>,
    /// Cleared by [`TcpOwnedReadHalf::reunite`], which keeps the stream whole.
    pub(super) shutdown_on_drop: bool,
}

/// The error of [`TcpOwnedReadHalf::reunite`]: the halves came from two
/// different streams. Both are handed back.
#[derive(Debug)]
pub struct TcpReuniteError(pub TcpOwnedReadHalf, pub TcpOwnedWriteHalf);

impl fmt::Display for TcpReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of two different TCP streams")
    }
}

impl std::error::Error for TcpReuniteError {}

impl TcpOwnedReadHalf {
    /// Puts the two halves of one stream back together.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (rd, wr) = stream.into_split();
    ///     let stream = rd.reunite(wr).unwrap();
    ///     assert!(stream.peer_addr().is_ok());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// [`TcpReuniteError`] (with both halves) if they belong to different streams.
    pub fn reunite(self, mut write: TcpOwnedWriteHalf) -> Result<TcpStream, TcpReuniteError> {
        if !Arc::ptr_eq(&self.stream, &write.stream) {
            return Err(TcpReuniteError(self, write));
        }
        write.shutdown_on_drop = false;
        drop(write);
        // The two halves held the only references, and the write half is gone.
        Arc::try_unwrap(self.stream)
            .map_err(|_| unreachable!("a split stream has exactly two owners"))
    }
}

impl AsRef<TcpStream> for TcpOwnedReadHalf {
    /// The stream this half belongs to.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (rd, _wr) = stream.into_split();
    ///     assert!(rd.as_ref().local_addr().is_ok());
    /// });
    /// ```
    fn as_ref(&self) -> &TcpStream {
        &self.stream
    }
}

impl AsRef<TcpStream> for TcpOwnedWriteHalf {
    /// The stream this half belongs to.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_rd, wr) = stream.into_split();
    ///     wr.as_ref().set_nodelay(true).unwrap();
    /// });
    /// ```
    fn as_ref(&self) -> &TcpStream {
        &self.stream
    }
}

impl Drop for TcpOwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            if let Err(e) = self.stream.shutdown_write() {
                log::debug!("shutdown of a dropped write half failed: {e}");
            }
        }
    }
}

// Each half does its own direction only: a read half that could also write
// would invite two tasks into one direction's waker slot.
impl_async_read!(TcpReadHalf<'_>, |this| this.0);
impl_async_write!(TcpWriteHalf<'_>, |this| this.0);
impl_async_read!(TcpOwnedReadHalf, |this| this.stream);
impl_async_write!(TcpOwnedWriteHalf, |this| this.stream);

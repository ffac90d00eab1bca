//! The pipes to a child: [`ChildStdin`], [`ChildStdout`], [`ChildStderr`],
//! non-blocking and on the reactor.

use std::fmt;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use ferrio_reactor::Direction;
use futures_io::{AsyncRead, AsyncWrite};
use mio::unix::pipe;

use crate::oneway::Oneway;

/// The write end of a child's stdin (asyncio's `Process.stdin`). It
/// implements [`AsyncWrite`]; [`close`](futures_util::AsyncWriteExt::close)
/// (or dropping it) closes the pipe, and the child reads end-of-file.
///
/// A write to a child that closed its stdin or exited fails with `BrokenPipe`.
pub struct ChildStdin {
    /// `None` once closed.
    pub(super) io: Option<Oneway<pipe::Sender>>,
}

/// The read end of a child's stdout (asyncio's `Process.stdout`). It
/// implements [`AsyncRead`]; a read returns 0 at end-of-file, once the child
/// (and every process it passed the pipe to) closed it.
pub struct ChildStdout {
    pub(super) io: Oneway<pipe::Receiver>,
}

/// The read end of a child's stderr (asyncio's `Process.stderr`), like
/// [`ChildStdout`].
pub struct ChildStderr {
    pub(super) io: Oneway<pipe::Receiver>,
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

pub(super) fn closed_stdin() -> io::Error {
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

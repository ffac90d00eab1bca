//! The futures-io impls that a stream socket and its halves share (TCP and
//! Unix alike): each type reaches its stream through an expression, and the
//! stream's own `poll_*_priv` methods do the work. Not here: the streams.

/// Implements `AsyncRead` for a type that reaches (through `$get`) a stream
/// with `poll_read_priv` and `poll_read_vectored_priv`.
macro_rules! impl_async_read {
    ($ty:ty, |$this:ident| $get:expr) => {
        impl ::futures_io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                $get.poll_read_priv(cx, buf)
            }

            fn poll_read_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                $get.poll_read_vectored_priv(cx, bufs)
            }
        }
    };
}

/// Implements `AsyncWrite` for a type that reaches (through `$get`) a stream
/// with `poll_write_priv`, `poll_write_vectored_priv` and `shutdown_write`.
macro_rules! impl_async_write {
    ($ty:ty, |$this:ident| $get:expr) => {
        impl ::futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                $get.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                let $this = &*self;
                $get.poll_write_vectored_priv(cx, bufs)
            }

            /// Writes go straight to the socket: there is nothing to flush.
            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            /// Shuts the write side down (the peer reads end-of-stream).
            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                let $this = &*self;
                ::std::task::Poll::Ready($get.shutdown_write())
            }
        }
    };
}

pub(crate) use impl_async_read;
pub(crate) use impl_async_write;

//! Async I/O traits and helpers, re-exported from futures-util (asyncio's
//! `StreamReader.readexactly`, `readline`, `StreamWriter.write` + `drain`).
//!
//! [`TcpStream`](crate::net::TcpStream) implements [`AsyncRead`] and [`AsyncWrite`], so the
//! extension traits here give it `read_exact`, `write_all`, `read_to_end`,
//! `lines`, and [`copy`] pipes one stream into another.
//!
//! **`split`**: [`AsyncReadExt::split`] takes a stream by value and returns
//! [`ReadHalf`]/[`WriteHalf`] behind a lock; with it in scope,
//! `tcp_stream.split()` calls it, not ferrio's borrowed
//! [`TcpStream::split`](crate::net::TcpStream::split) (Rust prefers the
//! by-value trait method). Write `TcpStream::split(&stream)` for the
//! borrowed halves, or `stream.into_split()` for owned ones.
//!
//! ```
//! use ferrio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use ferrio::net::{TcpListener, TcpStream};
//! use futures_util::TryStreamExt;
//!
//! ferrio::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
//!     let (server, _) = listener.accept().await.unwrap();
//!     client.write_all(b"one\ntwo\n").await.unwrap();
//!     client.close().await.unwrap();
//!     let lines: Vec<String> = BufReader::new(server).lines().try_collect().await.unwrap();
//!     assert_eq!(lines, ["one", "two"]);
//! });
//! ```

pub use futures_util::io::{
    copy, copy_buf, empty, repeat, sink, AllowStdIo, AsyncBufRead, AsyncBufReadExt, AsyncRead,
    AsyncReadExt, AsyncSeek, AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter, Cursor,
    Lines, ReadHalf, WriteHalf,
};
pub use std::io::{Error, ErrorKind, Result};

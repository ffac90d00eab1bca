//! An open file: [`OpenOptions`] and [`File`], which runs each operation on
//! the blocking pool, one in flight at a time, and writes behind.
//!
//! Not here: the one-call functions and their shared helpers (`mod.rs`).

use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_util::io::{AsyncRead, AsyncSeek, AsyncWrite};

use super::{asyncify, join_error, on_path};
use crate::{spawn_blocking, JoinHandle};

/// The most one read or write of a [`File`] moves in one trip to the pool.
const MAX_BUF: usize = 2 * 1024 * 1024;

/// How to open a file: `std::fs::OpenOptions`, with an async
/// [`open`](OpenOptions::open).
///
/// ```
/// use ferrio::fs::OpenOptions;
/// use ferrio::io::AsyncWriteExt;
/// ferrio::run(async {
///     let path = std::env::temp_dir().join(format!("ferrio-doc-append-{}", std::process::id()));
///     ferrio::fs::write(&path, "one\n").await?;
///     let mut log = OpenOptions::new().append(true).open(&path).await?;
///     log.write_all(b"two\n").await?;
///     log.flush().await?;
///     assert_eq!(ferrio::fs::read_to_string(&path).await?, "one\ntwo\n");
///     ferrio::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl OpenOptions {
    /// Options with everything off (set at least `read` or `write`).
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut OpenOptions {
        self.0.read(read);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut OpenOptions {
        self.0.write(write);
        self
    }

    /// Every write goes to the end of the file.
    pub fn append(&mut self, append: bool) -> &mut OpenOptions {
        self.0.append(append);
        self
    }

    /// Empty the file when it is opened (with `write`).
    pub fn truncate(&mut self, truncate: bool) -> &mut OpenOptions {
        self.0.truncate(truncate);
        self
    }

    /// Create the file if it does not exist (with `write` or `append`).
    pub fn create(&mut self, create: bool) -> &mut OpenOptions {
        self.0.create(create);
        self
    }

    /// Create the file, failing with `AlreadyExists` if it exists.
    pub fn create_new(&mut self, create_new: bool) -> &mut OpenOptions {
        self.0.create_new(create_new);
        self
    }

    /// The permission bits of a file this creates (Unix; before the umask).
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut OpenOptions {
        std::os::unix::fs::OpenOptionsExt::mode(&mut self.0, mode);
        self
    }

    /// Opens `path` with these options.
    ///
    /// # Errors
    ///
    /// `NotFound`, `AlreadyExists` (`create_new`), `PermissionDenied`,
    /// `InvalidInput` for contradictory options.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let options = self.0.clone();
        let std = on_path(path, move |path| options.open(path)).await?;
        Ok(File::from_std(std))
    }
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

/// An open file with async read, write and seek ([`AsyncRead`],
/// [`AsyncWrite`], [`AsyncSeek`]), each operation on the blocking pool
/// (aiofiles' `open`).
///
/// One operation is in flight at a time. Writes are behind: see the module's
/// notes, and `flush` before dropping a file you wrote to if you want its
/// errors.
///
/// To read a whole file, [`read`](crate::fs::read) is the fast way (one trip to the pool).
/// futures' `read_to_end` on a `File` is several times slower: it zeroes the
/// spare capacity of its vector again after every trip to the pool (each
/// returns `Pending` once), which costs the more the larger the vector was
/// made in advance (measured on 64 MiB: `read` 117 ms, a loop of 2 MiB
/// `read`s 78 ms, `read_to_end` 380 ms, presized 870 ms).
///
/// ```
/// use std::io::SeekFrom;
/// use ferrio::fs::File;
/// use ferrio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
///
/// ferrio::run(async {
///     let path = std::env::temp_dir().join(format!("ferrio-doc-file-{}", std::process::id()));
///     let mut file = File::create(&path).await?;
///     file.write_all(b"hello, file").await?;
///     file.flush().await?;
///
///     let mut file = File::open(&path).await?;
///     file.seek(SeekFrom::Start(7)).await?;
///     let mut rest = String::new();
///     file.read_to_string(&mut rest).await?;
///     assert_eq!(rest, "file");
///     ferrio::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub struct File {
    std: Arc<std::fs::File>,
    state: FileState,
    /// The error of a write behind, for the next operation to return.
    write_error: Option<io::Error>,
    /// The target of the seek in flight, if the operation in flight is one.
    seeking: Option<SeekFrom>,
}

enum FileState {
    /// The buffer holds bytes read ahead and not yet returned, or nothing.
    Idle(Option<Buf>),
    Busy(JoinHandle<(Op, Buf)>),
}

/// What an operation on the pool did.
enum Op {
    Read(io::Result<()>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
}

/// A file's buffer: bytes read ahead (`data[pos..]`), or bytes to write.
#[derive(Default)]
struct Buf {
    data: Vec<u8>,
    pos: usize,
}

impl Buf {
    fn unread(&self) -> usize {
        self.data.len() - self.pos
    }

    fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = self.unread().min(dst.len());
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        n
    }

    fn clear(&mut self) {
        self.data.clear();
        self.pos = 0;
    }

    fn read_from(&mut self, file: &std::fs::File, len: usize) -> io::Result<()> {
        self.data.resize(len, 0);
        self.pos = 0;
        let result = loop {
            match (&*file).read(&mut self.data) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        match result {
            Ok(n) => {
                self.data.truncate(n);
                Ok(())
            }
            Err(e) => {
                self.data.clear();
                Err(e)
            }
        }
    }

    fn write_to(&mut self, file: &std::fs::File) -> io::Result<()> {
        let result = (&*file).write_all(&self.data);
        self.clear();
        result
    }
}

impl File {
    /// Opens a file for reading.
    ///
    /// # Errors
    ///
    /// `NotFound`, `PermissionDenied`.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens a file for writing, creating it or emptying it.
    ///
    /// # Errors
    ///
    /// `NotFound` (no such directory), `PermissionDenied`.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Options to open a file with.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open std file.
    pub fn from_std(std: std::fs::File) -> File {
        File {
            std: Arc::new(std),
            state: FileState::Idle(None),
            write_error: None,
            seeking: None,
        }
    }

    /// Waits until no operation is in flight; returns the error of a write
    /// behind, if one failed.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let FileState::Busy(handle) = &mut self.state {
            let (op, buf) = match ready!(Pin::new(handle).poll(cx)) {
                Ok(done) => done,
                Err(e) => {
                    self.state = FileState::Idle(None);
                    return Poll::Ready(Err(join_error(e)));
                }
            };
            self.state = FileState::Idle(Some(buf));
            self.seeking = None;
            if let Op::Write(Err(e)) = op {
                return Poll::Ready(Err(e));
            }
        }
        Poll::Ready(self.write_error.take().map_or(Ok(()), Err))
    }

    /// Waits for the operation in flight, drops what was read ahead (moving
    /// the file's position back to where the reader is), then runs `f` on
    /// the file on the pool.
    async fn with_std<T, F>(&mut self, f: F) -> io::Result<T>
    where
        F: FnOnce(&std::fs::File) -> io::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        poll_fn(|cx| self.poll_idle(cx)).await?;
        let unread = match &mut self.state {
            FileState::Idle(Some(buf)) => {
                let unread = buf.unread();
                buf.clear();
                unread
            }
            _ => 0,
        };
        let std = self.std.clone();
        asyncify(move || {
            if unread > 0 {
                (&*std).seek(SeekFrom::Current(-(unread as i64)))?;
            }
            f(&std)
        })
        .await
    }

    /// The file's metadata.
    ///
    /// # Errors
    ///
    /// The OS's errors, or that of a write behind.
    ///
    /// ```
    /// use ferrio::io::AsyncWriteExt;
    /// ferrio::run(async {
    ///     let path = std::env::temp_dir().join(format!("ferrio-doc-meta-{}", std::process::id()));
    ///     let mut file = ferrio::fs::File::create(&path).await.unwrap();
    ///     file.write_all(&[0; 100]).await.unwrap();
    ///     // Waits for the write behind first.
    ///     assert_eq!(file.metadata().await.unwrap().len(), 100);
    ///     ferrio::fs::remove_file(&path).await.unwrap();
    /// });
    /// ```
    pub async fn metadata(&mut self) -> io::Result<std::fs::Metadata> {
        self.with_std(|f| f.metadata()).await
    }

    /// Writes what was written so far, data and metadata, to the disk (fsync).
    ///
    /// # Errors
    ///
    /// The OS's errors, or that of a write behind.
    pub async fn sync_all(&mut self) -> io::Result<()> {
        self.with_std(|f| f.sync_all()).await
    }

    /// Writes what was written so far to the disk, without metadata that
    /// reading does not need (fdatasync).
    ///
    /// # Errors
    ///
    /// The OS's errors, or that of a write behind.
    pub async fn sync_data(&mut self) -> io::Result<()> {
        self.with_std(|f| f.sync_data()).await
    }

    /// Truncates or extends the file to `len` bytes (the position is left
    /// where it is).
    ///
    /// # Errors
    ///
    /// `InvalidInput` when not open for writing; the OS's errors.
    pub async fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.with_std(move |f| f.set_len(len)).await
    }

    /// The std file, once the operation in flight finished.
    ///
    /// # Errors
    ///
    /// The error of a write behind.
    pub async fn into_std(mut self) -> io::Result<std::fs::File> {
        self.with_std(|_| Ok(())).await?;
        // No operation is in flight, so this is the only reference; were it
        // not, a second descriptor of the same file is as good.
        Arc::try_unwrap(self.std).or_else(|std| std.try_clone())
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if dst.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            match &mut this.state {
                FileState::Idle(buf) => {
                    let mut buf = buf.take().unwrap_or_default();
                    if buf.unread() > 0 {
                        let n = buf.copy_to(dst);
                        this.state = FileState::Idle(Some(buf));
                        return Poll::Ready(Ok(n));
                    }
                    let (std, len) = (this.std.clone(), dst.len().min(MAX_BUF));
                    this.state = FileState::Busy(spawn_blocking(move || {
                        let result = buf.read_from(&std, len);
                        (Op::Read(result), buf)
                    }));
                }
                FileState::Busy(handle) => {
                    let (op, buf) = match ready!(Pin::new(handle).poll(cx)) {
                        Ok(done) => done,
                        Err(e) => {
                            this.state = FileState::Idle(None);
                            return Poll::Ready(Err(join_error(e)));
                        }
                    };
                    this.state = FileState::Idle(Some(buf));
                    this.seeking = None;
                    match op {
                        Op::Read(Ok(())) => {
                            // Copy what came (nothing at end-of-file).
                            let FileState::Idle(Some(buf)) = &mut this.state else {
                                unreachable!("just set");
                            };
                            return Poll::Ready(Ok(buf.copy_to(dst)));
                        }
                        Op::Read(Err(e)) => return Poll::Ready(Err(e)),
                        Op::Write(Err(e)) => this.write_error = Some(e),
                        Op::Write(Ok(())) | Op::Seek(_) => {}
                    }
                }
            }
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_idle(cx))?;
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let FileState::Idle(buf) = &mut this.state else {
            unreachable!("poll_idle returned ready");
        };
        let mut buf = buf.take().unwrap_or_default();
        // Bytes read ahead: the file's position is past the reader's; move it back.
        let back = buf.unread() as i64;
        buf.clear();
        let n = src.len().min(MAX_BUF);
        buf.data.extend_from_slice(&src[..n]);
        let std = this.std.clone();
        this.state = FileState::Busy(spawn_blocking(move || {
            let result = if back > 0 {
                (&*std).seek(SeekFrom::Current(-back)).map(drop)
            } else {
                Ok(())
            };
            let result = result.and_then(|()| buf.write_to(&std));
            (Op::Write(result), buf)
        }));
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_idle(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_idle(cx)
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                FileState::Idle(buf) => {
                    if let Some(e) = this.write_error.take() {
                        return Poll::Ready(Err(e));
                    }
                    let mut buf = buf.take().unwrap_or_default();
                    // The reader is `unread` bytes behind the file's position.
                    let target = match pos {
                        SeekFrom::Current(n) => SeekFrom::Current(n - buf.unread() as i64),
                        other => other,
                    };
                    buf.clear();
                    let std = this.std.clone();
                    this.seeking = Some(pos);
                    this.state = FileState::Busy(spawn_blocking(move || {
                        (Op::Seek((&*std).seek(target)), buf)
                    }));
                }
                FileState::Busy(handle) => {
                    let (op, buf) = match ready!(Pin::new(handle).poll(cx)) {
                        Ok(done) => done,
                        Err(e) => {
                            this.state = FileState::Idle(None);
                            return Poll::Ready(Err(join_error(e)));
                        }
                    };
                    this.state = FileState::Idle(Some(buf));
                    let ours = this.seeking.take() == Some(pos);
                    match op {
                        Op::Seek(result) if ours => return Poll::Ready(result),
                        Op::Write(Err(e)) => return Poll::Ready(Err(e)),
                        // Another operation (or a seek whose future was
                        // dropped) finished: now start this seek.
                        _ => {}
                    }
                }
            }
        }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("std", &self.std)
            .field("busy", &matches!(self.state, FileState::Busy(_)))
            .finish()
    }
}

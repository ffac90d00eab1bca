//! Files and directories without blocking the loop (what aiofiles and
//! tokio::fs do): every call runs the `std::fs` operation on the blocking
//! pool ([`crate::spawn_blocking`]) and awaits it.
//!
//! Operating systems offer no readiness for regular files (epoll refuses
//! them, a read of a file is never "would block"), so a thread per operation
//! in flight is the portable way. What that costs:
//!
//! - Each call is a hand-off to a pool thread and back: microseconds, not
//!   nanoseconds. Read and write in big chunks (`read`, `write`, or a
//!   `BufReader`/`BufWriter` around a [`File`]), not byte by byte.
//! - The pool runs at most `Builder::max_blocking_threads` operations at once
//!   (64 by default), shared with every other `spawn_blocking` user; more
//!   wait in a FIFO queue. Idle pool threads exit after
//!   `Builder::blocking_keep_alive` (10 s).
//! - An operation that started runs to its end even if its future is
//!   dropped (a thread cannot be interrupted); one still queued is dropped.
//!   Operations still queued when the runtime ends never run.
//!
//! [`File`] writes behind: `write` hands the bytes to the pool and returns;
//! the next operation waits for it, and its error (disk full, ...) comes
//! from that next operation or from `flush`. Flush (or `close`, or
//! [`File::sync_all`]) before the runtime ends, or a write may be lost.
//!
//! Not here: file watching, memory maps, or io_uring.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use futures_util::io::{AsyncRead, AsyncSeek, AsyncWrite};

use crate::{spawn_blocking, JoinHandle};

/// The most one read or write of a [`File`] moves in one trip to the pool.
const MAX_BUF: usize = 2 * 1024 * 1024;

/// Entries of a directory listed per trip to the pool.
const DIR_BATCH: usize = 32;

/// Runs `f` on the blocking pool and returns its result.
async fn asyncify<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match spawn_blocking(f).await {
        Ok(result) => result,
        Err(e) => Err(join_error(e)),
    }
}

/// Runs `op` on an owned copy of `path` on the blocking pool: the shape of
/// every function here that takes one path and calls its `std::fs` twin.
async fn on_path<T: Send + 'static>(
    path: impl AsRef<Path>,
    op: fn(PathBuf) -> io::Result<T>,
) -> io::Result<T> {
    let path = path.as_ref().to_owned();
    asyncify(move || op(path)).await
}

fn join_error(e: crate::JoinError) -> io::Error {
    if e.is_panic() {
        io::Error::other("a file operation panicked on the blocking pool")
    } else {
        io::Error::other("the blocking pool shut down before the file operation ran")
    }
}

/// Reads a whole file (`std::fs::read` on the blocking pool).
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, and the OS's other errors.
///
/// ```
/// ferrio::run(async {
///     let path = std::env::temp_dir().join(format!("ferrio-doc-read-{}", std::process::id()));
///     ferrio::fs::write(&path, b"contents").await?;
///     assert_eq!(ferrio::fs::read(&path).await?, b"contents");
///     ferrio::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    on_path(path, std::fs::read).await
}

/// Reads a whole file as UTF-8.
///
/// # Errors
///
/// As [`read`]; `InvalidData` if the file is not UTF-8.
///
/// ```
/// ferrio::run(async {
///     let path = std::env::temp_dir().join(format!("ferrio-doc-string-{}", std::process::id()));
///     ferrio::fs::write(&path, "héllo").await.unwrap();
///     assert_eq!(ferrio::fs::read_to_string(&path).await.unwrap(), "héllo");
///     ferrio::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    on_path(path, std::fs::read_to_string).await
}

/// Writes `contents` to a file, creating it or replacing what it held.
///
/// # Errors
///
/// `NotFound` when the directory does not exist, `PermissionDenied`, and the
/// OS's other errors (disk full).
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    asyncify(move || std::fs::write(path, contents)).await
}

/// Creates a directory (its parent must exist).
///
/// # Errors
///
/// `AlreadyExists`, `NotFound` (no parent), `PermissionDenied`.
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(path, std::fs::create_dir).await
}

/// Creates a directory and every missing parent; no error if it exists.
///
/// # Errors
///
/// `PermissionDenied`, or a file in the way.
///
/// ```
/// ferrio::run(async {
///     let root = std::env::temp_dir().join(format!("ferrio-doc-dirs-{}", std::process::id()));
///     ferrio::fs::create_dir_all(root.join("a/b/c")).await.unwrap();
///     assert!(ferrio::fs::metadata(root.join("a/b/c")).await.unwrap().is_dir());
///     ferrio::fs::remove_dir_all(&root).await.unwrap();
/// });
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(path, std::fs::create_dir_all).await
}

/// Removes a file (or symlink).
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, or a directory at `path`.
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(path, std::fs::remove_file).await
}

/// Removes an empty directory.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, or a directory that is not empty.
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(path, std::fs::remove_dir).await
}

/// Removes a directory and everything in it.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    on_path(path, std::fs::remove_dir_all).await
}

/// Renames (moves) a file or directory, replacing a file at `to`.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, or `from` and `to` on different file systems.
///
/// ```
/// ferrio::run(async {
///     let dir = std::env::temp_dir();
///     let (from, to) = (dir.join(format!("ferrio-doc-mv-a-{}", std::process::id())),
///                       dir.join(format!("ferrio-doc-mv-b-{}", std::process::id())));
///     ferrio::fs::write(&from, "x").await.unwrap();
///     ferrio::fs::rename(&from, &to).await.unwrap();
///     assert!(!ferrio::fs::try_exists(&from).await.unwrap());
///     ferrio::fs::remove_file(&to).await.unwrap();
/// });
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::rename(from, to)).await
}

/// Copies a file's contents and permissions; returns the bytes copied.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, and the OS's other errors.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::copy(from, to)).await
}

/// The metadata of what is at `path`, following symlinks.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
    on_path(path, std::fs::metadata).await
}

/// The metadata of what is at `path`, not following a symlink.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
    on_path(path, std::fs::symlink_metadata).await
}

/// Whether something is at `path` (`Ok(false)` when not; an error when it
/// cannot be told, for example for lack of permission).
///
/// # Errors
///
/// `PermissionDenied` and the like.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    asyncify(move || path.try_exists()).await
}

/// The absolute path with every symlink resolved.
///
/// # Errors
///
/// `NotFound` when `path` does not exist.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    on_path(path, std::fs::canonicalize).await
}

/// Sets the permissions of what is at `path`.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`.
pub async fn set_permissions(path: impl AsRef<Path>, perm: std::fs::Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::set_permissions(path, perm)).await
}

/// Lists a directory: a [`Stream`](futures_util::Stream) of its entries
/// (not `.` and `..`), in the order the OS gives them.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, or not a directory.
///
/// ```
/// use futures_util::TryStreamExt;
/// ferrio::run(async {
///     let dir = std::env::temp_dir().join(format!("ferrio-doc-ls-{}", std::process::id()));
///     ferrio::fs::create_dir_all(&dir).await?;
///     ferrio::fs::write(dir.join("a.txt"), "a").await?;
///     let mut names: Vec<_> = ferrio::fs::read_dir(&dir).await?
///         .map_ok(|entry| entry.file_name())
///         .try_collect().await?;
///     names.sort();
///     assert_eq!(names, ["a.txt"]);
///     ferrio::fs::remove_dir_all(&dir).await
/// })
/// .unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let std = asyncify(move || std::fs::read_dir(path)).await?;
    Ok(ReadDir {
        state: DirState::Idle(Some((VecDeque::new(), std, true))),
    })
}

/// The entries of a directory ([`read_dir`]), fetched from the pool 32 at
/// a time; a [`Stream`](futures_util::Stream), or call
/// [`next_entry`](ReadDir::next_entry).
pub struct ReadDir {
    state: DirState,
}

/// A batch of entries, the listing, and whether it may have more.
type DirBatch = (VecDeque<io::Result<DirEntry>>, std::fs::ReadDir, bool);

enum DirState {
    /// `None` once the listing is done.
    Idle(Option<DirBatch>),
    Busy(JoinHandle<DirBatch>),
}

impl ReadDir {
    /// The next entry, or `None` at the end.
    ///
    /// # Errors
    ///
    /// The OS's errors of reading the directory.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await.transpose()
    }

    fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<DirEntry>>> {
        loop {
            match &mut self.state {
                DirState::Idle(slot) => {
                    let Some((batch, _, more)) = slot else {
                        return Poll::Ready(None);
                    };
                    if let Some(entry) = batch.pop_front() {
                        return Poll::Ready(Some(entry));
                    }
                    if !*more {
                        *slot = None;
                        return Poll::Ready(None);
                    }
                    let (mut batch, mut std, _) = slot.take().expect("checked above");
                    self.state = DirState::Busy(spawn_blocking(move || {
                        let mut more = true;
                        for _ in 0..DIR_BATCH {
                            match std.next() {
                                Some(entry) => {
                                    batch.push_back(entry.map(|e| DirEntry { std: Arc::new(e) }))
                                }
                                None => {
                                    more = false;
                                    break;
                                }
                            }
                        }
                        (batch, std, more)
                    }));
                }
                DirState::Busy(handle) => {
                    let batch = ready!(Pin::new(handle).poll(cx));
                    match batch {
                        Ok(batch) => self.state = DirState::Idle(Some(batch)),
                        Err(e) => {
                            self.state = DirState::Idle(None);
                            return Poll::Ready(Some(Err(join_error(e))));
                        }
                    }
                }
            }
        }
    }
}

impl futures_util::Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_entry(cx)
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir").finish_non_exhaustive()
    }
}

/// One entry of a [`ReadDir`].
#[derive(Clone)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
}

impl DirEntry {
    /// The entry's full path (the directory's path joined with its name).
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name in its directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's metadata, not following a symlink.
    ///
    /// # Errors
    ///
    /// `NotFound` if it was removed since it was listed.
    pub async fn metadata(&self) -> io::Result<std::fs::Metadata> {
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// The entry's type (file, directory, symlink), not following a symlink.
    ///
    /// # Errors
    ///
    /// `NotFound` if it was removed since it was listed.
    pub async fn file_type(&self) -> io::Result<std::fs::FileType> {
        let std = self.std.clone();
        asyncify(move || std.file_type()).await
    }
}

impl fmt::Debug for DirEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DirEntry").field(&self.path()).finish()
    }
}

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
        let (options, path) = (self.0.clone(), path.as_ref().to_owned());
        let std = asyncify(move || options.open(path)).await?;
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
/// To read a whole file, [`read`] is the fast way (one trip to the pool).
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

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
//! Here the one-call functions and what every call shares; directory
//! listing in `dir.rs`, open files in `file.rs`.
//!
//! Not here: file watching, memory maps, or io_uring.

use std::io;
use std::path::{Path, PathBuf};

use crate::spawn_blocking;

mod dir;
mod file;

pub use dir::{read_dir, DirEntry, ReadDir};
pub use file::{File, OpenOptions};

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
/// every function here that takes a path and calls its `std::fs` twin.
async fn on_path<T, F>(path: impl AsRef<Path>, op: F) -> io::Result<T>
where
    F: FnOnce(PathBuf) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let path = path.as_ref().to_owned();
    asyncify(move || op(path)).await
}

/// [`on_path`] for the functions that take two paths (`rename`, `copy`).
async fn on_paths<T, F>(from: impl AsRef<Path>, to: impl AsRef<Path>, op: F) -> io::Result<T>
where
    F: FnOnce(PathBuf, PathBuf) -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let to = to.as_ref().to_owned();
    on_path(from, move |from| op(from, to)).await
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
    let contents = contents.as_ref().to_owned();
    on_path(path, move |path| std::fs::write(path, contents)).await
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
    on_paths(from, to, std::fs::rename).await
}

/// Copies a file's contents and permissions; returns the bytes copied.
///
/// # Errors
///
/// `NotFound`, `PermissionDenied`, and the OS's other errors.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    on_paths(from, to, std::fs::copy).await
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
    on_path(path, |path| path.try_exists()).await
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
    on_path(path, move |path| std::fs::set_permissions(path, perm)).await
}

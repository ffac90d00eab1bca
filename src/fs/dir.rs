//! Listing a directory: [`read_dir`], its [`ReadDir`] stream and
//! [`DirEntry`], fetched from the blocking pool in batches.
//!
//! Not here: the one-call functions and their shared helpers (`mod.rs`).

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use super::{asyncify, join_error, on_path};
use crate::{spawn_blocking, JoinHandle};

/// Entries of a directory listed per trip to the pool.
const DIR_BATCH: usize = 32;

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
    let std = on_path(path, std::fs::read_dir).await?;
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

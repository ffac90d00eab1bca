//! A fresh directory per test under the system's temp dir, removed when
//! dropped. Included by each test with `#[path = "support/temp_dir.rs"] mod temp_dir;`.

use std::path::PathBuf;

/// A fresh directory for one test, removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    /// `ferrio-{kind}-{pid}-{test}` under the temp dir, emptied first.
    pub(crate) fn new(kind: &str, test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("ferrio-{kind}-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

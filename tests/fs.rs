//! `ferrio::fs` on real files in a temp dir.

use std::future::Future;
use std::io::{ErrorKind, SeekFrom};
use std::time::Duration;

use ferrio::fs::{self, File, OpenOptions};
use ferrio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use ferrio::time::timeout;
use futures_util::TryStreamExt;

/// Generous: local files, milliseconds each.
const WAIT: Duration = Duration::from_secs(30);

#[path = "support/bounded.rs"]
mod bounded;

fn run<F: Future>(what: &str, f: F) -> F::Output {
    bounded::run_within(WAIT, what, f)
}

#[path = "support/temp_dir.rs"]
mod temp_dir;
use temp_dir::TempDir;

#[test]
fn whole_file_helpers_round_trip() {
    let dir = TempDir::new("fs", "whole");
    run("write/read", async {
        let path = dir.path("a.txt");
        fs::write(&path, "first").await.unwrap();
        assert_eq!(fs::read(&path).await.unwrap(), b"first");
        fs::write(&path, "second, longer").await.unwrap();
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "second, longer");
        assert_eq!(fs::metadata(&path).await.unwrap().len(), 14);

        fs::write(dir.path("bad.txt"), [0xff, 0xfe]).await.unwrap();
        let err = fs::read_to_string(dir.path("bad.txt")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);

        let err = fs::read(dir.path("missing")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn directories_rename_copy_and_remove() {
    let dir = TempDir::new("fs", "dirs");
    run("dirs", async {
        let nested = dir.path("x/y/z");
        fs::create_dir_all(&nested).await.unwrap();
        fs::create_dir_all(&nested)
            .await
            .expect("no error if it exists");
        assert_eq!(
            fs::create_dir(&nested).await.unwrap_err().kind(),
            ErrorKind::AlreadyExists
        );
        fs::write(nested.join("f"), "data").await.unwrap();
        assert_eq!(
            fs::copy(nested.join("f"), dir.path("copy")).await.unwrap(),
            4
        );
        fs::rename(dir.path("copy"), dir.path("moved"))
            .await
            .unwrap();
        assert!(!fs::try_exists(dir.path("copy")).await.unwrap());
        assert_eq!(fs::read_to_string(dir.path("moved")).await.unwrap(), "data");
        assert_eq!(
            fs::remove_dir(dir.path("x")).await.unwrap_err().kind(),
            ErrorKind::DirectoryNotEmpty
        );
        fs::remove_dir_all(dir.path("x")).await.unwrap();
        fs::remove_file(dir.path("moved")).await.unwrap();
        assert_eq!(
            fs::remove_file(dir.path("moved")).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            fs::canonicalize(&dir.0).await.unwrap(),
            std::fs::canonicalize(&dir.0).unwrap()
        );
    });
}

#[test]
fn read_dir_streams_every_entry() {
    let dir = TempDir::new("fs", "listing");
    run("read_dir", async {
        // More than one batch of the pool.
        for i in 0..100 {
            fs::write(dir.path(&format!("file{i:03}")), [i as u8])
                .await
                .unwrap();
        }
        fs::create_dir(dir.path("sub")).await.unwrap();
        let mut names = Vec::new();
        let mut listing = fs::read_dir(&dir.0).await.unwrap();
        while let Some(entry) = listing.next_entry().await.unwrap() {
            let kind = entry.file_type().await.unwrap();
            assert_eq!(kind.is_dir(), entry.file_name() == "sub");
            assert_eq!(entry.path(), dir.0.join(entry.file_name()));
            names.push(entry.file_name().into_string().unwrap());
        }
        assert_eq!(listing.next_entry().await.unwrap().map(|e| e.path()), None);
        names.sort();
        let mut expected: Vec<String> = (0..100).map(|i| format!("file{i:03}")).collect();
        expected.push("sub".into());
        assert_eq!(names, expected);

        // As a stream.
        let sizes: Vec<u64> = fs::read_dir(&dir.0)
            .await
            .unwrap()
            .try_filter(|e| std::future::ready(e.file_name() != "sub"))
            .and_then(|e| async move { Ok(e.metadata().await?.len()) })
            .try_collect()
            .await
            .unwrap();
        assert_eq!(sizes, vec![1; 100]);

        let err = fs::read_dir(dir.path("nope")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    });
}

#[test]
fn a_file_reads_and_writes_big_contents_in_order() {
    let dir = TempDir::new("fs", "big");
    run("5 MiB", async {
        let path = dir.path("big.bin");
        // Bigger than one trip to the pool (2 MiB), written in odd chunks.
        let data: Vec<u8> = (0..5 << 20).map(|i| (i % 241) as u8).collect();
        let mut file = File::create(&path).await.unwrap();
        for chunk in data.chunks(777_777) {
            file.write_all(chunk).await.unwrap();
        }
        file.flush().await.unwrap();
        assert_eq!(file.metadata().await.unwrap().len(), data.len() as u64);
        drop(file);

        let mut back = Vec::new();
        File::open(&path)
            .await
            .unwrap()
            .read_to_end(&mut back)
            .await
            .unwrap();
        assert!(back == data, "the file should read back what was written");
    });
}

#[test]
fn seeks_account_for_what_was_read_ahead() {
    let dir = TempDir::new("fs", "seek");
    run("seek", async {
        let path = dir.path("s.txt");
        fs::write(&path, "0123456789").await.unwrap();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .await
            .unwrap();
        let mut two = [0; 2];
        // The first read fetches more than two bytes; the position is still 2.
        file.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"01");
        assert_eq!(file.stream_position().await.unwrap(), 2);
        assert_eq!(file.seek(SeekFrom::Current(3)).await.unwrap(), 5);
        file.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"56");
        // A write after a read lands where the reader is, not past the read-ahead.
        file.write_all(b"ab").await.unwrap();
        file.flush().await.unwrap();
        assert_eq!(file.seek(SeekFrom::End(-1)).await.unwrap(), 9);
        file.read_exact(&mut two[..1]).await.unwrap();
        assert_eq!(&two[..1], b"9");
        assert_eq!(file.read(&mut two).await.unwrap(), 0, "end of file");
        file.seek(SeekFrom::Start(0)).await.unwrap();
        let mut all = String::new();
        file.read_to_string(&mut all).await.unwrap();
        assert_eq!(all, "0123456ab9");

        file.set_len(4).await.unwrap();
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "0123");
        let err = file.seek(SeekFrom::Current(-100)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    });
}

#[test]
fn open_options_append_and_create_new() {
    let dir = TempDir::new("fs", "options");
    run("options", async {
        let path = dir.path("log");
        let mut log = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .await
            .unwrap();
        log.write_all(b"one\n").await.unwrap();
        log.write_all(b"two\n").await.unwrap();
        log.close().await.unwrap();
        let err = OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&path)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
        let mut again = File::options().append(true).open(&path).await.unwrap();
        again.write_all(b"three\n").await.unwrap();
        again.sync_all().await.unwrap();
        assert_eq!(
            fs::read_to_string(&path).await.unwrap(),
            "one\ntwo\nthree\n"
        );
        let std = again.into_std().await.unwrap();
        assert_eq!(std.metadata().unwrap().len(), 14);
    });
}

#[test]
fn a_failed_write_behind_is_reported_by_flush() {
    let dir = TempDir::new("fs", "write-error");
    run("read-only write", async {
        let path = dir.path("ro");
        fs::write(&path, "x").await.unwrap();
        let mut file = File::open(&path).await.unwrap();
        // The write is handed to the pool and accepted; the OS refuses it there.
        let accepted = file.write(b"nope").await.unwrap();
        assert_eq!(accepted, 4);
        let err = file.flush().await.unwrap_err();
        assert_ne!(
            err.kind(),
            ErrorKind::Other,
            "the OS's error, passed on: {err}"
        );
        file.flush().await.expect("reported once");
        assert_eq!(fs::read_to_string(&path).await.unwrap(), "x");
    });
}

#[test]
fn many_files_at_once_on_a_small_pool() {
    let dir = TempDir::new("fs", "many");
    let mut runtime = ferrio::Runtime::builder()
        .max_blocking_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async {
        let jobs = (0..50).map(|i| {
            let path = dir.path(&format!("f{i}"));
            async move {
                let mut file = File::create(&path).await?;
                file.write_all(format!("file number {i}").as_bytes())
                    .await?;
                file.flush().await?;
                fs::read_to_string(&path).await
            }
        });
        let read = timeout(WAIT, ferrio::gather(jobs))
            .await
            .expect("50 files on a pool of 2 threads should still finish in time");
        for (i, contents) in read.into_iter().enumerate() {
            assert_eq!(contents.unwrap(), format!("file number {i}"));
        }
    });
    assert!(runtime.blocking_thread_count() <= 2);
}

#[test]
fn file_futures_are_send_and_run_in_spawned_tasks() {
    let dir = TempDir::new("fs", "send");
    let path = dir.path("spawned");
    run("spawned file tasks", async move {
        let writer = ferrio::spawn({
            let path = path.clone();
            async move {
                let mut file = File::create(&path).await?;
                file.write_all(b"from a task").await?;
                file.sync_all().await?;
                fs::read_dir(path.parent().unwrap())
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            }
        });
        let listed = writer.await.unwrap().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(fs::read(&path).await.unwrap(), b"from a task");
    });
}

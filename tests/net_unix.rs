//! Unix domain sockets through `ferrio::net`: real sockets in a temp dir.
#![cfg(unix)]

use std::future::Future;
use std::io::ErrorKind;
use std::path::Path;
use std::time::Duration;

use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use ferrio::net::{UnixDatagram, UnixListener, UnixStream};

/// Generous: everything here is local and takes milliseconds.
const WAIT: Duration = Duration::from_secs(30);

#[path = "support/bounded.rs"]
mod bounded;

fn run<F: Future>(what: &str, f: F) -> F::Output {
    bounded::run_within(WAIT, what, f)
}

#[path = "support/temp_dir.rs"]
mod temp_dir;
use temp_dir::TempDir;

/// An echo server on `path` that serves `clients` connections, each in its
/// own task, then stops.
fn echo_server(path: &Path, clients: usize) -> ferrio::JoinHandle<std::io::Result<()>> {
    let listener = UnixListener::bind(path).unwrap();
    ferrio::spawn(async move {
        let mut served = Vec::new();
        for _ in 0..clients {
            let (conn, _) = listener.accept().await?;
            served.push(ferrio::spawn(async move {
                let (mut rd, mut wr) = UnixStream::split(&conn);
                ferrio::io::copy(&mut rd, &mut wr).await
            }));
        }
        for s in served {
            s.await.unwrap()?;
        }
        Ok(())
    })
}

#[test]
fn a_client_talks_to_a_listener_at_a_path() {
    let dir = TempDir::new("unix", "echo");
    let path = dir.path("echo.sock");
    run("echo over a Unix socket", async {
        let server = echo_server(&path, 1);
        let mut client = UnixStream::connect(&path).await.unwrap();
        assert_eq!(
            client.peer_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        client.write_all(b"hello over unix").await.unwrap();
        client.close().await.unwrap();
        let mut back = Vec::new();
        client.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"hello over unix");
        server.await.unwrap().unwrap();
    });
}

#[test]
fn many_clients_at_once() {
    let dir = TempDir::new("unix", "many");
    let path = dir.path("many.sock");
    run("64 clients", async {
        let server = echo_server(&path, 64);
        let clients = (0..64u32).map(|i| {
            let path = path.clone();
            ferrio::spawn(async move {
                let mut client = UnixStream::connect(&path).await?;
                let msg = format!("client {i}").repeat(1000);
                client.write_all(msg.as_bytes()).await?;
                client.close().await?;
                let mut back = String::new();
                client.read_to_string(&mut back).await?;
                assert_eq!(back, msg, "client {i} should get its own bytes back");
                std::io::Result::Ok(())
            })
        });
        for result in ferrio::gather(clients).await {
            result.unwrap().unwrap();
        }
        server.await.unwrap().unwrap();
    });
}

#[test]
fn owned_halves_work_from_two_tasks_and_dropping_the_writer_ends_the_stream() {
    run("split pair", async {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut rd, mut wr) = a.into_split();
        // 8 MiB each way at once: both directions must make progress together.
        let payload: Vec<u8> = (0..8 << 20).map(|i| (i % 253) as u8).collect();
        let expected = payload.clone();
        let writer = ferrio::spawn(async move {
            wr.write_all(&payload).await.unwrap();
            // dropped here: b reads end-of-stream
        });
        let reader = ferrio::spawn(async move {
            let mut got = Vec::new();
            rd.read_to_end(&mut got).await.unwrap();
            got
        });
        let (mut b_rd, mut b_wr) = UnixStream::split(&b);
        let echo = async {
            let echoed = ferrio::io::copy(&mut b_rd, &mut b_wr).await;
            // The write half of a borrowed split closes the write side too.
            b_wr.close().await.unwrap();
            echoed
        };
        let (echoed, received) = ferrio::join!(echo, async { reader.await.unwrap() });
        writer.await.unwrap();
        assert_eq!(echoed.unwrap(), expected.len() as u64);
        assert!(
            received == expected,
            "the echo should come back whole, in order"
        );
    });
}

#[test]
fn connect_errors_name_the_path() {
    let dir = TempDir::new("unix", "errors");
    run("connect errors", async {
        let missing = dir.path("missing.sock");
        let err = UnixStream::connect(&missing).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        assert!(err.to_string().contains("missing.sock"), "{err}");

        // A listener dropped leaves its file: nobody listens there any more.
        let stale = dir.path("stale.sock");
        drop(UnixListener::bind(&stale).unwrap());
        let err = UnixStream::connect(&stale).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");

        let err = UnixListener::bind(&stale).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
        std::fs::remove_file(&stale).unwrap();
        UnixListener::bind(&stale).expect("the path is free again once its file is removed");
    });
}

#[test]
fn datagrams_keep_their_boundaries_and_their_sender() {
    let dir = TempDir::new("unix", "dgram");
    run("datagrams", async {
        let server_path = dir.path("server.sock");
        let client_path = dir.path("client.sock");
        let server = UnixDatagram::bind(&server_path).unwrap();
        let client = UnixDatagram::bind(&client_path).unwrap();
        // The server waits before anything is sent: the send must wake it.
        let answer = ferrio::spawn(async move {
            let mut buf = [0; 64];
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            let from = from.as_pathname().unwrap().to_owned();
            let reply = [&b"re: "[..], &buf[..n]].concat();
            server.send_to(&reply, &from).await.unwrap();
            from
        });
        ferrio::time::sleep(Duration::from_millis(10)).await;
        client.send_to(b"first", &server_path).await.unwrap();
        let mut buf = [0; 64];
        let (n, from) = client.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"re: first");
        assert_eq!(from.as_pathname(), Some(server_path.as_path()));
        assert_eq!(answer.await.unwrap(), client_path);

        let (a, b) = UnixDatagram::pair().unwrap();
        for msg in [&b"one"[..], b"two", b""] {
            a.send(msg).await.unwrap();
        }
        for msg in [&b"one"[..], b"two", b""] {
            let n = b.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], msg);
        }

        let err = UnixDatagram::unbound()
            .unwrap()
            .send_to(b"x", dir.path("nobody.sock"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    });
}

#[cfg(target_os = "linux")]
#[test]
fn peer_credentials_name_this_process() {
    let dir = TempDir::new("unix", "cred");
    let path = dir.path("cred.sock");
    run("peer_cred", async {
        let listener = UnixListener::bind(&path).unwrap();
        let client = UnixStream::connect(&path).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let cred = server.peer_cred().unwrap();
        assert_eq!(cred.pid, Some(std::process::id()));
        assert_eq!(cred, client.peer_cred().unwrap());
    });
}

#[test]
fn a_read_waits_until_the_peer_writes() {
    run("pair", async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let reader = ferrio::spawn(async move {
            let mut buf = [0; 5];
            a.read_exact(&mut buf).await.unwrap();
            buf
        });
        ferrio::time::sleep(Duration::from_millis(20)).await;
        assert!(!reader.is_finished(), "nothing was written yet");
        b.write_all(b"later").await.unwrap();
        assert_eq!(&reader.await.unwrap(), b"later");
    });
}

#[test]
fn a_socket_from_an_ended_runtime_fails_at_once() {
    let mut first = ferrio::Runtime::new().unwrap();
    let (mut a, _b) = first.block_on(async { UnixStream::pair() }).unwrap();
    drop(first);
    run("read on a socket of a dropped runtime", async {
        let mut buf = [0; 4];
        let err = a
            .read(&mut buf)
            .await
            .expect_err("the socket's reactor is gone: the read must fail, not wait");
        assert_eq!(err.kind(), ErrorKind::Other, "{err}");
    });
}

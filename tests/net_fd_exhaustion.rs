//! The accept loop out of file descriptors: it neither dies nor spins, and
//! serves again once descriptors are free.
//!
//! The test re-runs its own binary as a child process (marked by an
//! environment variable) that lowers `RLIMIT_NOFILE` and runs an echo server;
//! the parent connects more clients than the child has descriptors for.
#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Set in the child's environment: run the server instead of the test.
const CHILD_ENV: &str = "FERRIO_FD_EXHAUSTION_CHILD";
/// The child's soft limit on open descriptors.
const CHILD_FD_LIMIT: u64 = 64;
/// More clients than the child can hold at once, fewer than twice as many.
const CLIENTS: usize = 100;
const TEST_NAME: &str = "accept_survives_descriptor_exhaustion_and_serves_again";

#[test]
fn accept_survives_descriptor_exhaustion_and_serves_again() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child_echo_server();
        return;
    }

    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, "1")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let port = read_port(&mut child);
    let stderr = drain(child.stderr.take().unwrap());

    // Every client connects (the kernel queues them); only some are accepted.
    let mut clients: Vec<(usize, TcpStream)> = (0..CLIENTS)
        .map(|i| {
            let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            c.write_all(&message(i)).unwrap();
            (i, c)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let (served, waiting): (Vec<_>, Vec<_>) = clients
        .drain(..)
        .partition(|(i, c)| echoed_within(c, *i, Duration::from_millis(100)));
    assert!(!served.is_empty(), "the server accepted nobody");
    assert!(
        !waiting.is_empty(),
        "the server never ran out of descriptors: the test proves nothing"
    );

    // Out of descriptors, the accept loop backs off instead of spinning.
    let cpu_before = cpu_time(child.id());
    std::thread::sleep(Duration::from_secs(1));
    let cpu = cpu_time(child.id()) - cpu_before;
    assert!(
        cpu < Duration::from_millis(200),
        "the server used {cpu:?} of CPU in 1 s while out of descriptors"
    );

    // Descriptors freed: every waiting client is served.
    drop(served);
    for (i, client) in waiting {
        assert!(
            echoed_within(&client, i, Duration::from_secs(10)),
            "client {i} was never served"
        );
    }

    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let log = stderr.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(status.success(), "server failed: {status}\n{log}");
    assert!(
        log.contains("retrying in"),
        "no warning about running out of descriptors:\n{log}"
    );
}

/// The child: an echo server with few descriptors, until stdin closes.
fn child_echo_server() {
    env_logger::init();
    // SAFETY: getrlimit/setrlimit only read and write the rlimit they are given.
    unsafe {
        let mut limit = std::mem::zeroed::<libc::rlimit>();
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = CHILD_FD_LIMIT;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    ferrio::run(async {
        let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        std::io::stdout().flush().unwrap();
        ferrio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.expect("accept gave up");
                ferrio::spawn(async move {
                    let (mut rd, mut wr) = stream.split();
                    let _ = ferrio::io::copy(&mut rd, &mut wr).await;
                });
            }
        });
        let stdin_closed = ferrio::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new()));
        let _ = stdin_closed.await;
    });
}

fn message(i: usize) -> [u8; 8] {
    let mut m = *b"client\0\0";
    m[6..].copy_from_slice(&(i as u16).to_be_bytes());
    m
}

/// Whether `client` got its message back within `wait`.
fn echoed_within(mut client: &TcpStream, i: usize, wait: Duration) -> bool {
    client.set_read_timeout(Some(wait)).unwrap();
    let mut got = [0; 8];
    match client.read_exact(&mut got) {
        Ok(()) => {
            assert_eq!(got, message(i), "client {i} got another message back");
            true
        }
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
        Err(e) => panic!("client {i}: {e}"),
    }
}

/// The port the child prints on stdout (the test harness prints other lines).
fn read_port(child: &mut Child) -> u16 {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            // The harness may have started the line with "test <name> ... ".
            if let Some((_, port)) = line.split_once("PORT ") {
                let _ = tx.send(port.trim().parse::<u16>().unwrap());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the server did not start")
}

/// Reads all of `stderr` on a thread; the text arrives when it closes.
fn drain(mut stderr: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    rx
}

/// User + system CPU time of process `pid`, from /proc.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1_000 / per_second)
}

/// Kills the child if the test fails before it stopped.
struct KillOnDrop(Child);

impl std::ops::Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

//! TCP through the facade, against an echo server started in each test on
//! 127.0.0.1:0. Every wait is bounded by a timeout.

use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use ferrio::net::{TcpListener, TcpStream};
use ferrio::time::{sleep, timeout};

/// Upper bound of every test: a hang fails instead of blocking the suite.
const LIMIT: Duration = Duration::from_secs(30);

/// Runs `test` on a fresh runtime, failing if it takes longer than [`LIMIT`].
#[path = "support/bounded.rs"]
mod bounded;

fn run<F: std::future::Future>(test: F) -> F::Output {
    bounded::run_within(LIMIT, "the test", test)
}

#[path = "support/rlimit.rs"]
mod rlimit;
#[path = "support/rng.rs"]
mod rng;
#[path = "support/tcp_pair.rs"]
mod tcp_pair;
use rlimit::ensure_descriptors;
use rng::Rng;
use tcp_pair::connected_pair;

/// An echo server on 127.0.0.1:0: each connection's bytes are written back
/// until the client half-closes, then the connection is closed.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_echo(listener)
}

fn serve_echo(listener: TcpListener) -> SocketAddr {
    let addr = listener.local_addr().unwrap();
    ferrio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.expect("accept failed");
            ferrio::spawn(async move {
                let (mut rd, mut wr) = TcpStream::split(&stream);
                let _ = ferrio::io::copy(&mut rd, &mut wr).await;
            });
        }
    });
    addr
}

/// What docs/asyncio.md ("Two `split`s") says: with `AsyncReadExt` in scope,
/// `stream.split()` is the trait's by-value split, and ferrio's borrowed one
/// is reached by naming the type. If method resolution or the re-exports
/// change, this stops compiling and the docs need another look.
#[test]
fn with_async_read_ext_in_scope_the_borrowed_split_is_reached_by_naming_the_type() {
    use ferrio::io::{ReadHalf, WriteHalf};
    use ferrio::net::{TcpReadHalf, TcpWriteHalf};
    run(async {
        let addr = echo_server().await;
        let stream = TcpStream::connect(addr).await.unwrap();
        {
            let (mut rd, mut wr): (TcpReadHalf<'_>, TcpWriteHalf<'_>) = TcpStream::split(&stream);
            wr.write_all(b"borrowed").await.unwrap();
            let mut got = [0; 8];
            rd.read_exact(&mut got).await.unwrap();
            assert_eq!(&got, b"borrowed");
        }
        // The halves only borrowed it: the stream is still ours.
        assert_eq!(stream.peer_addr().unwrap(), addr);
        let (mut rd, mut wr): (ReadHalf<TcpStream>, WriteHalf<TcpStream>) = stream.split();
        wr.write_all(b"by value").await.unwrap();
        let mut got = [0; 8];
        rd.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"by value");
    });
}

#[test]
fn thousand_clients_each_echo_100_random_sized_messages() {
    const CLIENTS: u64 = 1_000;
    const MESSAGES: usize = 100;
    ensure_descriptors(4 * CLIENTS);
    run(async {
        let addr = echo_server().await;
        let clients = (0..CLIENTS).map(|id| {
            ferrio::spawn(async move {
                let mut rng = Rng(id + 1);
                let mut stream = TcpStream::connect(addr).await?;
                let mut sent = vec![0; 1024];
                let mut got = vec![0; 1024];
                for _ in 0..MESSAGES {
                    let len = 1 + rng.below(1024) as usize;
                    rng.fill(&mut sent[..len]);
                    stream.write_all(&sent[..len]).await?;
                    stream.read_exact(&mut got[..len]).await?;
                    assert_eq!(got[..len], sent[..len], "client {id} got other bytes back");
                }
                std::io::Result::Ok(MESSAGES)
            })
        });
        let done = ferrio::gather(clients).await;
        let echoed: usize = done.into_iter().map(|r| r.unwrap().unwrap()).sum();
        assert_eq!(echoed, CLIENTS as usize * MESSAGES);
    });
}

#[test]
fn a_64_mib_stream_is_echoed_whole_while_both_halves_work_in_separate_tasks() {
    const TOTAL: usize = 64 << 20;
    const CHUNK: usize = 256 << 10;
    run(async {
        let addr = echo_server().await;
        let (mut rd, mut wr) = TcpStream::connect(addr).await.unwrap().into_split();
        let writer = ferrio::spawn(async move {
            let mut rng = Rng(64);
            let mut chunk = vec![0; CHUNK];
            for _ in 0..TOTAL / CHUNK {
                rng.fill(&mut chunk);
                wr.write_all(&chunk).await?;
            }
            wr.close().await
        });
        let mut expected = Rng(64);
        let mut want = vec![0; CHUNK];
        let mut got = vec![0; CHUNK];
        for i in 0..TOTAL / CHUNK {
            expected.fill(&mut want);
            rd.read_exact(&mut got).await.unwrap();
            assert!(got == want, "chunk {i} differs");
        }
        assert_eq!(
            rd.read(&mut got).await.unwrap(),
            0,
            "the server closes after the half-close"
        );
        writer.await.unwrap().unwrap();
    });
}

#[test]
fn writes_are_partial_under_back_pressure_and_complete_once_the_peer_reads() {
    run(async {
        let (client, mut server) = connected_pair().await;

        // Fill the socket buffers while the server does not read.
        let big = vec![7u8; 1 << 20];
        let (mut queued, mut partial) = (0usize, false);
        for _ in 0..1_000 {
            match client.try_write(&big) {
                Ok(n) => {
                    partial |= n < big.len();
                    queued += n;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("try_write: {e}"),
            }
        }
        assert!(partial, "the kernel accepted every megabyte whole");
        assert_eq!(
            client.try_write(&big).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );

        // A write now has to wait for the reader.
        let (_rd, mut wr) = client.into_split();
        let writer = ferrio::spawn(async move {
            wr.write_all(&vec![9u8; 4 << 20]).await?;
            wr.close().await
        });
        sleep(Duration::from_millis(50)).await;
        assert!(
            !writer.is_finished(),
            "write_all finished although nobody read"
        );

        let mut all = Vec::new();
        server.read_to_end(&mut all).await.unwrap();
        writer.await.unwrap().unwrap();
        assert_eq!(all.len(), queued + (4 << 20));
        assert!(all[..queued].iter().all(|&b| b == 7));
        assert!(all[queued..].iter().all(|&b| b == 9));
    });
}

#[test]
fn after_a_half_close_the_server_echoes_what_is_left_and_closes() {
    run(async {
        let addr = echo_server().await;
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut sent = vec![0; 300_000];
        Rng(3).fill(&mut sent);
        stream.write_all(&sent).await.unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        stream.read_to_end(&mut got).await.unwrap();
        assert!(got == sent, "echoed {} of {} bytes", got.len(), sent.len());
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        assert!(
            err.to_string().contains(&addr.to_string()),
            "the error names the address: {err}"
        );
    });
}

#[test]
fn connect_tries_every_address_in_order_and_reports_the_last_error() {
    run(async {
        let closed = {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            listener.local_addr().unwrap()
        };
        let live = echo_server().await;
        let stream = TcpStream::connect([closed, live]).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), live);

        let err = TcpStream::connect(&[closed, closed][..]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        let err = TcpStream::connect(&[][..]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    });
}

#[test]
#[cfg(target_os = "linux")]
fn connect_timeout_gives_up_when_the_server_never_answers() {
    run(async {
        // Linux drops SYNs to a listener whose accept queue is full, so a
        // connect to it hangs until its timeout.
        let listener = TcpListener::bind_with_backlog("127.0.0.1:0", 0)
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let mut held = Vec::new();
        let mut timed_out = None;
        for _ in 0..16 {
            match TcpStream::connect_timeout(addr, Duration::from_millis(300)).await {
                Ok(stream) => held.push(stream),
                Err(e) => {
                    timed_out = Some(e);
                    break;
                }
            }
        }
        let err = timed_out.expect("every connect succeeded although nobody accepts");
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    });
}

#[test]
fn a_peer_reset_mid_stream_is_an_error_not_a_hang() {
    run(async {
        let (mut client, mut server) = connected_pair().await;
        server.write_all(b"partial answer").await.unwrap();
        let mut first = [0; 14];
        client.read_exact(&mut first).await.unwrap();

        // Linger zero: closing sends RST instead of FIN.
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);

        let mut buf = [0; 64];
        let outcome = loop {
            match client.read(&mut buf).await {
                Ok(0) => break Ok(0),
                Ok(_) => continue,
                Err(e) => break Err(e),
            }
        };
        let err = outcome.expect_err("a reset connection must not read as a clean end");
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    });
}

#[test]
fn reading_after_the_peer_closed_gives_zero_every_time() {
    run(async {
        let (mut client, mut server) = connected_pair().await;
        server.write_all(b"bye").await.unwrap();
        drop(server);
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"bye");
        let mut buf = [0; 8];
        for _ in 0..3 {
            assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        }
    });
}

#[test]
fn a_cancelled_read_loses_no_bytes() {
    run(async {
        let (mut client, mut server) = connected_pair().await;

        // A read that is pending when it is dropped...
        let mut buf = [0; 16];
        assert!(timeout(Duration::from_millis(20), client.read(&mut buf))
            .await
            .is_err());
        server.write_all(b"first").await.unwrap();
        // ...takes nothing: the next read gets every byte.
        let mut first = [0; 5];
        client.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"first");

        // Many reads cancelled by a short timeout while data trickles in.
        let mut sent = vec![0; 200_000];
        Rng(9).fill(&mut sent);
        let expected = sent.clone();
        let sender = ferrio::spawn(async move {
            let mut rng = Rng(10);
            let mut rest = &sent[..];
            while !rest.is_empty() {
                let n = (1 + rng.below(4_000) as usize).min(rest.len());
                server.write_all(&rest[..n]).await?;
                rest = &rest[n..];
                if rng.below(4) == 0 {
                    sleep(Duration::from_millis(1)).await;
                }
            }
            std::io::Result::Ok(())
        });
        let (mut got, mut cancelled) = (Vec::new(), 0);
        let mut buf = vec![0; 3_000];
        while got.len() < expected.len() {
            match timeout(Duration::from_micros(300), client.read(&mut buf)).await {
                Ok(n) => {
                    let n = n.unwrap();
                    assert_ne!(n, 0, "early end of stream");
                    got.extend_from_slice(&buf[..n]);
                }
                Err(_) => cancelled += 1,
            }
        }
        sender.await.unwrap().unwrap();
        assert!(
            cancelled > 0,
            "no read was cancelled: the test proved nothing"
        );
        assert!(got == expected, "bytes were lost or reordered");
    });
}

#[test]
fn a_readable_then_try_read_loop_waits_instead_of_spinning() {
    run(async {
        let (mut client, server) = connected_pair().await;
        let sender = ferrio::spawn(async move {
            sleep(Duration::from_millis(100)).await;
            client.write_all(b"late").await.unwrap();
            client
        });
        let mut buf = [0; 4];
        let mut woken = 0;
        let n = loop {
            woken += 1;
            assert!(
                woken < 10,
                "readable() keeps returning although nothing arrives"
            );
            server.readable().await.unwrap();
            match server.try_read(&mut buf) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                other => break other.unwrap(),
            }
        };
        assert_eq!(&buf[..n], &b"late"[..n]);
        drop(sender.await.unwrap());
    });
}

#[test]
#[cfg(target_os = "linux")]
fn an_idle_listener_with_idle_connections_uses_no_cpu() {
    /// CPU time used by this thread, which drives the whole runtime.
    fn thread_cpu() -> Duration {
        // SAFETY: getrusage only writes the rusage it is given.
        let usage = unsafe {
            let mut usage = std::mem::zeroed::<libc::rusage>();
            assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, &mut usage), 0);
            usage
        };
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
        tv(usage.ru_utime) + tv(usage.ru_stime)
    }

    run(async {
        let addr = echo_server().await;
        let mut clients = Vec::new();
        for _ in 0..50 {
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(b"x").await.unwrap();
            c.read_exact(&mut [0]).await.unwrap();
            clients.push(c);
        }
        let before = thread_cpu();
        sleep(Duration::from_millis(500)).await;
        let used = thread_cpu() - before;
        assert!(
            used < Duration::from_millis(50),
            "idle runtime used {used:?} of CPU in 500 ms"
        );
    });
}

#[test]
fn echo_works_over_ipv6_loopback() {
    run(async {
        let listener = match TcpListener::bind("[::1]:0").await {
            Ok(l) => l,
            Err(e) => {
                println!("skipped: IPv6 loopback unavailable ({e})");
                return;
            }
        };
        let addr = serve_echo(listener);
        let mut stream = TcpStream::connect(addr).await.unwrap();
        assert!(stream.local_addr().unwrap().is_ipv6());
        stream.write_all(b"over v6").await.unwrap();
        let mut got = [0; 7];
        stream.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"over v6");
    });
}

#[test]
fn incoming_yields_each_connection() {
    use futures_util::StreamExt;
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<_> = (0..5)
            .map(|_| ferrio::spawn(TcpStream::connect(addr)))
            .collect();
        let accepted: Vec<_> = listener.incoming().take(5).collect().await;
        let mut peers: Vec<_> = accepted
            .into_iter()
            .map(|s| s.unwrap().peer_addr().unwrap())
            .collect();
        let mut locals = Vec::new();
        for c in clients {
            locals.push(c.await.unwrap().unwrap().local_addr().unwrap());
        }
        peers.sort();
        locals.sort();
        assert_eq!(peers, locals);
    });
}

/// One listener per thread on one port (`SO_REUSEPORT`, made with socket2 and
/// handed over with `TcpListener::from_std`), each on its own runtime: the
/// kernel spreads the connections over them and every one is answered.
#[cfg(target_os = "linux")]
#[test]
fn listeners_sharing_a_port_with_so_reuseport_each_serve_their_connections() {
    use socket2::{Domain, Protocol, Socket, Type};
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    fn reuseport_listener(addr: SocketAddr) -> std::net::TcpListener {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
        socket.set_reuse_port(true).unwrap();
        socket.bind(&addr.into()).unwrap();
        socket.listen(128).unwrap();
        socket.into()
    }

    let first = reuseport_listener("127.0.0.1:0".parse().unwrap());
    let addr = first.local_addr().unwrap();
    let second = reuseport_listener(addr);
    let stop = Arc::new(AtomicBool::new(false));
    let servers: Vec<_> = [(first, b'A'), (second, b'B')]
        .into_iter()
        .map(|(listener, name)| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                run(async move {
                    let listener = TcpListener::from_std(listener).unwrap();
                    let mut served = 0;
                    // Woken by each connection, or every 20 ms to look at `stop`
                    // (set once the client has all its answers); bounded by `run`.
                    while !stop.load(Ordering::SeqCst) {
                        if let Ok(accepted) =
                            timeout(Duration::from_millis(20), listener.accept()).await
                        {
                            let (mut conn, _) = accepted.unwrap();
                            conn.write_all(&[name]).await.unwrap();
                            served += 1;
                        }
                    }
                    served
                })
            })
        })
        .collect();
    let mut answers = Vec::new();
    for _ in 0..40 {
        let mut conn = std::net::TcpStream::connect(addr).unwrap();
        conn.set_read_timeout(Some(LIMIT)).unwrap();
        let mut name = [0];
        conn.read_exact(&mut name).unwrap();
        answers.push(name[0]);
        drop(conn.write_all(b"bye"));
    }
    stop.store(true, Ordering::SeqCst);
    let served: Vec<usize> = servers.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        served.iter().sum::<usize>(),
        40,
        "every connection answered once"
    );
    // 40 connections hashed over two listeners: each gets some (all on one: 2^-39).
    assert!(
        answers.contains(&b'A') && answers.contains(&b'B'),
        "{answers:?}"
    );
}

//! Name resolution through the facade: getaddrinfo on the blocking pool,
//! IP literals without it, timeouts as `TimedOut`.

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use ferrio::net::{lookup_host, lookup_host_timeout, Resolver, TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(20);

#[path = "support/bounded.rs"]
mod bounded;

fn run<F: std::future::Future>(test: F) -> F::Output {
    bounded::run_within(LIMIT, "the test", test)
}

#[test]
fn localhost_resolves_to_loopback_addresses() {
    run(async {
        let addrs = lookup_host("localhost:4242").await.unwrap();
        assert!(!addrs.is_empty());
        assert!(
            addrs
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 4242),
            "{addrs:?}"
        );
        let same = lookup_host_timeout(("localhost", 4242), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(addrs, same);
    });
}

#[test]
fn ip_literals_never_reach_the_resolver() {
    run(async {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let resolver = Resolver::new(move |host: &str, _port: u16| {
            counted.fetch_add(1, Ordering::SeqCst);
            Err(io::Error::other(format!("asked to resolve {host}")))
        });
        let v4: SocketAddr = "10.1.2.3:80".parse().unwrap();
        let v6: SocketAddr = "[fe80::1]:443".parse().unwrap();
        assert_eq!(resolver.lookup("10.1.2.3:80").await.unwrap(), [v4]);
        assert_eq!(resolver.lookup(("10.1.2.3", 80)).await.unwrap(), [v4]);
        assert_eq!(
            resolver
                .lookup(String::from("[fe80::1]:443"))
                .await
                .unwrap(),
            [v6]
        );
        assert_eq!(
            resolver.lookup(("fe80::1".to_string(), 443)).await.unwrap(),
            [v6]
        );
        assert_eq!(resolver.lookup(v4).await.unwrap(), [v4]);
        assert_eq!(resolver.lookup(&[v4, v6][..]).await.unwrap(), [v4, v6]);
        assert_eq!(calls.load(Ordering::SeqCst), 0);

        // A name does reach it, and its error names the host.
        let err = resolver.lookup("db.internal:1").await.unwrap_err();
        assert!(err.to_string().contains("db.internal"), "{err}");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn a_slow_resolver_is_reported_as_timed_out() {
    run(async {
        let slow = Resolver::new(|_host: &str, port: u16| {
            std::thread::sleep(Duration::from_secs(2));
            Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))])
        })
        .with_timeout(Duration::from_millis(100));
        let start = Instant::now();
        let err = slow.lookup("slow.example:80").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "took {:?}",
            start.elapsed()
        );
    });
}

#[test]
fn a_resolver_that_finds_nothing_is_not_found() {
    run(async {
        let empty = Resolver::new(|_: &str, _: u16| Ok(Vec::new()));
        let err = empty.lookup("nothing.example:80").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    });
}

#[test]
fn malformed_addresses_are_invalid_input_not_panics() {
    run(async {
        for bad in [
            "localhost",
            "localhost:http",
            "host:70000",
            ":80",
            "[::1:80",
            "",
        ] {
            let err = lookup_host(bad).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}: {err}");
            let err = TcpStream::connect(bad).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}: {err}");
        }
    });
}

#[test]
fn connect_by_host_name_reaches_a_loopback_server() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        ferrio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            conn.write_all(b"found").await.unwrap();
        });
        // "localhost" may resolve to ::1 first, where nothing listens: connect
        // goes on to 127.0.0.1.
        let mut stream = TcpStream::connect(("localhost", port)).await.unwrap();
        let mut got = [0; 5];
        stream.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"found");
    });
}

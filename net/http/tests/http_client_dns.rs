//! The connector's DNS and connect through the facade: names cached for the
//! TTL, a hung resolver kept to a few threads, and Happy Eyeballs racing the
//! next address after a 250 ms head start (or at once when one fails).

mod http_client_support;

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrio::http::{Client, ErrorKind, TimeoutKind};
use ferrio::net::Resolver;
use http_client_support::{ok, run, serve, Action, Server};

/// A resolver that maps every name to `addrs` and counts its calls.
fn counting(addrs: Vec<SocketAddr>) -> (Resolver, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let count = calls.clone();
    let resolver = Resolver::new(move |_: &str, _: u16| {
        count.fetch_add(1, Ordering::SeqCst);
        Ok(addrs.clone())
    });
    (resolver, calls)
}

/// A server that closes after each answer, so each request opens a connection.
async fn closing() -> Server {
    serve(|_| Action::ReplyClose(ok("ok"))).await
}

async fn get_ok(client: &Client, url: &str) {
    let response = client
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[test]
fn names_are_resolved_once_per_ttl() {
    run(async {
        let server = closing().await;
        let url = format!("http://api.test:{}/", server.addr.port());
        let (resolver, calls) = counting(vec![server.addr]);
        let client = Client::builder()
            .resolver(resolver)
            .ttl_dns_cache(Some(Duration::from_millis(300)))
            .build()
            .unwrap();
        for _ in 0..3 {
            get_ok(&client, &url).await;
        }
        assert_eq!(server.stats.accepted(), 3, "three connections");
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one lookup within the TTL");
        ferrio::time::sleep(Duration::from_millis(400)).await;
        get_ok(&client, &url).await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "looked up again after the TTL"
        );

        let (resolver, calls) = counting(vec![server.addr]);
        let uncached = Client::builder()
            .resolver(resolver)
            .ttl_dns_cache(None)
            .build()
            .unwrap();
        for _ in 0..3 {
            get_ok(&uncached, &url).await;
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "no cache: a lookup per connection"
        );
    });
}

#[test]
fn a_hung_resolver_holds_at_most_eight_threads() {
    run(async {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (now, peak) = (in_flight.clone(), most.clone());
        let hung = Resolver::new(move |_: &str, _: u16| {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(n, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(1500));
            now.fetch_sub(1, Ordering::SeqCst);
            Err(std::io::Error::other("gave up"))
        });
        let client = Client::builder()
            .resolver(hung)
            .connect_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let started = Instant::now();
        let requests = (0..30).map(|i| {
            let client = client.clone();
            async move { client.get(format!("http://host{i}.test/")).send().await }
        });
        for result in ferrio::gather(requests).await {
            let err = result.unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Timeout(TimeoutKind::Connect),
                "{err}"
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            most.load(Ordering::SeqCst),
            8,
            "30 requests, at most 8 lookups at once"
        );
        // The blocking pool still serves others meanwhile.
        let answer = ferrio::time::timeout(Duration::from_secs(1), ferrio::spawn_blocking(|| 42));
        assert_eq!(answer.await.expect("a free blocking thread").unwrap(), 42);
    });
}

/// A listening port whose accept queue is full: a connect to it hangs.
fn black_hole() -> (std::net::TcpListener, Vec<std::net::TcpStream>, SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    // SAFETY: `listen` on the listener's own, open socket.
    assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0);
    let addr = listener.local_addr().unwrap();
    let fillers = (0..3)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).ok()
        })
        .collect();
    (listener, fillers, addr)
}

#[test]
fn the_next_address_is_raced_after_a_head_start() {
    run(async {
        let server = serve(|_| Action::Reply(ok("ok"))).await;
        let (_listener, _fillers, hole) = black_hole();
        let (resolver, _) = counting(vec![hole, server.addr]);
        let client = Client::builder()
            .resolver(resolver)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let started = Instant::now();
        get_ok(
            &client,
            &format!("http://slow-first.test:{}/", server.addr.port()),
        )
        .await;
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(240),
            "the first address had its head start: {took:?}"
        );
        assert!(
            took < Duration::from_secs(2),
            "the second was raced, not waited for: {took:?}"
        );
    });
}

#[test]
fn a_failed_address_makes_way_at_once() {
    run(async {
        let server = serve(|_| Action::Reply(ok("ok"))).await;
        // A port nothing listens on: refused at once.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let (resolver, _) = counting(vec![closed, server.addr]);
        let client = Client::builder().resolver(resolver).build().unwrap();
        let started = Instant::now();
        get_ok(
            &client,
            &format!("http://refusing-first.test:{}/", server.addr.port()),
        )
        .await;
        assert!(
            started.elapsed() < Duration::from_millis(200),
            "{:?}",
            started.elapsed()
        );
        // All refused: the error is a connect error.
        let (resolver, _) = counting(vec![closed]);
        let client = Client::builder().resolver(resolver).build().unwrap();
        let err = client.get("http://nowhere.test/").send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    });
}

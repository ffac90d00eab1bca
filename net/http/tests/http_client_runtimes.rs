//! One `Client` used by several runtimes, as its docs allow: one after
//! another (two `ferrio::run` calls) and at once (two threads). Pooled idle
//! connections belong to the runtime that opened them; in another runtime
//! they are dropped and the request goes out on a new connection, quickly,
//! instead of waiting on a reactor that will never wake it (docs/architecture.md, rule R7).
//! The server runs on its own thread and runtime, on 127.0.0.1.

mod http_client_support;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use ferrio::http::Client;
use http_client_support::{get_text, ok, serve, Action, Server};

/// Each request must finish well within this; the client's own default
/// timeouts are far longer, so a request stuck on a dead connection fails here.
const QUICK: Duration = Duration::from_secs(5);

/// A keep-alive server on its own thread and runtime; it stops when the
/// returned sender is dropped (or after a minute, whichever is first).
fn server_thread() -> (Server, mpsc::Sender<()>) {
    let (addr_tx, addr_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        ferrio::run(async move {
            let server = serve(|r| Action::Reply(ok(&r.target))).await;
            addr_tx.send((server.addr, server.stats.clone())).unwrap();
            // Bounded: a server never outlives its test by long.
            for _ in 0..6000 {
                match stop_rx.try_recv() {
                    Err(mpsc::TryRecvError::Empty) => {
                        ferrio::time::sleep(Duration::from_millis(10)).await
                    }
                    _ => return,
                }
            }
        })
    });
    let (addr, stats) = addr_rx.recv_timeout(QUICK).expect("the server started");
    (Server { addr, stats }, stop_tx)
}

/// GETs `path` inside its own `ferrio::run`, bounded by [`QUICK`].
fn get_in_a_new_runtime(client: &Client, server: &Server, path: &str) -> String {
    let (client, url) = (client.clone(), server.url(path));
    let started = Instant::now();
    let body = ferrio::run(async move {
        ferrio::time::timeout(QUICK, async { get_text(&client, url).await }).await
    })
    .unwrap_or_else(|_| {
        panic!("GET {path} should be served on a new connection at once, not wait on the old one")
    });
    assert!(started.elapsed() < QUICK);
    body
}

#[test]
fn a_client_reused_by_a_second_run_serves_the_request_on_a_new_connection() {
    let (server, _stop) = server_thread();
    let client = Client::new();
    assert_eq!(get_in_a_new_runtime(&client, &server, "/first"), "/first");
    assert_eq!(
        server.stats.accepted(),
        1,
        "the first run opened one connection"
    );
    // The first runtime is gone; its idle connection sits in the pool.
    assert_eq!(get_in_a_new_runtime(&client, &server, "/second"), "/second");
    assert_eq!(
        server.stats.accepted(),
        2,
        "the second run could not use the first run's connection and opened its own"
    );
    // Within one run, keep-alive reuse still works.
    assert_eq!(get_in_a_new_runtime(&client, &server, "/third"), "/third");
}

#[test]
fn a_client_shared_by_two_runtimes_on_two_threads_at_once_serves_both() {
    let (server, _stop) = server_thread();
    let client = Client::new();
    let server = std::sync::Arc::new(server);
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let (client, server) = (client.clone(), server.clone());
            std::thread::spawn(move || {
                for i in 0..20 {
                    let path = format!("/t{t}/{i}");
                    assert_eq!(get_in_a_new_runtime(&client, &server, &path), path);
                }
                // Several requests in one run, interleaved with the other thread.
                let (client, server) = (client.clone(), server.clone());
                ferrio::run(async move {
                    for i in 0..20 {
                        let path = format!("/t{t}/same-run/{i}");
                        let body =
                            ferrio::time::timeout(QUICK, get_text(&client, server.url(&path)))
                                .await
                                .expect("a request in a shared client finishes quickly");
                        assert_eq!(body, path);
                    }
                });
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("each thread's requests succeed");
    }
}

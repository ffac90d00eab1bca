//! The client's connection pool through the facade, like a user: the total
//! and per-host limits as the server sees them, keep-alive reuse, the retry
//! on a connection the server closed, and slots given back by requests that
//! fail or are cancelled.

mod http_client_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrio::http::{Client, ErrorKind, Method};
use http_client_support::{get_text, ok, run, serve, serve_counted, Action, Stats};

#[test]
fn hundred_concurrent_requests_with_limit_10_never_open_more_than_10_connections() {
    run(async {
        let server = serve(|r| {
            Action::Delay(
                Duration::from_millis(20),
                Box::new(Action::Reply(ok(&r.target))),
            )
        })
        .await;
        let client = Client::builder().limit(10).build().unwrap();
        let started = Instant::now();
        let requests = (0..100).map(|i| {
            let (client, url) = (client.clone(), server.url(&format!("/posts/{i}")));
            async move { client.get(url).send().await?.text().await }
        });
        let bodies = ferrio::gather(requests).await;
        for (i, body) in bodies.into_iter().enumerate() {
            assert_eq!(body.unwrap(), format!("/posts/{i}"));
        }
        assert_eq!(
            server.stats.max_open(),
            10,
            "the limit is used and never passed"
        );
        assert_eq!(
            server.stats.accepted(),
            10,
            "connections are reused, not reopened"
        );
        // Ten at a time, 20 ms each: ten rounds.
        assert!(started.elapsed() >= Duration::from_millis(200));
    });
}

#[test]
fn limit_per_host_holds_on_each_of_two_hosts() {
    run(async {
        let script =
            |_: &_| Action::Delay(Duration::from_millis(10), Box::new(Action::Reply(ok("x"))));
        let (a, b) = (serve(script).await, serve(script).await);
        let client = Client::builder().limit_per_host(3).build().unwrap();
        let requests = (0..60).map(|i| {
            let url = if i % 2 == 0 { a.url("/") } else { b.url("/") };
            let client = client.clone();
            async move { client.get(url).send().await?.bytes().await }
        });
        for body in ferrio::gather(requests).await {
            assert_eq!(&body.unwrap()[..], b"x");
        }
        assert_eq!(a.stats.max_open(), 3);
        assert_eq!(b.stats.max_open(), 3);
    });
}

#[test]
fn total_limit_counts_connections_to_all_hosts() {
    run(async {
        let stats = Arc::new(Stats::default());
        let script =
            |_: &_| Action::Delay(Duration::from_millis(10), Box::new(Action::Reply(ok("x"))));
        let a = serve_counted(script, stats.clone()).await;
        let b = serve_counted(script, stats.clone()).await;
        let client = Client::builder().limit(4).build().unwrap();
        let requests = (0..40).map(|i| {
            let url = if i % 2 == 0 { a.url("/") } else { b.url("/") };
            let client = client.clone();
            async move { client.get(url).send().await?.bytes().await }
        });
        for body in ferrio::gather(requests).await {
            body.unwrap();
        }
        assert!(stats.max_open() <= 4, "{} open at once", stats.max_open());
        assert!(stats.max_open() >= 2);
    });
}

#[test]
fn hundred_sequential_requests_reuse_one_connection() {
    run(async {
        let server = serve(|r| Action::Reply(ok(format!("{}", r.nth)))).await;
        let client = Client::new();
        for i in 0..100 {
            let body = get_text(&client, server.url("/")).await;
            assert_eq!(body, i.to_string());
        }
        assert_eq!(server.stats.accepted(), 1);
    });
}

#[test]
fn dropped_unread_response_closes_its_connection() {
    run(async {
        let server = serve(|_| Action::Reply(ok("a body nobody reads"))).await;
        let client = Client::new();
        let response = client.get(server.url("/")).send().await.unwrap();
        drop(response);
        let text = get_text(&client, server.url("/")).await;
        assert_eq!(text, "a body nobody reads");
        assert_eq!(
            server.stats.accepted(),
            2,
            "the unread connection was not reused"
        );
    });
}

#[test]
fn connection_closed_by_the_server_while_idle_is_replaced() {
    run(async {
        // Every response is the last on its connection, without saying so.
        let server = serve(|_| Action::ReplyClose(ok("fresh"))).await;
        let client = Client::new();
        for _ in 0..5 {
            let body = get_text(&client, server.url("/")).await;
            assert_eq!(body, "fresh");
        }
        assert_eq!(server.stats.accepted(), 5);
    });
}

#[test]
fn get_on_a_kept_alive_connection_the_server_dropped_is_retried_once() {
    run(async {
        // The first connection answers one request, then drops the next unanswered.
        let server = serve(|r| {
            if r.conn == 0 && r.nth == 1 {
                Action::Close
            } else {
                Action::Reply(ok("ok"))
            }
        })
        .await;
        let client = Client::new();
        for _ in 0..3 {
            let body = get_text(&client, server.url("/")).await;
            assert_eq!(body, "ok");
        }
        assert_eq!(server.stats.accepted(), 2);
        assert_eq!(
            server.stats.requests().len(),
            4,
            "the dropped GET was sent twice"
        );
    });
}

#[test]
fn post_on_a_kept_alive_connection_the_server_dropped_is_not_retried() {
    run(async {
        let server = serve(|r| {
            if r.conn == 0 && r.nth == 1 {
                Action::Close
            } else {
                Action::Reply(ok("ok"))
            }
        })
        .await;
        let client = Client::new();
        client
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let err = client
            .post(server.url("/"))
            .body("once")
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{err}");
        let posts: Vec<_> = server
            .stats
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect();
        assert_eq!(posts.len(), 1, "a POST is never sent twice");
        assert_eq!(posts[0].body, b"once");
        // The client is fine afterwards.
        let body = client
            .request(Method::PUT, server.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await;
        assert_eq!(body.unwrap(), "ok");
    });
}

#[test]
fn pool_timeout_is_its_own_error_and_the_slot_comes_back() {
    run(async {
        let server = serve(|_| Action::Reply(ok("held"))).await;
        let client = Client::builder()
            .limit(1)
            .pool_timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        // An unread response holds the one connection.
        let held = client.get(server.url("/")).send().await.unwrap();
        let started = Instant::now();
        let err = client.get(server.url("/")).send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PoolTimeout, "{err}");
        assert!(err.is_timeout());
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(held.text().await.unwrap(), "held");
        let again = get_text(&client, server.url("/")).await;
        assert_eq!(again, "held");
        assert_eq!(server.stats.accepted(), 1);
    });
}

#[test]
fn waiters_are_served_in_the_order_they_came() {
    run(async {
        let server = serve(|r| {
            Action::Delay(
                Duration::from_millis(5),
                Box::new(Action::Reply(ok(&r.target))),
            )
        })
        .await;
        let client = Client::builder().limit(1).build().unwrap();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..10 {
            let (client, url, order) =
                (client.clone(), server.url(&format!("/{i}")), order.clone());
            tasks.push(ferrio::spawn(async move {
                let body = get_text(&client, url).await;
                order.lock().unwrap().push(body);
            }));
            // Each request queues before the next is made.
            ferrio::time::sleep(Duration::from_millis(1)).await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        let expected: Vec<String> = (0..10).map(|i| format!("/{i}")).collect();
        assert_eq!(*order.lock().unwrap(), expected);
    });
}

#[test]
fn cancelled_and_timed_out_requests_give_their_slots_back() {
    run(async {
        let server = serve(|r| {
            if r.target == "/slow" {
                Action::Stall(Vec::new(), Duration::from_secs(5))
            } else {
                Action::Reply(ok("fine"))
            }
        })
        .await;
        let client = Client::builder()
            .limit(2)
            .read_timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        for _ in 0..5 {
            // Times out while reading.
            let err = client.get(server.url("/slow")).send().await.unwrap_err();
            assert_eq!(
                err.kind(),
                ErrorKind::Timeout(ferrio::http::TimeoutKind::Read)
            );
            // Dropped while waiting for its head.
            let cancelled = ferrio::time::timeout(
                Duration::from_millis(20),
                client.get(server.url("/slow")).send(),
            )
            .await;
            assert!(cancelled.is_err());
        }
        // Nothing leaked: both slots are free for two requests at once.
        let both = ferrio::gather((0..2).map(|_| {
            let client = client.clone();
            let url = server.url("/");
            async move { client.get(url).send().await?.text().await }
        }))
        .await;
        for body in both {
            assert_eq!(body.unwrap(), "fine");
        }
    });
}

#[test]
fn idle_connection_to_one_host_is_closed_to_make_room_for_another() {
    run(async {
        let (a, b) = (
            serve(|_| Action::Reply(ok("a"))).await,
            serve(|_| Action::Reply(ok("b"))).await,
        );
        let client = Client::builder()
            .limit(1)
            .pool_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        for _ in 0..3 {
            assert_eq!(get_text(&client, a.url("/")).await, "a");
            assert_eq!(get_text(&client, b.url("/")).await, "b");
        }
        assert_eq!((a.stats.accepted(), b.stats.accepted()), (3, 3));
        assert_eq!(a.stats.max_open() + b.stats.max_open(), 2);
    });
}

#[test]
fn connections_idle_past_pool_idle_timeout_are_not_reused() {
    run(async {
        let server = serve(|_| Action::Reply(ok("x"))).await;
        let client = Client::builder()
            .pool_idle_timeout(Duration::from_millis(50))
            .build()
            .unwrap();
        client
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        client
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(server.stats.accepted(), 1);
        ferrio::time::sleep(Duration::from_millis(100)).await;
        client
            .get(server.url("/"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(server.stats.accepted(), 2);
    });
}

#[test]
fn idle_connection_is_closed_after_pool_idle_timeout_without_another_request() {
    run(async {
        let server = serve(|_| Action::Reply(ok("x"))).await;
        let client = Client::builder()
            .pool_idle_timeout(Duration::from_millis(100))
            .build()
            .unwrap();
        for round in 0..2 {
            let body = client.get(server.url("/")).send().await.unwrap();
            assert_eq!(body.text().await.unwrap(), "x");
            assert_eq!(server.stats.open(), 1, "kept alive for reuse");
            // No more requests: the client's pool closes it on its own.
            assert!(
                server.stats.all_closed_within(Duration::from_secs(1)).await,
                "round {round}: the idle connection is still open"
            );
        }
        assert_eq!(server.stats.accepted(), 2);
    });
}

#[test]
fn dropping_the_client_closes_its_idle_connections_at_once() {
    run(async {
        let server = serve(|_| Action::Reply(ok("x"))).await;
        let client = Client::builder()
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let body = client.get(server.url("/")).send().await.unwrap();
        assert_eq!(body.text().await.unwrap(), "x");
        assert_eq!(server.stats.open(), 1);
        // The pool's pruning task, asleep for a minute, does not keep it alive.
        drop(client);
        assert!(server.stats.all_closed_within(Duration::from_secs(1)).await);
    });
}

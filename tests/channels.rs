//! Channels through the facade: mpsc (bounded, unbounded), broadcast, watch
//! and oneshot; their close semantics and typed errors, within a runtime and
//! across threads.

use std::time::Duration;

use ferrio::sync::{broadcast, mpsc, oneshot, watch};
use ferrio::time::{sleep, timeout};

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn mpsc_bounded_send_waits_while_full() {
    ferrio::run(async {
        let (tx, rx) = mpsc::channel(2);
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        assert_eq!(tx.try_send(3), Err(mpsc::TrySendError::Full(3)));
        assert!(
            timeout(Duration::from_millis(20), tx.send(3))
                .await
                .is_err(),
            "send waits while two messages are queued"
        );
        let sender = ferrio::spawn({
            let tx = tx.clone();
            async move { tx.send(3).await }
        });
        assert_eq!(rx.recv().await, Ok(1));
        timeout(LIMIT, sender)
            .await
            .expect("the recv made room for the waiting send")
            .unwrap()
            .unwrap();
        assert_eq!(rx.recv().await, Ok(2));
        assert_eq!(rx.recv().await, Ok(3));
    });
}

#[test]
fn mpsc_closes_when_the_senders_are_dropped_after_draining() {
    ferrio::run(async {
        let (tx, rx) = mpsc::unbounded_channel();
        let producers: Vec<_> = (0..4)
            .map(|p| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..100 {
                        tx.send_blocking(p * 100 + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let mut got = Vec::new();
        while let Ok(n) = timeout(LIMIT, rx.recv())
            .await
            .expect("the threads send 400 messages, then close")
        {
            got.push(n);
        }
        got.sort();
        assert_eq!(got, (0..400).collect::<Vec<_>>());
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(rx.try_recv(), Err(mpsc::TryRecvError::Closed));
    });
}

#[test]
fn mpsc_send_fails_with_the_message_once_the_receivers_are_gone() {
    ferrio::run(async {
        let (tx, rx) = mpsc::channel(4);
        let waiting = ferrio::spawn({
            let rx = rx.clone();
            async move { rx.recv().await }
        });
        sleep(Duration::from_millis(5)).await;
        tx.close();
        assert_eq!(
            timeout(LIMIT, waiting)
                .await
                .expect("close wakes a waiting recv")
                .unwrap(),
            Err(mpsc::RecvError)
        );
        let err = tx.send("lost?").await.unwrap_err();
        assert_eq!(err.into_inner(), "lost?", "the message comes back");
        drop(rx);
    });
}

#[test]
#[should_panic(expected = "capacity above zero")]
fn a_zero_capacity_mpsc_channel_is_a_clear_panic() {
    let _ = mpsc::channel::<u8>(0);
}

#[test]
fn broadcast_delivers_every_message_to_every_receiver() {
    ferrio::run(async {
        let (tx, rx) = broadcast::channel(4);
        let receivers: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = rx.clone();
                ferrio::spawn(async move {
                    let mut got = Vec::new();
                    while let Ok(n) = rx.recv().await {
                        got.push(n);
                    }
                    got
                })
            })
            .collect();
        drop(rx);
        for n in 0..10 {
            tx.broadcast(n).await.unwrap();
        }
        drop(tx);
        for r in receivers {
            let got = timeout(LIMIT, r)
                .await
                .expect("closing the channel ends each receiver's loop")
                .unwrap();
            assert_eq!(got, (0..10).collect::<Vec<_>>());
        }
    });
}

#[test]
fn broadcast_overflow_reports_the_missed_messages() {
    ferrio::run(async {
        let (mut tx, mut rx) = broadcast::channel(2);
        tx.set_overflow(true);
        for n in 0..5 {
            tx.try_broadcast(n).unwrap();
        }
        assert_eq!(rx.recv().await, Err(broadcast::RecvError::Overflowed(3)));
        assert_eq!(rx.recv().await, Ok(3));
        assert_eq!(rx.recv().await, Ok(4));
        tx.close();
        assert_eq!(rx.recv().await, Err(broadcast::RecvError::Closed));
        assert!(matches!(
            tx.try_broadcast(9),
            Err(broadcast::TrySendError::Closed(9))
        ));
    });
}

#[test]
fn broadcast_without_overflow_waits_for_the_slowest_receiver() {
    ferrio::run(async {
        let (tx, mut rx) = broadcast::channel(1);
        tx.broadcast(1).await.unwrap();
        assert!(
            timeout(Duration::from_millis(20), tx.broadcast(2))
                .await
                .is_err(),
            "a full channel makes broadcast wait"
        );
        assert_eq!(rx.recv().await, Ok(1));
        timeout(LIMIT, tx.broadcast(2))
            .await
            .expect("the recv made room")
            .unwrap();
        assert_eq!(rx.recv().await, Ok(2));
    });
}

#[test]
fn watch_receivers_see_the_latest_value_and_wait_for_changes() {
    ferrio::run(async {
        let (tx, mut rx) = watch::channel(0u32);
        assert_eq!(rx.has_changed(), Ok(false));
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        assert_eq!(rx.has_changed(), Ok(true));
        rx.changed().await.unwrap();
        assert_eq!(*rx.borrow(), 2, "only the latest value is kept");
        assert_eq!(rx.has_changed(), Ok(false));

        let mut other = rx.clone();
        let waiter = ferrio::spawn(async move {
            other.changed().await.unwrap();
            *other.borrow_and_update()
        });
        sleep(Duration::from_millis(5)).await;
        assert!(!waiter.is_finished(), "no change since the clone");
        tx.send_modify(|v| *v += 40);
        assert_eq!(
            timeout(LIMIT, waiter)
                .await
                .expect("send_modify wakes the waiter")
                .unwrap(),
            42
        );
        assert_eq!(tx.send_replace(7), 42);
        let late = tx.subscribe();
        assert_eq!((late.has_changed(), *late.borrow()), (Ok(false), 7));
    });
}

#[test]
fn watch_close_semantics_both_ways() {
    ferrio::run(async {
        let (tx, mut rx) = watch::channel("a");
        tx.send("last").unwrap();
        drop(tx);
        // The last value is still delivered, then the end.
        assert_eq!(rx.changed().await, Ok(()));
        assert_eq!(*rx.borrow(), "last");
        assert_eq!(rx.changed().await, Err(watch::RecvError));
        assert_eq!(rx.has_changed(), Err(watch::RecvError));

        let (tx, rx) = watch::channel(0);
        let closed = ferrio::spawn(async move {
            tx.closed().await;
            tx.send(1)
        });
        sleep(Duration::from_millis(5)).await;
        assert!(!closed.is_finished());
        drop(rx);
        let result = timeout(LIMIT, closed)
            .await
            .expect("dropping the last receiver ends closed()")
            .unwrap();
        assert_eq!(result, Err(watch::SendError(1)));
    });
}

#[test]
fn watch_wait_for_and_a_sender_on_another_thread() {
    ferrio::run(async {
        let (tx, mut rx) = watch::channel(0u64);
        let thread = std::thread::spawn(move || {
            for n in 1..=50 {
                tx.send(n).unwrap();
                std::thread::sleep(Duration::from_micros(200));
            }
        });
        let seen = timeout(LIMIT, rx.wait_for(|n| *n >= 50))
            .await
            .expect("the thread's sends reach the waiter")
            .map(|v| *v);
        assert_eq!(seen, Ok(50));
        thread.join().unwrap();
        assert_eq!(
            timeout(LIMIT, rx.wait_for(|n| *n > 50))
                .await
                .unwrap()
                .err(),
            Some(watch::RecvError),
            "the sender is gone before the predicate holds"
        );
    });
}

#[test]
fn oneshot_reports_a_dropped_side() {
    ferrio::run(async {
        let (tx, rx) = oneshot::channel::<u8>();
        drop(tx);
        assert_eq!(rx.await, Err(oneshot::Canceled));
        let (tx, rx) = oneshot::channel();
        drop(rx);
        assert_eq!(tx.send(3), Err(3));
    });
}

#[test]
fn watch_receivers_on_other_runtimes_see_monotonic_values_up_to_the_last() {
    const LAST: u64 = 2_000;
    let (tx, rx) = watch::channel(0u64);
    let receivers: Vec<_> = (0..3)
        .map(|_| {
            let mut rx = rx.clone();
            std::thread::spawn(move || {
                ferrio::run(async move {
                    let mut previous = 0;
                    let mut wakeups = 0u64;
                    while let Ok(()) = timeout(LIMIT, rx.changed())
                        .await
                        .expect("every send or the close wakes the receiver")
                    {
                        let now = *rx.borrow_and_update();
                        assert!(now > previous, "{now} after {previous}: values go forward");
                        previous = now;
                        wakeups += 1;
                    }
                    (previous, wakeups)
                })
            })
        })
        .collect();
    drop(rx);
    for n in 1..=LAST {
        tx.send(n).unwrap();
        if n % 100 == 0 {
            std::thread::yield_now();
        }
    }
    drop(tx);
    for r in receivers {
        let (last, wakeups) = r.join().unwrap();
        assert_eq!(last, LAST, "the last value is never lost");
        assert!((1..=LAST).contains(&wakeups));
    }
}

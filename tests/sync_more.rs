//! The second round of asyncio's synchronisation through the facade:
//! Condition, BoundedSemaphore, LifoQueue, PriorityQueue and Queue.shutdown.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ferrio::sync::{
    BoundedSemaphore, Condition, LifoQueue, PriorityQueue, Queue, QueueShutDown, TooManyReleases,
    TryGetError, TryPutError,
};
use ferrio::time::{sleep, timeout};

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn condition_wait_releases_the_lock_and_wakes_on_notify() {
    ferrio::run(async {
        let cond = Arc::new(Condition::new(false));
        let waiter = ferrio::spawn({
            let cond = cond.clone();
            async move {
                let mut ready = cond.lock().await;
                while !*ready {
                    ready = cond.wait(ready).await;
                }
                "woken"
            }
        });
        sleep(Duration::from_millis(5)).await;
        // The waiter released the lock while waiting: this does not deadlock.
        *timeout(LIMIT, cond.lock())
            .await
            .expect("wait released the lock") = true;
        cond.notify(1);
        assert_eq!(
            timeout(LIMIT, waiter)
                .await
                .expect("notify(1) woke the one waiter")
                .unwrap(),
            "woken"
        );
    });
}

#[test]
fn condition_notify_wakes_n_waiters_and_notify_all_wakes_the_rest() {
    ferrio::run(async {
        let cond = Arc::new(Condition::new(()));
        let woken = Arc::new(AtomicUsize::new(0));
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let (cond, woken) = (cond.clone(), woken.clone());
                ferrio::spawn(async move {
                    let guard = cond.lock().await;
                    let _guard = cond.wait(guard).await;
                    woken.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        sleep(Duration::from_millis(10)).await; // all four wait
        cond.notify(2);
        sleep(Duration::from_millis(10)).await;
        assert_eq!(
            woken.load(Ordering::SeqCst),
            2,
            "notify(2) wakes exactly two"
        );
        cond.notify_all();
        for w in waiters {
            timeout(LIMIT, w)
                .await
                .expect("notify_all woke the other two")
                .unwrap();
        }
        assert_eq!(woken.load(Ordering::SeqCst), 4);
    });
}

#[test]
fn condition_wait_for_across_threads() {
    ferrio::run(async {
        let cond = Arc::new(Condition::new(0u32));
        let producer = std::thread::spawn({
            let cond = cond.clone();
            move || {
                for _ in 0..3 {
                    std::thread::sleep(Duration::from_millis(2));
                    *cond.lock_blocking() += 1;
                    cond.notify_all();
                }
            }
        });
        let guard = timeout(LIMIT, async {
            let guard = cond.lock().await;
            cond.wait_for(guard, |n| *n == 3).await
        })
        .await
        .expect("the thread's three notifications reach the waiter");
        assert_eq!(*guard, 3);
        drop(guard);
        producer.join().unwrap();
    });
}

#[test]
#[should_panic(expected = "guard of another lock")]
fn condition_wait_with_a_foreign_guard_is_a_clear_panic() {
    ferrio::run(async {
        let a = Condition::new(1);
        let b = Condition::new(2);
        let guard = b.lock().await;
        let _ = a.wait(guard).await;
    });
}

#[test]
fn bounded_semaphore_refuses_a_release_past_its_bound() {
    ferrio::run(async {
        let sem = Arc::new(BoundedSemaphore::new(2));
        assert_eq!(sem.release(), Err(TooManyReleases { limit: 2 }));
        assert_eq!(sem.available(), 2);
        sem.acquire().await;
        assert!(sem.try_acquire());
        assert!(sem.locked());
        assert!(!sem.try_acquire());

        let waiter = ferrio::spawn({
            let sem = sem.clone();
            async move { sem.acquire().await }
        });
        sleep(Duration::from_millis(5)).await;
        assert!(!waiter.is_finished(), "no permit is free");
        sem.release().unwrap();
        timeout(LIMIT, waiter)
            .await
            .expect("the release gave the waiter its permit")
            .unwrap();
        sem.release().unwrap();
        sem.release().unwrap();
        assert_eq!(sem.release(), Err(TooManyReleases { limit: 2 }));
        assert!(TooManyReleases { limit: 2 }
            .to_string()
            .contains("bound is 2"));
    });
}

#[test]
fn two_releases_wake_two_waiters() {
    ferrio::run(async {
        let sem = Arc::new(BoundedSemaphore::new(2));
        sem.acquire().await;
        sem.acquire().await;
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                ferrio::spawn(async move { sem.acquire().await })
            })
            .collect();
        sleep(Duration::from_millis(5)).await;
        sem.release().unwrap();
        sem.release().unwrap(); // before the first waiter ran
        for w in waiters {
            timeout(LIMIT, w)
                .await
                .expect("each release wakes its own waiter")
                .unwrap();
        }
    });
}

#[test]
fn two_puts_wake_two_waiting_getters() {
    ferrio::run(async {
        let queue = Queue::new();
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let queue = queue.clone();
                ferrio::spawn(async move { queue.get().await })
            })
            .collect();
        sleep(Duration::from_millis(5)).await;
        queue.put_nowait(1).unwrap();
        queue.put_nowait(2).unwrap(); // before the first getter ran
        for g in getters {
            timeout(LIMIT, g)
                .await
                .expect("each put wakes its own getter")
                .unwrap()
                .unwrap();
        }
    });
}

#[test]
fn lifo_queue_hands_out_the_newest_item_first() {
    ferrio::run(async {
        let queue = LifoQueue::bounded(3);
        for i in 1..=3 {
            queue.put(i).await.unwrap();
        }
        assert_eq!(queue.put_nowait(4), Err(TryPutError::Full(4)));
        assert_eq!(queue.get_nowait(), Ok(3));
        assert_eq!(queue.get().await, Ok(2));
        assert_eq!(queue.get().await, Ok(1));
        assert_eq!(queue.get_nowait(), Err(TryGetError::Empty));
        for _ in 0..3 {
            queue.task_done().unwrap();
        }
        timeout(LIMIT, queue.join())
            .await
            .expect("every item was marked done");
    });
}

#[test]
fn priority_queue_hands_out_the_lowest_item_first() {
    ferrio::run(async {
        let queue = PriorityQueue::new();
        let getter = ferrio::spawn({
            let queue = queue.clone();
            async move {
                let mut out = Vec::new();
                for _ in 0..4 {
                    out.push(queue.get().await.unwrap());
                }
                out
            }
        });
        for (p, what) in [(5, "e"), (1, "a"), (3, "c"), (2, "b")] {
            queue.put_nowait((p, what)).unwrap();
        }
        let got = timeout(LIMIT, getter)
            .await
            .expect("four items were put")
            .unwrap();
        assert_eq!(got, [(1, "a"), (2, "b"), (3, "c"), (5, "e")]);
    });
}

#[test]
fn shutdown_lets_getters_drain_then_fails_them() {
    ferrio::run(async {
        let queue = Queue::new();
        queue.put(1).await.unwrap();
        queue.put(2).await.unwrap();
        queue.shutdown(false);
        assert!(queue.is_shutdown());
        assert_eq!(queue.put(3).await, Err(QueueShutDown(3)));
        assert_eq!(queue.put_nowait(3), Err(TryPutError::ShutDown(3)));
        assert_eq!(queue.get().await, Ok(1));
        assert_eq!(queue.get_nowait(), Ok(2));
        assert_eq!(queue.get().await, Err(QueueShutDown(())));
        assert_eq!(queue.get_nowait(), Err(TryGetError::ShutDown));
    });
}

#[test]
fn shutdown_wakes_a_waiting_getter_and_a_waiting_putter() {
    ferrio::run(async {
        let empty: Queue<u32> = Queue::new();
        let getter = ferrio::spawn({
            let queue = empty.clone();
            async move { queue.get().await }
        });
        let full = Queue::bounded(1);
        full.put(1).await.unwrap();
        let putter = ferrio::spawn({
            let queue = full.clone();
            async move { queue.put(2).await }
        });
        sleep(Duration::from_millis(5)).await;
        assert!(!getter.is_finished() && !putter.is_finished());
        empty.shutdown(false);
        full.shutdown(false);
        assert_eq!(
            timeout(LIMIT, getter)
                .await
                .expect("shutdown woke the getter")
                .unwrap(),
            Err(QueueShutDown(()))
        );
        assert_eq!(
            timeout(LIMIT, putter)
                .await
                .expect("shutdown woke the putter")
                .unwrap(),
            Err(QueueShutDown(2)),
            "the putter gets its item back"
        );
        assert_eq!(
            full.get().await,
            Ok(1),
            "a non-immediate shutdown keeps items"
        );
    });
}

#[test]
fn immediate_shutdown_drops_items_and_releases_join() {
    ferrio::run(async {
        let queue = PriorityQueue::new();
        for i in 0..3 {
            queue.put(i).await.unwrap();
        }
        assert_eq!(queue.get().await, Ok(0));
        queue.task_done().unwrap();
        let joiner = ferrio::spawn({
            let queue = queue.clone();
            async move { queue.join().await }
        });
        sleep(Duration::from_millis(5)).await;
        assert!(!joiner.is_finished(), "two items are unfinished");
        queue.shutdown(true);
        assert_eq!(queue.qsize(), 0);
        assert_eq!(queue.get().await, Err(QueueShutDown(())));
        timeout(LIMIT, joiner)
            .await
            .expect("the dropped items count as done, releasing join")
            .unwrap();
    });
}

#[test]
fn an_item_taken_before_an_immediate_shutdown_still_needs_task_done() {
    ferrio::run(async {
        let queue = Queue::new();
        queue.put(1).await.unwrap();
        queue.put(2).await.unwrap();
        let _taken = queue.get().await.unwrap();
        queue.shutdown(true);
        assert!(
            timeout(Duration::from_millis(20), queue.join())
                .await
                .is_err(),
            "the taken item is still unfinished"
        );
        queue.task_done().unwrap();
        timeout(LIMIT, queue.join())
            .await
            .expect("the last task_done released join");
    });
}

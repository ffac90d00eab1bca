//! asyncio's synchronisation primitives through the facade: Queue, Event,
//! Semaphore, Mutex, oneshot.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ferrio::sync::{Event, Mutex, Queue, Semaphore, TaskDoneError, TryGetError, TryPutError};
use ferrio::time::{sleep, timeout};

#[test]
fn a_full_bounded_queue_makes_put_wait_until_a_get() {
    ferrio::run(async {
        let queue = Queue::bounded(2);
        queue.put(1).await.unwrap();
        queue.put(2).await.unwrap();
        assert!(queue.full());
        assert_eq!(queue.put_nowait(3), Err(TryPutError::Full(3)));

        // put waits while full...
        assert!(timeout(Duration::from_millis(30), queue.put(3))
            .await
            .is_err());
        assert_eq!(
            queue.qsize(),
            2,
            "a cancelled put must not have queued its item"
        );

        // ...and completes once a consumer makes room.
        let putter = ferrio::spawn({
            let queue = queue.clone();
            async move { queue.put(3).await }
        });
        sleep(Duration::from_millis(10)).await;
        assert!(!putter.is_finished());
        assert_eq!(queue.get().await, Ok(1));
        timeout(Duration::from_secs(5), putter)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(queue.get_nowait(), Ok(2));
        assert_eq!(queue.get_nowait(), Ok(3));
        assert_eq!(queue.get_nowait(), Err(TryGetError::Empty));
    });
}

#[test]
fn join_returns_only_after_every_item_is_task_done() {
    ferrio::run(async {
        let queue = Queue::new();
        for i in 0..5 {
            queue.put_nowait(i).unwrap();
        }
        let processed = Arc::new(AtomicUsize::new(0));
        let worker = ferrio::spawn({
            let (queue, processed) = (queue.clone(), processed.clone());
            async move {
                loop {
                    let _item = queue.get().await.unwrap();
                    sleep(Duration::from_millis(2)).await;
                    processed.fetch_add(1, Ordering::SeqCst);
                    queue.task_done().unwrap();
                }
            }
        });
        timeout(Duration::from_secs(5), queue.join()).await.unwrap();
        assert_eq!(processed.load(Ordering::SeqCst), 5);
        worker.abort();
        assert!(worker.await.unwrap_err().is_cancelled());
        assert_eq!(queue.task_done(), Err(TaskDoneError));
    });
}

#[test]
fn queue_get_waits_for_a_put_and_keeps_fifo_order() {
    ferrio::run(async {
        let queue: Queue<u32> = Queue::new();
        let getter = ferrio::spawn({
            let queue = queue.clone();
            async move { (queue.get().await.unwrap(), queue.get().await.unwrap()) }
        });
        sleep(Duration::from_millis(5)).await;
        queue.put(10).await.unwrap();
        queue.put(20).await.unwrap();
        assert_eq!(
            timeout(Duration::from_secs(5), getter)
                .await
                .unwrap()
                .unwrap(),
            (10, 20)
        );
    });
}

#[test]
fn a_cancelled_get_loses_no_item() {
    ferrio::run(async {
        let queue: Queue<u32> = Queue::new();
        assert!(timeout(Duration::from_millis(10), queue.get())
            .await
            .is_err());
        queue.put(1).await.unwrap();
        assert_eq!(
            timeout(Duration::from_secs(1), queue.get()).await,
            Ok(Ok(1))
        );
    });
}

#[test]
fn producers_and_consumers_move_every_item_through_a_bounded_queue() {
    let total = ferrio::run(async {
        let queue = Queue::bounded(3);
        let sum = Arc::new(AtomicUsize::new(0));
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let (queue, sum) = (queue.clone(), sum.clone());
                ferrio::spawn(async move {
                    loop {
                        let n: usize = queue.get().await.unwrap();
                        sum.fetch_add(n, Ordering::SeqCst);
                        queue.task_done().unwrap();
                    }
                })
            })
            .collect();
        let producers: Vec<_> = (0..4)
            .map(|p| {
                let queue = queue.clone();
                ferrio::spawn(async move {
                    for i in 0..250 {
                        queue.put(p * 1000 + i).await.unwrap();
                    }
                })
            })
            .collect();
        for p in producers {
            p.await.unwrap();
        }
        timeout(Duration::from_secs(10), queue.join())
            .await
            .unwrap();
        consumers.iter().for_each(|c| c.abort());
        sum.load(Ordering::SeqCst)
    });
    let expected: usize = (0..4)
        .flat_map(|p| (0..250).map(move |i| p * 1000 + i))
        .sum();
    assert_eq!(total, expected);
}

#[test]
fn event_wakes_every_waiter_when_set_and_clear_resets_it() {
    ferrio::run(async {
        let event = Event::new();
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let event = event.clone();
                ferrio::spawn(async move {
                    event.wait().await;
                    i
                })
            })
            .collect();
        sleep(Duration::from_millis(5)).await;
        assert!(waiters.iter().all(|w| !w.is_finished()));
        event.set();
        assert!(event.is_set());
        let out = timeout(Duration::from_secs(5), ferrio::gather(waiters))
            .await
            .unwrap();
        assert_eq!(
            out.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        event.clear();
        assert!(timeout(Duration::from_millis(10), event.wait())
            .await
            .is_err());
    });
}

#[test]
fn event_set_then_clear_at_once_still_releases_the_waiters_of_that_set() {
    ferrio::run(async {
        let event = Event::new();
        let waiters: Vec<_> = (0..3)
            .map(|i| {
                let event = event.clone();
                ferrio::spawn(async move {
                    event.wait().await;
                    i
                })
            })
            .collect();
        sleep(Duration::from_millis(20)).await;
        assert!(waiters.iter().all(|w| !w.is_finished()));
        // asyncio: the tasks waiting at `set()` are released even though the
        // flag is cleared before they run.
        event.set();
        event.clear();
        let out = timeout(Duration::from_secs(5), ferrio::gather(waiters))
            .await
            .expect("the set() should have released every task waiting at that moment");
        assert_eq!(
            out.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(
            timeout(Duration::from_millis(20), event.wait())
                .await
                .is_err(),
            "a wait that starts after the clear waits for the next set"
        );
    });
}

#[test]
fn semaphore_bounds_concurrency() {
    ferrio::run(async {
        let semaphore = Arc::new(Semaphore::new(2));
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (semaphore, now, peak) = (semaphore.clone(), now.clone(), peak.clone());
                ferrio::spawn(async move {
                    let _permit = semaphore.acquire().await;
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    sleep(Duration::from_millis(3)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn mutex_serialises_access_across_awaits() {
    let value = ferrio::run(async {
        let counter = Arc::new(Mutex::new(0u32));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let counter = counter.clone();
                ferrio::spawn(async move {
                    let mut guard = counter.lock().await;
                    let read = *guard;
                    ferrio::yield_now().await;
                    *guard = read + 1;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let value = *counter.lock().await;
        value
    });
    assert_eq!(value, 20);
}

#[test]
fn oneshot_delivers_a_value_or_reports_a_dropped_sender() {
    ferrio::run(async {
        let (tx, rx) = ferrio::sync::oneshot::channel::<u8>();
        ferrio::spawn(async move { tx.send(3).unwrap() });
        assert_eq!(rx.await, Ok(3));
        let (tx, rx) = ferrio::sync::oneshot::channel::<u8>();
        drop(tx);
        assert!(rx.await.is_err());
    });
}

/// The one sharing rule docs/asyncio.md states ("Sharing a primitive"):
/// the endpoints tasks talk through (`Event`, the queues, channel halves)
/// are handles that `clone()` shares; what guards or counts (`Mutex`,
/// `RwLock`, `Condition`, `Semaphore`, `BoundedSemaphore`, `Barrier`) is a
/// value shared with an `Arc`, as in std and tokio. Written as a program
/// that shares one of each with a spawned task.
#[test]
fn endpoints_are_cloned_and_locks_go_in_an_arc_as_the_guide_says() {
    use ferrio::sync::{Barrier, BoundedSemaphore, Condition, LifoQueue, PriorityQueue, RwLock};

    /// Compiles only if the type is not `Clone`: two impls of `Probe` apply
    /// to a `Clone` type, and the call cannot choose. (A macro: inside a
    /// generic function the `Clone` impl would never be considered.)
    trait Probe<A> {
        fn probe() {}
    }
    impl<T> Probe<()> for T {}
    struct IfClone;
    impl<T: Clone> Probe<IfClone> for T {}
    macro_rules! assert_not_clone {
        ($($t:ty),*) => { $(<$t as Probe<_>>::probe();)* };
    }
    fn assert_clone<T: Clone>() {}

    assert_clone::<Event>();
    assert_clone::<Queue<u8>>();
    assert_clone::<LifoQueue<u8>>();
    assert_clone::<PriorityQueue<u8>>();
    assert_not_clone!(
        Mutex<u8>,
        RwLock<u8>,
        Condition<u8>,
        Semaphore,
        BoundedSemaphore,
        Barrier
    );

    ferrio::run(async {
        let (event, queue) = (Event::new(), Queue::new());
        let total = Arc::new(Mutex::new(0));
        let ready = Arc::new(Condition::new(false));
        let limit = Arc::new(Semaphore::new(1));
        let task = ferrio::spawn({
            let (event, queue) = (event.clone(), queue.clone());
            let (total, ready, limit) = (total.clone(), ready.clone(), limit.clone());
            async move {
                let _permit = limit.acquire().await;
                event.wait().await;
                *total.lock().await += queue.get().await.unwrap();
                *ready.lock().await = true;
                ready.notify_all();
            }
        });
        queue.put(5).await.unwrap();
        event.set();
        // Woken by the task's notify_all once it has added the item.
        let done = ready.wait_for(ready.lock().await, |done| *done);
        let done = timeout(Duration::from_secs(20), done)
            .await
            .expect("the task runs");
        drop(done);
        timeout(Duration::from_secs(20), task)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(*total.lock().await, 5);
    });
}

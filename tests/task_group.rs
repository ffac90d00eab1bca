//! Structured concurrency and waiting through the facade: TaskGroup, JoinSet,
//! as_completed, wait, shield, select / select! and the moveable timeout scope.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ferrio::time::Instant;

use ferrio::time::{sleep, timeout, timeout_scope, timeout_scope_at};
use ferrio::{Either, FutureExt, JoinSet, ReturnWhen, TaskFailure, TaskGroup};

/// Sets its flag when dropped: shows that a cancelled task's future was dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Waits (bounded) until `flag` is set, yielding to the loop meanwhile.
async fn until_set(flag: &AtomicBool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !flag.load(Ordering::SeqCst) && Instant::now() < deadline {
        sleep(Duration::from_millis(1)).await;
    }
    flag.load(Ordering::SeqCst)
}

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn task_group_join_returns_outputs_in_spawn_order() {
    ferrio::run(async {
        let mut group = TaskGroup::new();
        for ms in [30u64, 1, 15] {
            group.spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                Ok::<_, String>(ms)
            });
        }
        assert_eq!(group.len(), 3);
        let out = timeout(LIMIT, group.join())
            .await
            .expect("the three tasks finish in 30 ms");
        assert_eq!(out.unwrap(), [30, 1, 15]);
    });
}

#[test]
fn task_group_first_error_cancels_the_others_and_reports_it() {
    ferrio::run(async {
        let cancelled = Arc::new(AtomicBool::new(false));
        let mut group = TaskGroup::new();
        let flag = DropFlag(cancelled.clone());
        group.spawn(async move {
            let _flag = flag;
            sleep(Duration::from_secs(60)).await;
            Ok(1)
        });
        group.spawn(async {
            sleep(Duration::from_millis(5)).await;
            Err("disk full")
        });
        let started = Instant::now();
        let err = timeout(LIMIT, group.join())
            .await
            .expect("the failure cancels the 60 s task, so join returns at once")
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(
            cancelled.load(Ordering::SeqCst),
            "the sibling's future was dropped before join returned"
        );
        assert_eq!(err.failures().len(), 1);
        assert_eq!(
            err.returned_errors().copied().collect::<Vec<_>>(),
            ["disk full"]
        );
        assert_eq!(err.to_string(), "1 task of the group failed: disk full");
    });
}

#[test]
fn task_group_collects_every_failure_including_panics() {
    ferrio::run(async {
        let mut group: TaskGroup<(), String> = TaskGroup::new();
        group.spawn(async { Err("first".to_string()) });
        group.spawn(async { panic!("second") });
        // Both fail in their first step, before the cancellation reaches them.
        let err = timeout(LIMIT, group.join())
            .await
            .expect("both tasks fail at once")
            .unwrap_err();
        assert_eq!(err.failures().len(), 2, "{err:?}");
        assert!(err
            .failures()
            .iter()
            .any(|f| matches!(f, TaskFailure::Error(e) if e == "first")));
        assert!(err
            .failures()
            .iter()
            .any(|f| matches!(f, TaskFailure::Panicked(p) if p.is_panic())));
        let text = err.to_string();
        assert!(text.starts_with("2 tasks of the group failed: "), "{text}");
        assert!(text.contains("panicked: second"), "{text}");
        let _: &dyn std::error::Error = &err;
    });
}

#[test]
fn a_group_that_failed_by_a_panic_reports_it_in_errors_with_its_message() {
    ferrio::run(async {
        let mut group: TaskGroup<u32, String> = TaskGroup::new();
        group.spawn(async { Ok(1) });
        let row = 42;
        group.spawn(async move { panic!("no row {row}") });
        // Woken when the panicking task ends (its first poll).
        let err = timeout(LIMIT, group.join())
            .await
            .expect("the panic ends the group at once")
            .unwrap_err();
        // asyncio's `for exc in eg.exceptions`: the panic is one of them.
        let errors: Vec<&TaskFailure<String>> = err.errors().collect();
        assert_eq!(errors.len(), 1, "{err:?}");
        assert!(matches!(errors[0], TaskFailure::Panicked(_)), "{err:?}");
        assert_eq!(errors[0].panic_message(), Some("no row 42"));
        assert_eq!(errors[0].error(), None);
        assert!(errors[0].to_string().ends_with("panicked: no row 42"));
        let as_error: &dyn std::error::Error = errors[0];
        assert!(as_error.to_string().contains("no row 42"));
        assert_eq!(err.returned_errors().count(), 0);
    });
}

#[test]
fn dropping_a_task_group_cancels_its_tasks() {
    ferrio::run(async {
        let dropped = Arc::new(AtomicBool::new(false));
        let mut group: TaskGroup<(), ()> = TaskGroup::new();
        let flag = DropFlag(dropped.clone());
        group.spawn(async move {
            let _flag = flag;
            sleep(Duration::from_secs(60)).await;
            Ok(())
        });
        ferrio::yield_now().await; // the task starts and waits on its sleep
        drop(group);
        assert!(
            until_set(&dropped).await,
            "the dropped group's task destructor should run within 5 s"
        );
    });
}

#[test]
fn a_timeout_around_join_cancels_the_group() {
    ferrio::run(async {
        let dropped = Arc::new(AtomicBool::new(false));
        let mut group: TaskGroup<(), ()> = TaskGroup::new();
        let flag = DropFlag(dropped.clone());
        group.spawn(async move {
            let _flag = flag;
            sleep(Duration::from_secs(60)).await;
            Ok(())
        });
        assert!(timeout(Duration::from_millis(10), group.join())
            .await
            .is_err());
        assert!(
            until_set(&dropped).await,
            "the task of the timed-out group should be dropped within 5 s"
        );
    });
}

#[test]
fn join_set_yields_results_as_they_finish_with_ids() {
    ferrio::run(async {
        let mut set = JoinSet::new();
        let slow = set.spawn(async {
            sleep(Duration::from_millis(40)).await;
            "slow"
        });
        let fast = set.spawn(async {
            sleep(Duration::from_millis(1)).await;
            "fast"
        });
        let (id, first) = timeout(LIMIT, set.join_next_with_id())
            .await
            .expect("the fast task finishes in 1 ms")
            .unwrap();
        assert_eq!((id, first.unwrap()), (fast, "fast"));
        let (id, second) = timeout(LIMIT, set.join_next_with_id())
            .await
            .expect("the slow task finishes in 40 ms")
            .unwrap();
        assert_eq!((id, second.unwrap()), (slow, "slow"));
        assert!(set.join_next().await.is_none());
        assert!(set.is_empty());
    });
}

#[test]
fn join_set_abort_all_and_drop_cancel_tasks() {
    ferrio::run(async {
        let mut set = JoinSet::new();
        for _ in 0..3 {
            set.spawn(sleep(Duration::from_secs(60)));
        }
        set.abort_all();
        let results = timeout(LIMIT, set.join_all())
            .await
            .expect("aborted tasks finish at once");
        assert_eq!(results.len(), 3);
        assert!(results
            .iter()
            .all(|r| r.as_ref().unwrap_err().is_cancelled()));

        let dropped = Arc::new(AtomicBool::new(false));
        let mut set = JoinSet::new();
        let flag = DropFlag(dropped.clone());
        set.spawn(async move {
            let _flag = flag;
            sleep(Duration::from_secs(60)).await;
        });
        drop(set);
        assert!(
            until_set(&dropped).await,
            "a dropped JoinSet's task should be dropped within 5 s"
        );

        let mut set = JoinSet::new();
        for _ in 0..4 {
            set.spawn(sleep(Duration::from_secs(60)));
        }
        timeout(LIMIT, set.shutdown())
            .await
            .expect("shutdown waits only for the cancellations");
        assert!(set.is_empty());
    });
}

#[test]
fn as_completed_yields_outputs_in_finishing_order() {
    ferrio::run(async {
        let mut done = ferrio::as_completed([25u64, 1, 12].map(|ms| async move {
            sleep(Duration::from_millis(ms)).await;
            ms
        }));
        let mut order = Vec::new();
        while let Some(ms) = timeout(LIMIT, done.next())
            .await
            .expect("every future finishes within 25 ms")
        {
            order.push(ms);
        }
        assert_eq!(order, [1, 12, 25]);
    });
}

#[test]
fn wait_first_completed_returns_done_and_pending() {
    ferrio::run(async {
        let tasks: Vec<_> = [60_000u64, 5]
            .into_iter()
            .map(|ms| {
                ferrio::spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                    ms
                })
            })
            .collect();
        let (done, pending) = ferrio::wait(tasks, ReturnWhen::FirstCompleted, Some(LIMIT)).await;
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].0, 1);
        assert_eq!(*done[0].1.as_ref().unwrap(), 5);
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].0, 0);
        assert!(
            !pending[0].1.is_finished(),
            "wait does not cancel the pending"
        );
        pending[0].1.abort();
    });
}

#[test]
fn wait_first_exception_stops_at_the_first_err() {
    ferrio::run(async {
        let ok = ferrio::spawn(async { Ok::<u32, &str>(1) });
        let bad = ferrio::spawn(async {
            sleep(Duration::from_millis(5)).await;
            Err("bad")
        });
        let slow = ferrio::spawn(async {
            sleep(Duration::from_secs(60)).await;
            Ok(3)
        });
        // A task's own Err counts once the join error is flattened into it.
        let flat: Vec<_> = [ok, bad, slow]
            .into_iter()
            .map(|t| {
                Box::pin(async move { t.await.map_err(|e| e.to_string())?.map_err(String::from) })
            })
            .collect();
        let (done, pending) = ferrio::wait(flat, ReturnWhen::FirstException, Some(LIMIT)).await;
        let done: Vec<_> = done.into_iter().map(|(i, r)| (i, r.is_ok())).collect();
        assert_eq!(done, [(0, true), (1, false)]);
        assert_eq!(pending.len(), 1);
    });
}

#[test]
fn wait_all_completed_with_timeout_returns_what_finished() {
    ferrio::run(async {
        let tasks: Vec<_> = [1u64, 60_000]
            .into_iter()
            .map(|ms| {
                ferrio::spawn(async move {
                    sleep(Duration::from_millis(ms)).await;
                })
            })
            .collect();
        let started = Instant::now();
        let (done, pending) = ferrio::wait(
            tasks,
            ReturnWhen::AllCompleted,
            Some(Duration::from_millis(30)),
        )
        .await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the 30 ms timeout woke wait"
        );
        assert_eq!((done.len(), pending.len()), (1, 1));
        let (_, task) = pending.into_iter().next().unwrap();
        task.abort();
        assert!(timeout(LIMIT, task)
            .await
            .unwrap()
            .unwrap_err()
            .is_cancelled());
    });
}

#[test]
fn shield_keeps_the_inner_task_running_when_the_outer_is_dropped() {
    ferrio::run(async {
        let finished = Arc::new(AtomicBool::new(false));
        let work = {
            let finished = finished.clone();
            async move {
                sleep(Duration::from_millis(20)).await;
                finished.store(true, Ordering::SeqCst);
            }
        };
        assert!(timeout(Duration::from_millis(1), ferrio::shield(work))
            .await
            .is_err());
        assert!(!finished.load(Ordering::SeqCst));
        assert!(
            until_set(&finished).await,
            "the shielded work finishes on its own within 5 s"
        );
    });
}

#[test]
fn select_takes_futures_that_are_not_unpin() {
    ferrio::run(async {
        let fast = async {
            sleep(Duration::from_millis(1)).await;
            "fast"
        };
        let slow = async {
            sleep(Duration::from_millis(20)).await;
            "slow"
        };
        let rest = match timeout(LIMIT, ferrio::select(slow, fast)).await.unwrap() {
            Either::Right((winner, rest)) => {
                assert_eq!(winner, "fast");
                rest
            }
            Either::Left(_) => panic!("the 20 ms sleep must not win over the 1 ms one"),
        };
        assert_eq!(timeout(LIMIT, rest).await.unwrap(), "slow");
    });
}

#[test]
fn select_macro_runs_the_first_ready_branch_and_drops_the_others() {
    ferrio::run(async {
        let dropped = Arc::new(AtomicBool::new(false));
        let flag = DropFlag(dropped.clone());
        let loser = async move {
            let _flag = flag;
            sleep(Duration::from_secs(60)).await;
            "loser"
        };
        let queue = ferrio::sync::Queue::new();
        queue.put_nowait(5).unwrap();
        let got = timeout(LIMIT, async {
            ferrio::select! {
                v = queue.get().fuse() => v.unwrap(),
                _ = loser.fuse() => 0,
            }
        })
        .await
        .expect("the queue has an item, so select! returns at once");
        assert_eq!(got, 5);
        assert!(
            dropped.load(Ordering::SeqCst),
            "the branch not taken was dropped"
        );
    });
}

#[test]
fn timeout_scope_expires_and_says_so() {
    ferrio::run(async {
        let started = Instant::now();
        let mut handle = None;
        let out = timeout_scope(Duration::from_millis(20), |cm| {
            handle = Some(cm);
            sleep(Duration::from_secs(60))
        })
        .await;
        assert!(out.is_err(), "the 20 ms deadline ended the 60 s sleep");
        assert!(started.elapsed() < Duration::from_secs(5));
        let handle = handle.unwrap();
        assert!(handle.expired());
        // Too late to move it now.
        handle.reschedule(None);
        assert!(handle.deadline().is_some());
    });
}

#[test]
fn timeout_scope_reschedule_extends_and_shortens_the_deadline() {
    ferrio::run(async {
        // Extended from inside the block.
        let out = timeout_scope(Duration::from_millis(10), |cm| async move {
            cm.reschedule(Some(Instant::now() + LIMIT));
            sleep(Duration::from_millis(40)).await;
            assert!(!cm.expired());
            7
        })
        .await;
        assert_eq!(out, Ok(7));

        // Shortened from another thread, while no deadline was set.
        let scope = timeout_scope_at(None, |_| sleep(Duration::from_secs(60)));
        let handle = scope.handle();
        assert_eq!(handle.deadline(), None);
        let mover = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            handle.reschedule(Some(Instant::now()));
            handle
        });
        let started = Instant::now();
        let out = timeout(LIMIT, scope)
            .await
            .expect("the reschedule from the thread wakes the scope");
        assert!(out.is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(mover.join().unwrap().expired());
    });
}

#[test]
fn tasks_of_a_group_spawn_more_tasks_into_it() {
    ferrio::run(async {
        let mut group = TaskGroup::new();
        let spawner = group.spawner();
        group.spawn(async move {
            let grandchild = spawner.clone();
            spawner
                .spawn(async move {
                    sleep(Duration::from_millis(10)).await;
                    // Spawned after its parent finished: the group still waits for it.
                    grandchild
                        .spawn(async { Ok::<_, String>("third") })
                        .unwrap();
                    Ok("second")
                })
                .unwrap();
            Ok("first")
        });
        let out = timeout(LIMIT, group.join())
            .await
            .expect("the three tasks finish within 10 ms");
        assert_eq!(out.unwrap(), ["first", "second", "third"]);
    });
}

#[test]
fn a_failed_finished_or_dropped_group_refuses_spawns() {
    // One worker: "sent in but never taken" below relies on the group not
    // running before main drops it, which another worker could do meanwhile.
    let mut rt = ferrio::Runtime::builder().workers(1).build().unwrap();
    rt.block_on(async {
        let ran = Arc::new(AtomicBool::new(false));
        let late = |ran: Arc<AtomicBool>| async move {
            ran.store(true, Ordering::SeqCst);
            Ok::<(), &str>(())
        };

        // Failed: the sibling that tries to spawn after the failure is refused.
        let mut group = TaskGroup::new();
        let spawner = group.spawner();
        group.spawn(async { Err("boom") });
        let refused = Arc::new(AtomicBool::new(false));
        group.spawn({
            let (ran, refused) = (ran.clone(), refused.clone());
            async move {
                sleep(Duration::from_millis(20)).await; // cancelled before this ends
                let _ = spawner.spawn(late(ran));
                refused.store(true, Ordering::SeqCst);
                Ok(())
            }
        });
        let spawner = group.spawner();
        assert!(timeout(LIMIT, group.join()).await.unwrap().is_err());
        assert_eq!(
            spawner.spawn(late(ran.clone())),
            Err(ferrio::TaskGroupClosed)
        );
        assert!(!refused.load(Ordering::SeqCst), "the sibling was cancelled");

        // Finished.
        let group: TaskGroup<(), &str> = TaskGroup::new();
        let spawner = group.spawner();
        assert!(timeout(LIMIT, group.join())
            .await
            .unwrap()
            .unwrap()
            .is_empty());
        assert_eq!(
            spawner.spawn(late(ran.clone())),
            Err(ferrio::TaskGroupClosed)
        );

        // Dropped, with a task sent in but never taken: it is cancelled unrun.
        let group: TaskGroup<(), &str> = TaskGroup::new();
        let spawner = group.spawner();
        spawner.spawn(late(ran.clone())).unwrap();
        drop(group);
        assert_eq!(
            spawner.spawn(late(ran.clone())),
            Err(ferrio::TaskGroupClosed)
        );
        sleep(Duration::from_millis(10)).await;
        assert!(
            !ran.load(Ordering::SeqCst),
            "no refused or cancelled-before-start task ever ran"
        );
    });
}

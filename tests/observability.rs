//! Observability through the facade, as a user meets it: task names and
//! spawn sites, `JoinHandle`'s repr, the current task, debug mode's slow-poll
//! and watchdog warnings, unobserved panics, the task dump's wait tags, the
//! counters, and the trace file.
//!
//! Warnings are read back through a small `log::Log` that keeps every record;
//! tests run in parallel, so each looks only for the names it gave its tasks.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use ferrio::task::{Builder, TaskState, WaitKind};
use ferrio::time::{sleep, timeout};
use serde_json::Value;

/// Every log record of this test binary: (target, level, message).
struct Capture(Mutex<Vec<(String, log::Level, String)>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let entry = (
            record.target().to_owned(),
            record.level(),
            record.args().to_string(),
        );
        self.0.lock().unwrap().push(entry);
    }
    fn flush(&self) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(capture).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Debug);
        capture
    })
}

/// The captured messages at `level` whose target is `target` and that contain `needle`.
fn logged(target: &str, level: log::Level, needle: &str) -> Vec<String> {
    capture()
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(t, l, m)| t == target && *l == level && m.contains(needle))
        .map(|(_, _, m)| m.clone())
        .collect()
}

/// Runs `f` on a runtime built by `builder`, failing after 20 s.
fn run_within<T>(builder: ferrio::Builder, f: impl std::future::Future<Output = T>) -> T {
    let mut rt = builder.build().unwrap();
    rt.block_on(timeout(Duration::from_secs(20), f))
        .expect("the test's own work finished within 20 s")
}

#[test]
fn a_task_name_is_any_string_as_with_tokio() {
    ferrio::run(async {
        let id = 3;
        // tokio's `Builder::name` takes `&str`, so ported code passes
        // `&format!(..)`: the borrow is the point here.
        #[allow(clippy::needless_borrows_for_generic_args)]
        let borrowed = Builder::new().name(&format!("fetch {id}")).spawn(async {});
        let owned = Builder::new().name(format!("owned {id}")).spawn(async {});
        let literal = Builder::new().name("literal").spawn(async {});
        let shared: std::sync::Arc<str> = "shared".into();
        let arc = Builder::new().name(shared).spawn(async {});
        assert_eq!(borrowed.name(), Some("fetch 3"));
        assert_eq!(owned.name(), Some("owned 3"));
        assert_eq!(literal.name(), Some("literal"));
        assert_eq!(arc.name(), Some("shared"));
        for task in [borrowed, owned, literal, arc] {
            timeout(Duration::from_secs(20), task)
                .await
                .expect("an empty task ends at its first poll")
                .unwrap();
        }
    });
}

#[test]
fn join_handle_debug_reads_like_an_asyncio_task_repr() {
    ferrio::run(async {
        let task = Builder::new().name("fetch 3").spawn(async { 3 });
        let line = line!() - 1;
        let site = task.location();
        assert_eq!((site.file(), site.line()), (file!(), line));
        assert_eq!(
            format!("{task:?}"),
            format!(
                "<Task pending name='fetch 3' id={} spawned at {site}>",
                task.id()
            )
        );
        assert_eq!(task.name(), Some("fetch 3"));
        let unnamed = ferrio::spawn(async {});
        assert_eq!(
            format!("{unnamed:?}"),
            format!(
                "<Task pending id={} spawned at {}>",
                unnamed.id(),
                unnamed.location()
            )
        );
        assert_eq!(task.await.unwrap(), 3);
    });
}

/// The line of the `spawn` call that made the task polling this.
async fn my_spawn_line() -> u32 {
    ferrio::task::current()
        .expect("polled as a task")
        .location()
        .line()
}

#[test]
fn join_set_task_group_and_handle_spawns_record_the_callers_line() {
    run_within(ferrio::Runtime::builder(), async {
        let mut set = ferrio::JoinSet::new();
        set.spawn(my_spawn_line());
        let set_line = line!() - 1;
        let from_set = set.join_next().await.expect("one task in the set");
        assert_eq!(from_set.unwrap(), set_line, "JoinSet::spawn's caller");

        let mut group = ferrio::TaskGroup::<u32, String>::new();
        group.spawn(async { Ok(my_spawn_line().await) });
        let group_line = line!() - 1;
        let from_group = group.join().await.expect("the group's one task succeeds");
        assert_eq!(from_group, vec![group_line], "TaskGroup::spawn's caller");

        let handle = ferrio::Handle::current().spawn(my_spawn_line());
        let handle_line = line!() - 1;
        assert_eq!(
            handle.location().line(),
            handle_line,
            "Handle::spawn's caller"
        );
        assert_eq!(handle.await.unwrap(), handle_line);
    });
}

#[test]
fn current_task_is_the_task_being_polled() {
    ferrio::run(async {
        assert!(ferrio::task::current().is_none(), "main is not a task");
        let task = Builder::new().name("me").spawn_local(async {
            let me = ferrio::task::current().expect("inside a task");
            (me.id(), me.name().map(str::to_owned), me.location().line())
        });
        let line = line!() - 4;
        let id = task.id();
        assert_eq!(task.await.unwrap(), (id, Some("me".to_owned()), line));
    });
}

#[test]
fn slow_poll_is_logged_with_name_spawn_site_and_duration() {
    capture();
    let builder = ferrio::Runtime::builder()
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(30));
    let site = run_within(builder, async {
        let task = Builder::new().name("slow-poller").spawn(async {
            std::thread::sleep(Duration::from_millis(60));
        });
        let site = task.location().to_string();
        task.await.unwrap();
        site
    });
    let warnings = logged("ferrio::slow_poll", log::Level::Warn, "'slow-poller'");
    assert_eq!(
        warnings.len(),
        1,
        "one slow poll, one warning: {warnings:?}"
    );
    assert!(
        warnings[0].contains(&format!("spawned at {site}"))
            && warnings[0].contains("ms in one poll"),
        "the warning names the spawn site and the duration: {}",
        warnings[0]
    );
    // A poll under the threshold is not reported.
    assert!(logged("ferrio::slow_poll", log::Level::Warn, "'quick'").is_empty());
}

#[test]
fn a_slow_poll_of_the_main_future_is_logged_with_the_block_on_call_site() {
    capture();
    let mut rt = ferrio::Runtime::builder()
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(30))
        .build()
        .unwrap();
    rt.block_on(async { std::thread::sleep(Duration::from_millis(60)) });
    let site = format!("spawned at {}:{}:", file!(), line!() - 1);
    let warnings = logged("ferrio::slow_poll", log::Level::Warn, &site);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("the main future (block_on's)"),
        "{}",
        warnings[0]
    );
}

#[test]
fn watchdog_reports_a_task_blocked_in_thread_sleep_while_it_is_blocked() {
    capture();
    let builder = ferrio::Runtime::builder()
        .debug(true)
        .watchdog_threshold(Duration::from_millis(100));
    let seen_while_blocked = run_within(builder, async {
        Builder::new()
            .name("blocker")
            .spawn(async {
                // Block the loop, and look for the watchdog's report from
                // inside the blocked poll: it must come before we return.
                let deadline = Instant::now() + Duration::from_secs(10);
                while Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                    if !logged("ferrio::watchdog", log::Level::Warn, "'blocker'").is_empty() {
                        return true;
                    }
                }
                false
            })
            .await
            .unwrap()
    });
    assert!(
        seen_while_blocked,
        "the watchdog thread logged the blocked poll within 10 s, while it was still blocked"
    );
    let reports = logged("ferrio::watchdog", log::Level::Warn, "'blocker'");
    assert_eq!(reports.len(), 1, "one report per stuck poll: {reports:?}");
    assert!(
        reports[0].contains("tests/observability.rs:"),
        "{}",
        reports[0]
    );
}

#[test]
fn a_panic_whose_join_handle_was_dropped_is_logged() {
    capture();
    ferrio::run(async {
        // Dropped before the task ran...
        drop(
            Builder::new()
                .name("doomed early")
                .spawn(async { panic!("boom 1") }),
        );
        // ...and dropped after it had finished, its error never looked at.
        let late = Builder::new()
            .name("doomed late")
            .spawn(async { panic!("boom 2") });
        while !late.is_finished() {
            ferrio::yield_now().await;
        }
        drop(late);
        // Awaited: observed, so not logged.
        let seen = Builder::new()
            .name("observed")
            .spawn(async { panic!("boom 3") });
        assert!(seen.await.unwrap_err().is_panic());
    });
    for (name, msg) in [("'doomed early'", "boom 1"), ("'doomed late'", "boom 2")] {
        let warnings = logged("ferrio::task", log::Level::Warn, name);
        assert_eq!(warnings.len(), 1, "{name}: {warnings:?}");
        assert!(
            warnings[0].contains(msg) && warnings[0].contains("spawned at tests/observability.rs:")
        );
    }
    assert!(logged("ferrio::task", log::Level::Warn, "'observed'").is_empty());
}

#[test]
fn dump_names_the_socket_timer_queue_and_join_each_task_waits_on() {
    dump_names_what_each_task_waits_on(ferrio::Runtime::builder().workers(1).debug(true));
}

#[test]
fn on_two_workers_the_dump_names_what_every_task_waits_on_whichever_worker_ran_it() {
    dump_names_what_each_task_waits_on(ferrio::Runtime::builder().workers(2).debug(true));
}

fn dump_names_what_each_task_waits_on(builder: ferrio::Builder) {
    run_within(builder, async {
        let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = ferrio::net::TcpStream::connect(addr).await.unwrap();
        let (_server_side, _) = listener.accept().await.unwrap();
        let client_addr = client.local_addr().unwrap();
        let reader = Builder::new().name("reader").spawn(async move {
            let mut buf = [0u8; 16];
            let _ = ferrio::io::AsyncReadExt::read(&mut &client, &mut buf).await;
        });
        let sleeper = Builder::new().name("sleeper").spawn(async {
            sleep(Duration::from_secs(60)).await;
        });
        let sleeper_repr = format!("{sleeper:?}");
        let queue = ferrio::sync::Queue::<u8>::new();
        let getter = Builder::new().name("getter").spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        let joiner = Builder::new().name("joiner").spawn(sleeper);
        // Let every task start and wait.
        sleep(Duration::from_millis(20)).await;

        let dump = ferrio::task::dump();
        let text = dump.to_string();
        let waits = |id: u64| -> Vec<String> {
            let task = dump
                .task(id)
                .unwrap_or_else(|| panic!("task {id} in\n{text}"));
            assert_eq!(task.state(), TaskState::Idle, "{text}");
            assert!(task.polls().unwrap() >= 1 && task.age().is_some(), "{text}");
            task.waits().iter().map(ToString::to_string).collect()
        };
        assert_eq!(
            waits(reader.id()),
            [format!("socket read tcp {client_addr} -> {addr}")],
            "{text}"
        );
        let sleeper_wait = &dump
            .tasks()
            .iter()
            .find(|t| t.info().name() == Some("sleeper"))
            .unwrap()
            .waits()[0];
        assert_eq!(sleeper_wait.kind(), WaitKind::Timer, "{text}");
        assert!(sleeper_wait.deadline().unwrap() > Instant::now() + Duration::from_secs(50));
        assert_eq!(waits(getter.id()), ["queue get (empty)"], "{text}");
        assert_eq!(
            waits(joiner.id()),
            [format!("join {sleeper_repr}")],
            "{text}"
        );
        for name in [
            "'reader'",
            "'sleeper'",
            "'getter'",
            "'joiner'",
            "socket read",
            "timer in",
            "queue get",
            "join <Task",
        ] {
            assert!(text.contains(name), "the table shows {name}:\n{text}");
        }
        println!("{text}");
        queue.put_nowait(1).unwrap();
        assert_eq!(getter.await.unwrap(), Ok(1));
        reader.abort();
        joiner.abort();
    });
}

/// Without debug mode (a production process a person attaches to), the
/// dump still says what kind of thing each idle task waits on; the details
/// (addresses, deadlines) need debug mode.
#[test]
fn without_debug_mode_the_dump_still_names_the_kind_each_task_waits_on() {
    for workers in [1, 2] {
        let builder = ferrio::Runtime::builder().workers(workers).debug(false);
        run_within(builder, async {
            let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = ferrio::net::TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (_server_side, _) = listener.accept().await.unwrap();
            let reader = ferrio::spawn(async move {
                let mut buf = [0u8; 16];
                let _ = ferrio::io::AsyncReadExt::read(&mut &client, &mut buf).await;
            });
            let sleeper = ferrio::spawn(sleep(Duration::from_secs(60)));
            let queue = ferrio::sync::Queue::<u8>::new();
            let getter = ferrio::spawn({
                let queue = queue.clone();
                async move { queue.get().await }
            });
            let lock = std::sync::Arc::new(ferrio::sync::Mutex::new(()));
            let held = lock.lock().await;
            let locker = ferrio::spawn({
                let lock = lock.clone();
                async move { drop(lock.lock().await) }
            });
            let joiner = ferrio::spawn(sleeper);
            // Woken by this timer once every task above has run and parked.
            sleep(Duration::from_millis(20)).await;

            let dump = ferrio::task::dump();
            let text = dump.to_string();
            let kind = |id: u64| {
                let task = dump
                    .task(id)
                    .unwrap_or_else(|| panic!("task {id} in\n{text}"));
                assert_eq!(task.state(), TaskState::Idle, "{text}");
                assert!(task.polls().is_none(), "timing columns stay off: {text}");
                task.waits().iter().map(|w| w.kind()).collect::<Vec<_>>()
            };
            assert_eq!(kind(reader.id()), [WaitKind::Socket], "{text}");
            assert_eq!(kind(getter.id()), [WaitKind::Queue], "{text}");
            assert_eq!(kind(locker.id()), [WaitKind::Lock], "{text}");
            assert_eq!(kind(joiner.id()), [WaitKind::Join], "{text}");
            for word in ["socket", "queue", "lock", "join"] {
                assert!(text.contains(word), "the table shows {word}:\n{text}");
            }
            queue.put_nowait(1).unwrap();
            assert_eq!(getter.await.unwrap(), Ok(1));
            drop(held);
            locker.await.unwrap();
            reader.abort();
            joiner.abort();
        });
    }
}

#[test]
fn dump_names_the_mutex_rwlock_and_semaphore_each_task_waits_on() {
    use std::sync::Arc;
    // One worker: `yield_now` below lets each task take its first step
    // before main dumps (on several, a task may still be in its first poll
    // on another worker, and such a task is not in the dump yet).
    let builder = ferrio::Runtime::builder().workers(1).debug(true);
    run_within(builder, async {
        let mutex = Arc::new(ferrio::sync::Mutex::new(0u8));
        let rwlock = Arc::new(ferrio::sync::RwLock::new(0u8));
        let semaphore = Arc::new(ferrio::sync::Semaphore::new(1));
        // Main holds all three, so each task below has to wait.
        let held = (
            mutex.lock().await,
            rwlock.write().await,
            semaphore.acquire().await,
        );
        let locker = Builder::new().name("locker").spawn({
            let mutex = mutex.clone();
            async move { *mutex.lock().await += 1 }
        });
        let reader = Builder::new().name("reader").spawn({
            let rwlock = rwlock.clone();
            async move { *rwlock.read().await }
        });
        let permit = Builder::new().name("permit").spawn({
            let semaphore = semaphore.clone();
            async move { drop(semaphore.acquire_arc().await) }
        });
        // Woken by: each task's first poll, which finds its lock taken.
        ferrio::yield_now().await;

        let dump = ferrio::task::dump();
        let text = dump.to_string();
        let waits = |id: u64| -> Vec<String> {
            let task = dump
                .task(id)
                .unwrap_or_else(|| panic!("task {id} in\n{text}"));
            task.waits().iter().map(ToString::to_string).collect()
        };
        assert_eq!(waits(locker.id()), ["lock mutex"], "{text}");
        assert_eq!(waits(reader.id()), ["lock rwlock read"], "{text}");
        assert_eq!(waits(permit.id()), ["lock semaphore"], "{text}");
        assert!(
            dump.tasks()
                .iter()
                .all(|t| t.waits()[0].kind() == WaitKind::Lock),
            "{text}"
        );
        // Released: each one gets its turn (woken by the guards' drops).
        drop(held);
        locker.await.unwrap();
        assert_eq!(reader.await.unwrap(), 0);
        permit.await.unwrap();
        assert_eq!(*mutex.lock().await, 1);
    });
}

#[test]
fn metrics_add_up_on_a_known_workload() {
    // One worker: the exact counts below (one queue, its high-water mark)
    // are one loop's; several workers split them (tests/workers.rs).
    let mut rt = ferrio::Runtime::builder().workers(1).build().unwrap();
    rt.block_on(timeout(Duration::from_secs(20), async {
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                ferrio::spawn(async {
                    for _ in 0..3 {
                        ferrio::yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        sleep(Duration::from_millis(2)).await;
        sleep(Duration::from_millis(2)).await;
        // A task woken from another thread: the blocking job's completion.
        ferrio::spawn(async { ferrio::spawn_blocking(|| ()).await.unwrap() })
            .await
            .unwrap();
    }))
    .expect("the workload finished within 20 s");
    let m = rt.metrics();
    println!("{m}");
    let e = &m.executor;
    assert_eq!((e.tasks_spawned, e.tasks_alive), (11, 0), "{m}");
    // Each yielding task: a first poll, then one per yield; the last task: two.
    assert_eq!(e.polls, 10 * 4 + 2, "{m}");
    assert_eq!(e.local_wakes, 30, "each yield wakes its task once: {m}");
    assert_eq!(e.queue_max, 10, "all ten were queued at once: {m}");
    assert_eq!(e.queue_depth, 0, "{m}");
    assert_eq!(
        e.remote_wakes, 1,
        "the blocking job's completion came from its thread: {m}"
    );
    assert!(e.parks >= 2 && e.parked >= Duration::from_millis(3), "{m}");
    assert_eq!(e.blocking_threads, 1, "{m}");
    // The two sleeps, and the 20 s timeout that never fired.
    assert_eq!(
        (m.reactor.timers_armed, m.reactor.timers_fired),
        (3, 2),
        "{m}"
    );
}

#[test]
fn trace_file_is_trace_event_json_with_poll_slices_and_wake_flows() {
    let path = std::env::temp_dir().join(format!("ferrio-trace-test-{}.json", std::process::id()));
    // One worker: the flows below cross workers on several (test below).
    let builder = ferrio::Runtime::builder().workers(1).trace(&path);
    let (pinger, ponger) = run_within(builder, async {
        let (tx, rx) = ferrio::sync::oneshot::channel();
        let ponger = Builder::new().name("ponger").spawn(async move {
            sleep(Duration::from_millis(5)).await; // woken by the timer
            tx.send(()).unwrap(); // wakes pinger: a task-to-task arrow
        });
        let pinger = Builder::new().name("pinger").spawn(async move {
            rx.await.unwrap();
            ferrio::spawn_blocking(|| std::thread::sleep(Duration::from_millis(2)))
                .await
                .unwrap(); // woken from the pool's thread
        });
        let ids = (pinger.id(), ponger.id());
        pinger.await.unwrap();
        ponger.await.unwrap();
        ids
    });
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let events = doc["traceEvents"].as_array().expect("a traceEvents array");
    let of = |ph: &'static str| events.iter().filter(move |e| e["ph"] == ph);

    let names: HashMap<u64, String> = of("M")
        .filter(|e| e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(names[&pinger].starts_with("pinger (task "), "{names:?}");
    assert!(names[&ponger].starts_with("ponger (task "), "{names:?}");

    let slices: Vec<&Value> = of("X").collect();
    for e in &slices {
        assert!(
            e["ts"].as_f64().is_some() && e["dur"].as_f64().unwrap() >= 0.0,
            "{e}"
        );
    }
    let polls = |tid: u64| {
        slices
            .iter()
            .filter(|e| e["tid"] == tid && e["name"] == "poll")
            .count()
    };
    assert_eq!(polls(ponger), 2, "ponger: first poll, then after its timer");
    assert_eq!(
        polls(pinger),
        3,
        "pinger: first poll, after the reply, after the blocking job"
    );
    assert!(
        slices.iter().any(|e| e["name"] == "park"),
        "the loop's parks are there"
    );
    assert!(
        slices.iter().any(|e| e["name"] == "spawn_blocking"),
        "the blocking job is there"
    );

    // Every flow that ends has begun, and the wakes we caused are there.
    let starts: HashMap<u64, &Value> = of("s").map(|e| (e["id"].as_u64().unwrap(), e)).collect();
    let ends: Vec<&Value> = of("f").collect();
    let mut kinds = HashSet::new();
    for end in &ends {
        let start = starts
            .get(&end["id"].as_u64().unwrap())
            .expect("each flow end has a start");
        assert!(
            start["ts"].as_f64() <= end["ts"].as_f64(),
            "{start} before {end}"
        );
        if end["tid"] == pinger || end["tid"] == ponger {
            kinds.insert((
                start["name"].as_str().unwrap().to_owned(),
                end["tid"].as_u64().unwrap(),
            ));
        }
    }
    for expected in [
        ("wake by timer".to_owned(), ponger),
        ("wake by task".to_owned(), pinger),
        ("wake by other thread".to_owned(), pinger),
        ("wake by main".to_owned(), pinger),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} in {kinds:?}");
    }
}

#[test]
fn on_several_workers_the_watchdog_says_which_worker_is_stuck_and_the_others_run_on() {
    capture();
    let builder = ferrio::Runtime::builder()
        .workers(2)
        .debug(true)
        .watchdog_threshold(Duration::from_millis(100));
    let (report, others_ran) = run_within(builder, async {
        let stuck = Builder::new().name("stuck-on-a-worker").spawn(async {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
                let reports = logged("ferrio::watchdog", log::Level::Warn, "'stuck-on-a-worker'");
                if let Some(r) = reports.into_iter().next() {
                    return Some(r);
                }
            }
            None
        });
        // Meanwhile the other worker runs tasks and timers.
        let mut others_ran = 0;
        for _ in 0..5 {
            ferrio::spawn(async { sleep(Duration::from_millis(5)).await })
                .await
                .unwrap();
            others_ran += 1;
        }
        (stuck.await.unwrap(), others_ran)
    });
    let report = report.expect("the watchdog reported the stuck poll within 10 s");
    assert!(
        report.contains("worker 0 of") || report.contains("worker 1 of"),
        "{report}"
    );
    assert_eq!(others_ran, 5);
}

#[test]
fn a_trace_of_two_workers_has_a_track_group_per_worker_with_every_poll() {
    let path = std::env::temp_dir().join(format!(
        "ferrio-trace-workers-test-{}.json",
        std::process::id()
    ));
    let builder = ferrio::Runtime::builder().workers(2).trace(&path);
    let ids = run_within(builder, async {
        // Blocking polls, so both workers take some.
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                Builder::new().name(format!("busy {i}")).spawn(async {
                    std::thread::sleep(Duration::from_millis(20));
                    ferrio::yield_now().await;
                })
            })
            .collect();
        let ids: Vec<u64> = tasks.iter().map(|t| t.id()).collect();
        for t in tasks {
            t.await.unwrap();
        }
        ids
    });
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let events = doc["traceEvents"].as_array().expect("a traceEvents array");
    let groups: HashMap<u64, String> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "process_name")
        .map(|e| {
            (
                e["pid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(
        groups.values().any(|n| n == "ferrio worker 0"),
        "{groups:?}"
    );
    assert!(
        groups.values().any(|n| n == "ferrio worker 1"),
        "{groups:?}"
    );
    let polls: Vec<&Value> = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["name"] == "poll")
        .collect();
    for id in &ids {
        let n = polls.iter().filter(|e| e["tid"] == *id).count();
        assert_eq!(n, 2, "task {id}: two polls, whichever worker ran them");
    }
    let pids: HashSet<u64> = polls
        .iter()
        .filter(|e| ids.contains(&e["tid"].as_u64().unwrap()))
        .map(|e| e["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "both workers' polls are in the file");
}

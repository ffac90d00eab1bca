//! The paused clock through the public API (docs/testing.md): `pause`,
//! `advance`, `resume`, `start_paused`, and everything that waits on time
//! following it. Each test has a wall-clock deadline of its own
//! (`timeout_ms`, which a paused clock does not move) and checks how much
//! wall time it took with `std::time::Instant`, which does not follow the
//! paused clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrio::http::{Client, ErrorKind, TimeoutKind};
use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use ferrio::net::{TcpListener, TcpStream};
use ferrio::time::{advance, interval, sleep, timeout, timeout_scope, Instant};

const HOUR: Duration = Duration::from_secs(3600);

/// What "at once" means in wall time: far below the virtual waits (an hour,
/// 30 s), generous for a loaded machine.
const AT_ONCE: Duration = Duration::from_secs(1);

fn wall() -> std::time::Instant {
    std::time::Instant::now()
}

#[ferrio::test(start_paused = true, timeout_ms = 10_000)]
async fn a_one_hour_sleep_finishes_at_once_and_reads_exactly_an_hour() {
    let started = wall();
    let start = Instant::now();
    // Woken by the jump: nothing else is pending, so the clock moves to the
    // sleep's deadline.
    sleep(HOUR).await;
    assert_eq!(Instant::now() - start, HOUR);
    assert!(started.elapsed() < AT_ONCE, "took {:?}", started.elapsed());
}

#[ferrio::test(start_paused = true, timeout_ms = 10_000)]
async fn the_clock_stands_still_while_tasks_run() {
    let start = Instant::now();
    for _ in 0..100 {
        ferrio::yield_now().await;
    }
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(Instant::now(), start, "only a jump or an advance moves it");
}

#[ferrio::test(start_paused = true, timeout_ms = 10_000)]
async fn interval_ticks_at_exact_virtual_instants() {
    let started = wall();
    let start = Instant::now();
    let mut ticks = interval(Duration::from_secs(10));
    let mut seen = Vec::new();
    for _ in 0..4 {
        // Woken by the jump to each tick's deadline.
        let scheduled = ticks.tick().await;
        assert_eq!(scheduled, Instant::now(), "a tick fires at its instant");
        seen.push(scheduled - start);
    }
    assert_eq!(
        seen,
        [0, 10, 20, 30].map(Duration::from_secs),
        "ticks 10 s apart"
    );
    assert!(started.elapsed() < AT_ONCE, "took {:?}", started.elapsed());
}

#[ferrio::test(start_paused = true, timeout_ms = 10_000)]
async fn timeout_and_timeout_scope_fire_at_their_virtual_deadlines() {
    let started = wall();
    let start = Instant::now();
    // Woken by the jump to the timeout's deadline (the sleep's is later).
    let slow = timeout(Duration::from_secs(30), sleep(HOUR)).await;
    assert_eq!(slow.unwrap_err().duration(), Duration::from_secs(30));
    assert_eq!(Instant::now() - start, Duration::from_secs(30));

    let fast = timeout(Duration::from_secs(30), sleep(Duration::from_secs(29))).await;
    assert_eq!(fast, Ok(()));
    assert_eq!(Instant::now() - start, Duration::from_secs(59));

    let scoped = timeout_scope(Duration::from_secs(5), |cm| async move {
        // Moved later from inside: the scope now ends 7 s after it began.
        cm.reschedule(Some(Instant::now() + Duration::from_secs(7)));
        sleep(HOUR).await;
    })
    .await;
    assert!(scoped.is_err());
    assert_eq!(Instant::now() - start, Duration::from_secs(66));
    assert!(started.elapsed() < AT_ONCE, "took {:?}", started.elapsed());
}

// `pause()` needs one worker: asked for, so FERRIO_WORKERS=2 does not apply.
#[ferrio::test(workers = 1, timeout_ms = 10_000)]
async fn advance_moves_the_clock_and_fires_the_timers_due() {
    ferrio::time::pause();
    let start = Instant::now();
    let woke_at = Arc::new(Mutex::new(None));
    let sleeper = ferrio::spawn({
        let woke_at = woke_at.clone();
        async move {
            sleep(Duration::from_secs(10)).await;
            *woke_at.lock().unwrap() = Some(Instant::now());
        }
    });
    ferrio::yield_now().await; // the sleeper arms its timer
    advance(Duration::from_secs(4)).await;
    assert_eq!(Instant::now() - start, Duration::from_secs(4));
    assert!(!sleeper.is_finished(), "not due yet at 4 s");
    advance(Duration::from_secs(6)).await;
    assert_eq!(Instant::now() - start, Duration::from_secs(10));
    assert!(sleeper.is_finished(), "due at 10 s: it ran within advance");
    assert_eq!(
        *woke_at.lock().unwrap(),
        Some(start + Duration::from_secs(10))
    );
    sleeper.await.unwrap();
}

#[ferrio::test(workers = 1, timeout_ms = 10_000)]
async fn resume_lets_the_clock_run_at_wall_speed_from_where_it_stands() {
    ferrio::time::pause();
    let start = Instant::now();
    advance(HOUR).await;
    ferrio::time::resume();
    let started = wall();
    // A real 20 ms: the resumed clock runs at std's rate, an hour ahead.
    sleep(Duration::from_millis(20)).await;
    assert!(started.elapsed() >= Duration::from_millis(20));
    assert!(Instant::now() - start >= HOUR + Duration::from_millis(20));
}

#[ferrio::test(start_paused = true, timeout_ms = 10_000)]
async fn call_later_follows_the_paused_clock() {
    let started = wall();
    let handle = ferrio::Handle::current();
    let start = handle.now();
    let (tx, rx) = ferrio::sync::oneshot::channel();
    let call = handle.call_later(Duration::from_secs(60), move || {
        tx.send(Instant::now()).unwrap();
    });
    assert_eq!(call.when(), start + Duration::from_secs(60));
    // Woken by the callback, which the jump to its deadline ran.
    let ran_at = rx.await.unwrap();
    assert_eq!(ran_at - start, Duration::from_secs(60));
    assert!(started.elapsed() < AT_ONCE, "took {:?}", started.elapsed());
}

#[ferrio::test(start_paused = true, timeout_ms = 10_000)]
async fn a_blocking_job_in_flight_holds_the_clock() {
    // While the job runs the loop has nothing ready, yet the clock must not
    // jump to the timeout: the job's result is what will wake it.
    let job = ferrio::spawn_blocking(|| {
        std::thread::sleep(Duration::from_millis(50));
        7
    });
    let start = Instant::now();
    let out = timeout(Duration::from_secs(1), job).await;
    assert_eq!(
        out.expect("the clock jumped past a running job").unwrap(),
        7
    );
    assert_eq!(Instant::now(), start);
}

#[ferrio::test(start_paused = true, timeout_ms = 10_000)]
async fn the_http_client_timeout_fires_at_30_virtual_seconds_against_a_silent_server() {
    let started = wall();
    // Accepts and never answers; stops with the runtime.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    ferrio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let start = Instant::now();
    // Woken by the jump to the client's deadline once the request is out
    // and nothing more arrives.
    let err = client
        .get(format!("http://{addr}/"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout(TimeoutKind::Total), "{err}");
    assert_eq!(Instant::now() - start, Duration::from_secs(30));
    assert!(started.elapsed() < AT_ONCE, "took {:?}", started.elapsed());
}

#[ferrio::test(start_paused = true, timeout_ms = 10_000)]
async fn sockets_work_while_paused_an_echo_round_trip() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    ferrio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 64];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => stream.write_all(&buf[..n]).await.unwrap(),
            }
        }
    });
    let start = Instant::now();
    // Every wake here is real I/O: no timer is armed, so the clock never jumps
    // (no virtual timeout around it either: the wall-clock `timeout_ms` bounds it).
    let mut stream = TcpStream::connect(addr).await.unwrap();
    for round in 0..10u8 {
        let message = [round; 32];
        stream.write_all(&message).await.unwrap();
        let mut back = [0u8; 32];
        stream.read_exact(&mut back).await.unwrap();
        assert_eq!(back, message);
    }
    assert_eq!(Instant::now(), start, "no timer, no jump");
}

#[test]
fn pause_refuses_a_runtime_with_several_workers() {
    let mut rt = ferrio::Runtime::builder().workers(2).build().unwrap();
    let refused = rt.block_on(async {
        ferrio::spawn(async { std::panic::catch_unwind(ferrio::time::pause) })
            .await
            .unwrap()
    });
    let panic = refused.expect_err("pause must refuse several workers");
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("requires a one-worker runtime"),
        "{message}"
    );

    let err = ferrio::Runtime::builder()
        .workers(2)
        .start_paused(true)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("one-worker"), "{err}");
}

#[test]
fn std_instant_does_not_follow_the_paused_clock() {
    let mut rt = ferrio::Runtime::builder()
        .start_paused(true)
        .build()
        .unwrap();
    let (virtual_, real) = rt.block_on(async {
        let (start, real) = (Instant::now(), wall());
        // Woken by the jump.
        sleep(HOUR).await;
        (Instant::now() - start, real.elapsed())
    });
    assert_eq!(virtual_, HOUR);
    assert!(real < AT_ONCE, "std's clock saw {real:?}");
}

//! The cooperative budget and deadlines: a task whose socket always has data
//! cannot keep the loop to itself, and a `timeout` whose inner future is
//! always ready still times out (docs/architecture.md, rule E7: a deadline is checked before
//! the work). Loopback only; every test bounds its own time.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ferrio::time::Instant;

use ferrio::io::AsyncReadExt;
use ferrio::net::{TcpListener, TcpStream};
use ferrio::time::{interval, timeout, timeout_at};

/// How long the flooded reader runs.
const FLOOD: Duration = Duration::from_millis(600);

/// A stream whose peer (a plain thread, outside the runtime) writes as fast
/// as it can until `stop` is set or the reader goes away.
async fn flooded_stream(stop: Arc<AtomicBool>) -> TcpStream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut peer = std::net::TcpStream::connect(addr).unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        // Bounded by the flag and by the reader closing its end.
        while !stop.load(Ordering::Relaxed) {
            if peer.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let (stream, _) = listener.accept().await.unwrap();
    stream
}

#[test]
fn a_ticker_keeps_ticking_beside_a_task_reading_a_socket_that_always_has_data() {
    let stop = Arc::new(AtomicBool::new(false));
    let (ticks, longest_gap, read) = ferrio::run({
        let stop = stop.clone();
        async move {
            let mut stream = flooded_stream(stop.clone()).await;
            // Let the peer fill the receive buffer first.
            ferrio::time::sleep(Duration::from_millis(50)).await;
            // One clock for both tasks: a ticker that only gets to run after
            // the reader is done finds its window over and ticks not at all.
            let started = Instant::now();
            let reader = ferrio::spawn(async move {
                let mut buf = [0u8; 16];
                let mut read = 0usize;
                // Small reads of a full buffer complete at once: without a
                // budget this loop never returns Pending.
                while started.elapsed() < FLOOD {
                    let n = stream.read(&mut buf).await.unwrap();
                    assert_ne!(n, 0, "the flooding peer never closes first");
                    read += n;
                }
                read
            });
            let ticker = ferrio::spawn(async move {
                let mut ticker = interval(Duration::from_millis(10));
                let (mut ticks, mut last, mut longest_gap) = (0u32, started, Duration::ZERO);
                while started.elapsed() < FLOOD {
                    ticker.tick().await;
                    longest_gap = longest_gap.max(last.elapsed());
                    last = Instant::now();
                    ticks += 1;
                }
                (ticks, longest_gap)
            });
            let limit = Duration::from_secs(20);
            let read = timeout(limit, reader)
                .await
                .expect("reader finished")
                .unwrap();
            let (ticks, gap) = timeout(limit, ticker)
                .await
                .expect("ticker finished")
                .unwrap();
            stop.store(true, Ordering::Relaxed);
            (ticks, gap, read)
        }
    });
    assert!(read > 0, "the reader read");
    // 600 ms of 10 ms ticks is 60; a loaded CI box may lose many, but a
    // reader that owns the loop leaves the ticker none until it is done.
    assert!(
        ticks >= 10,
        "the interval should have woken the ticker about every 10 ms while the reader ran, got {ticks} ticks"
    );
    assert!(
        longest_gap < Duration::from_millis(300),
        "the ticker should never wait far past its 10 ms period, waited {longest_gap:?}"
    );
}

#[test]
fn a_timeout_whose_inner_future_is_always_ready_still_times_out() {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let outcome = ferrio::run({
        let stop = stop.clone();
        async move {
            let mut stream = flooded_stream(stop.clone()).await;
            ferrio::time::sleep(Duration::from_millis(50)).await;
            let read_forever = async {
                let mut buf = [0u8; 16];
                // Bounded: the outer deadline is what must end it; this bound
                // only keeps a broken timeout from hanging the suite.
                let until = Instant::now() + Duration::from_secs(10);
                while Instant::now() < until {
                    let n = stream.read(&mut buf).await.unwrap();
                    assert_ne!(n, 0, "the flooding peer never closes first");
                }
            };
            let outcome = timeout(Duration::from_millis(100), read_forever).await;
            stop.store(true, Ordering::Relaxed);
            outcome
        }
    });
    assert!(
        outcome.is_err(),
        "the 100 ms deadline should have ended the always-ready reads"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the timeout should fire near its deadline, took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_deadline_that_passed_wins_over_an_inner_future_that_is_ready_at_once() {
    let outcome = ferrio::run(async {
        let deadline = Instant::now();
        ferrio::time::sleep(Duration::from_millis(1)).await;
        timeout_at(deadline, async { "ready at the first poll" }).await
    });
    assert!(
        outcome.is_err(),
        "a deadline already past is checked before the inner future runs: {outcome:?}"
    );
}

#[test]
fn reads_bounded_by_one_deadline_stop_at_it_while_data_keeps_arriving() {
    // What a total timeout over a body does: each read gets its own timeout
    // at the same deadline, and each read is ready at once.
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let outcome = ferrio::run({
        let stop = stop.clone();
        async move {
            let mut stream = flooded_stream(stop.clone()).await;
            ferrio::time::sleep(Duration::from_millis(50)).await;
            let deadline = Instant::now() + Duration::from_millis(100);
            let mut buf = [0u8; 16];
            // Bounded, so that a deadline that is never honoured fails the
            // test instead of hanging it.
            let until = Instant::now() + Duration::from_secs(10);
            let mut outcome = Ok(());
            while Instant::now() < until {
                match timeout_at(deadline, stream.read(&mut buf)).await {
                    Ok(read) => assert_ne!(read.unwrap(), 0),
                    Err(elapsed) => {
                        outcome = Err(elapsed);
                        break;
                    }
                }
            }
            stop.store(true, Ordering::Relaxed);
            outcome
        }
    });
    assert!(
        outcome.is_err(),
        "the shared deadline should have ended the reads"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the deadline should end the reads near it, took {:?}",
        started.elapsed()
    );
}

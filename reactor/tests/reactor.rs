//! The reactor alone: no executor. Futures and readiness are polled by hand
//! with counting wakers, and `turn` is called directly.

use std::future::Future;
use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use ferrio_reactor::time::Instant;

use ferrio_reactor::{Direction, Reactor, Sleep};
use mio::net::UnixStream;

/// A waker that counts its wakes.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker::default());
    (counter.clone(), Waker::from(counter))
}

#[test]
fn turn_with_nothing_registered_returns_without_waking() {
    let mut reactor = Reactor::new().unwrap();
    assert_eq!(reactor.turn(Some(Duration::ZERO)).unwrap(), 0);
}

#[test]
fn a_sleep_fires_no_earlier_than_its_deadline() {
    let mut reactor = Reactor::new().unwrap();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let deadlines: Vec<Instant> = (1..=20)
        .map(|i| Instant::now() + Duration::from_millis(i * 3))
        .collect();
    let mut sleeps: Vec<Pin<Box<Sleep>>> = deadlines
        .iter()
        .map(|d| Box::pin(Sleep::new(reactor.handle(), *d)))
        .collect();
    let mut done = vec![false; sleeps.len()];
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        for (i, sleep) in sleeps.iter_mut().enumerate() {
            if !done[i] && sleep.as_mut().poll(&mut cx).is_ready() {
                assert!(Instant::now() >= deadlines[i], "sleep {i} completed early");
                done[i] = true;
            }
        }
        if done.iter().all(|d| *d) {
            break;
        }
        reactor.turn(Some(Duration::from_secs(1))).unwrap();
    }
    assert!(done.iter().all(|d| *d));
    assert!(count.0.load(Ordering::SeqCst) >= 1);
    assert_eq!(reactor.handle().timer_count(), 0);
}

#[test]
fn a_dropped_sleep_leaves_no_timer_behind() {
    let reactor = Reactor::new().unwrap();
    let (_count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut sleep = Box::pin(Sleep::new(
        reactor.handle(),
        Instant::now() + Duration::from_secs(60),
    ));
    assert!(sleep.as_mut().poll(&mut cx).is_pending());
    assert_eq!(reactor.handle().timer_count(), 1);
    drop(sleep);
    assert_eq!(reactor.handle().timer_count(), 0);
}

#[test]
fn the_turn_timeout_follows_the_next_timer() {
    let mut reactor = Reactor::new().unwrap();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let deadline = Instant::now() + Duration::from_millis(30);
    let mut sleep = Box::pin(Sleep::new(reactor.handle(), deadline));
    assert!(sleep.as_mut().poll(&mut cx).is_pending());
    // No timeout given: the turn still returns once the timer is due.
    reactor.turn(None).unwrap();
    assert!(Instant::now() >= deadline);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(sleep.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn a_timer_armed_from_another_thread_interrupts_a_sleeping_turn() {
    let mut reactor = Reactor::new().unwrap();
    let handle = reactor.handle();
    let (count, waker) = counting_waker();
    let armer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        let mut cx = Context::from_waker(&waker);
        let mut sleep = Box::pin(handle.sleep_until(Instant::now() + Duration::from_millis(10)));
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        sleep
    });
    let start = Instant::now();
    // Sleeping for up to 10 s with no timer armed...
    while count.0.load(Ordering::SeqCst) == 0 && start.elapsed() < Duration::from_secs(10) {
        reactor.turn(Some(Duration::from_secs(10))).unwrap();
    }
    // ...yet the timer armed meanwhile fired on time, not after 10 s.
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    drop(armer.join().unwrap());
}

#[test]
fn unpark_from_another_thread_ends_a_blocking_turn() {
    let mut reactor = Reactor::new().unwrap();
    let handle = reactor.handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        handle.unpark();
    });
    let start = Instant::now();
    reactor.turn(Some(Duration::from_secs(10))).unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    t.join().unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no send/recv on socketpair sockets")]
fn readiness_wakes_the_reader_and_is_cleared_after_would_block() {
    let mut reactor = Reactor::new().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let reg = reactor
        .handle()
        .register(&mut a, mio::Interest::READABLE)
        .unwrap();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);

    // Drain the initial state: nothing to read yet.
    let mut buf = [0u8; 64];
    while let Poll::Ready(Ok(ev)) = reg.poll_ready(&mut cx, Direction::Read) {
        assert_eq!(
            a.read(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
        reg.clear_readiness(ev);
    }

    b.write_all(b"hello").unwrap();
    reactor.turn(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(
        count.0.load(Ordering::SeqCst),
        1,
        "the reader was not woken"
    );

    let Poll::Ready(Ok(ev)) = reg.poll_ready(&mut cx, Direction::Read) else {
        panic!("readable after the event")
    };
    assert_eq!(a.read(&mut buf).unwrap(), 5);
    assert_eq!(
        a.read(&mut buf).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
    reg.clear_readiness(ev);
    assert!(reg.poll_ready(&mut cx, Direction::Read).is_pending());
    reg.deregister(&mut a).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no send/recv on socketpair sockets")]
fn clearing_with_an_old_tick_keeps_readiness_from_a_newer_event() {
    let mut reactor = Reactor::new().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let reg = reactor
        .handle()
        .register(&mut a, mio::Interest::READABLE)
        .unwrap();
    let (_count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);

    b.write_all(b"one").unwrap();
    reactor.turn(Some(Duration::from_secs(5))).unwrap();
    let Poll::Ready(Ok(old)) = reg.poll_ready(&mut cx, Direction::Read) else {
        panic!("not ready")
    };

    // A task read "one" and is about to clear readiness, but a newer event
    // arrives first.
    let mut buf = [0u8; 64];
    assert_eq!(a.read(&mut buf).unwrap(), 3);
    b.write_all(b"two").unwrap();
    reactor.turn(Some(Duration::from_secs(5))).unwrap();

    reg.clear_readiness(old);
    assert!(
        reg.poll_ready(&mut cx, Direction::Read).is_ready(),
        "a newer event was erased by clearing an older one"
    );
    assert_eq!(a.read(&mut buf).unwrap(), 3);
    reg.deregister(&mut a).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no send/recv on socketpair sockets")]
fn readers_and_writers_wait_independently() {
    let mut reactor = Reactor::new().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let reg = reactor
        .handle()
        .register(&mut a, mio::Interest::READABLE | mio::Interest::WRITABLE)
        .unwrap();
    reactor.turn(Some(Duration::from_millis(50))).unwrap();
    let (reads, read_waker) = counting_waker();
    let (_writes, write_waker) = counting_waker();
    // Writable at once; readable not yet.
    assert!(reg
        .poll_ready(&mut Context::from_waker(&write_waker), Direction::Write)
        .is_ready());
    assert!(reg
        .poll_ready(&mut Context::from_waker(&read_waker), Direction::Read)
        .is_pending());
    b.write_all(b"x").unwrap();
    reactor.turn(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(reads.0.load(Ordering::SeqCst), 1);
    reg.deregister(&mut a).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no send/recv on socketpair sockets")]
fn no_events_after_deregister() {
    let mut reactor = Reactor::new().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let reg = reactor
        .handle()
        .register(&mut a, mio::Interest::READABLE)
        .unwrap();
    let (count, waker) = counting_waker();
    assert!(reg
        .poll_ready(&mut Context::from_waker(&waker), Direction::Read)
        .is_pending());
    reg.deregister(&mut a).unwrap();
    assert_eq!(reactor.handle().registration_count(), 0);
    b.write_all(b"late").unwrap();
    assert_eq!(reactor.turn(Some(Duration::from_millis(50))).unwrap(), 0);
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no send/recv on socketpair sockets")]
fn a_reused_slot_does_not_inherit_the_old_registrations_readiness() {
    let mut reactor = Reactor::new().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let reg_a = reactor
        .handle()
        .register(&mut a, mio::Interest::READABLE)
        .unwrap();
    b.write_all(b"for a").unwrap();
    reactor.turn(Some(Duration::from_secs(5))).unwrap();
    reg_a.deregister(&mut a).unwrap();

    let (mut c, _d) = UnixStream::pair().unwrap();
    let reg_c = reactor
        .handle()
        .register(&mut c, mio::Interest::READABLE)
        .unwrap();
    assert_eq!(reactor.handle().registration_count(), 1);
    let (_count, waker) = counting_waker();
    reactor.turn(Some(Duration::from_millis(20))).unwrap();
    assert!(
        reg_c
            .poll_ready(&mut Context::from_waker(&waker), Direction::Read)
            .is_pending(),
        "the new registration saw the old one's readiness"
    );
    reg_c.deregister(&mut c).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no send/recv on socketpair sockets")]
fn a_short_stream_read_clears_readiness_and_a_full_one_keeps_it() {
    let mut reactor = Reactor::new().unwrap();
    let (a, mut b) = UnixStream::pair().unwrap();
    let io = ferrio_reactor::PollIo::new(&reactor.handle(), a).unwrap();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    b.write_all(b"0123456789").unwrap();
    reactor.turn(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 4];
    let syscalls = std::cell::Cell::new(0);
    let mut read = |cx: &mut Context<'_>, len: usize| {
        io.poll_stream_io(cx, Direction::Read, len, |s| {
            syscalls.set(syscalls.get() + 1);
            (&*s).read(&mut buf[..len])
        })
    };
    // Full reads keep the readiness: there may be more.
    assert!(matches!(read(&mut cx, 4), Poll::Ready(Ok(4))));
    assert!(matches!(read(&mut cx, 4), Poll::Ready(Ok(4))));
    // A short read drained the socket: the next read waits without a syscall.
    assert!(matches!(read(&mut cx, 4), Poll::Ready(Ok(2))));
    assert_eq!(syscalls.get(), 3);
    assert!(read(&mut cx, 4).is_pending());
    assert_eq!(syscalls.get(), 3, "a read syscall only to see WouldBlock");
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    // New data wakes the reader again.
    b.write_all(b"x").unwrap();
    reactor.turn(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(matches!(read(&mut cx, 4), Poll::Ready(Ok(1))));
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no send/recv on socketpair sockets")]
fn poll_io_drains_until_would_block_then_waits() {
    let mut reactor = Reactor::new().unwrap();
    let (a, mut b) = UnixStream::pair().unwrap();
    let io = ferrio_reactor::PollIo::new(&reactor.handle(), a).unwrap();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut buf = [0u8; 4];
    let mut read = |cx: &mut Context<'_>| io.poll_io(cx, Direction::Read, |s| (&*s).read(&mut buf));
    assert!(read(&mut cx).is_pending());
    b.write_all(b"abcdef").unwrap();
    reactor.turn(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(matches!(read(&mut cx), Poll::Ready(Ok(4))));
    assert!(matches!(read(&mut cx), Poll::Ready(Ok(2))));
    // Drained: the next read hits WouldBlock, clears readiness and waits.
    assert!(read(&mut cx).is_pending());
    drop(b);
    reactor.turn(Some(Duration::from_secs(5))).unwrap();
    assert!(
        matches!(read(&mut cx), Poll::Ready(Ok(0))),
        "EOF after the peer closed"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no send/recv on socketpair sockets")]
fn every_waiter_of_one_direction_wakes_on_one_event() {
    let mut reactor = Reactor::new().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let reg = reactor
        .handle()
        .register(&mut a, mio::Interest::READABLE)
        .unwrap();
    let (first_poller, first_poller_waker) = counting_waker();
    let (second_poller, second_poller_waker) = counting_waker();
    let (watchers, watcher_waker) = counting_waker();

    // Two `readable()`-style futures and two tasks on the poll path.
    let mut one = Box::pin(reg.ready(Direction::Read));
    let mut two = Box::pin(reg.ready(Direction::Read));
    let mut cx = Context::from_waker(&watcher_waker);
    assert!(one.as_mut().poll(&mut cx).is_pending());
    assert!(two.as_mut().poll(&mut cx).is_pending());
    assert!(reg
        .poll_ready(
            &mut Context::from_waker(&first_poller_waker),
            Direction::Read
        )
        .is_pending());
    assert!(reg
        .poll_ready(
            &mut Context::from_waker(&second_poller_waker),
            Direction::Read
        )
        .is_pending());
    assert_eq!(
        first_poller.0.load(Ordering::SeqCst),
        0,
        "the first poller is kept beside the second, not handed over (no wake-each-other loop)"
    );
    assert_eq!(reg.waiter_count(Direction::Read), 4);

    b.write_all(b"x").unwrap();
    reactor.turn(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(watchers.0.load(Ordering::SeqCst), 2, "both futures wake");
    assert_eq!(
        (
            first_poller.0.load(Ordering::SeqCst),
            second_poller.0.load(Ordering::SeqCst)
        ),
        (1, 1),
        "both pollers wake, once each"
    );
    assert!(one.as_mut().poll(&mut cx).is_ready());
    assert!(two.as_mut().poll(&mut cx).is_ready());
    assert_eq!(
        reg.waiter_count(Direction::Read),
        0,
        "completed futures leave no entry"
    );
    drop((one, two));
    reg.deregister(&mut a).unwrap();
}

#[test]
fn cancelled_readiness_futures_leave_no_waiter_behind() {
    let reactor = Reactor::new().unwrap();
    let (mut a, _b) = UnixStream::pair().unwrap();
    let reg = reactor
        .handle()
        .register(&mut a, mio::Interest::READABLE)
        .unwrap();
    let (_count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    // Fewer rounds under Miri, which is some thousand times slower.
    let rounds = if cfg!(miri) { 50 } else { 10_000 };
    for _ in 0..rounds {
        let mut waiting = Box::pin(reg.ready(Direction::Read));
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        assert_eq!(reg.waiter_count(Direction::Read), 1);
        drop(waiting);
    }
    assert_eq!(
        reg.waiter_count(Direction::Read),
        0,
        "each dropped future removed its waker"
    );
    assert_eq!(reactor.handle().registration_count(), 1);
    reg.deregister(&mut a).unwrap();
}

/// A waker that unparks the thread that made it.
struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Polls `future` on this thread until it completes, parking between polls
/// (woken by its waker), or gives `None` after `limit`.
fn block_on_for<F: Future>(future: F, limit: Duration) -> Option<F::Output> {
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    let deadline = Instant::now() + limit;
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Some(out);
        }
        let left = deadline.checked_duration_since(Instant::now())?;
        std::thread::park_timeout(left);
    }
}

/// Design rule 6 for `ready()` across threads (docs/architecture.md, "A
/// wake that is seen stays seen"): a future waiting on one thread when the
/// reactor's turn on another dispatches an event completes with that event,
/// though the turning thread reads the socket dry and clears the readiness
/// at once, before or after the future's thread polls again. Also the
/// reactor's cross-thread test of the futures' list for ThreadSanitizer.
#[test]
#[cfg_attr(miri, ignore = "Miri has no send/recv on socketpair sockets")]
fn a_future_on_another_thread_completes_with_the_event_a_reader_drained_at_once() {
    let mut reactor = Reactor::new().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let reg = reactor
        .handle()
        .register(&mut a, mio::Interest::READABLE)
        .unwrap();
    std::thread::scope(|s| {
        // Expected to wake it: the readable event of the byte written below.
        let waiter = s.spawn(|| block_on_for(reg.ready(Direction::Read), Duration::from_secs(10)));
        let start = Instant::now();
        while reg.waiter_count(Direction::Read) == 0 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the future never waited"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        b.write_all(b"x").unwrap();
        reactor.turn(Some(Duration::from_secs(10))).unwrap();
        // The reader: drains the byte, then `WouldBlock` clears the readiness.
        let (_count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0u8; 8];
        let read = reg.poll_io(&mut cx, Direction::Read, || (&a).read(&mut buf));
        assert!(matches!(read, Poll::Ready(Ok(1))), "{read:?}");
        let again = reg.poll_io(&mut cx, Direction::Read, || (&a).read(&mut buf));
        assert!(again.is_pending(), "drained: {again:?}");
        let woke = waiter.join().unwrap();
        assert!(
            matches!(woke, Some(Ok(ref event)) if !event.is_closed() && !event.is_error()),
            "the future should complete with the readable event: {woke:?}"
        );
    });
    assert_eq!(
        reg.waiter_count(Direction::Read),
        1,
        "only the reader's waker is left"
    );
    reg.deregister(&mut a).unwrap();
}

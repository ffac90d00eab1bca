// Over 800 lines on purpose: one concern (the limits), about 640 lines of code; the rest are the integer tests of its rules, which reach its private state.
//! The connection pool: aiohttp's `TCPConnector` limits. A total limit on open
//! connections and an optional per-host limit, idle connections kept for reuse,
//! and the requests waiting for a connection served first come, first served.
//!
//! A [`Permit`] is one slot of the limit, bound to one host. It lives exactly
//! as long as its connection: while connecting, in use, or idle in the pool
//! (as aiohttp's limit counts open connections). Dropping a permit frees the
//! slot; [`Permit::put_idle`] keeps it, with the connection, for the next
//! request to that host. An idle connection to another host is closed to make
//! room for a waiter when the total limit is reached.
//!
//! Idle connections are closed once they have been idle for the idle timeout:
//! when a connection goes idle, the pool makes sure one pruning task of its
//! own is asleep until the oldest idle connection expires (see
//! [`prune_idle`]), so a client that makes no more requests does not keep
//! sockets the server has long closed.
//!
//! Not here: I/O. The pool is generic over the connection type `C` and never
//! looks inside it, so every rule here is tested with plain integers. Other
//! timeouts are the caller's: it drops the [`Acquire`] future, which frees
//! whatever it was given.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ferrio_executor::observe::WaitKind;
use ferrio_reactor::time::Instant;

use crate::lock::lock;

/// What a request waiting for a connection slot is tagged as in the task
/// dump (`http pool <host>`).
static POOL_WAIT: LazyLock<WaitKind> = LazyLock::new(|| WaitKind::register("http pool"));

/// Which origin a connection talks to: connections are only reused for the
/// same scheme, host and port.
///
/// It is made for every request, so it is cheap to make, hash and compare:
/// an IP address is kept as one (no text), and only a domain name is
/// allocated (once per request; clones share it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) https: bool,
    pub(crate) host: Host,
    pub(crate) port: u16,
}

/// The host of a [`Key`], as the URL parser gave it: a (lowercase, ASCII)
/// domain name or an IP address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Host {
    Domain(Arc<str>),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
}

impl fmt::Display for Host {
    /// The name to resolve: the domain, or the address as text (an IPv6
    /// address without brackets).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(name) => f.write_str(name),
            Host::Ipv4(ip) => ip.fmt(f),
            Host::Ipv6(ip) => ip.fmt(f),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

/// A map of the pool's, with rustc-hash's FxHash: a multiply per word
/// instead of SipHash's rounds, since every request hashes a few keys and ids
/// under the pool's lock. Flooding it with colliding keys is not a concern:
/// the maps hold only the hosts with connections open (at most the total
/// limit) and the ids of waiting requests, which the pool counts up.
type Map<K, V> = HashMap<K, V, rustc_hash::FxBuildHasher>;

/// The pool's limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Open connections in all (connecting, in use or idle).
    pub(crate) total: usize,
    /// Open connections to one [`Key`].
    pub(crate) per_host: usize,
    /// How long a connection may sit idle before it is closed instead of reused.
    pub(crate) idle_timeout: Duration,
}

/// A pool of connections of type `C`. Cheap to clone; all clones share one pool.
pub(crate) struct Pool<C: Send + 'static> {
    shared: Arc<Shared<C>>,
}

impl<C: Send + 'static> Clone for Pool<C> {
    fn clone(&self) -> Self {
        Pool {
            shared: self.shared.clone(),
        }
    }
}

struct Shared<C: Send + 'static> {
    limits: Limits,
    /// Consistent between statements that can panic, so a poisoned lock is
    /// still a usable one ([`lock`]).
    state: Mutex<State<C>>,
}

struct State<C> {
    /// Slots taken: permits alive, whether their connection is connecting, in
    /// use or idle. Never more than `limits.total`.
    open: usize,
    /// `open`, per key. A key with no slot has no entry.
    per_host: Map<Key, usize>,
    /// Idle connections per key, the most recently used last (reused first,
    /// so the others age out). A key's list is kept while the key has slots
    /// (`per_host`), even empty, so a keep-alive connection going idle and
    /// back to work does not remove and re-insert its key each request.
    idle: Map<Key, Vec<Idle<C>>>,
    /// Idle connections in all: the sum over `idle`, so "none idle" is cheap.
    idle_count: usize,
    /// No idle connection expires before this instant (a lower bound: the
    /// oldest may have been taken since); `None` when none can expire. So
    /// `prune` looks at the lists only when one may have expired, not at
    /// every acquire and release.
    next_expiry: Option<Instant>,
    /// Waiting requests, first come first; ids into `waiters`, increasing
    /// (so sorted), each removed when its waiter is served or dropped.
    queue: VecDeque<u64>,
    waiters: Map<u64, Waiter<C>>,
    /// The id of the pool's [`prune_idle`] task while one is running.
    pruner: Option<u64>,
    /// Ids for waiters and pruning tasks.
    next_id: u64,
}

struct Idle<C> {
    conn: C,
    since: Instant,
}

struct Waiter<C> {
    key: Key,
    /// Set by `dispatch` when the waiter is served; taken by its `Acquire`.
    grant: Option<Option<C>>,
    waker: Option<Waker>,
}

impl<C> State<C> {
    fn host_count(&self, key: &Key) -> usize {
        self.per_host.get(key).copied().unwrap_or(0)
    }

    fn take_slot(&mut self, key: &Key) {
        self.open += 1;
        *self.per_host.entry(key.clone()).or_insert(0) += 1;
    }

    fn free_slot(&mut self, key: &Key) {
        self.open -= 1;
        if let Some(n) = self.per_host.get_mut(key) {
            *n -= 1;
            if *n == 0 {
                self.per_host.remove(key);
                // No slot, so no idle connection: the (empty) list goes too.
                self.idle.remove(key);
            }
        }
    }

    fn pop_idle(&mut self, key: &Key) -> Option<C> {
        let idle = self.idle.get_mut(key)?.pop()?;
        self.idle_count -= 1;
        Some(idle.conn)
    }

    /// Keeps `conn`, idle since `since`, for the next request to `key`
    /// (whose slot it holds).
    fn push_idle(&mut self, key: &Key, conn: C, since: Instant, timeout: Duration) {
        let idle = Idle { conn, since };
        match self.idle.get_mut(key) {
            Some(list) => list.push(idle),
            None => drop(self.idle.insert(key.clone(), vec![idle])),
        }
        self.idle_count += 1;
        if let Some(at) = since.checked_add(timeout) {
            self.next_expiry = Some(self.next_expiry.map_or(at, |next| next.min(at)));
        }
    }

    /// The connection idle the longest, whatever its host: its key and
    /// since when it is idle.
    fn oldest_idle(&self) -> Option<(&Key, Instant)> {
        self.idle
            .iter()
            .filter_map(|(key, list)| list.first().map(|idle| (key, idle.since)))
            .min_by_key(|&(_, since)| since)
    }

    /// Removes the connection idle the longest, whatever its host, and frees its slot.
    fn evict_oldest_idle(&mut self) -> Option<C> {
        let key = self.oldest_idle().map(|(key, _)| key.clone())?;
        let idle = self.idle.get_mut(&key)?.remove(0);
        self.idle_count -= 1;
        self.free_slot(&key);
        Some(idle.conn)
    }

    /// Closes idle connections older than `timeout` (into `closed`, to drop
    /// after the lock is released).
    fn prune(&mut self, timeout: Duration, closed: &mut Vec<C>) {
        let Some(next_expiry) = self.next_expiry.filter(|_| self.idle_count > 0) else {
            return;
        };
        // The clock is read only when something idle may expire.
        let now = Instant::now();
        if now < next_expiry {
            return;
        }
        let mut freed = Vec::new();
        self.idle.retain(|key, list| {
            let stale = list
                .iter()
                .take_while(|i| now.duration_since(i.since) >= timeout)
                .count();
            for idle in list.drain(..stale) {
                closed.push(idle.conn);
                freed.push(key.clone());
            }
            true
        });
        self.idle_count -= freed.len();
        for key in &freed {
            self.free_slot(key);
        }
        self.next_expiry = self
            .oldest_idle()
            .and_then(|(_, since)| since.checked_add(timeout));
    }

    /// What a request for `key` at the head of the queue gets now: an idle
    /// connection to its host, or a free slot, or the slot of the oldest idle
    /// connection (closed into `closed`); `None` when it must wait.
    fn grant(&mut self, key: &Key, limits: &Limits, closed: &mut Vec<C>) -> Option<Option<C>> {
        if let Some(conn) = self.pop_idle(key) {
            Some(Some(conn))
        } else if self.host_count(key) >= limits.per_host {
            None
        } else if self.open < limits.total {
            self.take_slot(key);
            Some(None)
        } else {
            // The total is reached and the only idle connections are to
            // other hosts: close the oldest to make room.
            let evicted = self.evict_oldest_idle();
            evicted.map(|conn| {
                closed.push(conn);
                self.take_slot(key);
                None
            })
        }
    }

    /// Serves waiters in queue order: each gets an idle connection to its
    /// host, or a free slot, or the slot of the oldest idle connection (closed
    /// into `closed`). A waiter that only its host's limit holds back does not
    /// hold back the waiters behind it. Returns the wakers to wake once the
    /// lock is released.
    fn dispatch(&mut self, limits: &Limits, closed: &mut Vec<C>) -> Vec<Waker> {
        self.prune(limits.idle_timeout, closed);
        let mut wake = Vec::new();
        let mut i = 0;
        while i < self.queue.len() {
            if self.open >= limits.total && self.idle_count == 0 {
                break;
            }
            let id = self.queue[i];
            let Some(waiter) = self.waiters.get(&id) else {
                // Not expected (a dropped waiter takes its id out of the
                // queue), but an id without a waiter must not block the rest.
                self.queue.remove(i);
                continue;
            };
            let key = waiter.key.clone();
            match self.grant(&key, limits, closed) {
                Some(grant) => {
                    self.queue.remove(i);
                    if let Some(waiter) = self.waiters.get_mut(&id) {
                        waiter.grant = Some(grant);
                        wake.extend(waiter.waker.take());
                    }
                }
                None => i += 1,
            }
        }
        wake
    }
}

impl<C: Send + 'static> Pool<C> {
    pub(crate) fn new(limits: Limits) -> Pool<C> {
        let limits = Limits {
            total: limits.total.max(1),
            per_host: limits.per_host.max(1),
            idle_timeout: limits.idle_timeout,
        };
        Pool {
            shared: Arc::new(Shared {
                limits,
                state: Mutex::new(State {
                    open: 0,
                    per_host: Map::default(),
                    idle: Map::default(),
                    idle_count: 0,
                    next_expiry: None,
                    queue: VecDeque::new(),
                    waiters: Map::default(),
                    pruner: None,
                    next_id: 0,
                }),
            }),
        }
    }

    /// Queues a request for a connection to `key`. The future resolves to a
    /// [`Checkout`] in queue order; dropping it gives back whatever it got.
    pub(crate) fn acquire(&self, key: Key) -> Acquire<C> {
        let mut closed = Vec::new();
        let (id, wake) = {
            let mut state = lock(&self.shared.state);
            // Nobody waits: the request is the head of the queue, served at
            // once if it can be, without a place in the queue and the waiter
            // map (the keep-alive path: one idle connection, reused).
            if state.queue.is_empty() {
                state.prune(self.shared.limits.idle_timeout, &mut closed);
                if let Some(grant) = state.grant(&key, &self.shared.limits, &mut closed) {
                    drop(state);
                    drop(closed);
                    return Acquire {
                        shared: self.shared.clone(),
                        key,
                        id: None,
                        granted: Some(grant),
                    };
                }
            }
            let id = state.next_id;
            state.next_id += 1;
            state.waiters.insert(
                id,
                Waiter {
                    key: key.clone(),
                    grant: None,
                    waker: None,
                },
            );
            state.queue.push_back(id);
            let wake = state.dispatch(&self.shared.limits, &mut closed);
            (id, wake)
        };
        wake_all(wake);
        drop(closed);
        Acquire {
            shared: self.shared.clone(),
            key,
            id: Some(id),
            granted: None,
        }
    }

    /// Connections open now (connecting, in use or idle), and of those, idle.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> (usize, usize) {
        let state = lock(&self.shared.state);
        (state.open, state.idle_count)
    }
}

impl<C: Send + 'static> Shared<C> {
    /// Runs `f` on the state, then dispatches; wakes and closes outside the lock.
    fn update(&self, f: impl FnOnce(&mut State<C>)) {
        let mut closed = Vec::new();
        let wake = {
            let mut state = lock(&self.state);
            f(&mut state);
            state.dispatch(&self.limits, &mut closed)
        };
        wake_all(wake);
        drop(closed);
    }
}

impl<C: Send + 'static> Shared<C> {
    /// Makes sure a [`prune_idle`] task runs while connections are idle: a
    /// no-op when one does, when none is idle, or outside a runtime (pruning
    /// then happens when the pool is next used, as it always does).
    fn arm_pruner(self: &Arc<Self>) {
        let (id, spawner) = {
            let mut state = lock(&self.state);
            // Without an expiry, idle connections never expire (a timeout
            // too long for an instant).
            if state.idle_count == 0 || state.pruner.is_some() || state.next_expiry.is_none() {
                return;
            }
            let Some(spawner) = ferrio_executor::try_current() else {
                return;
            };
            let id = state.next_id;
            state.next_id += 1;
            state.pruner = Some(id);
            (id, spawner)
        };
        // Outside the lock: a runtime that is shutting down drops the task
        // at once, and its `Disarm` takes the lock.
        drop(spawner.spawn(prune_idle(Arc::downgrade(self), id)));
    }
}

/// The pool's pruning task: sleeps until the oldest idle connection expires,
/// closes what expired, and again, until no connection is idle. It holds the
/// pool weakly, so a dropped client is not kept alive by it (the task ends at
/// its next wakeup).
async fn prune_idle<C: Send + 'static>(pool: Weak<Shared<C>>, id: u64) {
    let _disarm = Disarm {
        pool: pool.clone(),
        id,
    };
    loop {
        let deadline = {
            let Some(shared) = pool.upgrade() else { return };
            let mut state = lock(&shared.state);
            let deadline = state
                .oldest_idle()
                .and_then(|(_, since)| since.checked_add(shared.limits.idle_timeout));
            match deadline {
                Some(deadline) => deadline,
                None => {
                    // Decided under the lock, so a connection that goes idle
                    // after this arms a new task.
                    state.pruner = None;
                    return;
                }
            }
        };
        ferrio_reactor::time::sleep_until(deadline).await;
        let Some(shared) = pool.upgrade() else { return };
        // `dispatch` prunes first, then serves any waiter the freed slots let in.
        shared.update(|_| {});
    }
}

/// Marks the pool as having no pruning task when [`prune_idle`] ends, however
/// it ends (a runtime shutting down drops it mid-sleep), so that the next
/// idle connection arms a new one.
struct Disarm<C: Send + 'static> {
    pool: Weak<Shared<C>>,
    id: u64,
}

impl<C: Send + 'static> Drop for Disarm<C> {
    fn drop(&mut self) {
        if let Some(shared) = self.pool.upgrade() {
            let mut state = lock(&shared.state);
            if state.pruner == Some(self.id) {
                state.pruner = None;
            }
        }
    }
}

fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

/// The future of [`Pool::acquire`].
pub(crate) struct Acquire<C: Send + 'static> {
    shared: Arc<Shared<C>>,
    key: Key,
    /// The waiter's id while it is registered.
    id: Option<u64>,
    /// What it was given at once, without waiting, until it is polled.
    granted: Option<Option<C>>,
}

// Nothing in an `Acquire` is pinned: its grant is moved out when it is
// polled, so it is `Unpin` whatever the connection type.
impl<C: Send + 'static> Unpin for Acquire<C> {}

/// What a served request gets: a slot, and maybe an idle connection to reuse.
pub(crate) struct Checkout<C: Send + 'static> {
    pub(crate) permit: Permit<C>,
    /// An idle connection to the host, or `None`: connect a new one.
    pub(crate) idle: Option<C>,
}

impl<C: Send + 'static> Future for Acquire<C> {
    type Output = Checkout<C>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Checkout<C>> {
        let Some(id) = self.id else {
            let Some(grant) = self.granted.take() else {
                panic!("Acquire polled after completion");
            };
            return Poll::Ready(self.checkout(grant));
        };
        let grant = {
            let mut state = lock(&self.shared.state);
            let Some(waiter) = state.waiters.get_mut(&id) else {
                unreachable!("a registered waiter is in the map")
            };
            match waiter.grant.take() {
                Some(grant) => {
                    state.waiters.remove(&id);
                    grant
                }
                None => {
                    if !waiter
                        .waker
                        .as_ref()
                        .is_some_and(|w| w.will_wake(cx.waker()))
                    {
                        waiter.waker = Some(cx.waker().clone());
                    }
                    ferrio_executor::observe::waiting_on(*POOL_WAIT, None, || {
                        waiter.key.to_string()
                    });
                    return Poll::Pending;
                }
            }
        };
        self.id = None;
        Poll::Ready(self.checkout(grant))
    }
}

impl<C: Send + 'static> Acquire<C> {
    /// The checkout of a request served with `grant`.
    fn checkout(&self, grant: Option<C>) -> Checkout<C> {
        let permit = Permit {
            shared: Some(self.shared.clone()),
            key: self.key.clone(),
        };
        Checkout {
            permit,
            idle: grant,
        }
    }
}

impl<C: Send + 'static> Drop for Acquire<C> {
    fn drop(&mut self) {
        let (id, granted) = (self.id.take(), self.granted.take());
        if id.is_none() && granted.is_none() {
            return;
        }
        let key = &self.key;
        let timeout = self.shared.limits.idle_timeout;
        let mut went_idle = false;
        self.shared.update(|state| {
            let grant = match id {
                Some(id) => match state.waiters.remove(&id) {
                    Some(waiter) => waiter.grant,
                    None => return,
                },
                // Served at once, never polled.
                None => granted,
            };
            match grant {
                // Still queued: leave the queue too, or a pool that stays full
                // (where `dispatch` stops early) piles up the ids of
                // cancelled waiters. Ids are queued in increasing order.
                None => {
                    if let Some(i) = id.and_then(|id| state.queue.binary_search(&id).ok()) {
                        state.queue.remove(i);
                    }
                }
                // Served but never polled again: give the grant back.
                Some(Some(conn)) => {
                    state.push_idle(key, conn, Instant::now(), timeout);
                    went_idle = true;
                }
                Some(None) => state.free_slot(key),
            }
        });
        if went_idle {
            self.shared.arm_pruner();
        }
    }
}

/// One slot of the pool's limits, held by one connection for its whole life.
pub(crate) struct Permit<C: Send + 'static> {
    /// `None` once the slot was handed back with a connection.
    shared: Option<Arc<Shared<C>>>,
    key: Key,
}

impl<C: Send + 'static> Permit<C> {
    /// The host this slot is for.
    #[cfg(test)]
    pub(crate) fn key(&self) -> &Key {
        &self.key
    }

    /// Keeps `conn` (with this slot) for the next request to the same host.
    pub(crate) fn put_idle(mut self, conn: C) {
        let Some(shared) = self.shared.take() else {
            return;
        };
        let (key, timeout) = (&self.key, shared.limits.idle_timeout);
        shared.update(move |state| state.push_idle(key, conn, Instant::now(), timeout));
        shared.arm_pruner();
    }
}

impl<C: Send + 'static> Drop for Permit<C> {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.update(|state| state.free_slot(&self.key));
        }
    }
}

impl<C: Send + 'static> fmt::Debug for Permit<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("key", &self.key).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn key(host: &str) -> Key {
        Key {
            https: false,
            host: Host::Domain(host.into()),
            port: 80,
        }
    }

    fn limits(total: usize, per_host: usize) -> Limits {
        Limits {
            total,
            per_host,
            idle_timeout: Duration::from_secs(60),
        }
    }

    /// Polls once with a waker that counts its wakes.
    fn poll<C: Send + 'static>(
        acquire: &mut Acquire<C>,
        waker: &Arc<CountingWaker>,
    ) -> Option<Checkout<C>> {
        let waker = Waker::from(waker.clone());
        match Pin::new(acquire).poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(c) => Some(c),
            Poll::Pending => None,
        }
    }

    fn waker() -> Arc<CountingWaker> {
        Arc::new(CountingWaker(AtomicUsize::new(0)))
    }

    /// A request waiting for a slot says so in the task dump, in every mode:
    /// the pool registers its own kind of wait with the executor.
    #[test]
    fn a_waiting_acquire_shows_as_http_pool_in_the_dump() {
        ferrio::run(async {
            let pool: Pool<u32> = Pool::new(limits(1, usize::MAX));
            let held = pool.acquire(key("a")).await;
            let second = pool.acquire(key("a"));
            let waiter = ferrio::spawn(async move { drop(second.await) });
            // One yield lets the waiter run until the pool parks it.
            ferrio::task::yield_now().await;
            let dump = ferrio::task::dump();
            let waits: Vec<String> = dump
                .tasks()
                .iter()
                .flat_map(|t| t.waits().iter().map(|w| w.to_string()))
                .collect();
            assert_eq!(waits, ["http pool"], "{dump}");
            drop(held);
            // Freeing the slot wakes the waiter; the timeout bounds it.
            ferrio::time::timeout(Duration::from_secs(10), waiter)
                .await
                .expect("the waiter got the freed slot")
                .unwrap();
        });
    }

    #[test]
    fn slots_up_to_the_total_then_waiters_queue() {
        let pool: Pool<u32> = Pool::new(limits(2, usize::MAX));
        let w = waker();
        let a = poll(&mut pool.acquire(key("a")), &w).unwrap();
        let b = poll(&mut pool.acquire(key("b")), &w).unwrap();
        assert!(a.idle.is_none() && b.idle.is_none());
        let mut c = pool.acquire(key("c"));
        assert!(poll(&mut c, &w).is_none());
        assert_eq!(pool.counts(), (2, 0));
        drop(a);
        assert_eq!(w.0.load(Ordering::SeqCst), 1);
        let c = poll(&mut c, &w).unwrap();
        assert_eq!(c.permit.key(), &key("c"));
        assert_eq!(pool.counts(), (2, 0));
    }

    #[test]
    fn waiters_are_served_in_order() {
        let pool: Pool<u32> = Pool::new(limits(1, usize::MAX));
        let w = waker();
        let first = poll(&mut pool.acquire(key("a")), &w).unwrap();
        let mut queued: Vec<_> = (0..5).map(|_| pool.acquire(key("a"))).collect();
        for q in &mut queued {
            assert!(poll(q, &w).is_none());
        }
        first.permit.put_idle(7);
        for i in 0..queued.len() {
            let got = poll(&mut queued[i], &w).expect("head of queue is served");
            assert_eq!(got.idle, Some(7), "the idle connection is handed on");
            if let Some(next) = queued.get_mut(i + 1) {
                assert!(poll(next, &w).is_none(), "the rest still wait");
            }
            got.permit.put_idle(7);
        }
        assert_eq!(pool.counts(), (1, 1));
    }

    #[test]
    fn later_waiters_do_not_overtake_earlier_ones() {
        let pool: Pool<u32> = Pool::new(limits(1, usize::MAX));
        let w = waker();
        let first = poll(&mut pool.acquire(key("a")), &w).unwrap();
        let mut second = pool.acquire(key("a"));
        let mut third = pool.acquire(key("a"));
        assert!(poll(&mut third, &w).is_none());
        assert!(poll(&mut second, &w).is_none());
        drop(first);
        assert!(poll(&mut third, &w).is_none(), "third must wait for second");
        let second = poll(&mut second, &w).unwrap();
        drop(second);
        assert!(poll(&mut third, &w).is_some());
    }

    #[test]
    fn per_host_limit_does_not_block_other_hosts() {
        let pool: Pool<u32> = Pool::new(limits(10, 1));
        let w = waker();
        let a1 = poll(&mut pool.acquire(key("a")), &w).unwrap();
        let mut a2 = pool.acquire(key("a"));
        assert!(poll(&mut a2, &w).is_none());
        let b1 = poll(&mut pool.acquire(key("b")), &w);
        assert!(b1.is_some(), "b is not held back by a's limit");
        drop(a1);
        assert!(poll(&mut a2, &w).is_some());
    }

    #[test]
    fn idle_connection_is_reused_for_its_host_only() {
        let pool: Pool<u32> = Pool::new(limits(10, usize::MAX));
        let w = waker();
        let a = poll(&mut pool.acquire(key("a")), &w).unwrap();
        a.permit.put_idle(1);
        let b = poll(&mut pool.acquire(key("b")), &w).unwrap();
        assert_eq!(b.idle, None);
        let a = poll(&mut pool.acquire(key("a")), &w).unwrap();
        assert_eq!(a.idle, Some(1));
        assert_eq!(pool.counts(), (2, 0));
    }

    #[test]
    fn idle_connection_to_another_host_is_closed_to_make_room() {
        let pool: Pool<u32> = Pool::new(limits(1, usize::MAX));
        let w = waker();
        let a = poll(&mut pool.acquire(key("a")), &w).unwrap();
        a.permit.put_idle(1);
        let b = poll(&mut pool.acquire(key("b")), &w).unwrap();
        assert_eq!(b.idle, None);
        assert_eq!(pool.counts(), (1, 0));
    }

    #[test]
    fn expired_idle_connections_are_not_reused() {
        let pool: Pool<u32> = Pool::new(Limits {
            total: 5,
            per_host: 5,
            idle_timeout: Duration::ZERO,
        });
        let w = waker();
        let a = poll(&mut pool.acquire(key("a")), &w).unwrap();
        a.permit.put_idle(1);
        let a = poll(&mut pool.acquire(key("a")), &w).unwrap();
        assert_eq!(a.idle, None);
        assert_eq!(pool.counts(), (1, 0));
    }

    #[test]
    fn dropped_waiter_leaves_the_queue() {
        let pool: Pool<u32> = Pool::new(limits(1, usize::MAX));
        let w = waker();
        let first = poll(&mut pool.acquire(key("a")), &w).unwrap();
        let mut gone = pool.acquire(key("a"));
        assert!(poll(&mut gone, &w).is_none());
        let mut next = pool.acquire(key("a"));
        assert!(poll(&mut next, &w).is_none());
        drop(gone);
        drop(first);
        assert!(poll(&mut next, &w).is_some());
    }

    #[test]
    fn cancelled_waiters_leave_the_queue_while_the_pool_is_full() {
        let pool: Pool<u32> = Pool::new(limits(1, usize::MAX));
        let w = waker();
        let held = poll(&mut pool.acquire(key("a")), &w).unwrap();
        for _ in 0..10_000 {
            let mut waiter = pool.acquire(key("a"));
            assert!(poll(&mut waiter, &w).is_none());
        }
        let queued = lock(&pool.shared.state).queue.len();
        assert_eq!(queued, 0, "ids of cancelled waiters left behind");
        drop(held);
        assert_eq!(pool.counts(), (0, 0));
    }

    #[test]
    fn waiter_dropped_after_being_served_gives_the_slot_back() {
        let pool: Pool<u32> = Pool::new(limits(1, usize::MAX));
        let w = waker();
        let first = poll(&mut pool.acquire(key("a")), &w).unwrap();
        let mut served = pool.acquire(key("a"));
        assert!(poll(&mut served, &w).is_none());
        let mut next = pool.acquire(key("a"));
        assert!(poll(&mut next, &w).is_none());
        drop(first);
        // `served` got the slot but is cancelled before it looks.
        drop(served);
        let next = poll(&mut next, &w);
        assert!(next.is_some());
        assert_eq!(pool.counts(), (1, 0));
    }

    #[test]
    fn waiter_dropped_after_being_handed_an_idle_connection_returns_it() {
        let pool: Pool<u32> = Pool::new(limits(1, usize::MAX));
        let w = waker();
        let first = poll(&mut pool.acquire(key("a")), &w).unwrap();
        let mut served = pool.acquire(key("a"));
        assert!(poll(&mut served, &w).is_none());
        first.permit.put_idle(9);
        drop(served);
        assert_eq!(pool.counts(), (1, 1));
        let again = poll(&mut pool.acquire(key("a")), &w).unwrap();
        assert_eq!(again.idle, Some(9));
    }

    #[test]
    fn a_request_served_at_once_and_dropped_unpolled_gives_back_what_it_got() {
        let pool: Pool<u32> = Pool::new(limits(1, usize::MAX));
        let w = waker();
        // A free slot, granted as the request is made (nobody waits).
        drop(pool.acquire(key("a")));
        assert_eq!(pool.counts(), (0, 0), "the slot is free again");
        let first = poll(&mut pool.acquire(key("a")), &w).unwrap();
        first.permit.put_idle(4);
        // The idle connection, granted at once, then dropped unpolled.
        drop(pool.acquire(key("a")));
        assert_eq!(pool.counts(), (1, 1), "the connection is idle again");
        let again = poll(&mut pool.acquire(key("a")), &w).unwrap();
        assert_eq!(again.idle, Some(4));
    }

    #[test]
    fn an_idle_connection_expires_after_others_were_reused_since() {
        let pool: Pool<u32> = Pool::new(Limits {
            total: 5,
            per_host: 5,
            idle_timeout: Duration::from_millis(400),
        });
        let w = waker();
        let old = poll(&mut pool.acquire(key("a")), &w).unwrap();
        let busy = poll(&mut pool.acquire(key("b")), &w).unwrap();
        old.permit.put_idle(1);
        busy.permit.put_idle(2);
        // "b" is reused and put back well within the timeout (a gap of 150
        // ms, 250 ms to spare on a loaded machine), "a" is not (450 ms).
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(150));
            let b = poll(&mut pool.acquire(key("b")), &w).unwrap();
            assert_eq!(b.idle, Some(2));
            b.permit.put_idle(2);
        }
        let a = poll(&mut pool.acquire(key("a")), &w).unwrap();
        assert_eq!(
            a.idle, None,
            "a's connection expired while b's kept working"
        );
        assert_eq!(
            pool.counts(),
            (2, 1),
            "a's new slot and b's idle connection"
        );
    }

    #[test]
    fn no_slot_leaks_under_churn() {
        let pool: Pool<u32> = Pool::new(limits(3, 2));
        let w = waker();
        let mut held = Vec::new();
        let mut waiting = Vec::new();
        for i in 0..200u32 {
            let host = ["a", "b", "c"][(i % 3) as usize];
            let mut acq = pool.acquire(key(host));
            match poll(&mut acq, &w) {
                Some(c) => held.push(c),
                None if i % 2 == 0 => waiting.push(acq),
                None => drop(acq),
            }
            if i % 5 == 0 {
                if let Some(c) = held.pop() {
                    if i % 10 == 0 {
                        c.permit.put_idle(i);
                    }
                }
            }
            waiting.retain_mut(|acq| match poll(acq, &w) {
                Some(c) => {
                    held.push(c);
                    false
                }
                None => true,
            });
            let (open, idle) = pool.counts();
            assert!(open <= 3 && idle <= open);
        }
        drop(waiting);
        drop(held);
        let (open, _) = pool.counts();
        let idle_only = lock(&pool.shared.state).idle_count;
        assert_eq!(open, idle_only, "only idle connections hold slots");
    }

    /// Waits, in a runtime, up to 2 s for the pool to hold no connection.
    async fn all_closed_within_2s<C: Send + 'static>(pool: &Pool<C>) -> bool {
        let started = Instant::now();
        while pool.counts() != (0, 0) {
            if started.elapsed() > Duration::from_secs(2) {
                return false;
            }
            ferrio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    #[test]
    fn idle_connections_are_closed_by_a_timer_in_each_runtime_the_pool_meets() {
        let pool: Pool<u32> = Pool::new(Limits {
            total: 5,
            per_host: 5,
            idle_timeout: Duration::from_millis(200),
        });
        let w = waker();
        // This runtime ends while the pool's pruning task sleeps.
        ferrio::run({
            let (pool, w) = (pool.clone(), w.clone());
            async move {
                let a = poll(&mut pool.acquire(key("a")), &w).unwrap();
                a.permit.put_idle(1);
            }
        });
        assert_eq!(pool.counts(), (1, 1), "nothing closed it without a runtime");
        // The next one gets a pruning task of its own.
        ferrio::run(async move {
            let a = poll(&mut pool.acquire(key("a")), &w).unwrap();
            let b = poll(&mut pool.acquire(key("b")), &w).unwrap();
            a.permit.put_idle(1);
            b.permit.put_idle(2);
            assert_eq!(pool.counts(), (2, 2));
            assert!(all_closed_within_2s(&pool).await);
        });
    }

    #[test]
    fn idle_connections_outside_a_runtime_are_pruned_when_the_pool_is_used() {
        let pool: Pool<u32> = Pool::new(Limits {
            total: 5,
            per_host: 5,
            idle_timeout: Duration::from_millis(20),
        });
        let w = waker();
        let a = poll(&mut pool.acquire(key("a")), &w).unwrap();
        a.permit.put_idle(1);
        assert_eq!(pool.counts(), (1, 1), "no timer, no panic");
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(pool.counts(), (1, 1));
        drop(pool.acquire(key("b")));
        assert_eq!(pool.counts(), (0, 0));
    }
}

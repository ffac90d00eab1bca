//! The crate's poison-tolerant lock helper: the workspace's one copy, in
//! ferrio-reactor. No lock of this crate guards state that a panic could
//! leave half-updated (the pool's state is consistent between statements
//! that can panic; the cookie store and the DNS cache change in single
//! calls), so a poisoned lock is still a usable one.

pub(crate) use ferrio_reactor::lock;

//! What a task waits on: the kind ([`WaitKind`], kept as a four-bit code in
//! the task's state word so the dump names it in every mode) and one
//! described wait ([`Wait`], recorded when the runtime observes tasks).
//!
//! The executor names only what it or the primitives beside it provide.
//! A crate above it names its own kinds with [`WaitKind::register`] (the
//! HTTP client's connection pool is `"http pool"`): the label is kept in a
//! small table here, so the kind stays one code and tagging stays one store.

use std::fmt;
use std::sync::OnceLock;
use std::time::Instant;

/// What kind of resource a task waits on (see [`Wait`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaitKind {
    /// A socket becoming readable or writable.
    Socket,
    /// A timer (`sleep`, `timeout`, `interval`).
    Timer,
    /// A `Queue`'s `get`, `put` or `join`.
    Queue,
    /// An `Event`.
    Event,
    /// A `Mutex` or `Semaphore`.
    Lock,
    /// Another task's `JoinHandle`.
    Join,
    /// A `spawn_blocking` function.
    Blocking,
    /// A kind named by a crate above the executor: see
    /// [`WaitKind::register`].
    Other(OtherKind),
}

/// A kind of wait registered with [`WaitKind::register`]; its label is what
/// the dump shows.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OtherKind {
    code: OtherCode,
}

/// A registered kind's state-word code, `FIRST_OTHER..16`: an enum rather
/// than a `u8`, so that `WaitKind` keeps one byte (its other variants take
/// the values this leaves free) and stays as cheap to pass and compare as a
/// plain enum.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
enum OtherCode {
    C8 = 8,
    C9,
    C10,
    C11,
    C12,
    C13,
    C14,
    C15,
}

const OTHER_CODES: [OtherCode; 8] = [
    OtherCode::C8,
    OtherCode::C9,
    OtherCode::C10,
    OtherCode::C11,
    OtherCode::C12,
    OtherCode::C13,
    OtherCode::C14,
    OtherCode::C15,
];

const _: () = assert!(std::mem::size_of::<WaitKind>() == 1);

impl OtherKind {
    /// The label it was registered under (`"other"` for a registration that
    /// found the table full).
    pub fn label(self) -> &'static str {
        OTHER_LABELS[usize::from(self.code as u8 - FIRST_OTHER)]
            .get()
            .copied()
            .unwrap_or(OVERFLOW_LABEL)
    }
}

impl fmt::Debug for OtherKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OtherKind").field(&self.label()).finish()
    }
}

/// The first code of a registered kind; the ones below are the built-in
/// kinds (0 is "nothing tagged").
const FIRST_OTHER: u8 = 8;

/// The labels of the registered kinds, by code: the state word keeps four
/// bits, so eight of them. The last slot is shared by every registration
/// past the seventh distinct label.
static OTHER_LABELS: [OnceLock<&'static str>; 8] = [const { OnceLock::new() }; 8];

/// What a registration that found the table full is shown as.
const OVERFLOW_LABEL: &str = "other";

impl WaitKind {
    const BUILT_IN: [WaitKind; 7] = [
        WaitKind::Socket,
        WaitKind::Timer,
        WaitKind::Queue,
        WaitKind::Event,
        WaitKind::Lock,
        WaitKind::Join,
        WaitKind::Blocking,
    ];

    /// The kind of wait labelled `label`, for a crate above the executor
    /// that tags its own waits (with [`waiting_on`](crate::observe::waiting_on)
    /// or [`tagged`](crate::observe::tagged)). The same label gives the same
    /// kind. Seven distinct labels fit; past those, every new label shares
    /// one kind shown as `other`. Registering takes a scan of a small table:
    /// keep the kind (in a `LazyLock`, say) rather than registering per wait.
    ///
    /// ```
    /// use ferrio_executor::observe::WaitKind;
    /// let kind = WaitKind::register("doc-example pool");
    /// assert_eq!(kind, WaitKind::register("doc-example pool"));
    /// assert_eq!(kind.to_string(), "doc-example pool");
    /// ```
    pub fn register(label: &'static str) -> WaitKind {
        let last = OTHER_LABELS.len() - 1;
        for (slot, cell) in OTHER_LABELS[..last].iter().enumerate() {
            // `set` fails when another label holds the slot (or this one won
            // a race to it meanwhile): then `get` says which.
            let _ = cell.set(label);
            if cell.get() == Some(&label) {
                return WaitKind::Other(OtherKind {
                    code: OTHER_CODES[slot],
                });
            }
        }
        WaitKind::Other(OtherKind {
            code: OTHER_CODES[last],
        })
    }

    /// Its code in the task's state word: 1 to 15 (0 is "nothing").
    #[inline]
    pub(crate) fn code(self) -> u8 {
        match self {
            WaitKind::Socket => 1,
            WaitKind::Timer => 2,
            WaitKind::Queue => 3,
            WaitKind::Event => 4,
            WaitKind::Lock => 5,
            WaitKind::Join => 6,
            WaitKind::Blocking => 7,
            WaitKind::Other(other) => other.code as u8,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<WaitKind> {
        match code {
            0 => None,
            1..FIRST_OTHER => Some(WaitKind::BUILT_IN[usize::from(code - 1)]),
            FIRST_OTHER..16 => Some(WaitKind::Other(OtherKind {
                code: OTHER_CODES[usize::from(code - FIRST_OTHER)],
            })),
            _ => None,
        }
    }
}

impl fmt::Display for WaitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WaitKind::Socket => "socket",
            WaitKind::Timer => "timer",
            WaitKind::Queue => "queue",
            WaitKind::Event => "event",
            WaitKind::Lock => "lock",
            WaitKind::Join => "join",
            WaitKind::Blocking => "spawn_blocking",
            WaitKind::Other(other) => other.label(),
        })
    }
}

/// One thing a task waits on, as the primitive that stored its waker
/// described it: `socket read 127.0.0.1:40312 -> 127.0.0.1:8080`,
/// `timer in 950ms`, `queue get`, `join <Task ...>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wait {
    pub(super) kind: WaitKind,
    pub(super) detail: String,
    pub(super) deadline: Option<Instant>,
}

impl Wait {
    /// The kind of resource.
    pub fn kind(&self) -> WaitKind {
        self.kind
    }

    /// What the primitive said about it (an address, a host, a task).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// When it ends by itself, for timers.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if !self.detail.is_empty() {
            write!(f, " {}", self.detail)?;
        }
        if let Some(deadline) = self.deadline {
            let now = Instant::now();
            if deadline >= now {
                write!(f, " in {:.3?}", deadline - now)?;
            } else {
                write!(f, " due {:.3?} ago", now - deadline)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test: the label table is the process's, and filling it would
    // change what a label registered in a parallel test is shown as.
    #[test]
    fn every_wait_kind_round_trips_through_its_code_and_the_table_overflows_into_one_kind() {
        let other = WaitKind::register("wait.rs test");
        for kind in WaitKind::BUILT_IN.into_iter().chain([other]) {
            let code = kind.code();
            assert!(code > 0 && code < 16, "fits the state word's four bits");
            assert_eq!(WaitKind::from_code(code), Some(kind));
        }
        assert_eq!(WaitKind::from_code(0), None);
        assert_eq!(WaitKind::from_code(16), None);
        assert_eq!(other.to_string(), "wait.rs test");

        // Static labels (a leaked `String` would be a leak to Miri).
        const LABELS: [&str; 10] = ["l0", "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9"];
        let many: Vec<WaitKind> = LABELS.into_iter().map(WaitKind::register).collect();
        assert!(many.iter().all(|k| k.code() < 16));
        assert_eq!(WaitKind::register("wait.rs test"), other);
        assert_eq!(other.to_string(), "wait.rs test");
        assert_eq!(many.last().unwrap().to_string(), "other");
        assert_eq!(WaitKind::from_code(15), Some(*many.last().unwrap()));
    }
}

//! A task's spawn site and, if it has one, its name, in one word.
//!
//! Every task records where it was spawned; few are named. Two fields (a
//! `&'static Location` and an optional boxed name) would make every task 8
//! bytes bigger, which moves a task of a small future into the next malloc
//! size class (a pending task costs 10% more memory, `benches/` pending_tasks).
//! So the word is either the `&'static Location` itself or, with its low bit
//! set, a pointer to a boxed [`Named`] holding both. `Location` is 8-aligned,
//! so a real site pointer never has that bit set.
//!
//! Not here: what the task does with them (`TaskMeta` in `mod.rs`).

use std::marker::PhantomData;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::Arc;

/// A named task's site and name, behind [`Origin`]'s tagged pointer.
struct Named {
    site: &'static Location<'static>,
    name: Arc<str>,
}

/// The low bit that marks a pointer to a [`Named`].
const NAMED: usize = 1;

/// A spawn site, or a boxed site and name, in one pointer.
pub(crate) struct Origin {
    ptr: NonNull<()>,
    /// Owns a `Named` when the bit is set: `Send`/`Sync` as it is.
    _named: PhantomData<Box<Named>>,
}

// `Location` must leave the tag bit free.
const _: () = assert!(std::mem::align_of::<Location<'static>>() > NAMED);
const _: () = assert!(std::mem::align_of::<Named>() > NAMED);

impl Origin {
    #[inline]
    pub(crate) fn new(site: &'static Location<'static>, name: Option<Arc<str>>) -> Self {
        let ptr = match name {
            None => NonNull::from(site).cast(),
            Some(name) => {
                let named = NonNull::from(Box::leak(Box::new(Named { site, name })));
                named.cast::<()>().map_addr(|addr| addr | NAMED)
            }
        };
        Origin {
            ptr,
            _named: PhantomData,
        }
    }

    /// The pointer to the boxed site and name, if the task has a name: the
    /// word with its tag bit cleared (provenance kept by `map_addr`).
    #[inline]
    fn named_ptr(&self) -> Option<NonNull<Named>> {
        if self.ptr.addr().get() & NAMED == 0 {
            return None;
        }
        let named = self.ptr.map_addr(|addr| {
            // The bit was set, so clearing it leaves a non-zero address.
            std::num::NonZeroUsize::new(addr.get() & !NAMED).unwrap_or(addr)
        });
        Some(named.cast())
    }

    /// The boxed site and name, if the task has a name.
    #[inline]
    fn named(&self) -> Option<&Named> {
        // SAFETY: a tagged word came from `Box::leak` of a `Named` in `new`,
        // which stays valid until `drop` (which needs `&mut self`) and is
        // never mutated.
        self.named_ptr().map(|named| unsafe { named.as_ref() })
    }

    /// Where the task was spawned.
    #[inline]
    pub(crate) fn site(&self) -> &'static Location<'static> {
        match self.named() {
            Some(named) => named.site,
            // SAFETY: without the bit, `ptr` is the `&'static Location` given
            // to `new`, valid for the whole program.
            None => unsafe { self.ptr.cast::<Location<'static>>().as_ref() },
        }
    }

    /// The task's name, if it has one.
    #[inline]
    pub(crate) fn name(&self) -> Option<&Arc<str>> {
        self.named().map(|named| &named.name)
    }
}

impl Drop for Origin {
    #[inline]
    fn drop(&mut self) {
        if let Some(named) = self.named_ptr() {
            // SAFETY: the pointer is the one `Box::leak` returned in `new`
            // (tag cleared, provenance kept), freed only here, once; no
            // reference from `named()` outlives `&mut self`.
            drop(unsafe { Box::from_raw(named.as_ptr()) });
        }
    }
}

// SAFETY: an `Origin` is a `&'static Location` (Send + Sync) or an owned
// `Box<Named>` whose fields (`&'static Location`, `Arc<str>`) are Send + Sync,
// and it is never mutated through `&self`.
unsafe impl Send for Origin {}
// SAFETY: see `Send`.
unsafe impl Sync for Origin {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_alone_and_a_site_with_a_name_both_fit_one_word() {
        assert_eq!(std::mem::size_of::<Origin>(), std::mem::size_of::<usize>());
        let here = Location::caller();
        let plain = Origin::new(here, None);
        assert!(std::ptr::eq(plain.site(), here));
        assert!(plain.name().is_none());
        let named = Origin::new(here, Some(Arc::from("fetch 3")));
        assert!(std::ptr::eq(named.site(), here));
        assert_eq!(named.name().map(|n| &**n), Some("fetch 3"));
        // Dropping the named one frees its box (Miri checks for the leak).
        drop(named);
        let shared: Arc<str> = Arc::from("shared");
        drop(Origin::new(here, Some(shared.clone())));
        assert_eq!(Arc::strong_count(&shared), 1);
    }
}

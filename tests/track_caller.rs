//! Public functions that panic on misuse are `#[track_caller]`, all the way
//! down to the panic: the panic names the caller's file and line, not ferrio's.
//!
//! One test in its own binary, because it replaces the process's panic hook.

use std::panic;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The file and line `f` panicked at.
fn panic_site<R>(f: impl FnOnce() -> R) -> (String, u32) {
    let site = Arc::new(Mutex::new(None));
    let seen = site.clone();
    panic::set_hook(Box::new(move |info| {
        *seen.lock().unwrap() = info.location().map(|l| (l.file().to_owned(), l.line()));
    }));
    let outcome = panic::catch_unwind(panic::AssertUnwindSafe(f));
    let _ = panic::take_hook();
    assert!(outcome.is_err(), "no panic");
    let site = site.lock().unwrap().take();
    site.expect("the hook saw the panic")
}

/// `$f` panics in this file, not in ferrio's.
macro_rules! assert_panics_here {
    ($what:literal, $f:expr) => {{
        let (file, line) = panic_site(|| $f);
        assert_eq!(file, file!(), "{} panicked at {file}:{line}", $what);
    }};
}

#[test]
fn misuse_panics_name_the_callers_line() {
    assert_panics_here!("nested run", ferrio::run(async { ferrio::run(async {}) }));
    assert_panics_here!("interval(0)", ferrio::time::interval(Duration::ZERO));
    assert_panics_here!("Handle::current", ferrio::Handle::current());
    assert_panics_here!("spawn", ferrio::spawn(async {}));
    assert_panics_here!("shield", ferrio::shield(async {}));
    assert_panics_here!("UnixStream::pair", ferrio::net::UnixStream::pair());
    assert_panics_here!(
        "UnixDatagram::unbound",
        ferrio::net::UnixDatagram::unbound()
    );
    assert_panics_here!(
        "signal",
        ferrio::signal::signal(ferrio::signal::SignalKind::user_defined1())
    );
    assert_panics_here!(
        "Command::spawn",
        ferrio::process::Command::new("true").spawn()
    );
    assert_panics_here!("mpsc::channel(0)", ferrio::sync::mpsc::channel::<u8>(0));
    assert_panics_here!(
        "broadcast::channel(0)",
        ferrio::sync::broadcast::channel::<u8>(0)
    );
    assert_panics_here!("Queue::bounded(0)", ferrio::sync::Queue::<u8>::bounded(0));
    assert_panics_here!("task::dump", ferrio::task::dump());
    assert_panics_here!("metrics", ferrio::metrics());
}

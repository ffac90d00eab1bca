//! The one way the observer warns (slow polls, the watchdog, panics nobody
//! will see): through `log` when the program installed a logger, and
//! otherwise on stderr, as Python's logging falls back to its "last resort"
//! handler when no handler is configured. Debug mode must not be silent only
//! because the program never set up a `log` backend.
//!
//! Not here: what is warned of and when (`mod.rs`, `watchdog.rs`, `raw.rs`, `join.rs`).

use std::fmt;
use std::io::Write;

/// Warns `args` under `target`: a `log` warning if a logger is installed,
/// otherwise one line on stderr, `[WARN target] message`.
pub(crate) fn warn(target: &'static str, args: fmt::Arguments<'_>) {
    if logger_installed(target) {
        log::warn!(target: target, "{args}");
    } else {
        // A failed write to stderr has nowhere left to be reported.
        let _ = writeln!(std::io::stderr().lock(), "[WARN  {target}] {args}");
    }
}

/// Whether the program set up a `log` backend. `log` does not say so
/// directly: with none, the level is `Off` (its initial value, which every
/// backend raises when it starts) and the stand-in logger enables nothing.
/// A backend that was installed and then turned fully off with
/// `set_max_level(Off)` but still enables warnings counts as installed.
fn logger_installed(target: &'static str) -> bool {
    if log::max_level() != log::LevelFilter::Off {
        return true;
    }
    let metadata = log::Metadata::builder()
        .level(log::Level::Warn)
        .target(target)
        .build();
    log::logger().enabled(&metadata)
}

//! Tasks: spawning them with a name, the running one, and all of them.
//!
//! Not here: `spawn`, `JoinHandle` and friends (at the crate root).

mod observe;

pub use observe::*;

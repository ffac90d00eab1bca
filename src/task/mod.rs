//! Tasks: spawning them with a name, the running one, and all of them; and,
//! where a tokio user looks for them (`tokio::task::spawn`, `yield_now`, ...),
//! the crate root's `spawn`, `spawn_local`, `spawn_blocking`, `yield_now`,
//! `JoinHandle` and `JoinError`.
//!
//! ```
//! ferrio::run(async {
//!     let task = ferrio::task::spawn(async { 1 });
//!     ferrio::task::yield_now().await;
//!     assert_eq!(task.await.unwrap(), 1);
//! });
//! ```

mod observe;

pub use crate::{spawn, spawn_blocking, spawn_local, yield_now, JoinError, JoinHandle};
pub use ferrio_executor::task::Builder;
pub use observe::*;

//! The current task and the task dump (asyncio's `current_task()` and
//! `all_tasks()`), and what the dump says a task waits on.
//!
//! Not here: how they are kept (`ferrio_executor::observe`); the `Builder`
//! that names a task (`ferrio_executor::task`, re-exported by `task/mod.rs`).

pub use ferrio_executor::observe::{
    current, dump, Dump, OtherKind, TaskDump, TaskInfo, TaskState, Wait, WaitKind,
};

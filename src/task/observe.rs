//! Task names, the current task and the task dump (asyncio's
//! `create_task(name=)`, `current_task()` and `all_tasks()`).
//!
//! Not here: how they are kept (`ferrio_executor::observe`).

pub use ferrio_executor::observe::{
    current, dump, Builder, Dump, OtherKind, TaskDump, TaskInfo, TaskState, Wait, WaitKind,
};

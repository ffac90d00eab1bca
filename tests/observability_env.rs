//! `FERRIO_DEBUG` and `FERRIO_TRACE`, read when a runtime is built, and the
//! builder's own settings winning over them. A file of its own: it changes
//! the process environment, which no other test here may see.

use std::time::Duration;

/// Whether the runtime built by `builder` times tasks: in debug mode (or when
/// tracing) a pending task's dump has figures, otherwise it has none.
fn times_tasks(builder: ferrio::Builder) -> bool {
    let mut rt = builder.build().unwrap();
    let task = rt.spawn(ferrio::time::sleep(Duration::from_secs(60)));
    rt.block_on(ferrio::time::sleep(Duration::from_millis(5)));
    let dump = rt.dump();
    dump.task(task.id())
        .expect("the sleeper is alive")
        .polls()
        .is_some()
}

#[test]
fn environment_switches_are_read_at_build_and_the_builder_wins() {
    let dir = std::env::temp_dir();
    let from_env = dir.join(format!("ferrio-env-trace-{}.json", std::process::id()));
    let from_builder = dir.join(format!("ferrio-builder-trace-{}.json", std::process::id()));

    assert!(!times_tasks(ferrio::Runtime::builder()), "off by default");
    std::env::set_var("FERRIO_DEBUG", "1");
    assert!(
        times_tasks(ferrio::Runtime::builder()),
        "FERRIO_DEBUG=1 switches debug mode on"
    );
    assert!(
        !times_tasks(ferrio::Runtime::builder().debug(false)),
        "Builder::debug(false) wins over FERRIO_DEBUG=1"
    );
    std::env::remove_var("FERRIO_DEBUG");

    std::env::set_var("FERRIO_TRACE", &from_env);
    drop(ferrio::Runtime::new().unwrap());
    assert!(from_env.exists(), "FERRIO_TRACE names the trace file");
    std::fs::remove_file(&from_env).unwrap();
    drop(
        ferrio::Runtime::builder()
            .trace(&from_builder)
            .build()
            .unwrap(),
    );
    std::env::remove_var("FERRIO_TRACE");
    assert!(
        from_builder.exists() && !from_env.exists(),
        "Builder::trace wins over FERRIO_TRACE"
    );
    std::fs::remove_file(&from_builder).unwrap();
}

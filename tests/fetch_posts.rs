//! `examples/fetch_posts.rs`, the port of seed 004, run against the embedded
//! jsonplaceholder on 127.0.0.1.
//!
//! The example's file is compiled into this test with `#[path]`, and its
//! `run` is called directly: the test runs the very code of
//! `cargo run --example fetch_posts -- --local`, without building or finding
//! the example's binary (cargo offers no `CARGO_BIN_EXE_` for examples, and a
//! nested `cargo build` would fight the outer one for the target directory).

#[allow(dead_code)]
#[path = "../examples/fetch_posts.rs"]
mod fetch_posts;

use std::time::Duration;

use fetch_posts::{run, Options, Report};

fn local(posts: u64, limit: usize, latency_ms: u64) -> Options {
    Options {
        posts,
        limit,
        local: true,
        latency: Duration::from_millis(latency_ms),
        ..Options::default()
    }
}

fn run_captured(options: &Options) -> (Report, String) {
    let mut out = Vec::new();
    let report = run(options, &mut out).expect("fetch_posts failed");
    (report, String::from_utf8(out).unwrap())
}

#[test]
fn local_async_run_is_at_least_5x_faster_than_the_sync_run() {
    let (report, out) = run_captured(&local(10, 10, 100));

    // Ten requests at 100 ms each, one after the other, then all at once.
    assert!(report.sync.elapsed >= Duration::from_secs(1), "{out}");
    assert!(
        report.sync.elapsed >= report.concurrent.elapsed * 5,
        "sync {:?}, async {:?}\n{out}",
        report.sync.elapsed,
        report.concurrent.elapsed
    );
    assert!(report.speedup() >= 5.0);

    let ids: Vec<u64> = report.concurrent.posts.iter().map(|p| p.id).collect();
    assert_eq!(ids, (1..=10).collect::<Vec<_>>());
    assert_eq!(report.sync.posts, report.concurrent.posts);
    assert!(report.concurrent.posts.iter().all(|p| !p.title.is_empty()));
    assert_eq!(report.sync.spans.len(), 10);
    assert_eq!(report.concurrent.spans.len(), 10);
    let open = report.max_open_connections.unwrap();
    assert!((2..=10).contains(&open), "{open} connections at once");

    // What the seed prints, and the summary.
    assert!(
        out.contains("Fetching post 1, Fetched post 1, Fetching post 2, "),
        "{out}"
    );
    assert!(out.contains("Fetching post 1, Fetching post 2, "), "{out}");
    assert_eq!(out.matches("\nFinished in ").count(), 2, "{out}");
    assert!(out.contains("\nSpeedup: "), "{out}");
    assert_eq!(out.matches("|").count(), 2 * 20, "{out}");
}

#[test]
fn the_async_run_never_opens_more_connections_than_its_limit() {
    let (report, _) = run_captured(&local(20, 4, 50));
    assert!(report.max_open_connections.unwrap() <= 4);
    // 20 requests through 4 connections: at least 5 rounds of 50 ms.
    assert!(report.concurrent.elapsed >= Duration::from_millis(250));
    assert_eq!(report.concurrent.posts.len(), 20);
}

#[test]
fn an_unreachable_host_falls_back_to_the_embedded_server_with_one_line() {
    let options = Options {
        posts: 2,
        base_url: "http://127.0.0.1:1".into(),
        latency: Duration::from_millis(10),
        ..Options::default()
    };
    let (report, out) = run_captured(&options);
    assert!(report.fell_back);
    assert!(report.base_url.starts_with("http://127.0.0.1:"));
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with("Cannot reach http://127.0.0.1:1 (connecting to 127.0.0.1:1 failed: "),
        "{first}"
    );
    assert!(first.contains("using the embedded jsonplaceholder at http://127.0.0.1:"));
    assert_eq!(report.concurrent.posts.len(), 2);
}

#[test]
fn an_unreachable_host_given_explicitly_is_an_error() {
    let options = Options::parse(["--base-url".into(), "http://127.0.0.1:1/".into()]).unwrap();
    assert!(!options.fallback);
    let error = run(&options, &mut Vec::new()).unwrap_err().to_string();
    assert!(
        error.starts_with("cannot reach http://127.0.0.1:1: "),
        "{error}"
    );
}

#[test]
fn options_parse_like_the_seeds_constants() {
    let parse = |args: &[&str]| Options::parse(args.iter().map(|a| a.to_string()));
    let defaults = parse(&[]).unwrap();
    assert_eq!((defaults.posts, defaults.limit), (10, 10));
    assert_eq!(defaults.base_url, "https://jsonplaceholder.typicode.com");
    assert!(defaults.fallback && !defaults.local);
    assert_eq!(defaults.latency, Duration::from_millis(100));

    let set = parse(&[
        "--posts",
        "100",
        "--limit=5",
        "--local",
        "--latency-ms",
        "0",
    ])
    .unwrap();
    assert_eq!((set.posts, set.limit, set.local), (100, 5, true));
    assert_eq!(set.latency, Duration::ZERO);

    assert!(parse(&["--posts"]).unwrap_err().contains("needs a value"));
    assert!(parse(&["--posts", "ten"])
        .unwrap_err()
        .contains("not a number"));
    assert!(parse(&["--limit", "0"]).is_err());
    assert_eq!(
        parse(&["--trace", "out.json"]).unwrap().trace,
        Some("out.json".into())
    );
    assert!(parse(&["--frobnicate"])
        .unwrap_err()
        .contains("unknown argument"));
}

#[test]
fn trace_flag_writes_a_trace_with_a_track_per_request_and_the_blocking_sync_half() {
    let path = std::env::temp_dir().join(format!("fetch-posts-trace-{}.json", std::process::id()));
    let options = Options::parse(
        [
            "--local",
            "--posts",
            "4",
            "--limit",
            "2",
            "--latency-ms",
            "20",
            "--trace",
        ]
        .into_iter()
        .map(String::from)
        .chain([path.display().to_string()]),
    )
    .unwrap();
    let (_, out) = run_captured(&options);
    assert!(
        out.contains(&format!("Trace written to {}", path.display())),
        "{out}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let events = doc["traceEvents"].as_array().unwrap();
    let tracks: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    for post in 1..=4 {
        let name = format!("fetch post {post} (task ");
        assert!(
            tracks.iter().any(|t| t.starts_with(&name)),
            "{name} in {tracks:?}"
        );
    }
    // The synchronous half: 4 requests of >= 20 ms each in one poll of main.
    let longest_main_poll = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["name"] == "poll main")
        .map(|e| e["dur"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(longest_main_poll >= 80_000.0, "{longest_main_poll} us");
}

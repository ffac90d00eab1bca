#!/usr/bin/env python3
"""Before/after: runs ferrio's side of some workloads of harness.py with two
builds of the benches, a baseline's and the current one, interleaved in one
session (A B A B ...), so that load on the machine hits both alike; prints the
medians and the ratio current/baseline of each (below 1: the current build
takes less time; for rates, above 1 is better), and stores them in
benches/results/ab.json.

    benches/.venv/bin/python benches/ab.py --base BASE_RELEASE_DIR [--runs 5] WORKLOAD...

BASE_RELEASE_DIR holds the baseline's `bench` and `netbench` (e.g. a worktree
of the baseline commit built with `cargo build --release --manifest-path
benches/Cargo.toml`, then `.../target/release`). The current build is the one
harness.py uses (CARGO_TARGET_DIR, else target/, of this checkout). Only the
workloads whose ferrio side runs `bench` or `netbench` can be compared (not
those that run the examples, such as echo). Not here: the peers, the docs.

Stdlib only (and harness.py).
"""
import argparse
import json
import statistics
import time
from pathlib import Path

import harness

# The metrics each workload is compared on, each with whether higher is better.
METRICS = {
    "spawn_many": [("secs", False)],
    "yield_many": [("secs", False)],
    "ping_pong": [("secs", False)],
    "chained_spawn": [("secs", False)],
    "pending_tasks": [("bytes_per_task", False)],
    "http_client": [("req_per_sec", True), ("cpu_us_per_req", False)],
    "https_keepalive": [("req_per_sec", True), ("cpu_us_per_req", False)],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, type=Path, help="the baseline's release dir (bench, netbench)")
    ap.add_argument("--runs", type=int, default=5, help="runs per build (default 5)")
    ap.add_argument("--quick", action="store_true", help="the harness's quick sizes")
    ap.add_argument("workloads", nargs="+", help=f"any of: {', '.join(METRICS)}")
    args = ap.parse_args()
    unknown = [w for w in args.workloads if w not in METRICS]
    if unknown:
        ap.error(f"cannot compare {unknown}; comparable: {', '.join(METRICS)}")
    builds = {"baseline": args.base.resolve(), "current": harness.TARGET}
    for name, d in builds.items():
        for exe in ("bench", "netbench"):
            if not (d / exe).exists():
                ap.error(f"{name}: no {d / exe}")

    def use(build):
        harness.BENCH = builds[build] / "bench"
        harness.NETBENCH = builds[build] / "netbench"

    mode = "quick" if args.quick else "full"
    out = {}
    for name in args.workloads:
        w = harness.WORKLOADS[name]
        size = w["sizes"][mode]
        metrics = METRICS[name]
        samples = {b: {m: [] for m, _ in metrics} for b in builds}
        print(f"== {name} (size {size}, {args.runs} runs per build)", flush=True)

        def runs():
            for i in range(args.runs):
                for build in builds:
                    use(build)
                    t = time.monotonic()
                    r = w["run"]("ferrio", size)
                    for m, _ in metrics:
                        samples[build][m].append(r[m])
                    print(f"  run {i + 1}/{args.runs} {build:<8} "
                          + " ".join(f"{m}={r[m]:.4g}" for m, _ in metrics)
                          + f"  ({time.monotonic() - t:.1f} s)", flush=True)

        if name == "http_client":
            with harness.Nginx() as harness.NGINX:
                for build in builds:
                    use(build)
                    w["run"]("ferrio", 2000)
                runs()
        else:
            runs()
        for m, higher in metrics:
            med = {b: statistics.median(samples[b][m]) for b in builds}
            out[f"{name} {m}"] = dict(workload=name, metric=m, higher_is_better=higher, size=size,
                                      runs=args.runs, medians=med,
                                      samples={b: samples[b][m] for b in builds},
                                      ratio=med["current"] / med["baseline"])
    print()
    print(f"{'workload':<16} {'metric':<16} {'baseline':>12} {'current':>12} {'current/baseline':>17}")
    for r in out.values():
        better = "higher" if r["higher_is_better"] else "lower"
        print(f"{r['workload']:<16} {r['metric']:<16} {r['medians']['baseline']:>12.4g} "
              f"{r['medians']['current']:>12.4g} {r['ratio']:>10.3f}x ({better} is better)")
    harness.RESULTS.mkdir(exist_ok=True)
    meta = harness.machine()
    meta["baseline"] = str(args.base)
    (harness.RESULTS / "ab.json").write_text(json.dumps(dict(meta=meta, workloads=out), indent=1) + "\n")


if __name__ == "__main__":
    main()

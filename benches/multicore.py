#!/usr/bin/env python3
"""Several-worker runs of `bench`: ferrio's `workers(N)` runtime (`ferrio-mt`)
beside ferrio's one worker, tokio's multi-thread runtime with N workers
(`tokio-mt`), smol's `Executor` on N threads (`smol-mt`) and N tokio
current-thread runtimes with the tasks dealt out round-robin up front, no
stealing (`tokio-nxct`). Prints the medians and writes
benches/results/multicore.md and multicore.json.

    python3 benches/multicore.py [--workers 2] [--runs 5] [--bin DIR] [WORKLOAD ...]

DIR holds `bench` (default: harness.py's, CARGO_TARGET_DIR else target/,
`release`). Every run is its own process under `timeout 120`; the peers'
runs are interleaved (A B C A B C ...). A run that fails, hangs or reports
a wrong result (`bench` checks each task's output) stops the script with
the command that did it. Not here: docs/performance.md (harness.py's), and
the network workloads (multicore_net.py, whose section of multicore.md is
kept when this rewrites the file).

Stdlib only (and harness.py).
"""
import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path

import harness

FANOUT_PEERS = ["ferrio", "tokio", "ferrio-mt", "tokio-mt", "smol-mt", "tokio-nxct"]
MICRO_PEERS = ["ferrio", "tokio", "ferrio-mt", "tokio-mt"]

# name: (peers, params beside workers=N, extra metrics shown)
WORKLOADS = {
    "cpu_fanout": (FANOUT_PEERS, {"n": 10_000}, ["cpu_secs", "efficiency", "max_thread_share"]),
    "cpu_fanout_skewed": (FANOUT_PEERS, {"n": 10_000},
                          ["cpu_secs", "efficiency", "max_thread_share"]),
    "spawn_many": (MICRO_PEERS, {"n": 1_000_000}, ["ns_per_op"]),
    "yield_many": (MICRO_PEERS, {"tasks": 1000, "yields": 1000}, ["ns_per_op"]),
    "ping_pong": (MICRO_PEERS, {"n": 1_000_000}, ["ns_per_op"]),
    "chained_spawn": (MICRO_PEERS, {"n": 100_000}, ["ns_per_op"]),
}

# The one-thread form of each several-thread peer, for its speedup.
ONE_THREAD = {"ferrio-mt": "ferrio", "tokio-mt": "tokio", "tokio-nxct": "tokio"}

TIMEOUT = 120


class RunFailed(Exception):
    pass


def argv_of(bench, workload, peer, params):
    return (["timeout", str(TIMEOUT), str(bench), workload, peer]
            + [f"{k}={v}" for k, v in params.items()])


def run(argv):
    try:
        return harness.run_result(argv, timeout=TIMEOUT + 10)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        raise RunFailed(f"{' '.join(argv)}\n{e}") from None


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2, help="N (default 2)")
    ap.add_argument("--runs", type=int, default=5, help="runs per peer (default 5)")
    ap.add_argument("--bin", type=Path, default=harness.TARGET, help="the release dir holding bench")
    ap.add_argument("--out", type=Path, default=harness.RESULTS / "multicore.md")
    ap.add_argument("--command", default=None, help="the command line, for the document")
    ap.add_argument("workloads", nargs="*", help=f"any of: {', '.join(WORKLOADS)} (default: all)")
    args = ap.parse_args()
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s) {unknown}; known: {', '.join(WORKLOADS)}")
    bench = args.bin.resolve() / "bench"
    if not bench.exists():
        ap.error(f"no {bench}: build with cargo build --release --manifest-path benches/Cargo.toml")
    selected = args.workloads or list(WORKLOADS)
    command = args.command or "python3 benches/multicore.py " + " ".join(
        [f"--workers {args.workers}", f"--runs {args.runs}"] + args.workloads)

    # One unit of cpu_fanout work for the whole session: the median of three
    # calibrations (50 us each), passed to every run as iters=.
    iters = None
    if any(w.startswith("cpu_fanout") for w in selected):
        cal = [run(argv_of(bench, "cpu_fanout", "ferrio", {"n": 10}))["iters_per_task"]
               for _ in range(3)]
        iters = int(statistics.median(cal))
        print(f"cpu_fanout unit: {iters} spin iterations (calibrations {cal})", flush=True)

    results = {}
    failure = None
    for name in selected:
        peers, params, extra = WORKLOADS[name]
        params = dict(params)
        if name.startswith("cpu_fanout"):
            params["iters"] = iters
        params["workers"] = args.workers
        samples = {p: [] for p in peers}
        load0, t0 = loadavg(), time.monotonic()
        try:
            for i in range(args.runs):
                for peer in peers:
                    r = run(argv_of(bench, name, peer, params))
                    samples[peer].append(r)
                    print(f"  {name:<18} run {i + 1}/{args.runs} {peer:<10} secs={r['secs']:.4g} "
                          + " ".join(f"{k}={r[k]:.4g}" for k in extra if k in r), flush=True)
        except RunFailed as e:
            failure = str(e)
            print(f"FAILED: {failure}", flush=True)
        medians = {}
        for peer, rs in samples.items():
            if not rs:
                continue
            keys = [k for k, v in rs[0].items() if isinstance(v, (int, float))]
            medians[peer] = {k: statistics.median(r[k] for r in rs) for k in keys}
            medians[peer]["min_secs"] = min(r["secs"] for r in rs)
            medians[peer]["max_secs"] = max(r["secs"] for r in rs)
            medians[peer]["runs"] = len(rs)
        results[name] = dict(params=params, peers=peers, extra=extra, medians=medians,
                             samples=samples, load=f"{load0} -> {loadavg()}",
                             seconds=round(time.monotonic() - t0))
        if failure:
            break

    meta = harness.machine()
    meta["command"] = command
    harness.RESULTS.mkdir(exist_ok=True)
    (harness.RESULTS / "multicore.json").write_text(
        json.dumps(dict(meta=meta, iters=iters, workloads=results, failure=failure),
                   indent=1, sort_keys=True) + "\n")
    md = doc(results, meta, args, bench, iters, failure)
    # Keep the network section multicore_net.py put at the end of the file.
    old = args.out.read_text() if args.out.exists() else ""
    begin, end = "<!-- multicore_net.py: begin -->", "<!-- multicore_net.py: end -->"
    if begin in old and end in old:
        net = begin + old.split(begin, 1)[1].split(end, 1)[0] + end
        md = md.rstrip("\n") + "\n\n" + net + "\n"
    args.out.write_text(md)
    print()
    print(md)
    if failure:
        raise SystemExit(1)


def doc(results, meta, args, bench, iters, failure):
    n = args.workers
    md = ["# ferrio with several workers: side by side", "",
          f"Written by `benches/multicore.py`; raw runs in `benches/results/multicore.json`. "
          f"N = {n} workers.", "",
          "## Machine", "",
          f"- CPU: {meta['cpu']}, `nproc` = {meta['nproc']}",
          f"- kernel {meta['kernel']}; {meta['rustc']}",
          f"- ferrio at `{meta['commit']}`; measured {meta['date']}",
          f"- command: `{meta['command']}`", "",
          "## Peers", "",
          "- `ferrio`: `Runtime::builder().workers(1)`; `tokio`: current-thread runtime",
          f"- `ferrio-mt`: `Runtime::builder().workers({n})` (the `block_on` thread is one of the {n})",
          f"- `tokio-mt`: `new_multi_thread().worker_threads({n})` (`block_on` polls the main "
          f"future on the calling thread, beside the {n} workers)",
          f"- `smol-mt`: one `async_executor::Executor` run by {n} threads (the calling one and "
          f"{n - 1} scoped ones, each `async_io::block_on(ex.run(..))`)",
          f"- `tokio-nxct` (cpu_fanout only): {n} tokio current-thread runtimes on {n} threads; "
          f"task i is spawned on runtime i % {n} up front; no stealing", "",
          "## Workloads", "",
          "- `cpu_fanout`: 10,000 tasks spawned from the main future and joined in order, each "
          "spinning a dependent multiply/xor-shift chain for one unit of CPU work "
          f"({iters} iterations, ~50 us here: calibrated once per session, the median of three "
          "calibrations, and passed to every run as `iters=`). `bench` checks every task's "
          "result. `efficiency`: (total work at the speed measured in the process before the "
          "run) / N / wall time. `max_thread_share`: the largest share of the work units that "
          "one thread ran (0.5 is a perfect split over 2).",
          "- `cpu_fanout_skewed`: the same, but about 1% of the tasks (chosen by a hash of the "
          "index; 100 of the 10,000) do 100 units: half the work is in 1% of the tasks.",
          "- `spawn_many` (n=1,000,000), `yield_many` (1,000 tasks x 1,000 yields), `ping_pong` "
          "(1,000,000 round trips, async-channel), `chained_spawn` (100,000): the workloads of "
          "docs/performance.md, the same code, on the several-worker runtimes.", "",
          "## Commands", "", "```sh",
          "nice -n 10 cargo build --release --manifest-path benches/Cargo.toml",
          f"CARGO_TARGET_DIR=benches/target {meta['command']}",
          "# each run, e.g.:"]
    for name, res in results.items():
        p = res["params"]
        md.append(" ".join(argv_of("benches/target/release/bench", name, res["peers"][2], p)))
    md += ["```", ""]
    if failure:
        md += ["## FAILED", "", "```", failure.strip(), "```", ""]
    md += ["## Results", "",
           f"Medians of {args.runs} runs (interleaved); `x ferrio-mt` is the peer's median time over "
           "ferrio-mt's (above 1: ferrio-mt faster); `speedup` is the one-thread form's median "
           "time over this one's.", ""]
    for name, res in results.items():
        med = res["medians"]
        base = med.get("ferrio-mt", {}).get("secs")
        extra = res["extra"]
        md += [f"### {name}", "",
               f"Load average (1 min) before -> after: {res['load']}; {res['seconds']} s.", "",
               "| peer | secs (median) | min | max | " + " | ".join(extra)
               + " | x ferrio-mt | speedup |",
               "|---|---|---|---|" + "---|" * len(extra) + "---|---|"]
        for peer in res["peers"]:
            m = med.get(peer)
            if not m:
                md.append(f"| {peer} | (not run) |")
                continue
            vs = f"{m['secs'] / base:.2f}x" if base else "-"
            one = ONE_THREAD.get(peer)
            sp = (f"{med[one]['secs'] / m['secs']:.2f}x" if one in med else "-")
            md.append(f"| {peer} | {m['secs']:.4f} | {m['min_secs']:.4f} | {m['max_secs']:.4f} | "
                      + " | ".join(fmt(m.get(k)) for k in extra) + f" | {vs} | {sp} |")
        md.append("")
    return "\n".join(md) + "\n"


if __name__ == "__main__":
    main()

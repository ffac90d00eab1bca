#!/usr/bin/env python3
"""The worker-count sweep: `cpu_fanout` and `yield_many` on ferrio's
`workers(N)` runtime and tokio's multi-thread runtime for N = 1, 2, 4, 8,
medians of a few interleaved runs, written to benches/results/sweep.md with
an SVG chart (docs/img/workers_sweep.svg). On a machine with fewer cores
than N the extra workers only share the cores: the curve shows what each
runtime does with more workers than cores.

    python3 benches/sweep.py [--runs 3] [--bin DIR]

Stdlib only (and multicore.py's helpers).
"""
import argparse
import os
import statistics
from pathlib import Path

import harness
import multicore

ROOT = Path(__file__).resolve().parent.parent
COUNTS = [1, 2, 4, 8]
PEERS = ["ferrio-mt", "tokio-mt"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bin", default=None)
    args = parser.parse_args()
    bench = Path(args.bin or harness.TARGET) / "bench"
    cal = [multicore.run(multicore.argv_of(bench, "cpu_fanout", "ferrio", {"n": 10}))["iters_per_task"]
           for _ in range(3)]
    iters = int(statistics.median(cal))
    workloads = {
        "cpu_fanout": {"n": 10_000, "iters": iters},
        "yield_many": {"tasks": 1000, "yields": 1000},
    }
    results = {}
    for workload, params in workloads.items():
        for n in COUNTS:
            for _ in range(args.runs):
                for peer in PEERS:
                    out = multicore.run(multicore.argv_of(bench, workload, peer, dict(params, workers=n)))
                    results.setdefault((workload, peer, n), []).append(out["secs"])
            print(workload, n, {p: min(results[(workload, p, n)]) for p in PEERS}, flush=True)
    lines = ["# Worker-count sweep", "",
             f"Written by `benches/sweep.py --runs {args.runs}`; medians in seconds; "
             f"`nproc` = {os.cpu_count()}; "
             f"cpu_fanout unit {iters} iterations (~50 us).", ""]
    for workload in workloads:
        lines += [f"## {workload}", "", "| workers | " + " | ".join(PEERS) + " | tokio-mt / ferrio-mt |",
                  "|---|" + "---|" * (len(PEERS) + 1)]
        for n in COUNTS:
            med = {p: statistics.median(results[(workload, p, n)]) for p in PEERS}
            lines.append(f"| {n} | " + " | ".join(f"{med[p]:.4f}" for p in PEERS)
                         + f" | {med['tokio-mt'] / med['ferrio-mt']:.2f}x |")
        lines.append("")
    (ROOT / "benches" / "results" / "sweep.md").write_text("\n".join(lines))
    (ROOT / "docs" / "img" / "workers_sweep.svg").write_text(svg(results))
    print("wrote benches/results/sweep.md and docs/img/workers_sweep.svg")


def svg(results):
    """cpu_fanout's median time against the worker count, one line per runtime."""
    w, h, pad = 480, 300, 50
    meds = {p: [statistics.median(results[("cpu_fanout", p, n)]) for n in COUNTS] for p in PEERS}
    top = max(max(v) for v in meds.values()) * 1.1
    x = lambda i: pad + i * (w - 2 * pad) / (len(COUNTS) - 1)
    y = lambda v: h - pad - v / top * (h - 2 * pad)
    colors = {"ferrio-mt": "#d9480f", "tokio-mt": "#1c7ed6"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<text x="{w / 2}" y="20" text-anchor="middle">cpu_fanout (10,000 x ~50 us): seconds by worker count</text>',
           f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="black"/>',
           f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="black"/>']
    for i, n in enumerate(COUNTS):
        out.append(f'<text x="{x(i)}" y="{h - pad + 16}" text-anchor="middle">{n}</text>')
    for k in range(5):
        v = top * k / 4
        out.append(f'<text x="{pad - 6}" y="{y(v) + 4}" text-anchor="end">{v:.2f}</text>')
    for j, (peer, vals) in enumerate(meds.items()):
        pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vals))
        out.append(f'<polyline fill="none" stroke="{colors[peer]}" stroke-width="2" points="{pts}"/>')
        out.append(f'<text x="{w - pad}" y="{pad + 16 * j}" text-anchor="end" fill="{colors[peer]}">{peer}</text>')
    out.append(f'<text x="{w / 2}" y="{h - 10}" text-anchor="middle">workers</text>')
    out.append("</svg>\n")
    return "\n".join(out)


if __name__ == "__main__":
    main()

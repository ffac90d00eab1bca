#!/usr/bin/env python3
"""Draws a ferrio trace (Chrome trace-event JSON) as a picture for the docs.

    cargo run --release --example fetch_posts -- --local --trace /tmp/out.json
    python3 docs/img/render_trace.py /tmp/out.json docs/img/fetch_posts_trace.png

One row per track (the loop's parks, block_on's main future, each task), a
bar per slice (polls, parks, blocking jobs) and a line per wake arrow, from
what woke a task to the poll it led to. The top panel shows the whole run;
the bottom one zooms into the async half (from the first task's first poll).

Needs matplotlib (pip install matplotlib). Not a trace viewer: open the file
in https://ui.perfetto.dev to explore it.
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {
    "poll": "#1f77b4",
    "poll main": "#d62728",
    "park": "#c7c7c7",
    "spawn_blocking": "#9467bd",
    "remote wake": "#ff7f0e",
}
FLOW_COLORS = {
    "wake by socket": "#2ca02c",
    "wake by timer": "#17becf",
    "wake by task": "#8c564b",
    "wake by main": "#e377c2",
    "wake by other thread": "#ff7f0e",
    "wake by reactor": "#7f7f7f",
}


def load(path):
    events = json.load(open(path))["traceEvents"]
    names, order = {}, {}
    for e in events:
        if e["ph"] == "M" and e["name"] == "thread_name":
            names[e["tid"]] = e["args"]["name"]
        if e["ph"] == "M" and e["name"] == "thread_sort_index":
            order[e["tid"]] = e["args"]["sort_index"]
    slices = [e for e in events if e["ph"] == "X"]
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    flows = [(starts[e["id"]], e) for e in events if e["ph"] == "f" and e["id"] in starts]
    return names, order, slices, flows


def draw(ax, names, rows, slices, flows, t0, t1, title):
    min_width = (t1 - t0) / 600  # keep a microsecond poll visible
    for e in slices:
        start, end = e["ts"] / 1000, (e["ts"] + e["dur"]) / 1000
        if end < t0 or start > t1 or e["tid"] not in rows:
            continue
        ax.barh(rows[e["tid"]], max(end - start, min_width), left=start, height=0.6,
                color=COLORS.get(e["name"], "#1f77b4"), linewidth=0)
    for s, f in flows:
        if s["tid"] not in rows or f["tid"] not in rows:
            continue
        x0, x1 = s["ts"] / 1000, f["ts"] / 1000
        if x1 < t0 or x0 > t1:
            continue
        ax.annotate("", xy=(x1, rows[f["tid"]]), xytext=(x0, rows[s["tid"]]),
                    arrowprops=dict(arrowstyle="->", lw=0.6, alpha=0.7,
                                    color=FLOW_COLORS.get(s["name"], "#7f7f7f")))
    ax.set_xlim(t0, t1)
    ax.set_yticks(list(rows.values()))
    ax.set_yticklabels([short(names.get(tid, str(tid))) for tid in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("ms since the runtime started")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)


def short(name):
    # "fetch post 3 (task 24, examples/fetch_posts.rs:460:18)" -> "fetch post 3 (task 24)"
    if " (task " in name:
        head, rest = name.split(" (task ", 1)
        return f"{head} (task {rest.split(',')[0].rstrip(')')})"
    return name


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    names, order, slices, flows = load(sys.argv[1])
    used = {e["tid"] for e in slices} | {f["tid"] for _, f in flows}
    tids = sorted((t for t in names if t in used), key=lambda t: (order.get(t, t), t))
    rows = {tid: i for i, tid in enumerate(tids)}
    end = max((e["ts"] + e["dur"]) / 1000 for e in slices)
    task_polls = [e["ts"] / 1000 for e in slices if e["name"] == "poll"]
    async_start = min(task_polls) if task_polls else 0

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 2.2 + 0.42 * len(rows) * 2))
    draw(top, names, rows, slices, flows, 0, end,
         "whole run: the synchronous half is one long poll of main that blocks the loop")
    draw(bottom, names, rows, slices, flows, async_start - 1, end,
         "async half: short polls on many tasks, woken by sockets (green), the pool (brown)"
         " and main (pink)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in COLORS.values()]
    top.legend(handles, COLORS.keys(), fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)
    print(f"wrote {sys.argv[2]} ({len(slices)} slices, {len(flows)} arrows, {len(rows)} tracks)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A/B comparison of two builds of a bench binary, for changes whose cost is
a few percent (docs/performance.md, "Observability costs").

    python3 benches/ab_cpu.py RUNS KEY BEFORE AFTER ARGS...
    python3 benches/ab_cpu.py 10 secs before/bench after/bench yield_many ferrio

Alternates the two binaries RUNS times each (BEFORE first on even rounds,
AFTER first on odd ones), reads KEY from each RESULT line, and prints the
min and median of KEY and of the child's CPU time (user + system, from
getrusage), then AFTER/BEFORE of the minimums. On a busy machine the CPU
time is the steadier of the two.
"""
import json, resource, statistics, subprocess, sys

def run(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    line = [l for l in out.splitlines() if l.startswith("RESULT ")][-1]
    r = json.loads(line[7:])
    return r, cpu

def main():
    runs = int(sys.argv[1]); key = sys.argv[2]
    sides = {"before": sys.argv[3], "after": sys.argv[4]}
    rest = sys.argv[5:]
    res = {k: [] for k in sides}
    for i in range(runs):
        for name, binary in (sides.items() if i % 2 == 0 else reversed(list(sides.items()))):
            r, cpu = run([binary] + rest)
            res[name].append((r[key], cpu, r))
    for name, rs in res.items():
        vals = [v for v, _, _ in rs]; cpus = [c for _, c, _ in rs]
        print(f"{name:6} {key}: min {min(vals):.5g} median {statistics.median(vals):.5g} | cpu s: min {min(cpus):.4f} median {statistics.median(cpus):.4f}")
    b = min(v for v, _, _ in res["before"]); n = min(v for v, _, _ in res["after"])
    bc = min(c for _, c, _ in res["before"]); nc = min(c for _, c, _ in res["after"])
    print(f"after/before: {key} min {n / b:.3f}, cpu min {nc / bc:.3f}")


if __name__ == "__main__":
    main()

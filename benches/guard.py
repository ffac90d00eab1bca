#!/usr/bin/env python3
"""The benchmark guard `.ci/run` runs: a few costs of ferrio's hot paths,
counted so that they come out the same on every run of one build, checked
against the figures in benches/guard.json. A figure more than 5% above its
checked-in value fails the guard; a change that costs more on purpose updates
the file in the same commit (`--update`), so the cost is seen where it is made.

    python3 benches/guard.py [--bin DIR] [--update]

- instructions (valgrind's callgrind, whole process) per spawn
  (`bench spawn_many ferrio`), per yield (`bench yield_many ferrio`) and per
  HTTP request of the client (`netbench http_get ferrio` over one keep-alive
  connection to `netbench http_server ferrio`, which runs natively): each as
  the difference of two run sizes over the difference of their counts, so the
  start-up cost drops out;
- heap bytes (a counting allocator, `guard`) per idle connection of a server
  and per pending task.

DIR holds `bench`, `netbench` and `guard` (default: harness.py's, i.e.
CARGO_TARGET_DIR, else target/, then `release`). Without valgrind (and no
apt-get to install it as root) the instruction figures are skipped with a
warning. The counts depend on the compiler: after a toolchain update, run with
`--update` and say so in the commit.

Stdlib only (and harness.py).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import harness

GUARD = Path(__file__).resolve().parent / "guard.json"
LIMIT = 1.05

# name: (argv tail for the small run, for the large run, ops in the small, in the large)
INSTRUCTIONS = {
    "instructions_per_spawn": (["bench", "spawn_many", "ferrio", "n=2000"],
                               ["bench", "spawn_many", "ferrio", "n=12000"], 2000, 12000),
    "instructions_per_yield": (["bench", "yield_many", "ferrio", "tasks=100", "yields=20"],
                               ["bench", "yield_many", "ferrio", "tasks=100", "yields=120"],
                               2000, 12000),
    "instructions_per_http_request": (["netbench", "http_get", "ferrio", "{url}", "200", "1"],
                                      ["netbench", "http_get", "ferrio", "{url}", "1200", "1"],
                                      200, 1200),
}
BYTES = {
    "heap_bytes_per_idle_connection": ["guard", "idle_conn", "n=1000"],
    "heap_bytes_per_pending_task": ["guard", "pending_task", "n=10000"],
}


def have_valgrind():
    if shutil.which("valgrind"):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (["apt-get", "install", "-y", "--no-install-recommends", "valgrind"],
                    ["apt-get", "update"],
                    ["apt-get", "install", "-y", "--no-install-recommends", "valgrind"]):
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=600)
            if shutil.which("valgrind"):
                return True
    return False


def instructions(bindir, argv, url):
    """Instructions the process `argv` ran under callgrind (all threads)."""
    argv = [str(bindir / argv[0])] + [a.replace("{url}", url) for a in argv[1:]]
    with tempfile.TemporaryDirectory(prefix="ferrio-guard-") as tmp:
        out = Path(tmp) / "callgrind.out"
        p = subprocess.run(["timeout", "300", "valgrind", "--tool=callgrind",
                            f"--callgrind-out-file={out}"] + argv,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=330)
        if p.returncode != 0:
            raise SystemExit(f"guard: {' '.join(argv)} failed under callgrind ({p.returncode}):\n"
                             f"{p.stderr[-2000:]}")
        total = 0
        # One file per thread with --separate-threads; one here, all threads summed.
        for f in Path(tmp).glob("callgrind.out*"):
            m = re.search(r"^(?:summary|totals):\s+(\d+)", f.read_text(errors="replace"), re.M)
            if m:
                total += int(m.group(1))
        if not total:
            raise SystemExit(f"guard: no instruction total in callgrind's output of {argv}")
        return total


def heap_bytes(bindir, argv):
    argv = [str(bindir / argv[0])] + argv[1:]
    p = subprocess.run(["timeout", "120"] + argv, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=150, env={**os.environ, "FERRIO_WORKERS": "1"})
    m = re.search(r"^RESULT (\{.*\})$", p.stdout, re.M)
    if p.returncode != 0 or not m:
        raise SystemExit(f"guard: {' '.join(argv)} failed ({p.returncode}): {p.stderr[-2000:]}")
    return json.loads(m.group(1))["bytes_per_op"]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", type=Path, default=harness.TARGET,
                    help="the release dir holding bench, netbench and guard")
    ap.add_argument("--update", action="store_true",
                    help="write the measured figures to benches/guard.json")
    args = ap.parse_args()
    bindir = args.bin.resolve()
    for f in ["bench", "netbench", "guard"]:
        if not (bindir / f).exists():
            ap.error(f"no {bindir / f}: cargo build --release --manifest-path benches/Cargo.toml")
    os.environ.pop("FERRIO_WORKERS", None)
    measured = {}
    for name, argv in BYTES.items():
        measured[name] = heap_bytes(bindir, argv)
    if have_valgrind():
        port = harness.free_port()
        server = ["timeout", "600", str(bindir / "netbench"), "http_server", "ferrio",
                  f"127.0.0.1:{port}"]
        with harness.Server(server, port):
            url = f"http://127.0.0.1:{port}/posts/1"
            for name, (small, large, n_small, n_large) in INSTRUCTIONS.items():
                a = instructions(bindir, small, url)
                b = instructions(bindir, large, url)
                measured[name] = (b - a) / (n_large - n_small)
    else:
        print("WARNING: valgrind is missing and could not be installed: the instruction "
              "figures are not checked")
    if args.update:
        old = json.loads(GUARD.read_text()) if GUARD.exists() else {}
        old.update({k: round(v, 1) for k, v in measured.items()})
        GUARD.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")
        print(f"wrote {GUARD}")
    checked = json.loads(GUARD.read_text())
    failed = []
    print(f"{'figure':<32} {'checked in':>12} {'now':>12} {'ratio':>7}")
    for name, now in measured.items():
        was = checked.get(name)
        if was is None:
            failed.append(f"{name} is not in {GUARD.name}: run benches/guard.py --update")
            continue
        ratio = now / was if was else float("inf")
        mark = ""
        if ratio > LIMIT:
            mark = "  <- grew"
            failed.append(f"{name}: {now:.1f}, {ratio:.3f}x the checked-in {was:.1f}")
        elif ratio < 1 / LIMIT:
            mark = "  (cheaper: --update to keep the gain)"
        print(f"{name:<32} {was:>12.1f} {now:>12.1f} {ratio:>6.3f}x{mark}")
    if failed:
        print("\nThe guard failed (limit: +5%). If the cost is meant, run "
              "`python3 benches/guard.py --update` and commit benches/guard.json with the "
              "change, saying why:\n  " + "\n  ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()

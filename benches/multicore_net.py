#!/usr/bin/env python3
"""Several-worker runs of the network workloads: ferrio's HTTP server and
echo server on `workers(N)` (`ferrio-mt`) beside ferrio's one worker, hyper
on tokio's multi-thread runtime with N workers (`hyper-mt`) beside hyper on
current-thread, tokio's echo server on multi-thread (`tokio-mt`) beside
current-thread. Prints the medians, writes benches/results/multicore_net.json
and puts its section into benches/results/multicore.md (between its two
marker comments, replacing an earlier one; the rest of the file, i.e.
multicore.py's CPU tables and notes, is kept).

    python3 benches/multicore_net.py [--workers 2] [--runs 5] [--seconds 5] [--bin DIR] [WORKLOAD ...]

WORKLOAD: http_server, echo (default: both). DIR holds `netbench` and
`examples/echo_server`, `examples/echo_client` (default: harness.py's,
CARGO_TARGET_DIR else target/, `release`).

- http_server: `wrk -t1 -c50 -dS --latency` (keep-alive, 50 connections, one
  wrk thread) against `netbench http_server PEER ADDR [workers=N]`, every
  server answering `GET /posts/1` with the same 129 B JSON body. Nothing is
  pinned: wrk and the server share the machine's cores (unlike harness.py's
  http_server, which pins the one-thread server to CPU 0 and wrk to CPU 1).
- echo: `examples/echo_client` (ferrio, one thread; 100 connections x 1,000
  64 B messages, each connection awaiting its echo before the next) against
  `examples/echo_server --workers 1|N` and `netbench tokio_echo_server ADDR
  [workers=N]`; then, once per peer, the server under `strace -c -f` for its
  syscalls per message (as harness.py's echo).

Every server runs under `timeout`, every client and wrk under `timeout` too;
the peers' runs are interleaved (A B C D A B C D ...). A run that fails or
hangs stops the script with the command that did it (the tables keep the
runs done so far). FERRIO_WORKERS is removed from the environment: the
one-worker peers are one worker, the -mt ones N.

Stdlib only (and harness.py).
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import harness
# The same failure, load reading and number format as the CPU workloads'.
from multicore import RunFailed, fmt, loadavg

BEGIN = "<!-- multicore_net.py: begin -->"
END = "<!-- multicore_net.py: end -->"

PEERS = {
    "http_server": ["ferrio", "ferrio-mt", "hyper", "hyper-mt", "ferrio-reuseport",
                    "hyper-reuseport"],
    "echo": ["ferrio", "ferrio-mt", "tokio", "tokio-mt"],
    # The latency workloads: what slow requests do to the others' latency.
    "mixed": ["ferrio-mt", "hyper-mt", "ferrio-reuseport", "hyper-reuseport"],
    "blocked": ["ferrio-mt", "hyper-mt", "ferrio-reuseport", "hyper-reuseport"],
}
LATENCY = {"mixed": ["slow_every=100"], "blocked": ["block_every_ms=500"]}
LATENCY_CONNS = 20
# The one-thread form of each several-thread peer, for its speedup.
ONE_THREAD = {"ferrio-mt": "ferrio", "hyper-mt": "hyper", "tokio-mt": "tokio",
              "ferrio-reuseport": "ferrio", "hyper-reuseport": "hyper"}
# The other runtime's peer of the same form, for the ferrio/peer ratios.
VERSUS = {"http_server": {"ferrio": "hyper", "ferrio-mt": "hyper-mt",
                          "ferrio-reuseport": "hyper-reuseport"},
          "echo": {"ferrio": "tokio", "ferrio-mt": "tokio-mt"},
          "mixed": {"ferrio-mt": "hyper-mt", "ferrio-reuseport": "hyper-reuseport"},
          "blocked": {"ferrio-mt": "hyper-mt", "ferrio-reuseport": "hyper-reuseport"}}

ECHO_CONNS, ECHO_MSGS = 100, 1000
WRK_CONNS = 50
SERVER_TIMEOUT = 600



def server_argv(bindir, workload, peer, port, n):
    addr = f"127.0.0.1:{port}"
    netbench = str(bindir / "netbench")
    mt = [f"workers={n}"] if peer.endswith(("-mt", "-reuseport")) else []
    if workload in ("http_server", "mixed", "blocked"):
        return [netbench, "http_server", peer, addr] + mt
    if peer.startswith("ferrio"):
        return [str(bindir / "examples" / "echo_server"), "--addr", addr,
                "--workers", str(n if mt else 1)]
    return [netbench, "tokio_echo_server", addr] + mt


class NetServer:
    """`timeout SERVER_TIMEOUT ARGV` on a loopback port; `pid` is the server
    itself (the innermost process: under strace, the traced one), which is
    what gets SIGTERM at the end of the block (strace blocks fatal signals
    itself and writes its summary once its child is gone); whatever is left
    after 15 s is killed."""

    def __init__(self, argv, port):
        self.argv, self.port = ["timeout", str(SERVER_TIMEOUT)] + argv, port

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        harness.CHILDREN.append(self.proc)
        harness.wait_port(self.port, self.proc)
        chain = harness.descendants(self.proc.pid)
        if not chain:
            raise RuntimeError(f"no server process under {self.proc.pid}: {self.argv}")
        self.pid = chain[-1]
        return self

    def stop(self):
        if self.proc.poll() is not None:
            return
        rest = harness.descendants(self.proc.pid)
        try:
            os.kill(self.pid, signal.SIGTERM)
        except OSError:
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            harness.kill_pids(rest)
            self.proc.kill()
            self.proc.wait(timeout=5)
        harness.kill_pids(rest)

    def __exit__(self, *exc):
        self.stop()


def thread_cpu_ns(pid):
    """{tid: CPU ns so far} of every thread of pid (schedstat)."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                out[tid] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return out


def machine_busy():
    """(busy CPU seconds of the whole machine so far, of it at nice > 0) from
    /proc/stat: user + nice + system + irq + softirq + steal."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    hz = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return (user + nice + system + irq + softirq + steal) / hz, nice / hz


def wait_idle(limit, sample=0.5, max_busy=0.25):
    """Waits up to `limit` seconds for a sample of `sample` seconds in which
    the machine's other processes use under `max_busy` cores; returns the
    cores busy in the last sample."""
    deadline = time.monotonic() + limit
    while True:
        b0, t0 = machine_busy()[0], time.monotonic()
        time.sleep(sample)
        busy = (machine_busy()[0] - b0) / (time.monotonic() - t0)
        if busy < max_busy or time.monotonic() >= deadline:
            return busy


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def duration_us(text):
    """wrk's and Duration's Debug forms: 1.23ms, 456.00us, 456.7µs, 1.2s, 12ns."""
    m = re.fullmatch(r"([\d.]+)(ns|us|µs|ms|s|m)", text.strip())
    if not m:
        return None
    scale = {"ns": 1e-3, "us": 1, "µs": 1, "ms": 1e3, "s": 1e6, "m": 6e7}[m.group(2)]
    return float(m.group(1)) * scale


def measured(pid, load):
    """Runs load() (which returns its metrics and the count of requests or
    messages) and adds the server's CPU (all threads) and the load
    generator's, per unit, and how the server's CPU spread over its threads."""
    t0 = thread_cpu_ns(pid)
    (m0, n0), c0, w0 = machine_busy(), children_cpu(), time.monotonic()
    r, count = load()
    wall = time.monotonic() - w0
    client = children_cpu() - c0
    t1 = thread_cpu_ns(pid)
    m1, n1 = machine_busy()
    per_thread = sorted((t1[t] - t0.get(t, 0) for t in t1), reverse=True)
    total = sum(per_thread)
    r["server_cpu_us_per_op"] = total / 1e3 / count
    r["client_cpu_us_per_op"] = client * 1e6 / count
    r["server_cores"] = total / 1e9 / wall
    r["busiest_thread_share"] = per_thread[0] / total if total else 0.0
    r["server_threads"] = len(per_thread)
    r["client_cores"] = client / wall
    # What else ran on the machine meanwhile (anything but the server and the
    # load generator; /proc/stat's ticks are coarse, so +-0.05 is noise).
    r["other_cores"] = max(0.0, (m1 - m0) / wall - r["server_cores"] - r["client_cores"])
    r["niced_cores"] = (n1 - n0) / wall
    return r


def wrk(port, seconds):
    argv = ["timeout", str(seconds + 60), "wrk", "-t1", f"-c{WRK_CONNS}", f"-d{seconds}s",
            "--latency", f"http://127.0.0.1:{port}/posts/1"]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=seconds + 90)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {p.returncode}: {p.stderr[-2000:]}")
    if "Non-2xx" in p.stdout or "Socket errors" in p.stdout:
        raise RuntimeError(f"wrk saw errors:\n{p.stdout}")
    m = re.search(r"Requests/sec:\s+([\d.]+)", p.stdout)
    n = re.search(r"(\d+) requests in ", p.stdout)
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", p.stdout, re.M))
    if not m or not n:
        raise RuntimeError(f"unexpected wrk output:\n{p.stdout[-1000:]}")
    return dict(req_per_sec=float(m.group(1)), requests=int(n.group(1)),
                p50_us=duration_us(lat.get("50", "")), p99_us=duration_us(lat.get("99", ""))), \
        int(n.group(1))


def latency_client(bindir, port, workload, seconds):
    argv = ["timeout", str(seconds + 60), str(bindir / "netbench"), "latency_client",
            f"127.0.0.1:{port}", f"conns={LATENCY_CONNS}", f"seconds={seconds}"] + LATENCY[workload]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=seconds + 90)
    m = re.search(r"^RESULT (\{.*\})$", p.stdout, re.M)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"{' '.join(argv)} exited with {p.returncode}: {p.stderr[-2000:]}")
    r = json.loads(m.group(1))
    count = r["requests"] + r.pop("slow") + r["blocks"]
    r.pop("client_cpu_s")
    return r, count


def echo_client(bindir, port):
    argv = ["timeout", "300", str(bindir / "examples" / "echo_client"), "--addr",
            f"127.0.0.1:{port}", "--connections", str(ECHO_CONNS), "--messages", str(ECHO_MSGS),
            "--size", "64"]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=330)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited with {p.returncode}: {p.stderr[-2000:]}")
    m = re.search(r"(\d+) messages in ([\d.]+) s: (\d+) msgs/s, latency p50 (\S+), p99 (\S+)",
                  p.stdout)
    if not m:
        raise RuntimeError(f"unexpected echo_client output: {p.stdout[-1000:]}")
    if int(m.group(1)) != ECHO_CONNS * ECHO_MSGS:
        raise RuntimeError(f"echo_client: {m.group(1)} messages, not {ECHO_CONNS * ECHO_MSGS}")
    return dict(msgs_per_sec=float(m.group(3)), secs=float(m.group(2)),
                p50_us=duration_us(m.group(4)), p99_us=duration_us(m.group(5))), \
        ECHO_CONNS * ECHO_MSGS


def run_once(bindir, workload, peer, n, seconds, idle_wait):
    busy_before = wait_idle(idle_wait)
    port = harness.free_port()
    argv = server_argv(bindir, workload, peer, port, n)
    try:
        with NetServer(argv, port) as server:
            if workload == "http_server":
                r = measured(server.pid, lambda: wrk(port, seconds))
            elif workload in LATENCY:
                r = measured(server.pid, lambda: latency_client(bindir, port, workload, seconds))
            else:
                r = measured(server.pid, lambda: echo_client(bindir, port))
            if server.proc.poll() is not None:
                raise RuntimeError(f"the server exited during the run ({server.proc.returncode})")
            r["busy_before"] = busy_before
            return r
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        raise RunFailed(f"timeout {SERVER_TIMEOUT} {' '.join(argv)}\n{e}") from None


def strace_echo(bindir, peer, n):
    """Syscalls of the echo server (all threads) over one echo run."""
    port = harness.free_port()
    out = Path(tempfile.mkdtemp(prefix="ferrio-strace-")) / "strace.txt"
    argv = ["strace", "-c", "-f", "-o", str(out)] + server_argv(bindir, "echo", peer, port, n)
    try:
        with NetServer(argv, port):
            echo_client(bindir, port)
        text = out.read_text()
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
        raise RunFailed(f"timeout {SERVER_TIMEOUT} {' '.join(argv)}\n{e}") from None
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    rows, total = {}, None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[-1] == "total":
            total = int(parts[3])
        elif len(parts) >= 5 and re.match(r"^[\d.]+$", parts[0]):
            rows[parts[-1]] = int(parts[3])
    if total is None:
        raise RunFailed(f"could not parse strace -c output of {' '.join(argv)}:\n{text[-2000:]}")
    count = ECHO_CONNS * ECHO_MSGS
    top = sorted(rows.items(), key=lambda kv: -kv[1])[:6]
    return dict(syscalls_per_msg=total / count,
                top=", ".join(f"{name} {calls / count:.2f}" for name, calls in top))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2, help="N (default 2)")
    ap.add_argument("--runs", type=int, default=5, help="runs per peer (default 5)")
    ap.add_argument("--seconds", type=int, default=5, help="wrk's duration (default 5)")
    ap.add_argument("--no-strace", action="store_true", help="skip echo's strace runs")
    ap.add_argument("--max-other", type=float, default=0.15,
                    help="a run during which other processes used more cores than this is "
                         "run again (default 0.15)")
    ap.add_argument("--retries", type=int, default=4,
                    help="at most this many reruns of a noisy run; the last is kept, marked "
                         "noisy (default 4)")
    ap.add_argument("--idle-wait", type=float, default=60,
                    help="before each run, wait up to this many seconds for the machine to be "
                         "idle (other processes under 0.25 cores over 0.5 s; default 60)")
    ap.add_argument("--bin", type=Path, default=harness.TARGET,
                    help="the release dir holding netbench and examples/")
    ap.add_argument("--out", type=Path, default=harness.RESULTS / "multicore.md")
    ap.add_argument("--command", default=None, help="the command line, for the document")
    ap.add_argument("workloads", nargs="*", help=f"any of: {', '.join(PEERS)} (default: both)")
    args = ap.parse_args()
    unknown = [w for w in args.workloads if w not in PEERS]
    if unknown:
        ap.error(f"unknown workload(s) {unknown}; known: {', '.join(PEERS)}")
    if args.workers < 2:
        ap.error("--workers: at least 2 (1 is the one-thread peers)")
    bindir = args.bin.resolve()
    for f in ["netbench", "examples/echo_server", "examples/echo_client"]:
        if not (bindir / f).exists():
            ap.error(f"no {bindir / f}: build with nice -n 10 cargo build --release "
                     "--manifest-path benches/Cargo.toml, and cargo build --release "
                     "--example echo_server --example echo_client")
    for tool in ["wrk", "strace", "timeout"]:
        if not shutil.which(tool):
            ap.error(f"{tool} is missing (benches/run.sh installs wrk and strace with apt-get)")
    os.environ.pop("FERRIO_WORKERS", None)
    selected = args.workloads or list(PEERS)
    command = args.command or "python3 benches/multicore_net.py " + " ".join(
        [f"--workers {args.workers}", f"--runs {args.runs}", f"--seconds {args.seconds}"]
        + args.workloads)

    results, failure = {}, None
    for name in selected:
        peers = PEERS[name]
        samples = {p: [] for p in peers}
        load0, t0 = loadavg(), time.monotonic()
        syscalls = {}
        try:
            for i in range(args.runs):
                for peer in peers:
                    for attempt in range(args.retries + 1):
                        r = run_once(bindir, name, peer, args.workers, args.seconds,
                                     args.idle_wait)
                        r["noisy"] = int(r["other_cores"] > args.max_other)
                        r["attempts"] = attempt + 1
                        if not r["noisy"]:
                            break
                        print(f"  ({peer}: other processes used {r['other_cores']:.2f} cores; "
                              f"{'again' if attempt < args.retries else 'kept, noisy'})",
                              flush=True)
                    samples[peer].append(r)
                    print(f"  {name:<11} run {i + 1}/{args.runs} {peer:<9} "
                          + " ".join(f"{k}={v:.4g}" for k, v in r.items()
                                     if isinstance(v, (int, float))), flush=True)
            if name == "echo" and not args.no_strace:
                for peer in peers:
                    syscalls[peer] = strace_echo(bindir, peer, args.workers)
                    print(f"  echo strace {peer}: {syscalls[peer]['syscalls_per_msg']:.2f} "
                          f"syscalls/msg ({syscalls[peer]['top']})", flush=True)
        except RunFailed as e:
            failure = str(e)
            print(f"FAILED: {failure}", flush=True)
        medians = {}
        for peer, rs in samples.items():
            if not rs:
                continue
            keys = [k for k, v in rs[0].items() if isinstance(v, (int, float))]
            medians[peer] = {k: statistics.median(r[k] for r in rs if r.get(k) is not None)
                             for k in keys}
            main_metric = "msgs_per_sec" if name == "echo" else "req_per_sec"
            medians[peer]["min"] = min(r[main_metric] for r in rs)
            medians[peer]["max"] = max(r[main_metric] for r in rs)
            medians[peer]["runs"] = len(rs)
            medians[peer]["noisy"] = sum(r["noisy"] for r in rs)
            medians[peer]["reruns"] = sum(r["attempts"] - 1 for r in rs)
        results[name] = dict(peers=peers, medians=medians, samples=samples, syscalls=syscalls,
                             load=f"{load0} -> {loadavg()}",
                             seconds=round(time.monotonic() - t0))
        if failure:
            break

    meta = harness.machine()
    meta["command"] = command
    meta["wrk"] = " ".join(
        subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[:2])
    harness.RESULTS.mkdir(exist_ok=True)
    (harness.RESULTS / "multicore_net.json").write_text(
        json.dumps(dict(meta=meta, workers=args.workers, workloads=results, failure=failure),
                   indent=1, sort_keys=True) + "\n")
    section = doc(results, meta, args, failure)
    old = args.out.read_text() if args.out.exists() else ""
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        new = head + section + rest.split(END, 1)[1]
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + section + "\n"
    args.out.write_text(new)
    print()
    print(section)
    if failure:
        raise SystemExit(1)


def doc(results, meta, args, failure):
    n = args.workers
    md = [BEGIN, "",
          "## Network workloads on several workers", "",
          "Written by `benches/multicore_net.py` (the sections above are multicore.py's); raw "
          f"runs in `benches/results/multicore_net.json`. N = {n} workers.", "",
          f"- CPU: {meta['cpu']}, `nproc` = {meta['nproc']}; kernel {meta['kernel']}; "
          f"{meta['rustc']}; {meta['wrk']}",
          f"- ferrio at `{meta['commit']}`; measured {meta['date']}",
          f"- command: `{meta['command']}`", "",
          f"**The load generator and the server share the machine's {meta['nproc']} cores.** "
          "Nothing is pinned: wrk (one thread) or echo_client (one ferrio thread) runs beside the "
          f"server, so a server on {n} workers competes with its own load for the cores, and "
          "the one-thread servers are not pinned either (docs/performance.md's http_server pins "
          "the server to CPU 0 and wrk to CPU 1; its numbers are not these). On 2 cores the "
          "load generator takes about one core, so an N = 2 server cannot get 2 cores' worth.",
          "",
          "Peers: `ferrio` = `Runtime::builder().workers(1)`; `ferrio-mt` = "
          f"`.workers({n})` (the `block_on` thread is one of the {n}); `hyper` / `tokio` = tokio "
          f"current-thread; `hyper-mt` / `tokio-mt` = tokio `new_multi_thread().worker_threads({n})` "
          "(the accept loop is `block_on`'s future, on the calling thread beside the workers; "
          "connections are tasks on the workers).", "",
          "- `http_server`: `wrk -t1 -c50 -d{s}s --latency http://127.0.0.1:PORT/posts/1` "
          "(keep-alive, 50 connections) against `netbench http_server PEER ADDR [workers=N]`: "
          "`ferrio::http::server` with its default limits, or hyper 1's HTTP/1.1 server; every "
          "answer is the same 129 B JSON body. A run is one server process and one wrk run.".replace(
              "{s}", str(args.seconds)),
          "- `-reuseport` peers (http_server, mixed, blocked): N threads, each with its own "
          "one-thread runtime (ferrio `workers(1)` / tokio current-thread) and its own listener "
          "on the server's port made with socket2 and `SO_REUSEPORT` (ferrio's through "
          "`TcpListener::from_std`): the kernel spreads the connections, nothing is stolen.",
          f"- `mixed`, `blocked`: `netbench latency_client ADDR conns={LATENCY_CONNS} "
          "seconds=S` (one thread and keep-alive connection each, blocking I/O, a GET at a "
          "time) against the same servers; `mixed`: every 100th GET is `/slow` (5 ms of the "
          "server's CPU before it answers); `blocked`: one more connection GETs `/block` every "
          "500 ms (the handler blocks its thread for 100 ms, as a blocking call would). The "
          "percentiles are those of the plain GETs only.",
          f"- `echo`: `examples/echo_client --connections {ECHO_CONNS} --messages {ECHO_MSGS} "
          "--size 64` (one ferrio thread; each connection sends a 64 B message and awaits its "
          "echo, in turn) against `examples/echo_server --workers 1|N` (ferrio) or "
          "`netbench tokio_echo_server ADDR [workers=N]` (`tokio::io::copy` per connection). "
          "`syscalls/msg`: one more run per peer with the server under `strace -c -f` (all "
          "threads; strace slows the server, the count is what matters).",
          "- `server CPU/op`: the server process's CPU time (all threads, "
          "/proc/PID/task/*/schedstat) over the run, per request or message; `server cores`: "
          "that CPU time over the wall time of the load; `busiest thread`: the busiest server "
          "thread's share of it (1.0: one thread did everything; 0.5: an even split over 2); "
          "`threads`: the server's threads at the end; `client CPU/op`: wrk's or echo_client's "
          "CPU time (getrusage of the children), per op; `client cores`: the same over the "
          "wall time; `other cores`: what the rest of the machine used meanwhile (/proc/stat's "
          "busy time less the server's and the client's; 10 ms ticks, so +-0.05 is noise). "
          f"Before each run the script waits up to {args.idle_wait:.0f} s for a 0.5 s sample in "
          "which the machine is idle (under 0.25 cores busy), and a run during which other "
          f"processes used more than {args.max_other} cores is run again, up to "
          f"{args.retries} times (the last is kept and counted as noisy). The machine was "
          "shared: another session built and tested ferrio (nice 10, which does not hold it "
          "back from a benchmark in another session) at times.", "",
          "```sh",
          "export CARGO_TARGET_DIR=$PWD/target   # one for benches/ and the examples, as run.sh",
          "nice -n 10 cargo build --release --manifest-path benches/Cargo.toml",
          "nice -n 10 cargo build --release --example echo_server --example echo_client",
          meta["command"],
          "# by hand, e.g.:",
          f"timeout 600 target/release/netbench http_server ferrio-mt 127.0.0.1:8080 workers={n} &",
          f"timeout 60 wrk -t1 -c{WRK_CONNS} -d{args.seconds}s --latency "
          "http://127.0.0.1:8080/posts/1",
          f"timeout 600 target/release/examples/echo_server --addr 127.0.0.1:7000 --workers {n} &",
          f"timeout 300 target/release/examples/echo_client --addr 127.0.0.1:7000 "
          f"--connections {ECHO_CONNS} --messages {ECHO_MSGS} --size 64",
          "```", ""]
    if failure:
        md += ["### FAILED", "", "```", failure.strip(), "```", ""]
    for name, res in results.items():
        med = res["medians"]
        metric, unit, op = (("msgs_per_sec", "msgs/s", "msg") if name == "echo"
                            else ("req_per_sec", "req/s", "req"))
        base = med.get("ferrio-mt", {})
        md += [f"### {name}, N = {n}", "",
               f"Medians of {args.runs} runs (interleaved). Load average (1 min) before -> after: "
               f"{res['load']}; {res['seconds']} s. `x ferrio-mt`: ferrio-mt's {unit} over the "
               f"peer's (above 1: ferrio-mt faster); `speedup`: this peer's {unit} over its "
               "one-thread form's.", "",
               f"| peer | {unit} (median) | min | max | server CPU/{op} (us) | server cores | "
               f"busiest thread | threads | client CPU/{op} (us) | client cores | other cores "
               "| p50 (us) | p99 (us) | x ferrio-mt | speedup | noisy runs kept (reruns) |",
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for peer in res["peers"]:
            m = med.get(peer)
            if not m:
                md.append(f"| {peer} | (not run) |" + " |" * 14)
                continue
            vs = f"{base[metric] / m[metric]:.2f}x" if base.get(metric) else "-"
            one = ONE_THREAD.get(peer)
            sp = f"{m[metric] / med[one][metric]:.2f}x" if one in med else "-"
            md.append(f"| {peer} | {m[metric]:.0f} | {m['min']:.0f} | {m['max']:.0f} | "
                      f"{fmt(m.get('server_cpu_us_per_op'))} | {fmt(m.get('server_cores'))} | "
                      f"{fmt(m.get('busiest_thread_share'))} | {m.get('server_threads', 0):.0f} | "
                      f"{fmt(m.get('client_cpu_us_per_op'))} | {fmt(m.get('client_cores'))} | "
                      f"{fmt(m.get('other_cores'))} | {fmt(m.get('p50_us'))} | "
                      f"{fmt(m.get('p99_us'))} | {vs} | {sp} | "
                      f"{m['noisy']:.0f} ({m['reruns']:.0f}) |")
        md.append("")
        pairs = [(f, p) for f, p in VERSUS[name].items() if f in med and p in med]
        if pairs:
            md += [f"ferrio over its tokio peer ({unit}: above 1 ferrio faster; CPU/{op}: "
                   "ferrio's over the peer's, below 1 ferrio cheaper): "
                   + "; ".join(f"{f} / {p}: {med[f][metric] / med[p][metric]:.2f}x {unit}, "
                               f"{med[f]['server_cpu_us_per_op'] / med[p]['server_cpu_us_per_op']:.2f}x "
                               f"CPU/{op}" for f, p in pairs) + ".", ""]
        if name in LATENCY:
            md += ["The plain GETs' latency (the slow or blocking requests left out), medians "
                   "of the runs' percentiles, in us:", "",
                   "| peer | p50 | p99 | p99.9 | max | blocks sent |", "|---|---|---|---|---|---|"]
            for peer in res["peers"]:
                m = med.get(peer)
                if m:
                    md.append(f"| {peer} | {m['p50_us']:.0f} | {m['p99_us']:.0f} | "
                              f"{m['p999_us']:.0f} | {m['max_us']:.0f} | {m['blocks']:.0f} |")
            md += ["", "p99 of ferrio over its peer's (below 1: ferrio's is lower): "
                   + "; ".join(f"{f} / {p}: {med[f]['p99_us'] / med[p]['p99_us']:.2f}x"
                               for f, p in pairs) + ".", ""]
        if res["syscalls"]:
            md += ["| peer | syscalls/msg (strace -c -f) | most frequent, per msg |", "|---|---|---|"]
            for peer, s in res["syscalls"].items():
                md.append(f"| {peer} | {s['syscalls_per_msg']:.2f} | {s['top']} |")
            md.append("")
    md.append(END)
    return "\n".join(md)


if __name__ == "__main__":
    main()

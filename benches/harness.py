#!/usr/bin/env python3
"""Runs ferrio's benchmark workloads side by side with their peers, prints a
table of medians and ratios, and (for a full run) writes docs/performance.md
and docs/img/ratios.svg. Called by benches/run.sh, which builds and installs
what this needs first; see docs/performance.md.

Every run of every workload is its own process (so RSS is per process); runs
of different peers are interleaved so that drift in the machine's speed hits
them alike. Every server started here is stopped here (bounded waits, then
SIGKILL), also on Ctrl-C.

Stdlib only.
"""
import argparse
import atexit
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCHES = Path(__file__).resolve().parent
ROOT = BENCHES.parent
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release"
BENCH = TARGET / "bench"
NETBENCH = TARGET / "netbench"
EXAMPLES = TARGET / "examples"
PYTHON = BENCHES / ".venv" / "bin" / "python"
RESULTS = BENCHES / "results"

# ---------------------------------------------------------------- processes

CHILDREN = []


def descendants(pid):
    """Every live descendant of pid (children first), from /proc."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                for child in f.read().split():
                    out.append(int(child))
                    out.extend(descendants(int(child)))
    except OSError:
        pass
    return out


def kill_pids(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _kill_children():
    for p in CHILDREN:
        kill_pids(descendants(p.pid) if p.poll() is None else [])
        if p.poll() is None:
            try:
                p.kill()
            except OSError:
                pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


atexit.register(_kill_children)
for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, lambda signum, frame: sys.exit(128 + signum))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening: {proc.args}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s: {proc.args}")


class Server:
    """A server process on a loopback port, stopped on exit of the block."""

    def __init__(self, argv, port, stop_signal=signal.SIGTERM, stdout=subprocess.DEVNULL,
                 stop_child=False):
        self.argv, self.port, self.stop_signal, self.stdout = argv, port, stop_signal, stdout
        self.stop_child = stop_child
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.stdout,
                                     stderr=subprocess.DEVNULL)
        CHILDREN.append(self.proc)
        wait_port(self.port, self.proc)
        return self

    def stop(self):
        """Signals the server (or, with stop_child, the process it runs, as
        under strace) and waits; whatever is left after 10 s is killed."""
        if self.proc.poll() is None:
            rest = descendants(self.proc.pid)
            target = rest[0] if self.stop_child and rest else self.proc.pid
            try:
                os.kill(target, self.stop_signal)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            kill_pids(rest)

    def __exit__(self, *exc):
        self.stop()


def run_result(argv, timeout=300, env=None):
    """Runs argv to completion and returns the dict of its last RESULT line."""
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, env=env)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited with {p.returncode}:\n{p.stderr[-2000:]}")
    lines = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
    if not lines:
        raise RuntimeError(f"no RESULT line from {' '.join(map(str, argv))}:\n{p.stdout[-2000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def cpu_ns_of(pid):
    """CPU time used so far by every thread of process pid, in ns (schedstat)."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        pass
    return total


def user_sys_of(pid):
    """(user, system) CPU seconds of process pid, all threads (/proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        hz = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / hz, int(fields[12]) / hz
    except (OSError, ValueError, IndexError):
        return 0.0, 0.0


def rss_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


# ---------------------------------------------------------------- workloads
#
# A workload has peers, a run(peer, size) -> dict of metrics for one run, and
# the comparisons to report: each names a metric, whether lower or higher is
# better, and a goal (a bound on the ratio, or on ferrio's own value).

WORKLOADS = {}


def workload(name, title, peers, sizes, compare, notes=""):
    def register(fn):
        WORKLOADS[name] = dict(name=name, title=title, peers=peers, sizes=sizes,
                               compare=compare, notes=notes, run=fn)
        return fn
    return register


def cmp(metric, unit, better, goals=None, label=None, absolute=None, chart=True):
    """A comparison row. better: 'lower' or 'higher' (for ferrio's value).
    goals: {peer: min ratio} where the ratio is oriented so that >1 means
    ferrio is better, except for 'memory' rows (ratio = ferrio/peer, <1 better),
    marked by better='lower-mem'. absolute: (max ferrio value, text)."""
    return dict(metric=metric, unit=unit, better=better, goals=goals or {},
                label=label or metric, absolute=absolute, chart=chart)


def bench(workload_name, peer, **params):
    argv = [str(BENCH), workload_name, peer] + [f"{k}={v}" for k, v in params.items()]
    return run_result(argv)


@workload("spawn_many", "1. spawn_many: spawn and join no-op tasks",
          ["ferrio", "tokio", "smol"], {"full": 1_000_000, "quick": 200_000},
          [cmp("secs", "s", "lower", {"tokio": 2.0})])
def _spawn_many(peer, n):
    return bench("spawn_many", peer, n=n)


@workload("yield_many", "2. yield_many: 1,000 tasks x yield_now",
          ["ferrio", "tokio", "smol"], {"full": 1_000, "quick": 200},
          [cmp("secs", "s", "lower", {"tokio": 1.0})])
def _yield_many(peer, yields):
    return bench("yield_many", peer, tasks=1000, yields=yields)


@workload("ping_pong", "3. ping_pong: round trips between two tasks (async-channel, bounded(1))",
          ["ferrio", "tokio", "smol"], {"full": 1_000_000, "quick": 200_000},
          [cmp("secs", "s", "lower", {"tokio": 1.0})])
def _ping_pong(peer, n):
    return bench("ping_pong", peer, n=n)


@workload("chained_spawn", "4. chained_spawn: each task spawns the next",
          ["ferrio", "tokio", "smol"], {"full": 100_000, "quick": 100_000},
          [cmp("secs", "s", "lower", {"tokio": 1.0})])
def _chained_spawn(peer, n):
    return bench("chained_spawn", peer, n=n)


@workload("timers", "5. timers: sleeps of 1-100 ms",
          ["ferrio", "tokio", "smol"], {"full": 100_000, "quick": 20_000},
          [cmp("cpu_secs", "s", "lower", {"tokio": 1.0}, "CPU time (armed while spawning)"),
           cmp("secs", "s", "lower", {}, "wall time (armed while spawning)", chart=False),
           cmp("late_p50_ms", "ms", "lower", {}, "lateness p50 (armed while spawning)", chart=False),
           cmp("late_p99_ms", "ms", "lower", {}, "lateness p99 (armed while spawning)", chart=False),
           cmp("pre_late_p50_ms", "ms", "lower", {}, "lateness p50 (pre-armed)", chart=False),
           cmp("pre_late_p99_ms", "ms", "lower", {}, "lateness p99 (pre-armed)",
               absolute=(1.2, "p99 <= 1.2 ms")),
           cmp("pre_late_max_ms", "ms", "lower", {}, "lateness max (pre-armed)", chart=False),
           cmp("sparse_late_p99_ms", "ms", "lower", {}, "lateness p99 (1% of the sleeps, pre-armed)",
               chart=False),
           cmp("early", "", "lower", {}, "timers fired early (all three)", absolute=(0, "0 early"))],
          notes="Two processes per run: in the first, each task arms a sleep of 1-100 ms at its "
                "first poll while the other tasks are still being spawned and polled (CPU and wall "
                "time are from this one; its lateness includes that queueing). In the second "
                "(`pre-armed`), every deadline is start + 200 ms + 1-100 ms, so all timers are armed "
                "before the first is due: its lateness is how precisely timers fire at 1,000 "
                "expiries per ms. A third (`sparse`) is the pre-armed one with 1% of the sleeps "
                "(10 expiries per ms): timer precision without the load. `early` counts all three.")
def _timers(peer, n):
    burst = bench("timers", peer, n=n)
    pre = bench("timers", peer, n=n, offset_ms=200)
    sparse = bench("timers", peer, n=max(n // 100, 1), offset_ms=200)
    out = dict(burst)
    for k in ("late_p50_ms", "late_p99_ms", "late_max_ms", "secs", "cpu_secs"):
        out["pre_" + k] = pre[k]
        out["sparse_" + k] = sparse[k]
    out["early"] = burst["early"] + pre["early"] + sparse["early"]
    return out


@workload("pending_tasks", "9. memory per pending task",
          ["ferrio", "tokio", "smol"], {"full": 1_000_000, "quick": 200_000},
          [cmp("bytes_per_task", "B", "lower-mem", {"tokio": 0.75})],
          notes="RSS growth of the process from before the first spawn to when every task has "
                "been polled once and awaits `std::future::pending()`, divided by the task count.")
def _pending_tasks(peer, n):
    return bench("pending_tasks", peer, n=n)


# --- 6. echo

def echo_server_argv(peer, port):
    addr = f"127.0.0.1:{port}"
    return {
        "ferrio": [str(EXAMPLES / "echo_server"), "--addr", addr],
        "tokio": [str(NETBENCH), "tokio_echo_server", addr],
        "asyncio": [str(PYTHON), str(BENCHES / "py" / "echo_server.py"), "--loop", "asyncio", "--addr", addr],
        "uvloop": [str(PYTHON), str(BENCHES / "py" / "echo_server.py"), "--loop", "uvloop", "--addr", addr],
        "threaded": [str(EXAMPLES / "echo_server"), "--threaded", "--addr", addr],
        "ferrio-lean": [str(NETBENCH), "lean_echo_server", "ferrio", addr],
        "tokio-lean": [str(NETBENCH), "lean_echo_server", "tokio", addr],
    }[peer]


def echo_client(port, conns, msgs):
    p = subprocess.run([str(EXAMPLES / "echo_client"), "--addr", f"127.0.0.1:{port}",
                        "--connections", str(conns), "--messages", str(msgs), "--size", "64"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"echo_client failed: {p.stderr[-2000:]}")
    m = re.search(r"(\d+) messages in ([\d.]+) s: (\d+) msgs/s, latency p50 (\S+), p99 (\S+)", p.stdout)
    if not m:
        raise RuntimeError(f"unexpected echo_client output: {p.stdout[-1000:]}")
    return dict(msgs_per_sec=float(m.group(3)), secs=float(m.group(2)),
                p50=m.group(4), p99=m.group(5))


@workload("echo", "6. echo: 100 connections x 64 B messages, msgs/s",
          ["ferrio", "tokio", "asyncio", "uvloop"], {"full": (100, 1000), "quick": (100, 300)},
          [cmp("msgs_per_sec", "msg/s", "higher", {"tokio": 1.1, "uvloop": 3.0}),
           cmp("server_cpu_us_per_msg", "us", "lower", {"tokio": 1.1, "uvloop": 3.0},
               "server CPU per message")],
          notes="One client drives every server: `examples/echo_client.rs` (ferrio, one thread), "
                "each connection sending a 64 B message and awaiting its echo, in turn. On 2 cores "
                "the client takes one core and is itself the bottleneck for the faster servers, so "
                "msgs/s understates their differences; `server_cpu_us_per_msg` (the server "
                "process's CPU time over the run, all threads, from /proc/PID/task/*/schedstat, "
                "per message) is what each server costs; `server_user_us_per_msg` and "
                "`server_sys_us_per_msg` split it into user and kernel time (/proc/PID/stat, "
                "10 ms ticks). Servers: "
                "`examples/echo_server.rs`; tokio's (current-thread, `tokio::io::copy`, in "
                "benches/src/bin/netbench.rs); asyncio's and uvloop's (a `Protocol` that writes "
                "back what it receives, benches/py/echo_server.py).")
def _echo(peer, size):
    conns, msgs = size
    port = free_port()
    with Server(echo_server_argv(peer, port), port) as server:
        cpu0, (user0, sys0) = cpu_ns_of(server.proc.pid), user_sys_of(server.proc.pid)
        r = echo_client(port, conns, msgs)
        n = conns * msgs
        user1, sys1 = user_sys_of(server.proc.pid)
        r["server_cpu_us_per_msg"] = (cpu_ns_of(server.proc.pid) - cpu0) / 1e3 / n
        r["server_user_us_per_msg"] = (user1 - user0) * 1e6 / n
        r["server_sys_us_per_msg"] = (sys1 - sys0) * 1e6 / n
        return r


def strace_echo(peer, conns, msgs):
    """Syscalls of the server process (all threads) over one echo run."""
    port = free_port()
    out = Path(tempfile.mkdtemp(prefix="ferrio-strace-")) / "strace.txt"
    argv = ["strace", "-c", "-f", "-o", str(out)] + echo_server_argv(peer, port)
    # strace -o FILE PROG blocks fatal signals: stop the traced server instead,
    # and strace writes its summary as it exits.
    with Server(argv, port, stop_child=True) as server:
        echo_client(port, conns, msgs)
        server.stop()
    text = out.read_text()
    shutil.rmtree(out.parent, ignore_errors=True)
    rows = {}
    total = None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[-1] == "total":
            total = int(parts[3])
        elif len(parts) >= 5 and re.match(r"^[\d.]+$", parts[0]) and parts[-1] != "total":
            calls = int(parts[3])
            rows[parts[-1]] = calls
    if total is None:
        raise RuntimeError(f"could not parse strace -c output:\n{text[-2000:]}")
    n = conns * msgs
    top = sorted(rows.items(), key=lambda kv: -kv[1])[:6]
    return dict(syscalls_per_msg=total / n,
                top=", ".join(f"{name} {calls / n:.2f}" for name, calls in top))


# --- 7. idle connections

@workload("idle_conns", "7. memory per idle connection",
          ["ferrio", "tokio", "threaded"], {"full": 10_000, "quick": 2_000},
          [cmp("bytes_per_conn", "B", "lower-mem", {"tokio": 0.75})],
          notes="RSS growth of the echo server process (ferrio's `examples/echo_server`, tokio's, "
                "and `echo_server --threaded`, one OS thread with a 64 KiB stack per connection) "
                "from listening to holding N connections that each echoed one byte and then sit "
                "idle (client: `netbench idle_client`, blocking std sockets), divided by N. "
                "Kernel socket buffers are not in RSS.")
def _idle_conns(peer, n):
    return idle_conns(peer, n)


@workload("idle_conns_lean", "7b. memory per idle connection, no buffer while idle",
          ["ferrio", "tokio"], {"full": 10_000, "quick": 2_000},
          [cmp("bytes_per_conn", "B", "lower-mem", {"tokio": 0.75})],
          notes="As 7, with the same echo loop on both runtimes that holds no buffer while idle "
                "(`netbench lean_echo_server`: await `readable()`, then `try_read` into a stack "
                "buffer and `try_write` back): what an idle connection costs the runtime itself "
                "(task, socket registration), without the 8 KiB copy buffer of the examples.")
def _idle_conns_lean(peer, n):
    return idle_conns(peer + "-lean", n)


def idle_conns(peer, n):
    port = free_port()
    with Server(echo_server_argv(peer, port), port) as server:
        time.sleep(0.2)
        before = rss_of(server.proc.pid)
        client = subprocess.Popen([str(NETBENCH), "idle_client", f"127.0.0.1:{port}", str(n)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        CHILDREN.append(client)
        try:
            line = client.stdout.readline()
            if not line.startswith("READY"):
                client.kill()
                raise RuntimeError(f"idle_client failed: {line}{client.stderr.read()[-1000:]}")
            time.sleep(0.5)
            after = rss_of(server.proc.pid)
        finally:
            try:
                client.stdin.close()
                client.wait(timeout=30)
            except subprocess.TimeoutExpired:
                client.kill()
                client.wait(timeout=5)
    return dict(bytes_per_conn=(after - before) / n, rss_before_mb=before / 2**20,
                rss_after_mb=after / 2**20)


# --- 8. http client against nginx

NGINX_BODY = ('{"userId": 1, "id": 1, "title": "sunt aut facere repellat provident occaecati '
              'excepturi optio reprehenderit", "completed": false}')


class Nginx:
    """nginx on a loopback port with its own config in a temp dir; one
    process (no master), no logs, keep-alive, a small JSON body; `prefix`
    (e.g. taskset) goes before its command line."""

    def __init__(self, prefix=()):
        self.prefix = list(prefix)

    def __enter__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="ferrio-nginx-"))
        self.port = free_port()
        d = self.dir
        (d / "nginx.conf").write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        location / {{
            default_type application/json;
            return 200 '{NGINX_BODY}';
        }}
    }}
}}
""")
        self.server = Server(self.prefix + ["nginx", "-p", str(d), "-c", str(d / "nginx.conf")], self.port,
                             stop_signal=signal.SIGQUIT)
        self.server.__enter__()
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)
        shutil.rmtree(self.dir, ignore_errors=True)


NGINX = None


@workload("http_client", "8. http_client: GETs over keep-alive to nginx, 50 connections",
          ["ferrio", "reqwest", "aiohttp"], {"full": 20_000, "quick": 5_000},
          [cmp("req_per_sec", "req/s", "higher", {"reqwest": 2.0, "aiohttp": 10.0}),
           cmp("cpu_us_per_req", "us", "lower", {"reqwest": 2.0, "aiohttp": 10.0},
               "client CPU per request")],
          notes="50 workers each send their share of the GETs one after another, through one "
                "client: ferrio's `Client` with `limit(50)`; reqwest (rustls, tokio "
                "current-thread, `pool_max_idle_per_host(50)`); aiohttp (`TCPConnector(limit=50)`, "
                "asyncio's loop). Each body (a 131 B JSON object) is read whole. nginx: one process "
                "on 127.0.0.1, `return 200` with keep-alive, started and stopped by the harness (each "
                "client runs once, unmeasured, first). `cpu_us_per_req`: the client process's CPU "
                "time over the run, per request (nginx has the other core and can cap req/s).")
def _http_client(peer, n):
    url = f"http://127.0.0.1:{NGINX.port}/posts/1"
    if peer == "aiohttp":
        return run_result([str(PYTHON), str(BENCHES / "py" / "http_get.py"), url, str(n), "50"])
    return run_result([str(NETBENCH), "http_get", peer, url, str(n), "50"])


# --- 10. fetch_posts

JSONPLACEHOLDER = None


@workload("fetch_posts", "10. fetch_posts: 100 posts, limit 10, 20 ms latency",
          ["ferrio", "aiohttp"], {"full": 100, "quick": 100},
          [cmp("secs", "s", "lower", {})],
          notes="The embedded jsonplaceholder (`examples/jsonplaceholder --latency-ms 20`) runs in "
                "its own process; ferrio's side is seed 004's async half as "
                "`examples/fetch_posts.rs` runs it (`netbench fetch_posts`: `Client` with "
                "`limit(10)`, `gather` of 100 GETs, each body read); aiohttp's is the seed's "
                "program (benches/py/fetch_posts_seed.py), which does not read the bodies. "
                "Ideal: 100 / 10 x 20 ms = 0.2 s.")
def _fetch_posts(peer, n):
    base = f"http://127.0.0.1:{JSONPLACEHOLDER.port}"
    if peer == "aiohttp":
        p = subprocess.run([str(PYTHON), str(BENCHES / "py" / "fetch_posts_seed.py"),
                            base + "/posts/", str(n), "10"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=120)
        m = re.search(r"Finished in ([\d.e-]+)s", p.stdout)
        if p.returncode != 0 or not m:
            raise RuntimeError(f"fetch_posts_seed.py failed: {p.stderr[-2000:]}")
        return dict(secs=float(m.group(1)))
    return run_result([str(NETBENCH), "fetch_posts", base, str(n), "10"])


# --- 11. HTTPS keep-alive and new TLS connections

class TlsServers:
    """Two `netbench tls_server`s (hyper over rustls on tokio current-thread,
    each with its own CA made by rcgen, written to a temp dir): one keeps
    connections alive, the other closes each after its response."""

    def __enter__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="ferrio-tls-"))
        self.servers = {}
        for mode in ("keepalive", "close"):
            port = free_port()
            ca = self.dir / f"ca-{mode}.pem"
            server = Server([str(NETBENCH), "tls_server", f"127.0.0.1:{port}", str(ca), mode], port)
            server.__enter__()
            self.servers[mode] = (server, port, ca)
        return self

    def url(self, mode):
        return f"https://127.0.0.1:{self.servers[mode][1]}/posts/1"

    def ca(self, mode):
        return str(self.servers[mode][2])

    def __exit__(self, *exc):
        for server, _, _ in self.servers.values():
            server.__exit__(*exc)
        shutil.rmtree(self.dir, ignore_errors=True)


TLS = None


def https_get(peer, mode, n, conns):
    return run_result([str(NETBENCH), "http_get", peer, TLS.url(mode), str(n), str(conns), TLS.ca(mode)])


@workload("https_keepalive", "11. https_keepalive: HTTPS GETs over keep-alive (rustls), 50 connections",
          ["ferrio", "reqwest"], {"full": (20_000, 2_000), "quick": (5_000, 500)},
          [cmp("req_per_sec", "req/s", "higher", {"reqwest": 1.5}),
           cmp("cpu_us_per_req", "us", "lower", {"reqwest": 1.5}, "client CPU per request"),
           cmp("conns_per_sec", "conn/s", "higher", {}, "new TLS connections per second"),
           cmp("cpu_us_per_conn", "us", "lower", {}, "client CPU per new TLS connection")],
          notes="The server is `netbench tls_server`: hyper's HTTP/1.1 over tokio-rustls (rustls "
                "0.23, ring) on tokio's current-thread runtime, with a CA and a certificate for "
                "127.0.0.1 made by rcgen at start (ECDSA P-256); TLS 1.3 is negotiated; rustls's "
                "default server session cache is on, so the clients may resume sessions. "
                "Keep-alive: the clients of http_client (50 workers, one client: ferrio's `Client` "
                "with `limit(50)` and the CA added; reqwest with rustls, `pool_max_idle_per_host(50)`), "
                "the first N GETs. New connections: the second number of the size, GETs to a second "
                "server that closes the connection after each response, so every GET is a TCP "
                "connect + TLS handshake (`conns_per_sec`, `cpu_us_per_conn`). The server is one "
                "core and is the bottleneck of req/s for the faster client; client CPU per request "
                "is the clean comparison.")
def _https_keepalive(peer, size):
    n, n_new = size
    r = dict(https_get(peer, "keepalive", n, 50))
    new = https_get(peer, "close", n_new, 50)
    r["conns_per_sec"] = new["req_per_sec"]
    r["cpu_us_per_conn"] = new["cpu_us_per_req"]
    return r


# --- 12. many GETs through a limit

@workload("limit_10k", "12. limit_10k: 10,000 GETs through a limit of 100, 5 ms latency",
          ["ferrio", "reqwest", "aiohttp"], {"full": 10_000, "quick": 10_000},
          [cmp("secs", "s", "lower", {}, "wall time (ideal 0.5 s)",
               absolute=(0.525, "<= 0.525 s (ideal + 5%)")),
           cmp("cpu_secs", "s", "lower", {"reqwest": 1.5}, "client CPU")],
          notes="The embedded jsonplaceholder (`examples/jsonplaceholder --latency-ms 5`, ferrio's "
                "server, its own process) answers each GET after 5 ms. The clients start all "
                "10,000 GETs at once (the i-th asks for post i % 100 + 1) and read each body: "
                "ferrio's `Client` with `limit(100)` and `gather` (`netbench limit_get`); reqwest "
                "(tokio current-thread, a task per GET holding a permit of a `Semaphore` of 100, "
                "`pool_max_idle_per_host(100)`); aiohttp (`TCPConnector(limit=100)`, `gather`, "
                "benches/py/limit_get.py). Ideal: 10,000 / 100 x 5 ms = 0.5 s. `cpu_secs`: the "
                "client process's CPU time over the run (each client runs once, unmeasured, first); "
                "`server_cpu_secs`: the server's, over the same run (schedstat): when it nears "
                "`secs`, the server's one core, not the client, sets the wall time.")
def _limit_10k(peer, n):
    base = f"http://127.0.0.1:{JSONPLACEHOLDER.port}"
    cpu0 = cpu_ns_of(JSONPLACEHOLDER.proc.pid)
    if peer == "aiohttp":
        r = run_result([str(PYTHON), str(BENCHES / "py" / "limit_get.py"), base, str(n), "100"])
    else:
        r = run_result([str(NETBENCH), "limit_get", peer, base, str(n), "100"])
    r["server_cpu_secs"] = (cpu_ns_of(JSONPLACEHOLDER.proc.pid) - cpu0) / 1e9
    return r


# --- 13. the HTTP server, loaded by wrk

SERVER_CPU, WRK_CPU = "0", "1"


def wrk(port, seconds, conns=50):
    """wrk on its own core against 127.0.0.1:port; req/s and latency."""
    p = subprocess.run(["taskset", "-c", WRK_CPU, "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency",
                        f"http://127.0.0.1:{port}/posts/1"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=seconds + 60)
    if p.returncode != 0:
        raise RuntimeError(f"wrk failed: {p.stderr[-2000:]}")
    if "Non-2xx" in p.stdout or "Socket errors" in p.stdout:
        raise RuntimeError(f"wrk saw errors:\n{p.stdout}")
    m = re.search(r"Requests/sec:\s+([\d.]+)", p.stdout)
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", p.stdout, re.M))
    if not m:
        raise RuntimeError(f"unexpected wrk output:\n{p.stdout[-1000:]}")
    return dict(req_per_sec=float(m.group(1)), p50=lat.get("50", "?"), p99=lat.get("99", "?"))


@workload("http_server", "13. http_server: keep-alive GETs of a small body from wrk, 50 connections",
          ["ferrio", "hyper", "nginx"], {"full": 5, "quick": 2},
          [cmp("req_per_sec", "req/s", "higher", {"hyper": 1.2, "nginx": 0.8}),
           cmp("server_cpu_us_per_req", "us", "lower", {}, "server CPU per request")],
          notes="wrk 4 (Debian's package; `wrk -t1 -c50 -dS --latency`) pinned to CPU 1 with "
                "`taskset`, the server pinned to CPU 0, one thread each: `ferrio::http::server` "
                "with its default limits (`netbench http_server ferrio`); hyper 1's HTTP/1.1 "
                "server on tokio's current-thread runtime (`netbench http_server hyper`); nginx "
                "with one process and no master (`return 200`, access log off). Every server "
                "answers `GET /posts/1` with the same 129 B JSON body. The size is wrk's duration "
                "in seconds; `server_cpu_us_per_req` is the server process's CPU time over the run "
                "(schedstat) per request. Goals: >= 1.2x hyper's req/s, >= 0.8x nginx's.")
def _http_server(peer, seconds):
    if peer == "nginx":
        with Nginx(prefix=["taskset", "-c", SERVER_CPU]) as nginx:
            return serve_and_load(nginx.server.proc.pid, nginx.port, seconds)
    port = free_port()
    argv = ["taskset", "-c", SERVER_CPU, str(NETBENCH), "http_server", peer, f"127.0.0.1:{port}"]
    with Server(argv, port) as server:
        return serve_and_load(server.proc.pid, port, seconds)


def serve_and_load(pid, port, seconds):
    cpu0 = cpu_ns_of(pid)
    r = wrk(port, seconds)
    r["server_cpu_us_per_req"] = (cpu_ns_of(pid) - cpu0) / 1e3 / (r["req_per_sec"] * seconds)
    return r


# ---------------------------------------------------------------- running

def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def out(*argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=30,
                                  cwd=ROOT).stdout.strip()
        except Exception:
            return "unknown"
    return dict(nproc=os.cpu_count(), cpu=cpu, kernel=platform.release(),
                rustc=out("rustc", "--version"), python=platform.python_version(),
                nginx=(subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
                       if shutil.which("nginx") else "not installed"),
                commit=(out("git", "describe", "--always", "--dirty")
                        or os.environ.get("FERRIO_COMMIT", "unknown (not a git checkout)")),
                date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def run_workload(w, runs, mode):
    size = w["sizes"][mode]
    samples = {p: [] for p in w["peers"]}
    for i in range(runs):
        for peer in w["peers"]:
            t = time.monotonic()
            r = w["run"](peer, size)
            samples[peer].append(r)
            print(f"  {w['name']:<14} run {i + 1}/{runs} {peer:<9} "
                  + " ".join(f"{k}={v:.4g}" for k, v in r.items() if isinstance(v, (int, float)))
                  + f"  ({time.monotonic() - t:.1f} s)", flush=True)
    medians = {}
    for peer, rs in samples.items():
        keys = [k for k, v in rs[0].items() if isinstance(v, (int, float))]
        medians[peer] = {k: statistics.median(r[k] for r in rs) for k in keys}
        for k, v in rs[0].items():
            if isinstance(v, str):
                medians[peer][k] = v
    return dict(size=size, runs=runs, medians=medians, samples=samples)


def ratio(row, ferrio, peer):
    """Oriented so that > 1 means ferrio is better, except memory rows
    (ferrio/peer, < 1 means ferrio is better)."""
    if ferrio is None or peer is None or ferrio == 0 or peer == 0:
        return None
    if row["better"] == "lower":
        return peer / ferrio
    if row["better"] == "higher":
        return ferrio / peer
    return ferrio / peer  # lower-mem


def summary_rows(results):
    rows = []
    for name, w in WORKLOADS.items():
        if name not in results:
            continue
        med = results[name]["medians"]
        f = med.get("ferrio", {})
        for c in w["compare"]:
            fv = f.get(c["metric"])
            if c["absolute"] is not None:
                bound, text = c["absolute"]
                rows.append(dict(workload=name, metric=c["label"], unit=c["unit"], peer="-",
                                 ferrio=fv, peer_value=None, ratio=None, goal=text,
                                 met=(fv is not None and fv <= bound), kind=c["better"],
                                 others={p: med[p].get(c["metric"]) for p in w["peers"] if p != "ferrio"}))
            for peer in w["peers"]:
                if peer == "ferrio":
                    continue
                pv = med.get(peer, {}).get(c["metric"])
                r = ratio(c, fv, pv)
                goal = c["goals"].get(peer)
                if c["absolute"] is not None and goal is None:
                    continue
                met = None
                goal_text = ""
                if goal is not None and r is not None:
                    if c["better"] == "lower-mem":
                        met, goal_text = r <= goal, f"<= {goal:g}x"
                    else:
                        met, goal_text = r >= goal, f">= {goal:g}x"
                rows.append(dict(workload=name, metric=c["label"], unit=c["unit"], peer=peer,
                                 ferrio=fv, peer_value=pv, ratio=r, goal=goal_text, met=met,
                                 kind=c["better"], chart=c["chart"]))
        if name == "echo" and "syscalls" in results[name]:
            sc = results[name]["syscalls"]
            fv, tv = sc.get("ferrio", {}).get("syscalls_per_msg"), sc.get("tokio", {}).get("syscalls_per_msg")
            rows.append(dict(workload=name, metric="server syscalls per message (strace -c -f)",
                             unit="/msg", peer="tokio", ferrio=fv, peer_value=tv,
                             ratio=(fv / tv if fv and tv else None), goal="<= 1x",
                             met=(fv is not None and tv is not None and fv <= tv), kind="lower-mem"))
        if name == "fetch_posts":
            rows.append(dict(workload=name, metric="secs vs ideal", unit="s", peer="ideal",
                             ferrio=f.get("secs"), peer_value=0.2,
                             ratio=(0.2 / f["secs"] if f.get("secs") else None),
                             goal="<= 0.21 s", met=(f.get("secs") is not None and f["secs"] <= 0.21),
                             kind="lower", chart=False))
    return rows


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    a = abs(v)
    if unit == "/msg":
        return f"{v:.3f}"
    if unit in ("msg/s", "req/s", "conn/s") or a >= 1000:
        s = f"{v:,.0f}"
    elif a >= 100:
        s = f"{v:.0f}"
    elif a >= 10:
        s = f"{v:.1f}"
    elif a >= 1:
        s = f"{v:.2f}"
    elif a == 0:
        s = "0"
    else:
        s = f"{v:.3g}"
    return f"{s} {unit}".strip()


def table_lines(rows):
    head = ["workload", "metric", "peer", "ferrio", "peer value", "ratio", "goal", "met"]
    body = []
    for r in rows:
        met = "-" if r["met"] is None else ("yes" if r["met"] else "NO")
        ratio_text = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        if r["peer"] == "-" and r.get("others"):
            peer_text = ", ".join(f"{p} {fmt(v, r['unit'])}" for p, v in r["others"].items())
            body.append([r["workload"], r["metric"], "-", fmt(r["ferrio"], r["unit"]), peer_text,
                         "-", r["goal"], met])
        else:
            body.append([r["workload"], r["metric"], r["peer"], fmt(r["ferrio"], r["unit"]),
                         fmt(r["peer_value"], r["unit"]), ratio_text, r["goal"], met])
    return head, body


def print_table(rows):
    head, body = table_lines(rows)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)] if body else [len(h) for h in head]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths))
    print(line)
    print("-" * len(line))
    for b in body:
        print("  ".join(str(x).ljust(w) for x, w in zip(b, widths)))


# ---------------------------------------------------------------- chart

def ratios_svg(rows):
    """A horizontal bar chart of every ratio row on a log scale, a line at 1.0,
    and a tick at each goal. Green: ferrio better than the peer; red: worse."""
    bars = [r for r in rows if r["ratio"] is not None and r.get("chart", True)]
    import math
    lo, hi = 1 / 8, 64
    for r in bars:
        lo = min(lo, r["ratio"] / 1.5)
        hi = max(hi, r["ratio"] * 1.5)
    lo = 2 ** math.floor(math.log2(lo))
    hi = 2 ** math.ceil(math.log2(hi))
    label_w, plot_w, bar_h, gap, top = 560, 520, 18, 8, 60
    width = label_w + plot_w + 90
    height = top + len(bars) * (bar_h + gap) + 60

    def x(v):
        return label_w + (math.log2(v) - math.log2(lo)) / (math.log2(hi) - math.log2(lo)) * plot_w

    def esc(s):
        return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">'
           'ferrio vs peers: ratio of medians (log scale)</text>',
           f'<text x="{width / 2}" y="40" text-anchor="middle" fill="#444">'
           'speed: peer/ferrio time (&gt; 1: ferrio faster). memory and syscalls: ferrio/peer '
           '(&lt; 1: ferrio smaller). | = goal</text>']
    v = lo
    while v <= hi + 1e-9:
        xv = x(v)
        out.append(f'<line x1="{xv:.1f}" y1="{top - 6}" x2="{xv:.1f}" y2="{height - 40}" stroke="#e4e4e4"/>')
        out.append(f'<text x="{xv:.1f}" y="{height - 24}" text-anchor="middle" fill="#444">{v:g}</text>')
        v *= 2
    for i, r in enumerate(bars):
        y = top + i * (bar_h + gap)
        mem = r["kind"] == "lower-mem"
        good = r["ratio"] <= 1 if mem else r["ratio"] >= 1
        color = "#3a9d5d" if good else "#d0543f"
        x0, x1 = x(1.0), x(r["ratio"])
        label = f'{r["workload"]}: {r["metric"]} vs {r["peer"]}'
        if mem:
            label += " (ferrio/peer)"
        out.append(f'<text x="{label_w - 8}" y="{y + bar_h - 5}" text-anchor="end">{esc(label)}</text>')
        out.append(f'<rect x="{min(x0, x1):.1f}" y="{y}" width="{max(abs(x1 - x0), 1):.1f}" '
                   f'height="{bar_h}" fill="{color}"/>')
        tx = max(x0, x1) + 4
        out.append(f'<text x="{tx:.1f}" y="{y + bar_h - 5}">{r["ratio"]:.2f}x</text>')
        m = re.match(r"[<>]=\s*([\d.]+)x", r["goal"] or "")
        if m:
            gx = x(float(m.group(1)))
            out.append(f'<line x1="{gx:.1f}" y1="{y - 2}" x2="{gx:.1f}" y2="{y + bar_h + 2}" '
                       'stroke="black" stroke-width="2"/>')
    out.append(f'<line x1="{x(1.0):.1f}" y1="{top - 8}" x2="{x(1.0):.1f}" y2="{height - 40}" '
               'stroke="black" stroke-width="1.5"/>')
    out.append(f'<text x="{x(1.0):.1f}" y="{top - 10}" text-anchor="middle" font-weight="bold">1.0</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- document

def write_doc(results, meta, rows, command):
    head, body = table_lines(rows)
    md = ["# ferrio performance", "",
          "Every number below is a median of several runs, each its own process, measured in one "
          "run of the harness against ferrio's peers on the same machine. The harness regenerates "
          "this file and the chart; the analysis at the end is written by hand.", "",
          "## How to run", "", "```sh",
          "benches/run.sh                      # everything (about 6 minutes on 2 cores, plus first builds); rewrites this file",
          "benches/run.sh --quick              # fewer runs, smaller sizes; prints only",
          "benches/run.sh echo http_client     # only the named workloads; updates their rows here",
          "benches/run.sh --runs 7             # more runs per peer",
          "benches/.venv/bin/python benches/ab.py --base OLD/target/release spawn_many http_client",
          "                                    # ferrio before/after: two builds, interleaved",
          "```", "",
          "`run.sh` installs what it needs (nginx and strace from Debian's packages, aiohttp and "
          "uvloop into `benches/.venv`), raises the descriptor limit, builds "
          "`benches/` (its own Cargo package, not in the workspace) and the examples it drives, "
          "then runs `benches/harness.py`. Raw results: `benches/results/latest.json`.", "",
          "## Machine", "",
          f"- CPU: {meta['cpu']}, `nproc` = {meta['nproc']}",
          f"- kernel {meta['kernel']}; {meta['rustc']}; Python {meta['python']}; {meta['nginx']}",
          f"- ferrio at `{meta['commit']}`; measured {meta['date']}",
          f"- command: `{command}`", "",
          "## Results", "",
          "Ratios: for times and rates, peer/ferrio time (above 1 = ferrio faster); for memory "
          "and syscalls, **ferrio/peer** (below 1 = ferrio smaller). `met` checks the goals of "
          "issues 5 and 12 (for http_server vs nginx, \"within 20%\" is a ratio of at least "
          "0.8x).", "",
          "![ratios](img/ratios.svg)", "",
          "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for b in body:
        md.append("| " + " | ".join(str(x).replace("|", "/") for x in b) + " |")
    md += ["", "## Workloads and all medians", ""]
    for name, w in WORKLOADS.items():
        if name not in results:
            continue
        res = results[name]
        md += [f"### {w['title']}", "",
               f"Size: `{res['size']}`; {res['runs']} runs per peer; measured {res.get('date', '?')}.", ""]
        if w["notes"]:
            md += [w["notes"], ""]
        keys = []
        for peer in w["peers"]:
            for k, v in res["medians"].get(peer, {}).items():
                if k not in keys and not isinstance(v, str) and k not in ("runtime",):
                    keys.append(k)
        md.append("| peer | " + " | ".join(keys) + " |")
        md.append("|---|" + "---|" * len(keys))
        for peer in w["peers"]:
            m = res["medians"].get(peer, {})
            md.append(f"| {peer} | " + " | ".join(fmt(m.get(k)) for k in keys) + " |")
        if name == "echo" and res.get("syscalls"):
            md += ["", "Syscalls per message of the server process under `strace -c -f` "
                   "(one run each, same sizes; most frequent first):", ""]
            for peer, s in res["syscalls"].items():
                md.append(f"- {peer}: {s['syscalls_per_msg']:.2f} per message ({s['top']})")
        md.append("")
    notes = BENCHES / "analysis.md"
    if notes.exists():
        md += [notes.read_text().rstrip(), ""]
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "img").mkdir(exist_ok=True)
    (ROOT / "docs" / "performance.md").write_text("\n".join(md))
    (ROOT / "docs" / "img" / "ratios.svg").write_text(ratios_svg(rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workloads", nargs="*", help=f"any of: {', '.join(WORKLOADS)} (default: all)")
    ap.add_argument("--quick", action="store_true", help="3 runs, smaller sizes; does not touch docs/")
    ap.add_argument("--runs", type=int, help="runs per peer (default 5, quick 3)")
    ap.add_argument("--command", default="benches/run.sh", help="the command line, for the doc")
    ap.add_argument("--doc-only", action="store_true",
                    help="rewrite docs/ from benches/results/latest.json without running anything")
    args = ap.parse_args()
    if args.doc_only:
        stored = json.loads((RESULTS / "latest.json").read_text())
        rows = summary_rows(stored["workloads"])
        print_table(rows)
        write_doc(stored["workloads"], stored["meta"], rows, stored["meta"].get("command", args.command))
        print(f"\nwrote {ROOT / 'docs' / 'performance.md'} and docs/img/ratios.svg")
        return
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s) {unknown}; known: {', '.join(WORKLOADS)}")
    selected = args.workloads or list(WORKLOADS)
    mode = "quick" if args.quick else "full"
    runs = args.runs or (3 if args.quick else 5)
    if not args.quick and runs < 5:
        ap.error("a full run needs at least 5 runs per peer")

    global NGINX, JSONPLACEHOLDER, TLS
    results = {}
    started = time.monotonic()
    for name in selected:
        w = WORKLOADS[name]
        print(f"== {w['title']} ({runs} runs per peer, size {w['sizes'][mode]})", flush=True)
        t = time.monotonic()
        if name == "http_client":
            with Nginx() as NGINX:
                for peer in w["peers"]:
                    w["run"](peer, 2000)
                results[name] = run_workload(w, runs, mode)
        elif name in ("fetch_posts", "limit_10k"):
            port = free_port()
            latency = "20" if name == "fetch_posts" else "5"
            with Server([str(EXAMPLES / "jsonplaceholder"), "--addr", f"127.0.0.1:{port}",
                         "--latency-ms", latency], port) as JSONPLACEHOLDER:
                JSONPLACEHOLDER.port = port
                if name == "limit_10k":
                    for peer in w["peers"]:
                        w["run"](peer, w["sizes"][mode])
                results[name] = run_workload(w, runs, mode)
        elif name == "https_keepalive":
            with TlsServers() as TLS:
                for peer in w["peers"]:
                    w["run"](peer, (1000, 100))
                results[name] = run_workload(w, runs, mode)
        else:
            results[name] = run_workload(w, runs, mode)
        if name == "echo":
            conns, msgs = w["sizes"][mode]
            results[name]["syscalls"] = {}
            for peer in ("ferrio", "tokio"):
                s = strace_echo(peer, conns, msgs)
                results[name]["syscalls"][peer] = s
                print(f"  echo strace {peer}: {s['syscalls_per_msg']:.2f} syscalls/msg ({s['top']})",
                      flush=True)
        results[name]["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        print(f"   ({time.monotonic() - t:.0f} s)", flush=True)

    meta = machine()
    meta["command"] = args.command
    RESULTS.mkdir(exist_ok=True)
    store = RESULTS / ("quick.json" if args.quick else "latest.json")
    merged = {"meta": meta, "workloads": {}}
    if store.exists() and not args.quick:
        try:
            merged["workloads"] = json.loads(store.read_text()).get("workloads", {})
        except ValueError:
            pass
    for name, r in results.items():
        r = dict(r)
        r.pop("samples", None)
        merged["workloads"][name] = r
    merged["meta"] = meta
    store.write_text(json.dumps(merged, indent=1, sort_keys=True) + "\n")

    print()
    print(f"ferrio vs peers, medians of {runs} runs ({mode}; {time.monotonic() - started:.0f} s)")
    print_table(summary_rows(results))
    if not args.quick:
        all_rows = summary_rows(merged["workloads"])
        write_doc(merged["workloads"], meta, all_rows, args.command)
        print(f"\nwrote {ROOT / 'docs' / 'performance.md'} and docs/img/ratios.svg")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Runs ferrio's side-by-side benchmarks and regenerates docs/performance.md and
# docs/img/ratios.svg (see docs/performance.md).
#
#   benches/run.sh                    every workload, 5 runs each (about 6 minutes after the first build)
#   benches/run.sh --quick            3 runs, smaller sizes, table only
#   benches/run.sh echo timers        only these workloads (their rows are updated)
#   benches/run.sh --runs 7 ...       more runs per peer
#
# Installs what it needs, idempotently: nginx, strace and wrk (apt-get, as root),
# aiohttp and uvloop (in benches/.venv). Builds with CARGO_TARGET_DIR if set.
set -euo pipefail

BENCHES="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCHES")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

log() { printf '[run.sh] %s\n' "$*" >&2; }

# Every process this script starts is in its group; end them all on exit.
cleanup() {
    trap - EXIT INT TERM
    local pids
    pids="$(jobs -p || true)"
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- system packages: nginx (http_client's server, http_server's peer),
# strace (syscall counts), wrk (http_server's load), taskset (util-linux)
need_apt=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v strace >/dev/null 2>&1 || need_apt+=(strace)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v taskset >/dev/null 2>&1 || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
    log "installing ${need_apt[*]} with apt-get"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_apt[@]}" >/dev/null 2>&1; then
        apt-get update >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_apt[@]}" >/dev/null
    fi
fi
export PATH="$PATH:/usr/sbin:/sbin"
# The package may start a system nginx on port 80; the harness runs its own
# nginx on a loopback port and never touches that one.

# ---- Python peers: asyncio (stdlib), uvloop, aiohttp
if ! "$BENCHES/.venv/bin/python" -c 'import aiohttp, uvloop' >/dev/null 2>&1; then
    log "creating benches/.venv with aiohttp and uvloop"
    python3 -m venv "$BENCHES/.venv"
    "$BENCHES/.venv/bin/pip" install --quiet --disable-pip-version-check aiohttp uvloop
fi

# ---- builds: the bench package, and the examples the harness drives
log "building benches/ and examples (release) into $CARGO_TARGET_DIR"
cargo build --release --quiet --manifest-path "$BENCHES/Cargo.toml"
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" \
    --example echo_server --example echo_client --example jsonplaceholder

# 10,000 idle connections need 10,000 descriptors in the client and the server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ]; then
    log "warning: only $(ulimit -n) file descriptors; idle_conns needs about 10,100"
fi

command="benches/run.sh${*:+ $*}"
"$BENCHES/.venv/bin/python" "$BENCHES/harness.py" --command "$command" "$@"

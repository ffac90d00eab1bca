#!/usr/bin/env bash
# Build times from a clean target dir (crates already downloaded), issue 17:
#
#   (a) `cargo run --release --example fetch_posts -- --help` in this clone:
#       the README's first command, until the example prints;
#   (b) a hello world on ferrio (path dependency, default features, debug
#       build): `ferrio::run` and one `ferrio::http::Client` GET;
#   (c) the same hello world on tokio + reqwest (rustls), debug build.
#
#   benches/build_time.sh            all three
#   benches/build_time.sh b c        only these
#
# Each build gets an empty target dir of its own under a temp dir (removed at
# the end). The hello worlds are generated there, with the versions of
# Cargo.lock (b) and benches/Cargo.lock (c), so no build resolves anew.
# Downloads (`cargo fetch`) happen before the clock starts. Prints the wall
# and CPU seconds of each build and the load average before and after: on a
# shared machine the wall times are only as good as the load was low. Not
# niced, on purpose.
set -euo pipefail

BENCHES="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCHES")"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/ferrio-build-time.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
export CARGO_TERM_COLOR=never
unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_INCREMENTAL

which=("$@")
[ ${#which[@]} -eq 0 ] && which=(a b c)

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# time_build KEY NAME DIR CMD...: runs CMD in DIR with an empty target dir,
# prints one line: name, wall seconds, CPU seconds (user + system, of every
# process of the build: steadier than the wall time on a shared machine), and
# the load average before -> after.
time_build() {
    local key="$1" name="$2" dir="$3"
    shift 3
    local target="$TMP/target-$key" log="$TMP/$key.log" times="$TMP/$key.times"
    local before
    before="$(loadavg)"
    local TIMEFORMAT='%R %U %S'
    if ! { time (cd "$dir" && CARGO_TARGET_DIR="$target" "$@" >"$log" 2>&1); } 2>"$times"; then
        tail -n 30 "$log"
        echo "build $name failed" >&2
        exit 1
    fi
    read -r wall user sys <"$times"
    printf '%-42s %6.1f s wall %6.1f s CPU   load %s -> %s\n' "$name" "$wall" \
        "$(echo "$user + $sys" | bc)" "$before" "$(loadavg)"
}

# The README's first command, until the example prints its usage (it exits 2
# for --help, which is not a failure here).
fetch_posts_help() {
    cargo build --quiet --release --example fetch_posts
    "$CARGO_TARGET_DIR/release/examples/fetch_posts" --help || [ $? -eq 2 ]
}

hello_ferrio() {
    local dir="$TMP/hello-ferrio"
    mkdir -p "$dir/src"
    cat >"$dir/Cargo.toml" <<EOF
[package]
name = "hello-ferrio"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
ferrio = { path = "$ROOT" }
EOF
    cat >"$dir/src/main.rs" <<'EOF'
fn main() {
    ferrio::run(async {
        let client = ferrio::http::Client::new();
        match client.get("http://127.0.0.1:9/").send().await {
            Ok(response) => println!("{}", response.status()),
            Err(e) => println!("{e}"),
        }
    });
}
EOF
    cp "$ROOT/Cargo.lock" "$dir/Cargo.lock"
    echo "$dir"
}

hello_tokio() {
    local dir="$TMP/hello-tokio"
    mkdir -p "$dir/src"
    cat >"$dir/Cargo.toml" <<'EOF'
[package]
name = "hello-tokio"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }
reqwest = { version = "0.12", default-features = false, features = ["rustls-tls"] }
EOF
    cat >"$dir/src/main.rs" <<'EOF'
#[tokio::main]
async fn main() {
    let client = reqwest::Client::new();
    match client.get("http://127.0.0.1:9/").send().await {
        Ok(response) => println!("{}", response.status()),
        Err(e) => println!("{e}"),
    }
}
EOF
    cp "$BENCHES/Cargo.lock" "$dir/Cargo.lock"
    echo "$dir"
}

echo "$(nproc) cores; $(rustc --version)"
for w in "${which[@]}"; do
    case "$w" in
        a)
            (cd "$ROOT" && cargo fetch --quiet)
            time_build a "(a) fetch_posts, release, until --help" "$ROOT" fetch_posts_help
            ;;
        b)
            dir="$(hello_ferrio)"
            (cd "$dir" && cargo fetch --quiet)
            time_build b "(b) hello world on ferrio, debug" "$dir" cargo build --quiet
            ;;
        c)
            dir="$(hello_tokio)"
            (cd "$dir" && cargo fetch --quiet)
            time_build c "(c) hello world on tokio + reqwest, debug" "$dir" cargo build --quiet
            ;;
        *) echo "unknown build $w (a, b or c)" >&2; exit 2 ;;
    esac
done

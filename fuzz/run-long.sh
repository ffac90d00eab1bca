#!/usr/bin/env bash
# The long fuzz run: every target (or those named) for SECONDS each, one
# after the other at low priority, then the corpus each grew merged and
# minimized (cargo fuzz cmin) into corpus/<target>/, which is checked in.
#
#   fuzz/run-long.sh SECONDS [TARGET[=SECONDS] ...]
#
# A target named with =SECONDS gets that time instead (give slow targets
# more). RUNS=N also stops a target after N executions (libFuzzer's -runs),
# whichever comes first. Prints each target's executions (libFuzzer's
# stat::number_of_executed_units), time and rate (its average_exec_per_sec),
# then a table; exits
# non-zero if a target crashed (the input is in fuzz/artifacts/<target>/).
# Logs go to fuzz/target/long-<target>.log. Needs nightly and cargo-fuzz.
set -euo pipefail
cd "$(dirname "$0")"
[ $# -ge 1 ] || { sed -n '2,14p' "$0"; exit 2; }
seconds=$1
shift
declare -A own
targets=()
for arg in "$@"; do
    name=${arg%%=*}
    targets+=("$name")
    [ "$arg" != "$name" ] && own[$name]=${arg#*=}
done
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
nice=(nice -n "${NICE:-15}")
runs=()
[ -n "${RUNS:-}" ] && runs=(-runs="$RUNS")

"${nice[@]}" cargo +nightly fuzz build -O >/dev/null
mkdir -p target
table=()
failed=0
for target in "${targets[@]}"; do
    time=${own[$target]:-$seconds}
    log="target/long-$target.log"
    mkdir -p "corpus/$target"
    start=$(date +%s)
    status=ok
    # -timeout: an input that takes 10 s is a hang; -rss_limit_mb: libFuzzer's default.
    if ! "${nice[@]}" cargo +nightly fuzz run -O "$target" -- -max_total_time="$time" \
        "${runs[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
        status=CRASH
        failed=1
        tail -n 30 "$log"
    fi
    took=$(( $(date +%s) - start ))
    stat() { grep -o "stat::$1: *[0-9]*" "$log" | tail -1 | grep -o '[0-9]*$' || echo 0; }
    execs=$(stat number_of_executed_units)
    rate=$(stat average_exec_per_sec)
    line=$(printf '%-16s %12s runs %6s s %8s/s  %s' "$target" "$execs" "$took" "$rate" "$status")
    echo "$line"
    table+=("$line")
done

echo
echo "minimizing the corpora (cargo fuzz cmin)"
for target in "${targets[@]}"; do
    before=$(ls "corpus/$target" | wc -l)
    "${nice[@]}" cargo +nightly fuzz cmin -O "$target" >"target/cmin-$target.log" 2>&1 \
        || { tail -n 20 "target/cmin-$target.log"; failed=1; }
    echo "$target: $before -> $(ls "corpus/$target" | wc -l) inputs, $(du -sh "corpus/$target" | cut -f1)"
done

echo
echo "long fuzz run, $(date -u '+%Y-%m-%d %H:%M UTC'):"
printf '%s\n' "${table[@]}"
exit $failed

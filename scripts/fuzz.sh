#!/bin/sh
# Runs each libFuzzer target for SECONDS, starting from its checked-in
# corpus (fuzz/corpus/TARGET, read only: new inputs go to DIR/corpus), and
# fails when any target finds a crash, a leak or a sanitizer report.
# Usage: fuzz.sh DIR SECONDS TARGET...
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
seconds=$2
shift 2

export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:\
suppressions=$top/ubsan.suppress"

status=0

for target in "$@"; do
    mkdir -p "$dir/corpus/$target" "$dir/crashes"
    log="$dir/$target.log"

    "$dir/$target" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$dir/crashes/$target-" \
        "$dir/corpus/$target" "$top/fuzz/corpus/$target" > "$log" 2>&1
    rc=$?

    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "chatport: fuzz $target: ${runs:-?} runs in ${seconds}s, exit $rc"

    if [ $rc -ne 0 ]; then
        grep -A30 -m1 -E '^==[0-9]+==|runtime error|deadly signal' "$log"
        ls "$dir/crashes/$target-"* 2>/dev/null
        status=1
    fi
done

exit $status

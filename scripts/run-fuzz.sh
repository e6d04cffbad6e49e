#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ (the `fuzz` preset: clang-14,
# ASan + UBSan, build/fuzz/) and runs each one for a fixed time.
#
#   scripts/run-fuzz.sh [seconds per target, default 60] [target...]
#   INCSYNC_JOBS=N            compile jobs (default 2: CI has 2 cores)
#   INCSYNC_FUZZ_AT_ONCE=N    targets fuzzed at once (default INCSYNC_JOBS)
#
# Each target starts from its committed corpus, tests/fuzz/corpus/<target>/,
# which it only reads; what it finds new goes to build/fuzz/corpus-work/<target>/
# (kept between runs, so a later run starts further). Targets run
# INCSYNC_FUZZ_AT_ONCE at a time, each for the full time: 5 targets at 60 s,
# 2 at a time, take 3 minutes on 2 cores; 3 at a time, 2 minutes.
# Leaks count as failures (LeakSanitizer is on).
#
# Exits non-zero when a target found a crash, leak, timeout, out-of-memory or
# undefined behaviour, or broke one of its invariants; it names the input
# libFuzzer saved (build/fuzz/artifacts/<target>-crash-...) and how to
# reproduce it. Fixed, that input goes into tests/fuzz/corpus/<target>/,
# whose replay test (fuzz_replay.<target>) keeps it fixed in every build.
set -euo pipefail
cd "$(dirname "$0")/.."

# The cheap, fast-saturating targets first: with INCSYNC_FUZZ_AT_ONCE=3 on 2
# cores (what the test command does) they share the cores for the first
# round and http_request and websocket_frames get a core each for the second.
all_targets=(cursor entity_json delta http_request websocket_frames)
seconds=${1:-60}
[ $# -gt 0 ] && shift
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: $0 [seconds per target, default 60] [target...]; targets: ${all_targets[*]}" >&2
    exit 2
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "run-fuzz: no target '$t' (targets: ${all_targets[*]})" >&2; exit 2; }
done
jobs=${INCSYNC_JOBS:-2}
at_once=${INCSYNC_FUZZ_AT_ONCE:-$jobs}

command -v clang++-14 >/dev/null || { echo "run-fuzz: clang++-14 is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }

start=$SECONDS
echo "== run-fuzz: CMake configure (fuzz preset)"
cmake --preset fuzz >/dev/null
echo "== run-fuzz: build (${targets[*]/#/fuzz_})"
cmake --build --preset fuzz -j "$jobs" --target "${targets[@]/#/fuzz_}"
echo "== run-fuzz: built in $((SECONDS - start)) s; fuzzing ${#targets[@]} targets for $seconds s each, $at_once at a time"

out=build/fuzz
mkdir -p "$out/artifacts" "$out/logs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

fuzz_one() {
    local t=$1
    local dict=()
    [ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
    mkdir -p "$out/corpus-work/$t"
    rm -f "$out/logs/$t.rc"
    local rc=0
    "$out/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -detect_leaks=1 -artifact_prefix="$out/artifacts/$t-" "${dict[@]}" \
        "$out/corpus-work/$t" "tests/fuzz/corpus/$t" >"$out/logs/$t.log" 2>&1 || rc=$?
    echo "$rc" >"$out/logs/$t.rc"
}

fuzz_start=$SECONDS
running=0
for t in "${targets[@]}"; do
    if [ "$running" -ge "$at_once" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    echo "   fuzzing $t"
    fuzz_one "$t" &
    running=$((running + 1))
done
wait

failed=0
echo "== run-fuzz: results ($((SECONDS - fuzz_start)) s fuzzing)"
printf '%-18s %12s %9s %7s %7s  %s\n' target executions exec/s cov ft result
for t in "${targets[@]}"; do
    log=$out/logs/$t.log
    rc=$(cat "$out/logs/$t.rc" 2>/dev/null || echo 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    # The last status line (DONE, or the last pulse/NEW before a crash).
    status=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status")
    result=ok
    [ "$rc" = 0 ] || result="FAILED (exit $rc)"
    printf '%-18s %12s %9s %7s %7s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$result"
    [ "$rc" = 0 ] || failed=1
done

if [ "$failed" = 1 ]; then
    for t in "${targets[@]}"; do
        [ "$(cat "$out/logs/$t.rc" 2>/dev/null || echo 1)" = 0 ] && continue
        log=$out/logs/$t.log
        echo
        echo "== $t failed; the end of its log ($log):"
        grep -v -E '^(#[0-9]+|\s*NEW_FUNC)' "$log" | tail -n 40
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        if [ -n "$artifact" ]; then
            echo "-- input saved: $artifact"
            echo "-- reproduce:   $out/tests/fuzz/fuzz_$t $artifact"
            echo "--   (or, any build with tests: fuzz_replay_$t $artifact)"
            echo "-- once fixed:  cp $artifact tests/fuzz/corpus/$t/<what-it-is>; add a unit test"
        fi
    done
    echo
    echo "== run-fuzz: FAILED after $((SECONDS - start)) s" >&2
    exit 1
fi
echo "== run-fuzz: all ${#targets[@]} targets passed in $((SECONDS - start)) s"

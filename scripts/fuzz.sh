#!/bin/sh
# fuzz.sh — build the libFuzzer targets (fuzz/, clang with ASan and UBSan) in
# build/fuzz and run each for a while on a copy of its committed corpus.
#   scripts/fuzz.sh [SECONDS-PER-TARGET [TARGET...]]   default 30 s, all targets
# Fails when any target crashes, leaks, breaks an invariant, times out on one
# input or runs out of memory; the input that did it is left in
# build/fuzz/artifacts/TARGET/ and the run's log in build/fuzz/logs/TARGET.log.
# Reproduce with: build/fuzz/fuzz/fuzz_TARGET build/fuzz/artifacts/TARGET/crash-...
# The working corpora (build/fuzz/corpus/) are kept between runs, so longer
# local runs build on earlier ones; the tree is never written to.
# Environment: TM_FUZZ_CXX (default clang++-14), TM_FUZZ_JOBS (build jobs and
# targets run at once, default nproc), TM_FUZZ_BUILD_DIR (default build/fuzz).
set -eu

cd "$(dirname "$0")/.."
seconds=${1:-30}
[ $# -gt 0 ] && shift
build_dir=${TM_FUZZ_BUILD_DIR:-build/fuzz}
cxx=${TM_FUZZ_CXX:-clang++-14}
jobs=${TM_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}

case $seconds in
    '' | *[!0-9]*) echo "fuzz.sh: seconds per target must be a number, got \"$seconds\"" >&2; exit 2 ;;
esac
if ! command -v "$cxx" >/dev/null 2>&1; then
    echo "fuzz.sh: $cxx not found (scripts/install-deps.sh installs clang-14)" >&2
    exit 2
fi

targets=$*
if [ -z "$targets" ]; then
    targets=$(ls fuzz/corpus)
fi

launcher=""
if command -v ccache >/dev/null 2>&1; then launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"; fi
start=$(date +%s)
# -O1 and line tables only: quicker to compile than -O2 -g, still fast to
# fuzz, stack traces with file:line; without -DNDEBUG, asserts stay on.
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCMAKE_CXX_COMPILER="$cxx" -DTM_FUZZ=ON $launcher >/dev/null
build_targets=""
for t in $targets; do build_targets="$build_targets --target fuzz_$t"; done
# shellcheck disable=SC2086
cmake --build "$build_dir" -j "$jobs" $build_targets
built=$(date +%s)
echo "fuzz.sh: built in $((built - start)) s; running each target for $seconds s, $jobs at a time"

mkdir -p "$build_dir/logs"

# Runs one target; its exit status goes to logs/TARGET.status.
run_target() {
    t=$1
    corpus="$build_dir/corpus/$t"
    mkdir -p "$corpus" "$build_dir/artifacts/$t"
    cp fuzz/corpus/"$t"/* "$corpus"/
    dict=""
    [ -f "fuzz/dict/$t.dict" ] && dict="-dict=fuzz/dict/$t.dict"
    status=0
    # -timeout: one input taking seconds is a hang (every parser is linear);
    # -rss_limit_mb: bounded parsers stay far below it.
    # shellcheck disable=SC2086
    "$build_dir/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build_dir/artifacts/$t/" $dict "$corpus" \
        >"$build_dir/logs/$t.log" 2>&1 || status=$?
    echo "$status" >"$build_dir/logs/$t.status"
}

# One target per core at a time: each libFuzzer process is single-threaded.
running=0
for t in $targets; do
    run_target "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait
        running=0
    fi
done
wait

failed=""
summary=""
for t in $targets; do
    log="$build_dir/logs/$t.log"
    status=$(cat "$build_dir/logs/$t.status")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    units=$(ls "$build_dir/corpus/$t" | wc -l)
    result=ok
    if [ "$status" -ne 0 ]; then
        result="FAILED (exit $status)"
        failed="$failed $t"
        echo "---- fuzz_$t failed; end of $log:" >&2
        tail -n 40 "$log" >&2
    fi
    summary="$summary
$(printf '%-16s execs %10s  cov %6s  ft %6s  corpus %5s  %s' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$units" "$result")"
done

echo "fuzz.sh: $seconds s per target, $(( $(date +%s) - start )) s in all (build $((built - start)) s)$summary"
if [ -n "$failed" ]; then
    echo "fuzz.sh: failed:$failed (inputs in $build_dir/artifacts/)" >&2
    exit 1
fi

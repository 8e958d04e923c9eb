#!/bin/sh
# test.sh — configure, build and run every test (unit and integration) with
# ctest. The build uses AddressSanitizer + UndefinedBehaviorSanitizer and
# treats warnings as errors, so the tests also catch memory and UB bugs.
# Integration tests start real components (dkimpy, Postfix, Redis) on
# loopback; run scripts/install-deps.sh first on a fresh machine.
# ctest runs one test per core (each integration test has its own temp dir
# and free ports; the package is built beside the others, and only its
# install test, which changes the system, runs alone); extra arguments go to
# ctest after that, so `-j1` makes it serial. The sanitized build compiles
# with -Og -g1 (CMakeLists.txt): about half the time of -O2 -g.
# Then, when ctest passed, a short fuzzing run of every parser of outside input
# (scripts/fuzz.sh, its own clang build in build/fuzz): TM_FUZZ_SECONDS per
# target, 0 to skip it. ctest's unit tests already replay the fuzz corpora.
set -eu

cd "$(dirname "$0")/.."
build_dir=${TM_BUILD_DIR:-build/test}
jobs=$(nproc 2>/dev/null || echo 2)

start=$(date +%s)
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTM_WERROR=ON -DTM_SANITIZE=ON
cmake --build "$build_dir" -j "$jobs"
built=$(date +%s)
echo "test.sh: configured and built in $((built - start)) s"
(cd "$build_dir" && ctest --output-on-failure -j "$jobs" "$@")
echo "test.sh: ctest took $(( $(date +%s) - built )) s"

fuzz_seconds=${TM_FUZZ_SECONDS:-20}
if [ "$fuzz_seconds" -gt 0 ]; then
    sh scripts/fuzz.sh "$fuzz_seconds"
fi

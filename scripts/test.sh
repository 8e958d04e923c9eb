#!/bin/sh
# test.sh — configure, build and run every test (unit and integration) with
# ctest. The build uses AddressSanitizer + UndefinedBehaviorSanitizer and
# treats warnings as errors, so the tests also catch memory and UB bugs.
# Integration tests start real components (dkimpy, Postfix, Redis) on
# loopback; run scripts/install-deps.sh first on a fresh machine.
set -eu

cd "$(dirname "$0")/.."
build_dir=${TM_BUILD_DIR:-build/test}
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTM_WERROR=ON -DTM_SANITIZE=ON
cmake --build "$build_dir" -j "$jobs"
cd "$build_dir"
ctest --output-on-failure "$@"

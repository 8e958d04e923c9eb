#!/bin/sh
# demo.sh — see tenantmail work in a minute, on this machine only: installs
# what is missing (Debian 12, as root), builds, then scripts/demo.py starts a
# private Postfix, Redis, smtp-sink and the tenantmail daemons on loopback in
# a temporary directory, sends mail as a tenant, shows what arrived and
# stops everything it started.
set -eu

cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    echo "demo.sh: run as root: it installs packages and starts a private Postfix" >&2
    exit 1
fi
sh scripts/install-deps.sh
build_dir=${TM_BUILD_DIR:-build/demo}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DTM_BUILD_TESTS=OFF -DTM_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
exec /usr/bin/python3 scripts/demo.py "$build_dir"

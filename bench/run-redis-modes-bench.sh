#!/bin/bash
# run-redis-modes-bench.sh — tenantmail-policyd on one Redis against the same
# policyd in Sentinel mode ([redis] sentinels = ...) on a group of one
# master, two replicas and three sentinels, and in Cluster mode ([redis]
# cluster_nodes = ...) on three masters: requests/s and p99 at 8 and 32
# connections (bench/policy_load, 1,000 tenants at 500 per 3 minutes), the
# ratios to single, and the CPU the Redis servers that answer spend per
# request (the Sentinel master also feeds its replicas; in the cluster, each
# master's share of the total, which is what scales out). A fourth policyd
# names the Sentinel master directly, which separates what replication
# costs from what the Sentinel client costs. The policyd run turn about, so
# all meet the same moods of a shared machine.
#
#   bench/run-redis-modes-bench.sh [--quick] [--reps N] [--duration SEC] [--build-dir DIR] [--build] [--keep]
#
# --quick   one run per point, 1 s each (~30 s).
# default   3 runs per point (medians), 2.5 s each after 0.5 s warm-up (~1 min).
# Needs redis-server, redis-cli, python3, ss. Everything is started here in
# a temporary directory on 127.0.0.1 and stopped here by PID.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD="$ROOT/build-bench"
QUICK=0 REPS=3 DURATION=2.5 WARMUP=0.5 KEEP=0 FORCE_BUILD=0
CONCS="8 32"
TENANTS=1000

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --reps) REPS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --build-dir) BUILD=$2; shift ;;
        --build) FORCE_BUILD=1 ;;
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-redis-modes-bench: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ "$QUICK" = 1 ] && { REPS=1; DURATION=1; WARMUP=0.3; }
for tool in redis-server redis-cli python3 ss; do
    command -v "$tool" >/dev/null || { echo "run-redis-modes-bench: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done

POLICYD="$BUILD/policyd/tenantmail-policyd"
DRIVER="$BUILD/bench/policy_load"
if [ "$FORCE_BUILD" = 1 ] || [ ! -x "$POLICYD" ] || [ ! -x "$DRIVER" ]; then
    echo "run-redis-modes-bench: building tenantmail-policyd and policy_load in $BUILD (Release)" >&2
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" -j2 --target tenantmail-policyd policy_load >/dev/null
fi

BENCH=run-redis-modes-bench
WORK=$(mktemp -d /tmp/tenantmail-redis-modes-bench.XXXXXX)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

start_redis() {  # $1 name, then redis-server arguments; sets REDIS_PID and REDIS_PORT
    local name=$1 port
    shift
    port=$(free_port)
    mkdir -p "$WORK/$name"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$WORK/$name" --save '' --appendonly no \
        --daemonize no --protected-mode yes "$@" > "$WORK/$name.log" 2>&1 &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    wait_port "$port" "$REDIS_PID" "$WORK/$name.log"
    REDIS_PORT=$port
}

start_redis single
SINGLE_PID=$REDIS_PID SINGLE_PORT=$REDIS_PORT
start_redis master
MASTER_PID=$REDIS_PID MASTER_PORT=$REDIS_PORT
start_redis replica1 --replicaof 127.0.0.1 "$MASTER_PORT"
start_redis replica2 --replicaof 127.0.0.1 "$MASTER_PORT"
SENTINELS=""
for i in 1 2 3; do
    port=$(free_port)
    mkdir -p "$WORK/sentinel$i"
    printf 'bind 127.0.0.1\nport %s\ndaemonize no\ndir %s\nsentinel monitor tm 127.0.0.1 %s 2\nsentinel down-after-milliseconds tm 5000\n' \
        "$port" "$WORK/sentinel$i" "$MASTER_PORT" > "$WORK/sentinel$i/sentinel.conf"
    redis-server "$WORK/sentinel$i/sentinel.conf" --sentinel > "$WORK/sentinel$i.log" 2>&1 &
    PIDS+=("$!")
    wait_port "$port" "$!" "$WORK/sentinel$i.log"
    SENTINELS="$SENTINELS 127.0.0.1:$port"
done
CLUSTER_PIDS="" CLUSTER_NODES="" CLUSTER_ARGS=""
for i in 1 2 3; do
    # A bus port of its own: port + 10000 may be past 65535.
    start_redis "cluster$i" --cluster-enabled yes --cluster-config-file "$WORK/cluster$i/nodes.conf" \
        --cluster-port "$(free_port)" --cluster-node-timeout 5000
    CLUSTER_PIDS="$CLUSTER_PIDS $REDIS_PID"
    CLUSTER_NODES="$CLUSTER_NODES 127.0.0.1:$REDIS_PORT"
    CLUSTER_ARGS="$CLUSTER_ARGS 127.0.0.1:$REDIS_PORT"
done
# shellcheck disable=SC2086
TERM=dumb redis-cli --cluster create $CLUSTER_ARGS --cluster-yes > "$WORK/cluster-create.log" 2>&1
for i in $(seq 200); do
    redis-cli -p "${CLUSTER_NODES##*:}" CLUSTER INFO | grep -q '^cluster_state:ok' && break
    sleep 0.1
done
for i in $(seq 200); do
    redis-cli -p "$MASTER_PORT" INFO replication | grep -q '^connected_slaves:2' && break
    sleep 0.1
done

(umask 077; openssl rand -hex 32 > "$WORK/bounce.secret")
for i in $(seq 0 $((TENANTS - 1))); do
    printf '[tenant%d]\ndomains = tenant%d.example\nfrom_rewrite = tenant%d@platform.example\nsasl_users = tenant%d-bulk\nbulk_rate = 500/3m\n\n' \
        "$i" "$i" "$i" "$i"
done > "$WORK/tenants.conf"

start_policyd() {  # $1 name, $2 [redis] lines; sets POLICYD_PORT
    local port
    port=$(free_port)
    printf 'tenants_file = %s\nbounce_secret_file = %s\nlog_level = warning\n[redis]\n%s\n[policyd]\nlisten = inet:%s@127.0.0.1\n' \
        "$WORK/tenants.conf" "$WORK/bounce.secret" "$2" "$port" > "$WORK/$1.conf"
    "$POLICYD" -f -c "$WORK/$1.conf" > "$WORK/$1.log" 2>&1 &
    PIDS+=("$!")
    wait_port "$port" "$!" "$WORK/$1.log"
    POLICYD_PORT=$port
}
start_policyd policyd-single "host = 127.0.0.1
port = $SINGLE_PORT"
SINGLE_POLICYD=$POLICYD_PORT
start_policyd policyd-sentinel "sentinels =$SENTINELS
master_name = tm"
SENTINEL_POLICYD=$POLICYD_PORT
start_policyd policyd-cluster "cluster_nodes =$CLUSTER_NODES"
CLUSTER_POLICYD=$POLICYD_PORT
# The same master named directly: what replication costs, apart from the client.
start_policyd policyd-direct "host = 127.0.0.1
port = $MASTER_PORT"
DIRECT_POLICYD=$POLICYD_PORT
for name in sentinel cluster; do
    for i in $(seq 100); do grep -q "connected to Redis" "$WORK/policyd-$name.log" && break; sleep 0.1; done
done

cpu_ticks() {  # the CPU ticks of each pid given, comma-separated
    local pid out=""
    for pid in "$@"; do out="$out,$(awk '{print $14 + $15}' "/proc/$pid/stat")"; done
    echo "${out#,}"
}

RESULTS="$WORK/results.txt"
: > "$RESULTS"
run_once() {  # $1 label, $2 policyd port, $3 redis pids (spaces between), $4 connections, $5 rep
    local before after out="$WORK/$1-$4-$5.out"
    # shellcheck disable=SC2086
    before=$(cpu_ticks $3)
    "$DRIVER" --server "inet:$2@127.0.0.1" -c "$4" -d "$DURATION" --warmup "$WARMUP" -t "$TENANTS" \
        --seed "$5" --label "$1/$4" > "$out" 2>&1 || true
    # shellcheck disable=SC2086
    after=$(cpu_ticks $3)
    if grep -q '^RESULT ' "$out"; then
        echo "$(grep '^RESULT ' "$out") redis_before=$before redis_after=$after" >> "$RESULTS"
    else
        echo "RESULT label=$1/$4 failed=1" >> "$RESULTS"
    fi
}
echo "$BENCH: $REPS run(s) per point, ${DURATION}s each; $TENANTS tenants" >&2
for c in $CONCS; do
    for rep in $(seq "$REPS"); do
        run_once single "$SINGLE_POLICYD" "$SINGLE_PID" "$c" "$rep"
        run_once sentinel "$SENTINEL_POLICYD" "$MASTER_PID" "$c" "$rep"
        run_once direct "$DIRECT_POLICYD" "$MASTER_PID" "$c" "$rep"
        run_once cluster "$CLUSTER_POLICYD" "$CLUSTER_PIDS" "$c" "$rep"
    done
done

TICKS=$(getconf CLK_TCK) WARMUP=$WARMUP python3 - "$RESULTS" <<'PY'
import collections, os, statistics, sys
ticks = int(os.environ["TICKS"])
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    fields = dict(item.split("=", 1) for item in line.split()[1:] if "=" in item)
    rows[fields["label"]].append(fields)
failed = [label for label, runs in rows.items() if any("failed" in r or int(r.get("errors", "1")) for r in runs)]
def per_server(r):
    """The Redis CPU ticks of the run, per server."""
    return [int(b) - int(a) for a, b in zip(r["redis_before"].split(","), r["redis_after"].split(","))]
print(f"{'point':<14} {'req/s':>9} {'p99 ms':>8} {'Redis CPU/request':>18}  per-master share")
med = {}
for label, runs in rows.items():
    runs = [r for r in runs if "rate" in r]
    if not runs:
        continue
    rate = statistics.median(float(r["rate"]) for r in runs)
    p99 = statistics.median(float(r["p99_ms"]) for r in runs)
    # The Redis ticks cover warm-up and run; replies cover the run only.
    cpu = statistics.median(sum(per_server(r)) / ticks /
                            (float(r["rate"]) * (float(r["seconds"]) + float(os.environ["WARMUP"])))
                            for r in runs)
    totals = [sum(col) for col in zip(*(per_server(r) for r in runs))]
    share = " / ".join(f"{100 * t / max(1, sum(totals)):.0f}%" for t in totals) if len(totals) > 1 else ""
    med[label] = rate
    print(f"{label:<14} {rate:>9.0f} {p99:>8.2f} {cpu * 1e6:>15.1f} µs  {share}")
print()
for c in ("8", "32"):
    if all(f"{m}/{c}" in med for m in ("single", "sentinel", "direct")):
        print(f"c={c}: Sentinel (via master) / single {100 * med[f'sentinel/{c}'] / med[f'single/{c}']:.0f}%; "
              f"the master named directly / single {100 * med[f'direct/{c}'] / med[f'single/{c}']:.0f}% "
              f"(replication); Sentinel / direct {100 * med[f'sentinel/{c}'] / med[f'direct/{c}']:.0f}% (the client)")
    if f"cluster/{c}" in med and f"single/{c}" in med:
        print(f"c={c}: Cluster (3 masters) / single {100 * med[f'cluster/{c}'] / med[f'single/{c}']:.0f}%")
if failed:
    print("runs with errors (figures not earned):", ", ".join(failed))
    sys.exit(1)
PY

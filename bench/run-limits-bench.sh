#!/bin/bash
# run-limits-bench.sh — what several limits per request cost tenantmail-policyd:
# requests/s and p50/p99/p99.9 with 1, 3 and 5 limits checked and counted in
# its one Redis script per request, driven by bench/policy_load (Postfix's
# RCPT-time request, 1,000 tenants, reused connections) at 8 and 32
# connections. Goal: 3 limits cost at most 1.5x one (req/s with 3 limits >=
# 67% of req/s with 1) at c=32; the 5-limit ratio is printed beside it.
#
#   bench/run-limits-bench.sh [--quick] [--reps N] [--duration SEC] [--warmup SEC]
#                             [--policyd PATH] [--build-dir DIR] [--build] [--keep]
#
# --quick     one run per point, 1 s each (under a minute).
# default     3 runs per point (medians), 2.5 s each after 0.5 s warm-up (~2 min).
# --policyd   tenantmail-policyd binary (default BUILD/policyd/tenantmail-policyd).
# --build     rebuild policy_load and tenantmail-policyd in BUILD first
#             (BUILD = build-bench, Release; built anyway when missing).
# --keep      keep the work directory (configs, logs, raw results).
#
# Configurations (a tenants.conf each, 1,000 tenants tenantN, domain
# tenantN.example, login tenantN-bulk; limits far above what a run sends,
# so every request is permitted after running the whole script):
#   1 limit    bulk_rate = 100000/3m
#   3 limits   bulk_rate = 100000/3m 1000000/1h, bulk_quota = 10000000/day
#   5 limits   the 3 above, bulk_quota also 100000000/month,
#              login_limits = tenantN-bulk=100000/1m
# Redis is flushed and tenantmail-policyd restarted before every run; the
# configurations are interleaved within each repetition. Also printed: the
# EVALSHA each configuration sends, Redis's own time per script call and the
# CPU per request of redis-server, tenantmail-policyd and the driver, and
# redis-benchmark running each captured EVALSHA alone. Needs redis-server,
# redis-cli, redis-benchmark, openssl, ss and python3; everything runs on
# 127.0.0.1 and is stopped here by PID. The results table goes to stdout.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD="$ROOT/build-bench"
POLICYD=""
QUICK=0 REPS=3 DURATION=2.5 WARMUP=0.5 KEEP=0 FORCE_BUILD=0
CONCS="8 32"
CONFIGS="1 3 5"
TENANTS=1000
PY=/usr/bin/python3

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --reps) REPS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --warmup) WARMUP=$2; shift ;;
        --policyd) POLICYD=$2; shift ;;
        --build-dir) BUILD=$2; shift ;;
        --build) FORCE_BUILD=1 ;;
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-limits-bench: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ "$QUICK" = 1 ] && { REPS=1; DURATION=1; WARMUP=0.3; }
[ -x "$PY" ] || PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "run-limits-bench: python3 missing" >&2; exit 2; }
for tool in redis-server redis-cli openssl ss; do
    command -v "$tool" >/dev/null || { echo "run-limits-bench: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done
HAVE_RB=0
command -v redis-benchmark >/dev/null && HAVE_RB=1

DRIVER="$BUILD/bench/policy_load"
if [ -n "$POLICYD" ]; then
    [ -x "$POLICYD" ] || { echo "run-limits-bench: --policyd $POLICYD is not an executable" >&2; exit 2; }
else
    POLICYD="$BUILD/policyd/tenantmail-policyd"
fi
if [ "$FORCE_BUILD" = 1 ] || [ ! -x "$DRIVER" ] || [ ! -x "$POLICYD" ]; then
    echo "run-limits-bench: building policy_load and tenantmail-policyd in $BUILD (Release)" >&2
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" -j2 --target policy_load tenantmail-policyd >/dev/null
fi
for bin in "$DRIVER" "$POLICYD"; do
    [ -x "$bin" ] || { echo "run-limits-bench: $bin missing after the build" >&2; exit 1; }
done

# lib.sh reads BENCH, WORK and KEEP.
# shellcheck disable=SC2034
BENCH=run-limits-bench
WORK=$(mktemp -d /tmp/tenantmail-limits-bench.XXXXXX)
[ "$KEEP" = 1 ] && echo "run-limits-bench: work directory $WORK (kept at the end)" >&2
# shellcheck source=lib.sh disable=SC1091
source "$HERE/lib.sh"

# Stops one of our processes and forgets its PID, so that cleanup never
# signals a PID the system may have handed to someone else since.
stop_ours() {
    local pid=$1 p keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
    stop_pid "$pid"
}

# utime + stime of a process in clock ticks (/proc/PID/stat, fields after comm).
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------------------
# Redis, tenants, configs.

REDIS_PORT=$(free_port)
mkdir -p "$WORK/redis"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$WORK/redis" --save '' --appendonly no \
    --daemonize no --protected-mode yes > "$WORK/redis.log" 2>&1 &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
wait_port "$REDIS_PORT" "$REDIS_PID" "$WORK/redis.log"
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

(umask 077; openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null)
(umask 077; openssl rand -hex 32 > "$WORK/bounce.secret")
chmod 600 "$WORK/key.pem" "$WORK/bounce.secret"

limit_lines() {  # $1 = configuration (1, 3, 5), $2 = tenant number
    case "$1" in
        1) printf 'bulk_rate = 100000/3m\n' ;;
        3) printf 'bulk_rate = 100000/3m 1000000/1h\nbulk_quota = 10000000/day\n' ;;
        5) printf 'bulk_rate = 100000/3m 1000000/1h\nbulk_quota = 10000000/day 100000000/month\n'
           printf 'login_limits = tenant%d-bulk=100000/1m\n' "$2" ;;
    esac
}

declare -A PORT
for cfg in $CONFIGS; do
    {
        echo "# $TENANTS tenants written by bench/run-limits-bench.sh: tenantN sends as tenantN.example"
        echo "# and logs in as tenantN-bulk; $cfg limit(s) per request, none reached in a run."
        for i in $(seq 0 $((TENANTS - 1))); do
            printf '[tenant%d]\ndomains = tenant%d.example\nselector = bench\nkey = %s\nbounce_domain = bounces.tenant%d.example\nsasl_users = tenant%d-bulk\n' \
                "$i" "$i" "$WORK/key.pem" "$i" "$i"
            limit_lines "$cfg" "$i"
            echo
        done
    } > "$WORK/tenants-$cfg.conf"
    PORT[$cfg]=$(free_port)
    cat > "$WORK/tenantmail-$cfg.conf" <<CONF
tenants_file = $WORK/tenants-$cfg.conf
bounce_secret_file = $WORK/bounce.secret
# one line per decision at info; warning keeps the log out of the measurement
log_level = warning
[redis]
host = 127.0.0.1
port = $REDIS_PORT
[policyd]
listen = inet:${PORT[$cfg]}@127.0.0.1
CONF
    if ! "$POLICYD" --check-config -c "$WORK/tenantmail-$cfg.conf" > "$WORK/check-config-$cfg.log" 2>&1; then
        echo "run-limits-bench: tenantmail-policyd --check-config refused the $cfg-limit configuration:" >&2
        cat "$WORK/check-config-$cfg.log" >&2
        exit 1
    fi
done

POLICYD_PID=""
start_policyd() {  # $1 = configuration
    "$POLICYD" -c "$WORK/tenantmail-$1.conf" -f >> "$WORK/policyd-$1.log" 2>&1 &
    POLICYD_PID=$!
    PIDS+=("$POLICYD_PID")
    wait_port "${PORT[$1]}" "$POLICYD_PID" "$WORK/policyd-$1.log"
}
stop_policyd() {
    [ -n "$POLICYD_PID" ] && stop_ours "$POLICYD_PID"
    POLICYD_PID=""
}

# ---------------------------------------------------------------------------
# Correctness per configuration: the EVALSHA of one request (MONITOR) must
# carry 2 + N keys, and 300 requests for 2 tenants must all be DUNNO with no
# errors and leave each tenant N limit keys whose counts add up to 300 x N:
# every limit is checked and counted on every request.

CHECKS="$WORK/checks.txt"
: > "$CHECKS"
FAILED_CHECK=0
for cfg in $CONFIGS; do
    rcli FLUSHALL >/dev/null
    start_policyd "$cfg"
    timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" MONITOR > "$WORK/monitor-$cfg.txt" 2>&1 &
    MON=$!
    PIDS+=("$MON")
    sleep 0.3
    "$DRIVER" --server "inet:${PORT[$cfg]}@127.0.0.1" -c 1 -n 1 -t 1 > "$WORK/one-$cfg.out" 2>&1 || true
    sleep 0.3
    stop_ours "$MON"
    # The first EVALSHA (or EVAL) of the request, its script's SHA replaced
    # by "SHA", and tenant0 by tenant__rand_int__ for redis-benchmark.
    "$PY" - "$WORK/monitor-$cfg.txt" > "$WORK/evalsha-$cfg.txt" <<'PYEOF'
import re, sys
for line in open(sys.argv[1], errors="replace"):
    args = [a.encode().decode("unicode_escape") for a in re.findall(r'"((?:[^"\\]|\\.)*)"', line)]
    if args and args[0].upper() in ("EVALSHA", "EVAL") and len(args) >= 3:
        if args[0].upper() == "EVAL":
            args[1] = "<script>"
        print(" ".join(a.replace("tenant0", "tenant__rand_int__") for a in args[1:]))
        break
PYEOF
    rcli FLUSHALL >/dev/null
    "$DRIVER" --server "inet:${PORT[$cfg]}@127.0.0.1" -c 4 -n 300 -t 2 --label "check/$cfg" \
        > "$WORK/check-$cfg.out" 2>&1 || true
    result=$(grep '^RESULT ' "$WORK/check-$cfg.out" || echo "RESULT label=check/$cfg failed=1")
    keys=0 counted=0
    while read -r key; do
        [ -n "$key" ] || continue
        case "$(rcli TYPE "$key")" in
            zset) counted=$((counted + $(rcli ZCARD "$key"))) ;;
            string) counted=$((counted + $(rcli GET "$key"))) ;;
        esac
        keys=$((keys + 1))
    done < <(rcli --scan --pattern 'tm:*' | grep -E ':(rate|quota):' || true)
    numkeys=$(awk '{print $2}' "$WORK/evalsha-$cfg.txt")
    echo "$result limits=$cfg evalsha_numkeys=${numkeys:-none} limit_keys=$keys counted=$counted" >> "$CHECKS"
    if ! grep -q 'actions=DUNNO:300 ' <<< "$result " || ! grep -q ' errors=0 ' <<< "$result" \
        || [ "$keys" != $((2 * cfg)) ] || [ "$counted" != $((300 * cfg)) ] || [ "${numkeys:-0}" != $((3 + cfg)) ]; then
        echo "run-limits-bench: correctness check of the $cfg-limit configuration failed:" >&2
        echo "  $result" >&2
        echo "  EVALSHA numkeys ${numkeys:-none} (expected $((3 + cfg))), limit keys $keys (expected $((2 * cfg))),"\
             "counted $counted (expected $((300 * cfg)))" >&2
        FAILED_CHECK=1
    fi
    stop_policyd
done
if [ "$FAILED_CHECK" = 1 ]; then
    echo "run-limits-bench: not measuring a configuration that does not count every limit" >&2
    exit 1
fi

# ---------------------------------------------------------------------------
# Measured runs: repetition, then connections, then configuration, so that
# noise from other work on the machine hits the configurations alike.
# Around each run: Redis's command statistics (reset first), redis-server's
# CPU, tenantmail-policyd's CPU (fresh process) and the driver's own figure.

RESULTS="$WORK/results.txt" STATS="$WORK/stats.txt"
: > "$RESULTS"
: > "$STATS"
redis_cpu() { rcli INFO cpu | tr -d '\r' | awk -F: '/^used_cpu_(sys|user):/ {s += $2} END {printf "%.6f\n", s}'; }
total=$(( $(echo "$CONFIGS" | wc -w) * $(echo "$CONCS" | wc -w) * REPS ))
n=0
for rep in $(seq "$REPS"); do
    for conc in $CONCS; do
        for cfg in $CONFIGS; do
            n=$((n + 1))
            printf '\rrun-limits-bench: driver run %d/%d' "$n" "$total" >&2
            label="$cfg/$conc/$rep"
            rcli FLUSHALL >/dev/null
            start_policyd "$cfg"
            rcli CONFIG RESETSTAT >/dev/null
            cpu0=$(redis_cpu)
            out="$WORK/run-$cfg-c$conc-r$rep.out"
            "$DRIVER" --server "inet:${PORT[$cfg]}@127.0.0.1" -c "$conc" -d "$DURATION" --warmup "$WARMUP" \
                -t "$TENANTS" --seed "$rep" --label "$label" > "$out" 2>&1 || true
            cpu1=$(redis_cpu)
            ticks=$(cpu_ticks "$POLICYD_PID" 2>/dev/null || echo 0)
            rcli INFO commandstats | tr -d '\r' > "$WORK/cmdstats-$cfg-c$conc-r$rep.txt"
            stop_policyd
            grep '^RESULT ' "$out" >> "$RESULTS" || echo "RESULT label=$label failed=1" >> "$RESULTS"
            driver_ms=$(sed -n 's/^ *driver *CPU \([0-9.]*\) ms\/request.*/\1/p' "$out")
            # calls and usec of EVALSHA, and the calls of the commands the
            # script made (every command but the bench's own).
            read -r calls usec inner < <(awk -F'[:,=]' '
                /^cmdstat_evalsha:/ {c = $3; u = $5}
                /^cmdstat_/ && $1 !~ /^cmdstat_(evalsha|eval|info|config|flushall|ping|script|monitor|client|hello|command)$/ {i += $3}
                END {print c + 0, u + 0, i + 0}' "$WORK/cmdstats-$cfg-c$conc-r$rep.txt")
            echo "STATS label=$label evalsha_calls=$calls evalsha_usec=$usec inner_calls=$inner" \
                 "redis_cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.6f", b - a}')" \
                 "policyd_cpu_s=$(awk -v t="$ticks" -v h="$CLK_TCK" 'BEGIN {printf "%.3f", t / h}')" \
                 "driver_cpu_ms=${driver_ms:-nan}" >> "$STATS"
        done
    done
done
echo >&2

# ---------------------------------------------------------------------------
# Redis alone: redis-benchmark, 32 connections, each configuration's captured
# EVALSHA spread over the tenants.

CEILING="$WORK/ceiling.txt"
: > "$CEILING"
if [ "$HAVE_RB" = 1 ]; then
    REQS=$([ "$QUICK" = 1 ] && echo 30000 || echo 100000)
    rcli FLUSHALL >/dev/null
    # Load the script through the policyd itself: start it once, one request.
    start_policyd 1
    "$DRIVER" --server "inet:${PORT[1]}@127.0.0.1" -c 1 -n 1 -t 1 > /dev/null 2>&1 || true
    stop_policyd
    for rep in $(seq "$REPS"); do
        for cfg in $CONFIGS; do
            args=$(cat "$WORK/evalsha-$cfg.txt")
            sha=${args%% *}
            [ "$(rcli SCRIPT EXISTS "$sha")" = 1 ] || continue
            rcli FLUSHALL >/dev/null
            # shellcheck disable=SC2086
            line=$(redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c 32 -n "$REQS" -r "$TENANTS" --csv \
                       EVALSHA $args 2>/dev/null | tail -1)
            # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",...
            echo "CEILING limits=$cfg $(echo "$line" | tr -d '"' | awk -F, '{print "rate=" $2 " p50_ms=" $5 " p99_ms=" $7}')" \
                >> "$CEILING"
        done
    done
fi

# ---------------------------------------------------------------------------
# The tables.

REPS=$REPS DURATION=$DURATION WARMUP=$WARMUP CONCS="$CONCS" CONFIGS="$CONFIGS" TENANTS=$TENANTS \
EVALSHA5="$(cat "$WORK/evalsha-5.txt")" LOAD="$(cut -d' ' -f1-3 /proc/loadavg)" NPROC="$(nproc)" \
"$PY" - "$RESULTS" "$STATS" "$CHECKS" "$CEILING" <<'PYEOF'
import os, re, statistics, sys

results, stats, checks, ceiling = sys.argv[1:5]

def parse(path):
    return [dict(re.findall(r"(\w+)=(\S+)", line)) for line in open(path)]

def med(rows, key):
    vals = [float(r[key]) for r in rows if r.get(key) not in (None, "", "nan")]
    return statistics.median(vals) if vals else float("nan")

reps, concs = int(os.environ["REPS"]), [int(c) for c in os.environ["CONCS"].split()]
configs = [int(c) for c in os.environ["CONFIGS"].split()]
name = {1: "1 limit", 3: "3 limits", 5: "5 limits"}
print(f"tenantmail-policyd, 1, 3 and 5 limits per request: bench/policy_load, Postfix 3.7 RCPT requests "
      f"for {os.environ['TENANTS']} tenants (sasl_username tenantN-bulk)")
print(f"medians of {reps} run(s) of {os.environ['DURATION']} s after {os.environ['WARMUP']} s warm-up, "
      f"each on a fresh policyd and an empty Redis; {os.environ['NPROC']} CPU(s), "
      f"load average {os.environ['LOAD']} at the end")
print()
print("correctness: 300 requests for 2 tenants -> all DUNNO, no errors, N limit keys per tenant counting 300 x N")
for kv in parse(checks):
    cfg = int(kv["limits"])
    ok = (kv.get("actions") == "DUNNO:300" and kv.get("errors") == "0" and kv.get("limit_keys") == str(2 * cfg)
          and kv.get("counted") == str(300 * cfg) and kv.get("evalsha_numkeys") == str(3 + cfg))
    print(f"  {name[cfg]:9} actions {kv.get('actions', '-')}, errors {kv.get('errors', '?')}, "
          f"EVALSHA numkeys {kv['evalsha_numkeys']}, limit keys {kv['limit_keys']}, counted {kv['counted']}  "
          f"{'OK' if ok else 'WRONG'}")
print()

runs, stat = {}, {}
for kv in parse(results):
    cfg, conc, rep = (int(x) for x in kv["label"].split("/"))
    runs.setdefault((cfg, conc), []).append(kv)
for kv in parse(stats):
    cfg, conc, rep = (int(x) for x in kv["label"].split("/"))
    calls = float(kv["evalsha_calls"])
    if calls > 0:
        kv["script_us"] = float(kv["evalsha_usec"]) / calls
        kv["inner"] = float(kv["inner_calls"]) / calls
        kv["redis_us"] = 1e6 * float(kv["redis_cpu_s"]) / calls
        kv["policyd_us"] = 1e6 * float(kv["policyd_cpu_s"]) / calls
    if kv.get("driver_cpu_ms") not in (None, "nan"):
        kv["driver_us"] = 1000 * float(kv["driver_cpu_ms"])
    stat.setdefault((cfg, conc), []).append(kv)

hdr = f"{'config':9} {'conc':>4} | {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'p99.9 ms':>8} | {'errors':>6}  actions (all runs)"
print(hdr)
print("-" * len(hdr))
table = {}
for c in concs:
    for cfg in configs:
        rows = runs.get((cfg, c), [])
        if not rows:
            continue
        rate, p50, p99, p999 = (med(rows, k) for k in ("rate", "p50_ms", "p99_ms", "p999_ms"))
        table[(cfg, c)] = rate
        errs = sum(int(r.get("errors", 0)) + int(r.get("failed", 0)) for r in rows)
        acts = {}
        for r in rows:
            for a in r.get("actions", "-").split(","):
                if ":" in a:
                    acts[a.split(":")[0]] = acts.get(a.split(":")[0], 0) + int(a.split(":")[1])
        acts_text = ", ".join(f"{a} {n}" for a, n in sorted(acts.items())) or "-"
        rates = ", ".join(f"{float(r['rate']):.0f}" for r in rows if "rate" in r)
        print(f"{name[cfg]:9} {c:>4} | {rate:>8.0f} {p50:>7.2f} {p99:>7.2f} {p999:>8.2f} | {errs:>6}  {acts_text}  (runs: {rates})")
print()

print("where the time goes (medians; per request = per EVALSHA, warm-up included):")
hdr = (f"{'config':9} {'conc':>4} | {'script us':>9} {'cmds/req':>8} | {'redis CPU us':>12} {'policyd CPU us':>14} "
       f"{'driver CPU us':>13}")
print(hdr)
print("-" * len(hdr))
for c in concs:
    for cfg in configs:
        rows = stat.get((cfg, c), [])
        if not rows:
            continue
        print(f"{name[cfg]:9} {c:>4} | {med(rows, 'script_us'):>9.1f} {med(rows, 'inner'):>8.1f} | "
              f"{med(rows, 'redis_us'):>12.1f} {med(rows, 'policyd_us'):>14.1f} {med(rows, 'driver_us'):>13.1f}")
print("  script us: Redis's own time inside EVALSHA (INFO commandstats), cmds/req: redis.call()s per request")
print()

ceil = {}
for kv in parse(ceiling):
    if kv.get("rate"):
        ceil.setdefault(int(kv["limits"]), []).append(kv)
if ceil:
    print(f"Redis alone: redis-benchmark -c 32 -r {os.environ['TENANTS']}, the EVALSHA each configuration sends:")
    for cfg in configs:
        rows = ceil.get(cfg, [])
        if rows:
            print(f"  {name[cfg]:9} {med(rows, 'rate'):>8.0f} calls/s, p50 {med(rows, 'p50_ms'):.2f} ms, "
                  f"p99 {med(rows, 'p99_ms'):.2f} ms (runs: {', '.join(r['rate'] for r in rows)})")
    if 1 in ceil:
        base = med(ceil[1], "rate")
        print("  " + ", ".join(f"{name[cfg]} / 1 limit: {base / med(ceil[cfg], 'rate'):.2f}x cost"
                               for cfg in configs if cfg != 1 and cfg in ceil))
    print()
print(f"5-limit EVALSHA: {os.environ['EVALSHA5']}")
print()

print("goals:")
for c in sorted(concs, reverse=True):
    one = table.get((1, c))
    for cfg in (3, 5):
        other = table.get((cfg, c))
        label = f"{name[cfg]} / 1 limit at c={c}:"
        if not one or not other:
            print(f"  {label} no figures")
            continue
        cost = one / other
        verdict = ("MET" if cost <= 1.5 else "NOT MET") if (cfg == 3 and c == 32) else "(informational)"
        print(f"  {label} {cost:.2f}\u00d7 cost (req/s ratio {100 * other / one:.0f}%)  {verdict}")
        # the same ratio within each repetition (the runs were interleaved)
        a = {r["label"].split("/")[2]: float(r["rate"]) for r in runs.get((1, c), []) if "rate" in r}
        b = {r["label"].split("/")[2]: float(r["rate"]) for r in runs.get((cfg, c), []) if "rate" in r}
        per_rep = [a[k] / b[k] for k in sorted(a) if k in b and b[k] > 0]
        if len(per_rep) > 1:
            print(f"      per repetition: {', '.join(f'{x:.2f}' for x in per_rep)}")
PYEOF

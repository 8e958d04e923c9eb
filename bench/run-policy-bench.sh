#!/bin/bash
# run-policy-bench.sh — tenantmail-policyd against Debian's policyd-rate-limit
# and postfwd, each enforcing 500 recipients per 3 minutes per SASL login,
# driven by bench/policy_load (Postfix's RCPT-time request, 1,000 tenants,
# reused connections) at 8 and 32 connections; plus the Redis ceiling:
# redis-benchmark running an exact sliding-window Lua script by EVALSHA.
#
#   bench/run-policy-bench.sh [--quick] [--reps N] [--duration SEC] [--warmup SEC]
#                             [--policyd PATH] [--build-dir DIR] [--build]
#                             [--lua FILE --lua-args 'NUMKEYS KEY.. ARG..'] [--keep]
#
# --quick     ~1 minute smoke run (one run per point, 1 s each).
# default     3 runs per point (medians), 2.5 s each after 0.5 s warm-up (~3 min).
# --policyd   tenantmail-policyd binary (default BUILD/policyd/tenantmail-policyd);
#             when it does not exist its rows are marked pending and skipped.
# --lua       Lua script for the redis-benchmark ceiling instead of the
#             sliding-window script written here; --lua-args gives its EVALSHA
#             arguments, where __rand_int__ stands for the tenant number.
#             When tenantmail-policyd runs, the EVALSHA it really sends is also
#             captured (redis-cli MONITOR during one request) and benchmarked.
# --keep      keep the work directory (configs, logs, raw results).
#
# Runs as root (policyd-rate-limit and postfwd drop to their own users).
# Everything is started here and stopped here by PID, on 127.0.0.1 only.
# The results table goes to stdout.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD="$ROOT/build-bench"
POLICYD=""
QUICK=0 REPS=3 DURATION=2.5 WARMUP=0.5 KEEP=0 FORCE_BUILD=0
CONCS="8 32"
TENANTS=1000
LUA_FILE="" LUA_ARGS=""

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --reps) REPS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --warmup) WARMUP=$2; shift ;;
        --policyd) POLICYD=$2; shift ;;
        --build-dir) BUILD=$2; shift ;;
        --build) FORCE_BUILD=1 ;;
        --lua) LUA_FILE=$2; shift ;;
        --lua-args) LUA_ARGS=$2; shift ;;
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-policy-bench: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ "$QUICK" = 1 ] && { REPS=1; DURATION=1; WARMUP=0.3; }
[ -n "$POLICYD" ] || POLICYD="$BUILD/policyd/tenantmail-policyd"
if [ -n "$LUA_FILE" ] && [ -z "$LUA_ARGS" ]; then
    echo "run-policy-bench: --lua needs --lua-args" >&2; exit 2
fi
if [ "$(id -u)" != 0 ]; then
    echo "run-policy-bench: run as root (policyd-rate-limit and postfwd drop privileges)" >&2
    exit 2
fi
for tool in redis-server redis-cli redis-benchmark policyd-rate-limit postfwd2 openssl ss python3; do
    command -v "$tool" >/dev/null || { echo "run-policy-bench: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done

DRIVER="$BUILD/bench/policy_load"
if [ "$FORCE_BUILD" = 1 ] || [ ! -x "$DRIVER" ]; then
    echo "run-policy-bench: building policy_load in $BUILD (Release)" >&2
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" -j2 --target policy_load >/dev/null
fi

# Under /tmp (disk here, like /var/lib where Debian keeps policyd-rate-limit's
# sqlite file); 0755 so that the daemons' own users can reach their files.
WORK=$(mktemp -d /tmp/tenantmail-policy-bench.XXXXXX)
chmod 755 "$WORK"
SHM=""
PIDS=()
POSTFWD_MASTER=""

stop_pid() {  # SIGTERM, wait up to 10 s, then SIGKILL; by PID only
    local pid=$1 i keep=()
    for i in "${PIDS[@]}"; do [ "$i" = "$pid" ] || keep+=("$i"); done
    PIDS=("${keep[@]}")
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# postfwd2 daemonizes: its master leads its own process group with the cache
# daemon, the policy server and its preforked children. Stop the master by PID,
# wait for the group to go, then SIGKILL any member still there, each by PID.
postfwd_group() {
    ps -e -o pid=,pgid=,stat= | awk -v g="$1" '$2 == g && $3 !~ /^Z/ {print $1}'
}
stop_postfwd() {
    local master=$POSTFWD_MASTER i pid
    [ -n "$master" ] || return 0
    POSTFWD_MASTER=""
    kill -TERM "$master" 2>/dev/null || true
    for i in $(seq 100); do
        [ -z "$(postfwd_group "$master")" ] && break
        sleep 0.1
    done
    for pid in $(postfwd_group "$master"); do kill -KILL "$pid" 2>/dev/null || true; done
}

cleanup() {
    local pid
    stop_postfwd
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    [ -n "$SHM" ] && rm -rf "$SHM"
    if [ "$KEEP" = 1 ]; then echo "run-policy-bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {  # $1 = port, $2 = pid to watch (or ""), $3 = log
    local port=$1 pid=$2 log=$3 i
    for i in $(seq 200); do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            echo "run-policy-bench: process $pid exited:" >&2; tail -20 "$log" >&2; return 1
        fi
        ss -Hltn "sport = :$port" | grep -q . && return 0
        sleep 0.1
    done
    echo "run-policy-bench: nothing listens on 127.0.0.1:$port after 20 s" >&2
    tail -20 "$log" >&2
    return 1
}

# ---------------------------------------------------------------------------
# Redis, tenants, configs.

REDIS_PORT=$(free_port)
mkdir -p "$WORK/redis"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$WORK/redis" --save '' --appendonly no \
    --daemonize no --protected-mode yes > "$WORK/redis.log" 2>&1 &
PIDS+=("$!")
wait_port "$REDIS_PORT" "$!" "$WORK/redis.log"
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

(umask 077; openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null)
(umask 077; openssl rand -hex 32 > "$WORK/bounce.secret")
chmod 600 "$WORK/key.pem" "$WORK/bounce.secret"
{
    echo "# $TENANTS tenants written by bench/run-policy-bench.sh: tenantN sends as tenantN.example"
    echo "# and logs in as tenantN-bulk; 500 recipients per 3 minutes each."
    for i in $(seq 0 $((TENANTS - 1))); do
        printf '[tenant%d]\ndomains = tenant%d.example\nselector = bench\nkey = %s\nbounce_domain = bounces.tenant%d.example\nsasl_users = tenant%d-bulk\nbulk_rate = 500/3m\n\n' \
            "$i" "$i" "$WORK/key.pem" "$i" "$i"
    done
} > "$WORK/tenants.conf"

POLICYD_PORT=$(free_port)
cat > "$WORK/tenantmail.conf" <<EOF
tenants_file = $WORK/tenants.conf
bounce_secret_file = $WORK/bounce.secret
# one line per decision at info; warning keeps the log out of the measurement
log_level = warning
[redis]
host = 127.0.0.1
port = $REDIS_PORT
[policyd]
listen = inet:$POLICYD_PORT@127.0.0.1
EOF

# policyd-rate-limit 1.0.1 (Debian): sqlite backend (no Redis backend in this
# version), the way Debian configures it, with the limit set to 500 per 180 s
# per SASL login; debug off (Debian's sample config has it on, which writes
# every request to stderr).
PRL_PORT=$(free_port)
write_prl_conf() {  # $1 = config file, $2 = directory for pid and database
    cat > "$1" <<EOF
debug: False
user: "policyd-rate-limit"
group: "policyd-rate-limit"
pidfile: "$2/run/policyd-rate-limit.pid"
backend: 0
sqlite_config:
    database: "$2/db/db.sqlite3"
SOCKET: ["127.0.0.1", $PRL_PORT]
limits:
    - [500, 180]
limits_by_id: {}
limit_by_sasl: True
limit_by_sender: False
limit_by_ip: False
limited_networks: []
success_action: "dunno"
fail_action: "defer_if_permit Rate limit reach, retry later"
db_error_action: "dunno"
report: False
delay_to_close: 300
EOF
}

# postfwd 1.35 (Debian's postfwd is postfwd2): the same limit as a rate() rule.
POSTFWD_PORT=$(free_port)
install -d -m 755 -o nobody -g nogroup "$WORK/postfwd"
cat > "$WORK/postfwd.cf" <<'EOF'
# 500 recipients per 180 s per SASL login, counted at RCPT time
id=RATE01; protocol_state==RCPT; sasl_username=.; action=rate(sasl_username/500/180/DEFER_IF_PERMIT 4.7.1 rate limit of 500 per 3m reached)
EOF
chmod 644 "$WORK/postfwd.cf"

# The exact sliding window the ceiling runs: one sorted set of permit times per
# tenant and class, Redis TIME as the clock, atomic as one script.
cat > "$WORK/window.lua" <<'EOF'
-- Exact sliding window: at most ARGV[1] permits in any ARGV[2] seconds.
-- KEYS[1] = tm:{tenant}:rate:class, a sorted set of permit times (microseconds).
-- Returns {1, permits in the window} or {0, seconds until the next permit}.
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2]) * 1000000
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  -- now..n is unique: within one microsecond n grows with every permit
  redis.call('ZADD', KEYS[1], now, now .. '-' .. n)
  redis.call('PEXPIRE', KEYS[1], math.floor(window / 1000) + 1000)
  return {1, n + 1}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.ceil((tonumber(oldest[2]) + window - now) / 1000000)}
EOF

# ---------------------------------------------------------------------------
# Starting and stopping each server. Each measured run starts from empty state
# (fresh sqlite file, fresh postfwd, empty Redis) so that no run inherits
# counters that earlier runs filled.

HAVE_POLICYD=0
POLICYD_NOTE=""
if [ -x "$POLICYD" ]; then
    if "$POLICYD" --check-config -c "$WORK/tenantmail.conf" > "$WORK/policyd-check.log" 2>&1; then
        HAVE_POLICYD=1
    else
        POLICYD_NOTE="tenantmail-policyd --check-config failed: $(head -c 300 "$WORK/policyd-check.log" | tr '\n' ' ')"
    fi
else
    POLICYD_NOTE="tenantmail-policyd not built ($POLICYD missing): its rows are pending"
fi
[ -n "$POLICYD_NOTE" ] && echo "run-policy-bench: $POLICYD_NOTE" >&2

POLICYD_PID=""
start_policyd() {
    "$POLICYD" -c "$WORK/tenantmail.conf" -f >> "$WORK/policyd.log" 2>&1 &
    POLICYD_PID=$!
    PIDS+=("$POLICYD_PID")
    wait_port "$POLICYD_PORT" "$POLICYD_PID" "$WORK/policyd.log"
}

PRL_PID=""
start_prl() {  # $1 = disk | tmpfs
    local base
    if [ "$1" = tmpfs ]; then
        [ -n "$SHM" ] || { SHM=$(mktemp -d /dev/shm/tenantmail-policy-bench.XXXXXX); chmod 755 "$SHM"; }
        base="$SHM/prl"
    else
        base="$WORK/prl"
    fi
    rm -rf "$base"
    mkdir -p "$base"
    chmod 755 "$base"
    write_prl_conf "$WORK/prl-$1.yaml" "$base"
    policyd-rate-limit -f "$WORK/prl-$1.yaml" >> "$WORK/prl-$1.log" 2>&1 &
    PRL_PID=$!
    PIDS+=("$PRL_PID")
    wait_port "$PRL_PORT" "$PRL_PID" "$WORK/prl-$1.log"
}
stop_prl() {
    [ -n "$PRL_PID" ] && stop_pid "$PRL_PID"
    PRL_PID=""
    rm -f "$WORK/prl/run/policyd-rate-limit.pid"
}

start_postfwd() {
    rm -f "$WORK/postfwd/master.pid" "$WORK/postfwd/cache.sock"
    postfwd2 -f "$WORK/postfwd.cf" --interface 127.0.0.1 --port "$POSTFWD_PORT" -u nobody -g nogroup \
        --pidfile "$WORK/postfwd/master.pid" --cache_socket "unix::$WORK/postfwd/cache.sock" \
        >> "$WORK/postfwd.log" 2>&1
    local i
    for i in $(seq 100); do [ -s "$WORK/postfwd/master.pid" ] && break; sleep 0.1; done
    POSTFWD_MASTER=$(cat "$WORK/postfwd/master.pid" 2>/dev/null || true)
    [ -n "$POSTFWD_MASTER" ] || { echo "run-policy-bench: postfwd2 did not start" >&2; cat "$WORK/postfwd.log" >&2; exit 1; }
    wait_port "$POSTFWD_PORT" "$POSTFWD_MASTER" "$WORK/postfwd.log"
}

TARGETS=()
[ "$HAVE_POLICYD" = 1 ] && TARGETS+=(tenantmail)
TARGETS+=(prl-disk prl-tmpfs postfwd)

SPEC=""
server_start() {  # $1 = target; sets SPEC (not in a subshell: the PIDs must stay ours)
    case "$1" in
        tenantmail) rcli FLUSHALL >/dev/null; [ -n "$POLICYD_PID" ] || start_policyd
                    SPEC="inet:$POLICYD_PORT@127.0.0.1" ;;
        prl-disk) start_prl disk; SPEC="inet:$PRL_PORT@127.0.0.1" ;;
        prl-tmpfs) start_prl tmpfs; SPEC="inet:$PRL_PORT@127.0.0.1" ;;
        postfwd) start_postfwd; SPEC="inet:$POSTFWD_PORT@127.0.0.1" ;;
    esac
}
server_stop() {
    case "$1" in
        tenantmail) ;;  # stays up; Redis is flushed before each run
        prl-*) stop_prl ;;
        postfwd) stop_postfwd ;;
    esac
}

# ---------------------------------------------------------------------------
# Correctness: 1,100 requests for 2 tenants must give exactly 1,000 permits
# and 100 refusals from every server.

CHECKS="$WORK/checks.txt"
: > "$CHECKS"
for target in "${TARGETS[@]}"; do
    server_start "$target"
    "$DRIVER" --server "$SPEC" -c 4 -n 1100 -t 2 --label "check/$target" > "$WORK/check-$target.out" 2>&1 || true
    grep '^RESULT ' "$WORK/check-$target.out" >> "$CHECKS" || echo "RESULT label=check/$target failed=1" >> "$CHECKS"
    server_stop "$target"
done

# Capture what tenantmail-policyd really sends to Redis for one request.
CAPTURED=""
if [ "$HAVE_POLICYD" = 1 ]; then
    server_start tenantmail
    timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" MONITOR > "$WORK/monitor.txt" 2>&1 &
    MON=$!
    PIDS+=("$MON")
    sleep 0.3
    "$DRIVER" --server "$SPEC" -c 1 -n 1 -t 1 --login-format 'tenant%d-bulk' > /dev/null 2>&1 || true
    sleep 0.3
    stop_pid "$MON"
    CAPTURED=$(python3 - "$WORK/monitor.txt" <<'PYEOF'
import re, sys
for line in open(sys.argv[1], errors="replace"):
    args = [a.encode().decode("unicode_escape") for a in re.findall(r'"((?:[^"\\]|\\.)*)"', line)]
    if args and args[0].upper() == "EVALSHA" and len(args) >= 3:
        # tenant0 -> tenant__rand_int__ so that redis-benchmark spreads over tenants
        print(" ".join(a.replace("tenant0", "tenant__rand_int__") for a in args[1:]))
        break
PYEOF
)
    [ -n "$CAPTURED" ] && echo "run-policy-bench: tenantmail-policyd sends EVALSHA $CAPTURED" >&2
fi

# ---------------------------------------------------------------------------
# Measured runs, interleaved so that noise from other work on the machine
# hits every server alike.

RESULTS="$WORK/results.txt"
: > "$RESULTS"
total=$(( ${#TARGETS[@]} * $(echo $CONCS | wc -w) * REPS ))
n=0
for rep in $(seq "$REPS"); do
    for conc in $CONCS; do
        for target in "${TARGETS[@]}"; do
            n=$((n + 1))
            printf '\rrun-policy-bench: driver run %d/%d' "$n" "$total" >&2
            server_start "$target"
            out="$WORK/run-$target-c$conc-r$rep.out"
            "$DRIVER" --server "$SPEC" -c "$conc" -d "$DURATION" --warmup "$WARMUP" -t "$TENANTS" \
                --seed "$rep" --label "$target/$conc/$rep" > "$out" 2>&1 || true
            grep '^RESULT ' "$out" >> "$RESULTS" || echo "RESULT label=$target/$conc/$rep failed=1" >> "$RESULTS"
            server_stop "$target"
        done
    done
done
echo >&2

# ---------------------------------------------------------------------------
# Ceiling: redis-benchmark, 32 connections, EVALSHA spread over the tenants.

REQS=$([ "$QUICK" = 1 ] && echo 30000 || echo 150000)
if [ -n "$LUA_FILE" ]; then
    cp "$LUA_FILE" "$WORK/ceiling.lua"
    CEIL_ARGS=$LUA_ARGS
    CEIL_NAME="$(basename "$LUA_FILE")"
else
    cp "$WORK/window.lua" "$WORK/ceiling.lua"
    CEIL_ARGS="1 tm:{tenant__rand_int__}:rate:bulk 500 180"
    CEIL_NAME="sliding-window script (bench/run-policy-bench.sh)"
fi
: > "$WORK/ceiling.txt"
run_ceiling() {  # $1 = name, $2 = sha, $3 = args
    local rep line
    for rep in $(seq "$REPS"); do
        rcli FLUSHALL >/dev/null
        # shellcheck disable=SC2086
        line=$(redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c 32 -n "$REQS" -r "$TENANTS" --csv \
                   EVALSHA "$2" $3 2>/dev/null | tail -1)
        # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",...
        echo "CEILING name=$1 $(echo "$line" | tr -d '"' | awk -F, '{print "rate=" $2 " p50_ms=" $5 " p99_ms=" $7}')" \
            >> "$WORK/ceiling.txt"
    done
}
SHA=$(rcli SCRIPT LOAD "$(cat "$WORK/ceiling.lua")")
run_ceiling "own" "$SHA" "$CEIL_ARGS"
if [ -n "$CAPTURED" ]; then
    CAP_SHA=${CAPTURED%% *}
    if [ "$(rcli SCRIPT EXISTS "$CAP_SHA")" = 1 ]; then
        run_ceiling "captured" "$CAP_SHA" "${CAPTURED#* }"
    fi
fi

# ---------------------------------------------------------------------------
# The table.

REPS=$REPS DURATION=$DURATION WARMUP=$WARMUP CONCS="$CONCS" TENANTS=$TENANTS POLICYD_NOTE="$POLICYD_NOTE" \
CEIL_NAME="$CEIL_NAME" CEIL_ARGS="$CEIL_ARGS" CAPTURED="$CAPTURED" \
python3 - "$RESULTS" "$CHECKS" "$WORK/ceiling.txt" <<'PYEOF'
import os, re, statistics, sys

results, checks, ceiling_file = sys.argv[1:4]

def parse(path):
    out = []
    for line in open(path):
        out.append(dict(re.findall(r"(\w+)=(\S+)", line)))
    return out

def actions(kv):
    return dict((a.split(":")[0], int(a.split(":")[1])) for a in kv.get("actions", "-").split(",") if ":" in a)

REFUSAL = re.compile(r"^(DEFER|REJECT|[45]\d\d)")
names = {"tenantmail": "tenantmail-policyd", "prl-disk": "policyd-rate-limit (sqlite on disk)",
         "prl-tmpfs": "policyd-rate-limit (sqlite on tmpfs)", "postfwd": "postfwd2 1.35 (rate())"}
reps, concs = int(os.environ["REPS"]), [int(c) for c in os.environ["CONCS"].split()]
print(f"policy servers: bench/policy_load, Postfix 3.7 RCPT requests for {os.environ['TENANTS']} tenants "
      f"(sasl_username tenantN-bulk), limit 500 per 3 min each")
print(f"medians of {reps} run(s) of {os.environ['DURATION']} s after {os.environ['WARMUP']} s warm-up, "
      f"each from empty state; connections reused as Postfix does")
if os.environ.get("POLICYD_NOTE"):
    print(f"NOTE: {os.environ['POLICYD_NOTE']}")
print()
print("correctness: 1,100 requests for 2 tenants -> expect 1,000 permitted, 100 refused")
for kv in parse(checks):
    target = kv["label"].split("/", 1)[1]
    acts = actions(kv)
    refused = sum(n for a, n in acts.items() if REFUSAL.match(a))
    permitted = sum(acts.values()) - refused
    ok = permitted == 1000 and refused == 100 and kv.get("errors", "1") == "0"
    print(f"  {names.get(target, target):38} permitted {permitted:5}, refused {refused:4}, errors {kv.get('errors', '?')}"
          f"  {'OK' if ok else 'WRONG'}   ({kv.get('actions', '-')})")
print()

runs = {}
for kv in parse(results):
    target, conc, rep = kv["label"].split("/")
    runs.setdefault((target, int(conc)), []).append(kv)

def med(rows, key):
    vals = [float(r[key]) for r in rows if key in r]
    return statistics.median(vals) if vals else float("nan")

hdr = f"{'server':38} {'conc':>4} | {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'p99.9 ms':>8} | {'errors':>6}  actions (all runs)"
print(hdr)
print("-" * len(hdr))
targets = ["tenantmail", "prl-disk", "prl-tmpfs", "postfwd"]
table = {}
for t in targets:
    for c in concs:
        rows = runs.get((t, c), [])
        if not rows:
            if t == "tenantmail":
                print(f"{names[t]:38} {c:>4} | {'pending':>8}")
            continue
        rate, p50, p99, p999 = (med(rows, k) for k in ("rate", "p50_ms", "p99_ms", "p999_ms"))
        table[(t, c)] = (rate, p50, p99)
        errs = sum(int(r.get("errors", 0)) + int(r.get("failed", 0)) for r in rows)
        acts = {}
        for r in rows:
            for a, n in actions(r).items():
                acts[a] = acts.get(a, 0) + n
        acts_text = ", ".join(f"{a} {n}" for a, n in sorted(acts.items()))
        print(f"{names[t]:38} {c:>4} | {rate:>8.0f} {p50:>7.2f} {p99:>7.2f} {p999:>8.2f} | {errs:>6}  {acts_text}")
print()

ceil = {}
for kv in parse(ceiling_file):
    if "rate" in kv and kv["rate"]:
        ceil.setdefault(kv["name"], []).append(kv)
for name, rows in ceil.items():
    label = (f"Lua {os.environ['CEIL_NAME']}, EVALSHA {os.environ['CEIL_ARGS']}" if name == "own"
             else f"the EVALSHA tenantmail-policyd sends ({os.environ['CAPTURED']})")
    print(f"ceiling: redis-benchmark -c 32 -r {os.environ['TENANTS']}, {label}:")
    print(f"  {med(rows, 'rate'):.0f} calls/s, p50 {med(rows, 'p50_ms'):.2f} ms, p99 {med(rows, 'p99_ms'):.2f} ms "
          f"(median of {len(rows)}: {', '.join(r['rate'] for r in rows)})")
print()
print("goals:")
ceiling_rate = med(ceil.get("captured", ceil.get("own", [])), "rate")
ours = table.get(("tenantmail", 32))
if not ours:
    print("  ours / policyd-rate-limit >= 10x at c=32:     pending (no tenantmail-policyd)")
    print("  ours / redis-benchmark ceiling >= 50%:        pending")
    print("  our p99 at c=32 <= 2 ms:                      pending")
else:
    for t in ("prl-disk", "prl-tmpfs"):
        other = table.get((t, 32))
        if other:
            r = ours[0] / other[0]
            print(f"  ours / {names[t]} at c=32 >= 10x: {r:.1f}x  {'MET' if r >= 10 else 'NOT MET'}")
    other = table.get(("postfwd", 32))
    if other:
        print(f"  (ours / postfwd at c=32: {ours[0] / other[0]:.1f}x)")
    r = ours[0] / ceiling_rate
    print(f"  ours / redis-benchmark ceiling >= 50%: {100 * r:.0f}% ({ours[0]:.0f} vs {ceiling_rate:.0f})  "
          f"{'MET' if r >= 0.5 else 'NOT MET'}")
    print(f"  our p99 at c=32 <= 2 ms: {ours[2]:.2f} ms  {'MET' if ours[2] <= 2 else 'NOT MET'}")
PYEOF

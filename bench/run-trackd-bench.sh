#!/bin/bash
# run-trackd-bench.sh — tenantmail-trackd's open pixel and click redirect
# against nginx doing the same with nothing behind it (empty_gif and
# `return 302`), the ceiling a static answer from a web server sets: both
# driven by bench/trackd_load (keep-alive GETs, as nginx's upstream
# connections to trackd are) at 8 and 32 connections, each on one worker
# (trackd is one io_context thread; nginx gets worker_processes 1). trackd
# decrypts a distinct token per request and records each event in a
# private redis-server; nginx does nothing. Prints requests/s, p50 and p99
# and the ratio trackd/nginx per point (goal: at least 50%).
#
#   bench/run-trackd-bench.sh [--quick] [--reps N] [--duration SEC] [--build-dir DIR] [--build] [--keep]
#
# --quick   one run per point, 1 s each (~30 s).
# default   5 runs per point, trackd's and nginx's alternating (medians),
#           3 s each after 0.5 s warm-up (~3 min).
# Needs redis-server, nginx (nginx-light), python3, ss. Everything is started
# here in a temporary directory on 127.0.0.1 and stopped here by PID; the
# system nginx is not touched. The results table goes to stdout.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD="$ROOT/build-bench"
QUICK=0 REPS=5 DURATION=3 WARMUP=0.5 KEEP=0 FORCE_BUILD=0
CONCS="8 32"
TOKENS=2000

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --reps) REPS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --build-dir) BUILD=$2; shift ;;
        --build) FORCE_BUILD=1 ;;
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-trackd-bench: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ "$QUICK" = 1 ] && { REPS=1; DURATION=1; WARMUP=0.3; }
for tool in redis-server redis-cli nginx python3 ss; do
    command -v "$tool" >/dev/null || { echo "run-trackd-bench: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done

TRACKD="$BUILD/trackd/tenantmail-trackd"
DRIVER="$BUILD/bench/trackd_load"
TOOL="$BUILD/tests/tracking_token_tool"
if [ "$FORCE_BUILD" = 1 ] || [ ! -x "$TRACKD" ] || [ ! -x "$DRIVER" ] || [ ! -x "$TOOL" ]; then
    echo "run-trackd-bench: building trackd, trackd_load and tracking_token_tool in $BUILD (Release)" >&2
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" -j2 --target tenantmail-trackd trackd_load tracking_token_tool >/dev/null
fi

WORK=$(mktemp -d /tmp/tenantmail-trackd-bench.XXXXXX)
chmod 755 "$WORK"
PIDS=()

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
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [ "$KEEP" = 1 ]; then echo "run-trackd-bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() {  # $1 = port, $2 = pid to watch, $3 = log
    local port=$1 pid=$2 log=$3 i
    for i in $(seq 200); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "run-trackd-bench: process $pid exited:" >&2; tail -20 "$log" >&2; return 1
        fi
        ss -Hltn "sport = :$port" | grep -q . && return 0
        sleep 0.1
    done
    echo "run-trackd-bench: nothing listens on 127.0.0.1:$port after 20 s" >&2
    tail -20 "$log" >&2
    return 1
}

# Redis, one tenant, the secret, the tokens.
REDIS_PORT=$(free_port)
mkdir -p "$WORK/redis"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$WORK/redis" --save '' --appendonly no \
    --daemonize no --protected-mode yes > "$WORK/redis.log" 2>&1 &
PIDS+=("$!")
wait_port "$REDIS_PORT" "$!" "$WORK/redis.log"

(umask 077; python3 -c 'import os; print(os.urandom(32).hex())' > "$WORK/tracking.secret")
printf '[bench]\ndomains = bench.example\nfrom_rewrite = bench@platform.example\ntracking_domain = click.bench.example\n' \
    > "$WORK/tenants.conf"
# Issued an hour ago, so clicks are outside the scanner window (as most are).
ISSUED=$(( $(date +%s) - 3600 ))
for i in $(seq "$TOKENS"); do
    printf 'o\tbench\t4QB%d\treader%d@example.net\t\t%d\n' "$i" "$i" "$ISSUED"
done | "$TOOL" "$WORK/tracking.secret" - | sed 's#^#/o/#' > "$WORK/opens.txt"
for i in $(seq "$TOKENS"); do
    printf 'c\tbench\t4QB%d\treader%d@example.net\thttps://www.bench.example/article/%d?utm_source=mail\t%d\n' \
        "$i" "$i" "$i" "$ISSUED"
done | "$TOOL" "$WORK/tracking.secret" - | sed 's#^#/c/#' > "$WORK/clicks.txt"

TRACKD_PORT=$(free_port)
cat > "$WORK/tenantmail.conf" <<EOF2
tenants_file = $WORK/tenants.conf
tracking_secret_file = $WORK/tracking.secret
# opens and clicks are logged at debug; warning keeps the log out of the measurement
log_level = warning
[redis]
host = 127.0.0.1
port = $REDIS_PORT
[trackd]
listen = inet:$TRACKD_PORT@127.0.0.1
EOF2
"$TRACKD" -f -c "$WORK/tenantmail.conf" > "$WORK/trackd.log" 2>&1 &
TRACKD_PID=$!
PIDS+=("$TRACKD_PID")
wait_port "$TRACKD_PORT" "$TRACKD_PID" "$WORK/trackd.log"

# A private nginx: its own prefix, config, pid and logs; one worker.
NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
cat > "$WORK/nginx/nginx.conf" <<EOF2
daemon off;
master_process on;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location /o/ { empty_gif; add_header Cache-Control "no-store, no-cache, must-revalidate, private"; }
        location /c/ { return 302 https://example.org/; }
    }
}
EOF2
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" > "$WORK/nginx/logs/stderr.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_port "$NGINX_PORT" "$NGINX_PID" "$WORK/nginx/logs/stderr.log"

run_once() {  # $1 = label, $2 = port, $3 = paths, $4 = connections -> prints the driver's line
    "$DRIVER" --port "$2" --host click.bench.example --paths "$3" --connections "$4" \
        --duration "$DURATION" --warmup "$WARMUP" --label "$1"
}

# trackd's and nginx's runs alternate, so that both meet the same moods of
# a shared machine; the table takes each point's median.
echo "run-trackd-bench: $REPS run(s) per point, ${DURATION}s each; $TOKENS distinct tokens per kind" >&2
{
    for c in $CONCS; do
        for kind in pixel redirect; do
            paths="$WORK/opens.txt"
            [ "$kind" = redirect ] && paths="$WORK/clicks.txt"
            for rep in $(seq "$REPS"); do
                run_once "trackd $kind c=$c" "$TRACKD_PORT" "$paths" "$c"
                run_once "nginx $kind c=$c" "$NGINX_PORT" "$paths" "$c"
            done
        done
    done
} > "$WORK/results.txt"
EVENTS=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" XLEN 'tm:{bench}:events')

python3 "$HERE/trackd_bench_table.py" "$WORK/results.txt" "$EVENTS"

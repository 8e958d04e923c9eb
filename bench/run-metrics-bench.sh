#!/bin/bash
# run-metrics-bench.sh — what Prometheus metrics cost tenantmail-milter: CPU
# per message for the same 2 KB and 20 KB messages signed by two milters
# that differ only in metrics_listen (off; on, scraped every second during
# the run as a Prometheus would), with OpenDKIM signing the same messages
# with the same 2048-bit RSA key as the peer. Runs alternate between the
# three, 5 per point by default, and the medians are compared: the goal is
# at most 2% more CPU per message with metrics on.
#
#   bench/run-metrics-bench.sh [--quick] [--reps N] [--duration SEC] [--build-dir DIR] [--build] [--keep]
#
# Runs as root (OpenDKIM). Everything runs on 127.0.0.1, is started here and
# stopped here by PID.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD="$ROOT/build-bench"
DURATION=3 WARMUP=0.5 KEEP=0 FORCE_BUILD=0 CONC=8 REPS=5
SIZES="2k 20k"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) DURATION=1 WARMUP=0.3 REPS=1 ;;
        --reps) REPS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --build-dir) BUILD=$2; shift ;;
        --build) FORCE_BUILD=1 ;;
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-metrics-bench: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "run-metrics-bench: run as root (OpenDKIM needs it)" >&2; exit 2; }
for tool in opendkim openssl ss python3 curl; do
    command -v "$tool" >/dev/null || { echo "run-metrics-bench: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done

MILTER="$BUILD/milter/tenantmail-milter"
DRIVER="$BUILD/bench/milter_load"
if [ "$FORCE_BUILD" = 1 ] || [ ! -x "$MILTER" ] || [ ! -x "$DRIVER" ]; then
    echo "run-metrics-bench: building in $BUILD (Release)" >&2
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" -j2 --target tenantmail-milter milter_load >/dev/null
fi

# OpenDKIM refuses keys below a world-writable directory such as /tmp.
WORK=$(mktemp -d /run/tenantmail-metrics-bench.XXXXXX)
chmod 700 "$WORK"
BENCH=run-metrics-bench
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

DOMAIN=careers.uni.ac.uk SELECTOR=bench
(umask 077
 openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null
 openssl rand -hex 32 > "$WORK/bounce.secret")
printf '%s\n' "[acme]" "domains = $DOMAIN" "selector = $SELECTOR" "key = $WORK/key.pem" \
    "bounce_domain = mta.$DOMAIN" "sasl_users = acme-bulk" > "$WORK/tenants.conf"
OFF_PORT=$(free_port) ON_PORT=$(free_port) METRICS_PORT=$(free_port) ODK_PORT=$(free_port)
for mode in off on; do
    port=$OFF_PORT
    [ "$mode" = on ] && port=$ON_PORT
    printf '%s\n' "tenants_file = $WORK/tenants.conf" "bounce_secret_file = $WORK/bounce.secret" \
        "log_level = warning" "[milter]" "socket = inet:$port@127.0.0.1" "record_messages = no" > "$WORK/$mode.conf"
done
echo "metrics_listen = 127.0.0.1:$METRICS_PORT" >> "$WORK/on.conf"
printf '%s\n' "Syslog yes" "SyslogSuccess no" "Mode s" "Canonicalization relaxed/relaxed" "Domain $DOMAIN" \
    "Selector $SELECTOR" "KeyFile $WORK/key.pem" "InternalHosts 127.0.0.0/8" "OversignHeaders From" \
    "Socket inet:$ODK_PORT@127.0.0.1" "PidFile $WORK/odk.pid" > "$WORK/odk.conf"
start_milters "$WORK/off.conf" "$OFF_PORT" "$WORK/odk.conf" "$ODK_PORT"
OFF_PID=$TM_PID
"$MILTER" -f -c "$WORK/on.conf" > "$WORK/on.log" 2>&1 &
ON_PID=$!
PIDS+=("$ON_PID")
wait_port "$ON_PORT" "$ON_PID" "$WORK/on.log"
curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" | grep -q '^tenantmail_milter_record_queue_depth ' ||
    { echo "run-metrics-bench: the milter with metrics_listen serves no metrics" >&2; exit 1; }

# A scraper, as Prometheus: one GET /metrics a second while the runs go on.
( while :; do curl -fsS -o /dev/null "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null || true; sleep 1; done ) &
PIDS+=("$!")

RESULTS="$WORK/results.txt"
: > "$RESULTS"
run_once() {  # $1 label, $2 port, $3 pid, $4 size
    "$DRIVER" --socket "inet:$2@127.0.0.1" -c "$CONC" -d "$DURATION" --warmup "$WARMUP" --size "$4" \
        --login acme-bulk --from "noreply@$DOMAIN" --pid "$3" --label "$1/$4" > "$WORK/$1-$4.out" 2>&1 || true
    grep '^RESULT ' "$WORK/$1-$4.out" >> "$RESULTS" || echo "RESULT label=$1/$4 failed=1" >> "$RESULTS"
}
echo "$BENCH: $REPS run(s) per point, ${DURATION}s each, c=$CONC" >&2
for size in $SIZES; do
    for rep in $(seq "$REPS"); do
        run_once metrics-off "$OFF_PORT" "$OFF_PID" "$size"
        run_once metrics-on "$ON_PORT" "$ON_PID" "$size"
        run_once opendkim "$ODK_PORT" "$ODK_PID" "$size"
    done
done
signed=$(curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" | awk '/^tenantmail_milter_messages_total\{.*result="signed"/ {s += $2} END {print s + 0}')
echo "$BENCH: the milter with metrics counted $signed signed messages" >&2

SIZES="$SIZES" python3 - "$RESULTS" <<'PY'
import collections, os, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    fields = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
    rows[fields["label"]].append(fields)
def earned(r):
    return "failed" not in r and r.get("errors") == "0" and r.get("tempfail") == "0" and r.get("unsigned") == "0" \
        and int(r.get("signed", "0")) > 0
status = 0
print("| size | metrics off: CPU/msg | metrics on (scraped): CPU/msg | on / off | OpenDKIM CPU/msg | on / OpenDKIM |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for size in os.environ["SIZES"].split():
    runs = {k: rows.get(f"{k}/{size}", []) for k in ("metrics-off", "metrics-on", "opendkim")}
    if not all(runs.values()) or not all(earned(r) for v in runs.values() for r in v):
        print(f"| {size} | failed | | | | |")
        status = 1
        continue
    cpu = {k: statistics.median(float(r["cpu_ms_per_msg"]) for r in v) for k, v in runs.items()}
    print(f"| {size} | {cpu['metrics-off']:.3f} ms | {cpu['metrics-on']:.3f} ms | "
          f"{100 * cpu['metrics-on'] / cpu['metrics-off']:.1f}% | {cpu['opendkim']:.3f} ms | "
          f"{100 * cpu['metrics-on'] / cpu['opendkim']:.0f}% |")
sys.exit(status)
PY

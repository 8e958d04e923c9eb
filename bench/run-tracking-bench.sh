#!/bin/bash
# run-tracking-bench.sh — what open/click tracking costs tenantmail-milter:
# CPU per message and msgs/s for the same 2 KB and 200 KB multipart HTML
# messages (bench/milter_load's, links in the HTML) signed with tracking
# (bulk login: links rewritten, pixel, List-Unsubscribe) and without
# (transactional login of the same tenant: signed only), against OpenDKIM
# signing the same messages with the same 2048-bit RSA key (OpenDKIM cannot
# track: the figure a user would compare tracking's cost with).
#
#   bench/run-tracking-bench.sh [--quick] [--duration SEC] [--build-dir DIR] [--build] [--keep]
#
# Runs as root (OpenDKIM). Everything runs on 127.0.0.1, is started here and
# stopped here by PID. Before measuring, one tracked message of each size is
# dumped as it would be delivered and verified with dkimpy; its links must be
# the tracking domain's.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD="$ROOT/build-bench"
DURATION=3 WARMUP=0.5 KEEP=0 FORCE_BUILD=0 CONC=8
SIZES="2k 200k"
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) DURATION=1 WARMUP=0.3 ;;
        --duration) DURATION=$2; shift ;;
        --build-dir) BUILD=$2; shift ;;
        --build) FORCE_BUILD=1 ;;
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-tracking-bench: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "run-tracking-bench: run as root (OpenDKIM needs it)" >&2; exit 2; }
for tool in opendkim openssl ss python3; do
    command -v "$tool" >/dev/null || { echo "run-tracking-bench: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done

MILTER="$BUILD/milter/tenantmail-milter"
DRIVER="$BUILD/bench/milter_load"
if [ "$FORCE_BUILD" = 1 ] || [ ! -x "$MILTER" ] || [ ! -x "$DRIVER" ]; then
    echo "run-tracking-bench: building in $BUILD (Release)" >&2
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" -j2 --target tenantmail-milter milter_load >/dev/null
fi

# OpenDKIM refuses keys below a world-writable directory such as /tmp.
WORK=$(mktemp -d /run/tenantmail-tracking-bench.XXXXXX)
chmod 700 "$WORK"
BENCH=run-tracking-bench
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

DOMAIN=careers.uni.ac.uk SELECTOR=bench
(umask 077
 openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null
 openssl rand -hex 32 > "$WORK/bounce.secret"
 openssl rand -hex 32 > "$WORK/tracking.secret")
printf '%s\n' "[acme]" "domains = $DOMAIN" "selector = $SELECTOR" "key = $WORK/key.pem" \
    "bounce_domain = mta.$DOMAIN" "sasl_users = acme-bulk acme-tx:transactional" \
    "tracking_domain = click.$DOMAIN" "feedback_id = acme" > "$WORK/tenants.conf"
TM_PORT=$(free_port)
ODK_PORT=$(free_port)
printf '%s\n' "tenants_file = $WORK/tenants.conf" "bounce_secret_file = $WORK/bounce.secret" \
    "tracking_secret_file = $WORK/tracking.secret" "log_level = warning" "[milter]" \
    "socket = inet:$TM_PORT@127.0.0.1" "record_messages = no" > "$WORK/tm.conf"
printf '%s\n' "Syslog yes" "SyslogSuccess no" "Mode s" "Canonicalization relaxed/relaxed" "Domain $DOMAIN" \
    "Selector $SELECTOR" "KeyFile $WORK/key.pem" "InternalHosts 127.0.0.0/8" "OversignHeaders From" \
    "Socket inet:$ODK_PORT@127.0.0.1" "PidFile $WORK/odk.pid" > "$WORK/odk.conf"
start_milters "$WORK/tm.conf" "$TM_PORT" "$WORK/odk.conf" "$ODK_PORT"

for size in $SIZES; do
    "$DRIVER" --socket "inet:$TM_PORT@127.0.0.1" -c 1 -n 2 --size "$size" --login acme-bulk \
        --from "noreply@$DOMAIN" --dump "$WORK/tracked-$size.eml" > "$WORK/check-$size.out" 2>&1 ||
        { echo "run-tracking-bench: tracked $size messages were not signed:" >&2; cat "$WORK/check-$size.out" >&2; exit 1; }
    /usr/bin/python3 "$ROOT/tests/lib/dkim_verify.py" -d "$DOMAIN" -k "$SELECTOR:$WORK/key.pem" \
        --min-signatures 1 "$WORK/tracked-$size.eml" > "$WORK/verify-$size.out" ||
        { echo "run-tracking-bench: dkimpy does not verify the tracked $size message:" >&2; cat "$WORK/verify-$size.out" >&2; exit 1; }
    if ! grep -q "click\.$DOMAIN/c/" "$WORK/tracked-$size.eml" || ! grep -q "^List-Unsubscribe:" "$WORK/tracked-$size.eml"; then
        echo "run-tracking-bench: the tracked $size message has no tracking links" >&2
        exit 1
    fi
done
echo "run-tracking-bench: tracked messages verify (dkimpy) and carry tracking links and List-Unsubscribe" >&2

RESULTS="$WORK/results.txt"
: > "$RESULTS"
for size in $SIZES; do
    measure tracked "$TM_PORT" "$TM_PID" "$size" acme-bulk "noreply@$DOMAIN"
    measure untracked "$TM_PORT" "$TM_PID" "$size" acme-tx "noreply@$DOMAIN"
    measure opendkim "$ODK_PORT" "$ODK_PID" "$size" acme-bulk "noreply@$DOMAIN"
done

SIZES="$SIZES" CONC=$CONC /usr/bin/python3 "$HERE/tracking_table.py" "$RESULTS"

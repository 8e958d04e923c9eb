#!/bin/bash
# run-smime-bench.sh — what S/MIME signing costs tenantmail-milter: CPU per
# message and msgs/s for the same 2 KB and 200 KB multipart messages
# (bench/milter_load's) S/MIME-signed and then DKIM-signed (bulk login of a
# tenant with smime_classes = bulk) and DKIM-signed alone (transactional
# login of the same tenant), against OpenDKIM signing the same messages
# with the same 2048-bit RSA key (no milter in Debian S/MIME-signs: OpenDKIM
# is what the DKIM part would otherwise cost). The S/MIME key is RSA 2048
# too, its certificate from a throwaway CA made here.
#
#   bench/run-smime-bench.sh [--quick] [--duration SEC] [--build-dir DIR] [--build] [--keep]
#
# Runs as root (OpenDKIM). Everything runs on 127.0.0.1, is started here and
# stopped here by PID. Before measuring, one signed message of each size is
# dumped as it would be delivered; `openssl cms -verify` must accept its
# S/MIME signature and dkimpy its DKIM signature.
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
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-smime-bench: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
[ "$(id -u)" = 0 ] || { echo "run-smime-bench: run as root (OpenDKIM needs it)" >&2; exit 2; }
for tool in opendkim openssl ss python3; do
    command -v "$tool" >/dev/null || { echo "run-smime-bench: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done

MILTER="$BUILD/milter/tenantmail-milter"
DRIVER="$BUILD/bench/milter_load"
if [ "$FORCE_BUILD" = 1 ] || [ ! -x "$MILTER" ] || [ ! -x "$DRIVER" ]; then
    echo "run-smime-bench: building in $BUILD (Release)" >&2
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" -j2 --target tenantmail-milter milter_load >/dev/null
fi

# OpenDKIM refuses keys below a world-writable directory such as /tmp.
WORK=$(mktemp -d /run/tenantmail-smime-bench.XXXXXX)
chmod 700 "$WORK"
BENCH=run-smime-bench
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

DOMAIN=careers.uni.ac.uk SELECTOR=bench SENDER=noreply@careers.uni.ac.uk
(umask 077
 openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null
 openssl rand -hex 32 > "$WORK/bounce.secret"
 # The CA, and the sender's certificate: emailProtection, its address in subjectAltName.
 openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/ca.key" -out "$WORK/ca.pem" -days 2 \
     -subj "/CN=tenantmail bench CA" -addext "basicConstraints=critical,CA:TRUE" \
     -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
 printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,nonRepudiation" \
     "extendedKeyUsage=emailProtection" "subjectAltName=email:$SENDER" > "$WORK/leaf.ext"
 openssl req -newkey rsa:2048 -nodes -keyout "$WORK/leaf.key" -out "$WORK/leaf.csr" -subj "/CN=$SENDER" 2>/dev/null
 openssl x509 -req -in "$WORK/leaf.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
     -out "$WORK/leaf.crt" -extfile "$WORK/leaf.ext" -days 2 2>/dev/null
 cat "$WORK/leaf.crt" "$WORK/leaf.key" "$WORK/ca.pem" > "$WORK/smime.pem")
printf '%s\n' "[acme]" "domains = $DOMAIN" "selector = $SELECTOR" "key = $WORK/key.pem" \
    "bounce_domain = mta.$DOMAIN" "sasl_users = acme-bulk acme-tx:transactional" \
    "smime = $SENDER:$WORK/smime.pem" "smime_classes = bulk" > "$WORK/tenants.conf"
TM_PORT=$(free_port)
ODK_PORT=$(free_port)
printf '%s\n' "tenants_file = $WORK/tenants.conf" "bounce_secret_file = $WORK/bounce.secret" \
    "log_level = warning" "[milter]" "socket = inet:$TM_PORT@127.0.0.1" "record_messages = no" > "$WORK/tm.conf"
printf '%s\n' "Syslog yes" "SyslogSuccess no" "Mode s" "Canonicalization relaxed/relaxed" "Domain $DOMAIN" \
    "Selector $SELECTOR" "KeyFile $WORK/key.pem" "InternalHosts 127.0.0.0/8" "OversignHeaders From" \
    "Socket inet:$ODK_PORT@127.0.0.1" "PidFile $WORK/odk.pid" > "$WORK/odk.conf"
start_milters "$WORK/tm.conf" "$TM_PORT" "$WORK/odk.conf" "$ODK_PORT"

for size in $SIZES; do
    dumped="$WORK/signed-$size.eml"
    "$DRIVER" --socket "inet:$TM_PORT@127.0.0.1" -c 1 -n 2 --size "$size" --login acme-bulk \
        --from "$SENDER" --dump "$dumped" > "$WORK/check-$size.out" 2>&1 ||
        { echo "run-smime-bench: $size messages were not signed:" >&2; cat "$WORK/check-$size.out" >&2; exit 1; }
    /usr/bin/python3 "$ROOT/tests/lib/dkim_verify.py" -d "$DOMAIN" -k "$SELECTOR:$WORK/key.pem" \
        --min-signatures 1 "$dumped" > "$WORK/verify-$size.out" ||
        { echo "run-smime-bench: dkimpy does not verify the $size message:" >&2; cat "$WORK/verify-$size.out" >&2; exit 1; }
    grep -q "^Content-Type: multipart/signed" "$dumped" ||
        { echo "run-smime-bench: the $size message is not multipart/signed" >&2; exit 1; }
    openssl cms -verify -CAfile "$WORK/ca.pem" -in "$dumped" -out /dev/null 2> "$WORK/cms-$size.out" ||
        { echo "run-smime-bench: openssl cms does not verify the $size message:" >&2; cat "$WORK/cms-$size.out" >&2; exit 1; }
done
echo "run-smime-bench: signed messages verify (openssl cms -verify, dkimpy)" >&2

RESULTS="$WORK/results.txt"
: > "$RESULTS"
for size in $SIZES; do
    measure smime "$TM_PORT" "$TM_PID" "$size" acme-bulk "$SENDER"
    measure dkim "$TM_PORT" "$TM_PID" "$size" acme-tx "$SENDER"
    measure opendkim "$ODK_PORT" "$ODK_PID" "$size" acme-bulk "$SENDER"
done

SIZES="$SIZES" CONC=$CONC /usr/bin/python3 "$HERE/smime_table.py" "$RESULTS"

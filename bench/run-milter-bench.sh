#!/bin/bash
# run-milter-bench.sh — tenantmail-milter against OpenDKIM (Debian's opendkim),
# both signing with the same 2048-bit RSA key, relaxed/relaxed, driven by
# bench/milter_load over loopback TCP and unix sockets; plus the raw signing
# ceiling from `openssl speed -multi 2 rsa2048` and an end-to-end run through a
# private Postfix with smtp-source (no milter / ours / OpenDKIM).
#
#   bench/run-milter-bench.sh [--quick] [--reps N] [--duration SEC] [--warmup SEC]
#                             [--build-dir DIR] [--build] [--no-e2e] [--keep]
#
# --quick      ~1 minute smoke run: one run per point, 1 s each, c=1 and 32 only,
#              200 messages end to end.
# default      3 runs per point (medians), 2.5 s each after 0.5 s warm-up,
#              c = 1, 8, 32; 2000 messages over 20 sessions end to end (~8 min).
# --build      (re)build tenantmail-milter and milter_load in the build dir
#              first (default: build only what is missing). Build dir default:
#              build-bench next to bench/ (Release).
# --keep       keep the work directory (keys, configs, logs, raw results).
#
# Runs as root (OpenDKIM, the private Postfix). Everything is started here and
# stopped here by PID; only 127.0.0.1 and unix sockets are used. The results
# table goes to stdout; raw driver output stays in the work directory.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BUILD="$ROOT/build-bench"
QUICK=0 REPS=3 DURATION=2.5 WARMUP=0.5 E2E=1 KEEP=0 FORCE_BUILD=0
SIZES="2k 20k 200k"
CONCS="1 8 32"
E2E_MSGS=2000 E2E_SESSIONS=20
MSGS_PER_CONN=10

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --reps) REPS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --warmup) WARMUP=$2; shift ;;
        --build-dir) BUILD=$2; shift ;;
        --build) FORCE_BUILD=1 ;;
        --no-e2e) E2E=0 ;;
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run-milter-bench: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
if [ "$QUICK" = 1 ]; then
    REPS=1 DURATION=1 WARMUP=0.3 CONCS="1 32" E2E_MSGS=200 E2E_SESSIONS=10
fi
if [ "$(id -u)" != 0 ]; then
    echo "run-milter-bench: run as root (OpenDKIM and the private Postfix need it)" >&2
    exit 2
fi
for tool in opendkim openssl ss python3; do
    command -v "$tool" >/dev/null || { echo "run-milter-bench: $tool missing (scripts/install-deps.sh)" >&2; exit 2; }
done

MILTER="$BUILD/milter/tenantmail-milter"
DRIVER="$BUILD/bench/milter_load"
if [ "$FORCE_BUILD" = 1 ] || [ ! -x "$MILTER" ] || [ ! -x "$DRIVER" ]; then
    echo "run-milter-bench: building in $BUILD (Release)" >&2
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$BUILD" -j2 --target tenantmail-milter milter_load >/dev/null
fi

# OpenDKIM refuses keys below a world-writable directory such as /tmp, so the
# work directory lives under /run (root-only, 0700).
WORK=$(mktemp -d /run/tenantmail-milter-bench.XXXXXX 2>/dev/null || mktemp -d /var/lib/tenantmail-milter-bench.XXXXXX)
chmod 700 "$WORK"
PIDS=()

stop_pid() {  # SIGTERM, wait up to 10 s, then SIGKILL; by PID only
    local pid=$1 i
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
    PIDS=()
    if [ "$KEEP" = 1 ]; then echo "run-milter-bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_listening() {  # $1 = inet:PORT@HOST or unix:/path, $2 = pid, $3 = log
    local spec=$1 pid=$2 log=$3 i
    for i in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || { echo "run-milter-bench: process $pid exited:" >&2; cat "$log" >&2; exit 1; }
        case "$spec" in
            unix:*|local:*) [ -S "${spec#*:}" ] && return 0 ;;
            inet:*) local port=${spec#inet:}; port=${port%@*}
                    ss -Hltn "sport = :$port" | grep -q . && return 0 ;;
        esac
        sleep 0.1
    done
    echo "run-milter-bench: nothing listens on $spec after 15 s" >&2
    cat "$log" >&2
    exit 1
}

# ---------------------------------------------------------------------------
# Keys and configuration.

DOMAIN=careers.uni.ac.uk
SELECTOR=bench
(umask 077; openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/key.pem" 2>/dev/null)
(umask 077; openssl rand -hex 32 > "$WORK/bounce.secret")
chmod 600 "$WORK/key.pem" "$WORK/bounce.secret"
cat > "$WORK/tenants.conf" <<EOF
# The driver identifies the tenant by SASL login ({auth_authen}); the private
# Postfix run by client network (smtp-source cannot AUTH).
[acme]
domains       = $DOMAIN
selector      = $SELECTOR
key           = $WORK/key.pem
bounce_domain = mta.$DOMAIN
sasl_users    = acme-bulk
networks      = 127.0.0.1/32
EOF

TM_TCP_PORT=$(free_port)
ODK_TCP_PORT=$(free_port)
TM_TCP="inet:$TM_TCP_PORT@127.0.0.1"
TM_UNIX="unix:$WORK/tenantmail.sock"
ODK_TCP="inet:$ODK_TCP_PORT@127.0.0.1"
ODK_UNIX="local:$WORK/opendkim.sock"

write_tm_conf() {  # $1 = file, $2 = socket
    cat > "$1" <<EOF
tenants_file = $WORK/tenants.conf
bounce_secret_file = $WORK/bounce.secret
# one line per signed message at info; warning matches OpenDKIM's SyslogSuccess no
log_level = warning
[milter]
socket = $2
# OpenDKIM keeps no message records; no Redis runs here either.
record_messages = no
EOF
}
write_odk_conf() {  # $1 = file, $2 = socket, $3 = pid file
    cat > "$1" <<EOF
# OpenDKIM as a signer with the same key and canonicalisation as tenantmail.
Syslog           yes
SyslogSuccess    no
Mode             s
Canonicalization relaxed/relaxed
Domain           $DOMAIN
Selector         $SELECTOR
KeyFile          $WORK/key.pem
InternalHosts    127.0.0.0/8
OversignHeaders  From
Socket           $2
PidFile          $3
EOF
}
write_tm_conf "$WORK/tm-tcp.conf" "$TM_TCP"
write_tm_conf "$WORK/tm-unix.conf" "$TM_UNIX"
write_odk_conf "$WORK/odk-tcp.conf" "$ODK_TCP" "$WORK/odk-tcp.pid"
write_odk_conf "$WORK/odk-unix.conf" "$ODK_UNIX" "$WORK/odk-unix.pid"
"$MILTER" --check-config -c "$WORK/tm-tcp.conf" >/dev/null

declare -A PID_OF SOCK_OF
start() {  # $1 = name, $2 = socket, rest = command
    local name=$1 spec=$2; shift 2
    "$@" > "$WORK/$name.log" 2>&1 &
    local pid=$!
    PIDS+=("$pid")
    PID_OF[$name]=$pid
    SOCK_OF[$name]=$spec
    wait_listening "$spec" "$pid" "$WORK/$name.log"
}
start tm-tcp "$TM_TCP" "$MILTER" -f -c "$WORK/tm-tcp.conf"
start tm-unix "$TM_UNIX" "$MILTER" -f -c "$WORK/tm-unix.conf"
start odk-tcp "$ODK_TCP" opendkim -f -x "$WORK/odk-tcp.conf"
start odk-unix "$ODK_UNIX" opendkim -f -x "$WORK/odk-unix.conf"

# ---------------------------------------------------------------------------
# Correctness first: one message of each size from each milter must carry a
# DKIM-Signature that dkimpy verifies with the public key.

VERIFY="$ROOT/tests/lib/dkim_verify.py"
for name in tm-tcp odk-tcp tm-unix odk-unix; do
    for size in $SIZES; do
        if ! "$DRIVER" --socket "${SOCK_OF[$name]}" -c 1 -n 3 --size "$size" --login acme-bulk \
                --from "noreply@$DOMAIN" --dump "$WORK/check-$name-$size.eml" > "$WORK/check-$name-$size.out" 2>&1; then
            echo "run-milter-bench: $name did not sign every message:" >&2
            cat "$WORK/check-$name-$size.out" >&2
            exit 1
        fi
        if [ -f "$VERIFY" ] && ! /usr/bin/python3 "$VERIFY" -d "$DOMAIN" -k "$SELECTOR:$WORK/key.pem" \
                --min-signatures 1 "$WORK/check-$name-$size.eml" > "$WORK/verify-$name-$size.out" 2>&1; then
            echo "run-milter-bench: the signature $name made does not verify:" >&2
            cat "$WORK/verify-$name-$size.out" >&2
            exit 1
        fi
    done
done

# ---------------------------------------------------------------------------
# Ceiling: openssl speed -multi 2 rsa2048, before and after the driver runs.

OSSL_SECONDS=$([ "$QUICK" = 1 ] && echo 1 || echo 3)
openssl_speed() {
    openssl speed -multi 2 -seconds "$OSSL_SECONDS" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $(NF-1)}'
}
: > "$WORK/openssl.txt"
openssl_speed >> "$WORK/openssl.txt"

# ---------------------------------------------------------------------------
# Driver runs: every point for the four daemons in turn, so that noise from
# other work on the machine hits them alike.

RESULTS="$WORK/results.txt"
: > "$RESULTS"
total=$(( $(echo $SIZES | wc -w) * $(echo $CONCS | wc -w) * REPS * 4 ))
n=0
for rep in $(seq "$REPS"); do
    for size in $SIZES; do
        for conc in $CONCS; do
            for name in tm-tcp odk-tcp tm-unix odk-unix; do
                n=$((n + 1))
                printf '\rrun-milter-bench: driver run %d/%d' "$n" "$total" >&2
                out="$WORK/run-$name-$size-c$conc-r$rep.out"
                "$DRIVER" --socket "${SOCK_OF[$name]}" -c "$conc" -d "$DURATION" --warmup "$WARMUP" \
                    --size "$size" --msgs-per-conn "$MSGS_PER_CONN" --login acme-bulk --from "noreply@$DOMAIN" \
                    --pid "${PID_OF[$name]}" --reset-hwm --label "$name/$size/$conc/$rep" > "$out" 2>&1 || true
                grep '^RESULT ' "$out" >> "$RESULTS" || echo "RESULT label=$name/$size/$conc/$rep failed=1" >> "$RESULTS"
            done
        done
    done
    if [ "$rep" = "$(( (REPS + 1) / 2 ))" ] && [ "$REPS" -gt 1 ]; then openssl_speed >> "$WORK/openssl.txt"; fi
done
echo >&2
openssl_speed >> "$WORK/openssl.txt"
openssl speed -seconds "$OSSL_SECONDS" rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $(NF-1)}' > "$WORK/openssl1.txt"

# ---------------------------------------------------------------------------
# End to end: private Postfix (tests/lib/mailstack.py), smtp-source, smtp-sink.

if [ "$E2E" = 1 ]; then
    "$DRIVER" --write-message "$WORK/e2e-message.txt" --size 2k --from "noreply@$DOMAIN"
    echo "run-milter-bench: end to end through a private Postfix ($E2E_MSGS messages, $E2E_SESSIONS sessions, x$REPS)" >&2
    E2E_MSGS=$E2E_MSGS E2E_SESSIONS=$E2E_SESSIONS REPS=$REPS WORK=$WORK ROOT=$ROOT DOMAIN=$DOMAIN \
    SELECTOR=$SELECTOR TM_PORT=$TM_TCP_PORT ODK_PORT=$ODK_TCP_PORT \
    /usr/bin/python3 - > "$WORK/e2e.txt" <<'PYEOF'
import os, sys, time
sys.path.insert(0, os.path.join(os.environ["ROOT"], "tests", "lib"))
import mailstack as ms
import dkim_verify

work, domain, selector = os.environ["WORK"], os.environ["DOMAIN"], os.environ["SELECTOR"]
n, sessions, reps = int(os.environ["E2E_MSGS"]), int(os.environ["E2E_SESSIONS"]), int(os.environ["REPS"])
configs = [("none", None), ("tenantmail", f"inet:127.0.0.1:{os.environ['TM_PORT']}"),
           ("opendkim", f"inet:127.0.0.1:{os.environ['ODK_PORT']}")]
dns = dkim_verify.DnsTable()
dns.add_key_file(domain, selector, os.path.join(work, "key.pem"))


def verifies(path):
    """At least one signature, and every signature verifies (dkimpy)."""
    results = dkim_verify.verify_message(ms.parse_sink_file(path).data, dns)
    return bool(results) and all(r.ok for r in results)


with ms.workdir("tenantmail-bench-postfix-") as tmp:
    with ms.SmtpSink(tmp) as sink, ms.PrivatePostfix(tmp, relay_port=sink.port) as postfix:
        seen = 0
        for rep in range(reps):
            for name, milter in configs:
                if postfix.milter != ms._service_address(milter):
                    postfix.milter = milter
                    postfix.reload()
                proc = ms.smtp_source(postfix.smtp_port, sessions=sessions, messages=n,
                                      sender=f"noreply@{domain}", to="student@example.org",
                                      message_file=os.path.join(work, "e2e-message.txt"),
                                      reuse_connection=True, timeout=600)
                if proc.returncode != 0:
                    print(f"E2E name={name} rep={rep} error=smtp-source_exit_{proc.returncode}", flush=True)
                    sys.stderr.write(proc.stderr.decode(errors="replace")[-2000:])
                    continue
                paths = sink.wait_for(seen + n, timeout=300)
                new = paths[seen:]
                seen = len(paths)
                signed = 0
                for p in new:
                    with open(p, "rb") as f:
                        head = f.read(8192).split(b"\n\n", 1)[0]
                    signed += b"\nDKIM-Signature:" in head or head.startswith(b"DKIM-Signature:")
                verified = "-"
                if name != "none":
                    sample = new[:: max(1, len(new) // 5)][:5]
                    verified = f"{sum(verifies(p) for p in sample)}/{len(sample)}"
                print(f"E2E name={name} rep={rep} seconds={proc.elapsed:.3f} rate={n / proc.elapsed:.1f} "
                      f"delivered={len(new)} signed={signed} verified={verified}", flush=True)
PYEOF
fi

# ---------------------------------------------------------------------------
# The table.

RSS_PEAK_TM=0 RSS_PEAK_ODK=0
QUICK=$QUICK REPS=$REPS DURATION=$DURATION WARMUP=$WARMUP MSGS_PER_CONN=$MSGS_PER_CONN \
E2E_MSGS=$E2E_MSGS E2E_SESSIONS=$E2E_SESSIONS SIZES="$SIZES" CONCS="$CONCS" \
/usr/bin/python3 - "$RESULTS" "$WORK/openssl.txt" "$WORK/openssl1.txt" "$WORK/e2e.txt" "$MILTER" <<'PYEOF'
import os, re, statistics, subprocess, sys

results, ossl_file, ossl1_file, e2e_file, milter = sys.argv[1:6]
runs = {}
for line in open(results):
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    name, size, conc, rep = kv["label"].split("/")
    runs.setdefault((name, size, int(conc)), []).append(kv)

def med(rows, key):
    vals = [float(r[key]) for r in rows if key in r and float(r.get(key, -1)) >= 0]
    return statistics.median(vals) if vals else float("nan")

def errors(rows):
    return sum(int(r.get("errors", 0)) + int(r.get("unsigned", 0)) + int(r.get("rejected", 0)) +
               int(r.get("tempfail", 0)) + int(r.get("failed", 0)) for r in rows)

def num(path):
    try:
        return [float(x) for x in open(path).read().split()]
    except OSError:
        return []

sizes, concs = os.environ["SIZES"].split(), [int(c) for c in os.environ["CONCS"].split()]
reps = int(os.environ["REPS"])
opendkim_version = subprocess.run(["opendkim", "-V"], capture_output=True, text=True).stdout.split("\n")[0]
opendkim_version = opendkim_version.replace("opendkim: OpenDKIM Filter ", "OpenDKIM ")
print(f"tenantmail-milter vs {opendkim_version}: bench/milter_load, same 2048-bit RSA key, relaxed/relaxed")
print(f"medians of {reps} run(s) of {os.environ['DURATION']} s after {os.environ['WARMUP']} s warm-up; "
      f"{os.environ['MSGS_PER_CONN']} messages per milter connection; Postfix's write pattern, Nagle on")
print("msgs/s = messages accepted with a DKIM-Signature insert; CPU = milter utime+stime per message;")
print("RSS = milter VmHWM during the run; err = messages not signed or failed, all runs")
print()
hdr = (f"{'socket':6} {'size':>5} {'conc':>4} | {'ours msg/s':>10} {'p99 ms':>7} {'CPU ms':>6} {'RSS MB':>6} {'err':>3} | "
       f"{'OpenDKIM':>8} {'p99 ms':>7} {'CPU ms':>6} {'RSS MB':>6} {'err':>3} | {'ours/ODK':>8}")
print(hdr)
print("-" * len(hdr))
peak = {"tm": 0.0, "odk": 0.0}
for sock in ("tcp", "unix"):
    for size in sizes:
        for conc in concs:
            cells = []
            rates = {}
            for who in ("tm", "odk"):
                rows = runs.get((f"{who}-{sock}", size, conc), [])
                rate, p99, cpu = med(rows, "rate"), med(rows, "p99_ms"), med(rows, "cpu_ms_per_msg")
                rss = med(rows, "hwm_kb") / 1024
                if rows:
                    peak[who] = max(peak[who], max(float(r.get("hwm_kb", 0)) for r in rows) / 1024)
                rates[who] = rate
                width = 10 if who == "tm" else 8
                cells.append(f"{rate:>{width}.0f} {p99:>7.2f} {cpu:>6.2f} {rss:>6.1f} {errors(rows):>3}")
            ratio = rates["tm"] / rates["odk"] if rates["odk"] else float("nan")
            print(f"{sock:6} {size.upper()+'B':>5} {conc:>4} | {cells[0]} | {cells[1]} | {ratio:>7.2f}x")
    print()

ossl = num(ossl_file)
ossl1 = num(ossl1_file)
ceiling = statistics.median(ossl) if ossl else float("nan")
best = {s: med(runs.get((f"tm-{s}", "2k", 32), []), "rate") for s in ("tcp", "unix")}
odk = {s: med(runs.get((f"odk-{s}", "2k", 32), []), "rate") for s in ("tcp", "unix")}
cpu2k = {s: med(runs.get((f"tm-{s}", "2k", 32), []), "cpu_ms_per_msg") for s in ("tcp", "unix")}
odkcpu = {s: med(runs.get((f"odk-{s}", "2k", 32), []), "cpu_ms_per_msg") for s in ("tcp", "unix")}
raw_ms = 1000.0 / statistics.median(ossl1) if ossl1 else float("nan")
print(f"ceiling: openssl speed -multi 2 rsa2048 = {ceiling:.0f} sign/s (median of {len(ossl)}: "
      f"{', '.join(f'{x:.0f}' for x in ossl)}); one core: {statistics.median(ossl1) if ossl1 else float('nan'):.0f} sign/s "
      f"= {raw_ms:.3f} ms per signature")
for s in ("tcp", "unix"):
    print(f"  ours 2 KB c=32 {s:4}: {best[s]:.0f} msgs/s = {100 * best[s] / ceiling:.0f}% of the ceiling; "
          f"CPU {cpu2k[s]:.3f} ms/msg = {cpu2k[s] / raw_ms:.1f}x one raw signature "
          f"(OpenDKIM {odkcpu[s]:.3f} ms/msg = {odkcpu[s] / raw_ms:.1f}x)")
print()
def verdict(ok):
    return "MET" if ok else "NOT MET"
print("goals:")
for s in ("tcp", "unix"):
    r = best[s] / odk[s] if odk[s] else float("nan")
    print(f"  >= 1.5x OpenDKIM msgs/s at 2 KB c=32 ({s}): {r:.2f}x ({best[s]:.0f} vs {odk[s]:.0f})  {verdict(r >= 1.5)}")
top = max(best.values())
print(f"  >= 85% of openssl speed -multi 2 rsa2048: {100 * top / ceiling:.0f}% ({top:.0f} vs {ceiling:.0f} sign/s)  "
      f"{verdict(top >= 0.85 * ceiling)}")
low = min(cpu2k.values())
print(f"    by CPU time (steadier on a shared machine): {low:.3f} ms/msg vs {raw_ms:.3f} ms per raw signature "
      f"= {100 * raw_ms / low:.0f}% of the signing ceiling per CPU second")
print(f"  peak RSS <= half of OpenDKIM's: {peak['tm']:.1f} MB vs {peak['odk']:.1f} MB "
      f"({100 * peak['tm'] / peak['odk']:.0f}%)  {verdict(peak['tm'] <= peak['odk'] / 2)}")

if os.path.exists(e2e_file) and os.path.getsize(e2e_file):
    e2e = {}
    bad = []
    for line in open(e2e_file):
        kv = dict(re.findall(r"(\w+)=(\S+)", line))
        if "error" in kv:
            bad.append(line.strip())
            continue
        e2e.setdefault(kv["name"], []).append(kv)
    print()
    print(f"end to end: private Postfix 3.7 (smtpd_milters over loopback TCP), smtp-source "
          f"{os.environ['E2E_MSGS']} messages of 2 KB over {os.environ['E2E_SESSIONS']} sessions, "
          f"smtp-sink; medians of {reps}")
    base = statistics.median(float(r["rate"]) for r in e2e.get("none", [{"rate": "nan"}]))
    for name, label in (("none", "no milter"), ("tenantmail", "tenantmail-milter"), ("opendkim", "OpenDKIM")):
        rows = e2e.get(name, [])
        if not rows:
            print(f"  {label:18} no result")
            continue
        rate = statistics.median(float(r["rate"]) for r in rows)
        delivered = sum(int(r["delivered"]) for r in rows)
        signed = sum(int(r["signed"]) for r in rows)
        ver = ", ".join(r["verified"] for r in rows)
        extra = "" if name == "none" else f"; signed {signed}/{delivered} delivered, dkimpy verified {ver}"
        print(f"  {label:18} {rate:7.1f} msgs/s ({100 * rate / base:.0f}% of no milter){extra}")
    for line in bad:
        print(f"  ERROR {line}")
PYEOF

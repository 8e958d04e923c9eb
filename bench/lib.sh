# lib.sh — what the milter benchmarks that start their own daemons share
# (sourced by run-tracking-bench.sh and run-smime-bench.sh). The sourcing
# script sets BENCH (its name, for messages), WORK (its temp dir) and KEEP
# (1 keeps WORK), and adds every PID it starts to PIDS; cleanup, installed
# on EXIT, stops them by PID and removes WORK.

PIDS=()

stop_pid() {  # SIGTERM, wait up to 10 s, then SIGKILL; by PID only
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [ "$KEEP" = 1 ]; then echo "$BENCH: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_port() {  # $1 port, $2 pid, $3 log: until something listens, or the process has gone
    local i
    for i in $(seq 150); do
        kill -0 "$2" 2>/dev/null || { echo "$BENCH: process $2 exited:" >&2; cat "$3" >&2; exit 1; }
        ss -Hltn "sport = :$1" | grep -q . && return 0
        sleep 0.1
    done
    echo "$BENCH: nothing listens on $1" >&2; cat "$3" >&2; exit 1
}

# tenantmail-milter with config $1 and OpenDKIM with config $2 started in
# the background, each listening before this returns: TM_PID and ODK_PID.
start_milters() {  # $1 milter config, $2 milter port, $3 OpenDKIM config, $4 OpenDKIM port
    "$MILTER" -f -c "$1" > "$WORK/tm.log" 2>&1 &
    TM_PID=$!
    PIDS+=("$TM_PID")
    wait_port "$2" "$TM_PID" "$WORK/tm.log"
    opendkim -f -x "$3" > "$WORK/odk.log" 2>&1 &
    ODK_PID=$!
    PIDS+=("$ODK_PID")
    wait_port "$4" "$ODK_PID" "$WORK/odk.log"
}

# milter_load at c=$CONC for $DURATION s after $WARMUP, its RESULT line
# appended to $RESULTS (or a failed one).
measure() {  # $1 label, $2 port, $3 pid, $4 size, $5 login, $6 From address
    "$DRIVER" --socket "inet:$2@127.0.0.1" -c "$CONC" -d "$DURATION" --warmup "$WARMUP" --size "$4" \
        --login "$5" --from "$6" --pid "$3" --label "$1/$4" > "$WORK/$1-$4.out" 2>&1 || true
    grep '^RESULT ' "$WORK/$1-$4.out" >> "$RESULTS" || echo "RESULT label=$1/$4 failed=1" >> "$RESULTS"
}

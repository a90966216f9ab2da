#!/usr/bin/env bash
# Pub/sub side by side, redis-server vs ferrokv (memory backend; pub/sub does not touch
# storage), on this machine. Not a test.
#
#  1. redis-benchmark PUBLISH (-c CLIENTS -n REQUESTS, -P 1 and -P 16) with 0
#     subscribers and with FEW subscribers (redis-cli SUBSCRIBE, output discarded);
#     median of ROUNDS runs, targets in alternation.
#  2. Fan-out (bench/pubsub_fanout.py): 1 publisher, SUBSCRIBERS subscribers on one
#     channel, MESSAGES messages: deliveries per second.
#
#   bench/pubsub_fanout.sh
#   ROUNDS=1 SUBSCRIBERS=200 MESSAGES=2000 bench/pubsub_fanout.sh     # quick run
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$FERROKV_ROOT"

ROUNDS="${ROUNDS:-3}"
CLIENTS="${CLIENTS:-50}"
REQUESTS="${REQUESTS:-200000}"
FEW="${FEW:-5}"
SUBSCRIBERS="${SUBSCRIBERS:-1000}"
MESSAGES="${MESSAGES:-10000}"
PAYLOAD="${PAYLOAD:-16}"
TARGETS="${TARGETS:-redis ferrokv}"

cargo build --release -q -p ferrokv-server
BIN="${CARGO_TARGET_DIR:-$FERROKV_ROOT/target}/release/ferrokv-server"
WORK="$(mktemp -d)"
PIDS=()
SUB_PIDS=()
cleanup() {
    for p in "${SUB_PIDS[@]}" "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# 1000 subscribers plus the benchmark clients.
ulimit -n 65536 2>/dev/null || true

port_of() {
    case "$1" in
        redis) echo 16379 ;;
        ferrokv) echo 16380 ;;
    esac
}

start() {
    local port
    port="$(port_of "$1")"
    case "$1" in
        redis) redis-server --port "$port" --save "" --appendonly no --daemonize no \
                   --maxclients 10000 --dir "$WORK" >"$WORK/redis.log" 2>&1 & ;;
        ferrokv) "$BIN" --port "$port" --backend memory --maxclients 10000 \
                   >"$WORK/ferrokv.log" 2>&1 & ;;
    esac
    PIDS+=($!)
    for _ in $(seq 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "$1 did not start" >&2
    exit 1
}

subscribe_few() {
    local port="$1" n="$2"
    for _ in $(seq "$n"); do
        redis-cli -p "$port" subscribe ch >/dev/null 2>&1 &
        SUB_PIDS+=($!)
    done
    for _ in $(seq 100); do
        [ "$(redis-cli -p "$port" pubsub numsub ch | tail -1)" = "$n" ] && return 0
        sleep 0.05
    done
    echo "subscribers did not come up on $port" >&2
    exit 1
}

unsubscribe_few() {
    for p in "${SUB_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${SUB_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    SUB_PIDS=()
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for t in $TARGETS; do start "$t"; done

echo "## redis-benchmark PUBLISH (-c $CLIENTS -n $REQUESTS, median of $ROUNDS)"
echo
echo "| subscribers | pipeline | $(echo "$TARGETS" | sed 's/ / | /g') | ferrokv/redis |"
echo "| --- | --- |$(for _ in $TARGETS; do printf ' --- |'; done) --- |"
for subs in 0 "$FEW"; do
    if [ "$subs" != 0 ]; then
        for t in $TARGETS; do subscribe_few "$(port_of "$t")" "$subs"; done
    fi
    for P in 1 16; do
        declare -A best=()
        for t in $TARGETS; do : >"$WORK/$t.runs"; done
        for _ in $(seq "$ROUNDS"); do
            for t in $TARGETS; do
                redis-benchmark -p "$(port_of "$t")" -c "$CLIENTS" -n "$REQUESTS" -P "$P" \
                    --csv publish ch msg 2>/dev/null | tail -1 | cut -d, -f2 | tr -d '"' \
                    >>"$WORK/$t.runs"
            done
        done
        row="| $subs | $P |"
        for t in $TARGETS; do
            best[$t]="$(median <"$WORK/$t.runs")"
            row="$row ${best[$t]} |"
        done
        ratio="$(awk -v f="${best[ferrokv]:-0}" -v r="${best[redis]:-1}" 'BEGIN {printf "%.2f", f / r}')"
        echo "$row $ratio |"
        unset best
    done
    unsubscribe_few
done

echo
echo "## Fan-out: 1 publisher, $SUBSCRIBERS subscribers, $MESSAGES messages of ${PAYLOAD} B"
echo
for t in $TARGETS; do
    python3 bench/pubsub_fanout.py --port "$(port_of "$t")" --subscribers "$SUBSCRIBERS" \
        --messages "$MESSAGES" --payload "$PAYLOAD" --label "$t"
done

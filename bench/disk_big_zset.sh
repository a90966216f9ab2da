#!/usr/bin/env bash
# One big sorted set on the disk backend with a small cache: loads MEMBERS members into
# one key (pipelined ZADD batches through `redis-cli --pipe`), then measures ZSCORE,
# ZRANGEBYSCORE ... LIMIT, ZADD, ZCARD and ZRANK one request at a time (p50/p99/max),
# RSS (/proc VmRSS and VmHWM, INFO memory) after the load, after the queries and its
# peak, the size on disk, and that the set survives a restart. Not a test.
#
#   bench/disk_big_zset.sh                                   # 5M members, 64mb cache
#   MEMBERS=500000 SAMPLES=500 bench/disk_big_zset.sh        # quick run
#
# Knobs: MEMBERS (5000000), CACHE (64mb, --disk-cache), BATCH (members per ZADD, 1000),
# SAMPLES (per command, 2000), RANK_SAMPLES (ZRANK walks the index: 50), PORT (16391),
# LOAD_TIMEOUT (seconds, 600: the load stops sending there and the rest runs on the
# members loaded so far), KEEP=1 keeps the data directory.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$FERROKV_ROOT"

MEMBERS="${MEMBERS:-5000000}"
CACHE="${CACHE:-64mb}"
BATCH="${BATCH:-1000}"
SAMPLES="${SAMPLES:-2000}"
RANK_SAMPLES="${RANK_SAMPLES:-50}"
LOAD_TIMEOUT="${LOAD_TIMEOUT:-600}"
PORT="${PORT:-16391}"
HELPER="$FERROKV_ROOT/bench/disk_big_zset.py"

cargo build --release -q -p ferrokv-server
BIN="${CARGO_TARGET_DIR:-$FERROKV_ROOT/target}/release/ferrokv-server"
WORK="$(mktemp -d)"
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    if [ "${KEEP:-0}" = 1 ]; then echo "data kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT INT TERM

start() {
    "$BIN" --port "$PORT" --backend disk --dir "$WORK" --disk-cache "$CACHE" \
        --save "" >>"$WORK/ferrokv.log" 2>&1 &
    PID=$!
    local t0=$SECONDS
    for _ in $(seq 600); do
        if redis-cli -p "$PORT" ping >/dev/null 2>&1; then
            echo "server pid $PID ready after $((SECONDS - t0)) s"
            return 0
        fi
        sleep 0.1
    done
    echo "ferrokv did not start:" >&2
    cat "$WORK/ferrokv.log" >&2
    exit 1
}

stop() {
    redis-cli -p "$PORT" shutdown >/dev/null 2>&1 || kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
}

disk_usage() { du -sb "$WORK/ferrokv-disk" | awk '{ printf "%.1f MB", $1 / 1e6 }'; }

echo "ferrokv $(git rev-parse --short HEAD 2>/dev/null || echo '(no git)'), disk backend, --disk-cache $CACHE, $MEMBERS members, $(nproc) cores"
start
python3 "$HELPER" load "$PORT" "$PID" "$MEMBERS" "$BATCH" "$LOAD_TIMEOUT" "$WORK/loaded"
LOADED="$(cat "$WORK/loaded")"
echo "on disk after load: $(disk_usage)"
python3 "$HELPER" measure "$PORT" "$PID" "$LOADED" "$SAMPLES" "$RANK_SAMPLES"
CARD="$(redis-cli -p "$PORT" zcard big:zset)"
stop
echo "on disk after shutdown: $(disk_usage)"
start
python3 "$HELPER" verify "$PORT" "$PID" "$LOADED" "$CARD"
stop

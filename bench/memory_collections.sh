#!/usr/bin/env bash
# Memory per collection: loads 100 000 hashes of 10 fields, 100 000 sets of 10 members
# and 100 000 sorted sets of 10 members (small values) with `redis-cli --pipe` into a
# fresh redis-server and a fresh ferrokv (memory backend) for each type, and prints the
# RSS growth and bytes per element. Not a test.
#
#   bench/memory_collections.sh              # all three types
#   TYPES="hash" COUNT=10000 bench/memory_collections.sh
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$FERROKV_ROOT"

TYPES="${TYPES:-hash set zset}"
COUNT="${COUNT:-100000}"
ELEMENTS=10

cargo build --release -q -p ferrokv-server
BIN="${CARGO_TARGET_DIR:-$FERROKV_ROOT/target}/release/ferrokv-server"
WORK="$(mktemp -d)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

PORT=16390

start() {
    case "$1" in
        redis) redis-server --port "$PORT" --save "" --appendonly no --daemonize no \
                   --dir "$WORK" >"$WORK/redis.log" 2>&1 & ;;
        ferrokv) "$BIN" --port "$PORT" --backend memory >"$WORK/ferrokv.log" 2>&1 & ;;
    esac
    PID=$!
    for _ in $(seq 100); do
        redis-cli -p "$PORT" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "$1 did not start" >&2
    exit 1
}

stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

rss() { redis-cli -p "$PORT" info memory | awk -F: '/^used_memory_rss:/ { printf "%d", $2 }'; }

# One RESP command per key, 10 elements each.
generate() {
    python3 - "$1" "$COUNT" "$ELEMENTS" >"$WORK/$1.resp" <<'PY'
import sys
kind, count, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = sys.stdout.buffer
def cmd(*args):
    out.write(b"*%d\r\n" % len(args))
    for a in args:
        a = a.encode()
        out.write(b"$%d\r\n%s\r\n" % (len(a), a))
for i in range(count):
    key = f"{kind}:{i:07d}"
    if kind == "hash":
        args = []
        for j in range(n):
            args += [f"field:{j}", f"value:{j:04d}"]
        cmd("HSET", key, *args)
    elif kind == "set":
        cmd("SADD", key, *[f"member:{j}" for j in range(n)])
    else:
        args = []
        for j in range(n):
            args += [str(j * 1.5), f"member:{j}"]
        cmd("ZADD", key, *args)
PY
}

printf "%-6s %-8s %14s %14s %12s\n" type server "RSS growth" "bytes/key" "bytes/elem"
for kind in $TYPES; do
    generate "$kind"
    for server in redis ferrokv; do
        start "$server"
        sleep 0.5
        before=$(rss)
        redis-cli -p "$PORT" --pipe <"$WORK/$kind.resp" >/dev/null
        sleep 2
        after=$(rss)
        growth=$((after - before))
        printf "%-6s %-8s %14d %14d %12d\n" "$kind" "$server" "$growth" \
            $((growth / COUNT)) $((growth / COUNT / ELEMENTS))
        stop
    done
done

#!/usr/bin/env bash
# Side-by-side throughput: redis-server vs ferrokv (memory and disk backends) on this
# machine, same redis-benchmark parameters, targets run in alternation, median of
# ROUNDS runs per test. Prints ops/s and the ratio to redis-server. Not a test.
#
#   bench/compare.sh                       # defaults below
#   ROUNDS=5 TESTS=set,get PIPELINES="1 16" bench/compare.sh
#   COMMAND="publish channel hello" TARGETS="redis ferrokv-memory" bench/compare.sh
#
#   TXBENCH=1 TARGETS="redis ferrokv-memory" bench/compare.sh
#
# COMMAND, when set, replaces TESTS with one arbitrary command (redis-benchmark's
# `__rand_int__` placeholders work in it). TXBENCH=1 replaces redis-benchmark with the
# transaction load of tests/examples/txbench.rs (MULTI, INCR counter:<rand>, EXEC per
# request), which redis-benchmark cannot send.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$FERROKV_ROOT"

ROUNDS="${ROUNDS:-3}"
TESTS="${TESTS:-set,get,incr,mset}"
PIPELINES="${PIPELINES:-1 16}"
CLIENTS="${CLIENTS:-50}"
REQUESTS="${REQUESTS:-200000}"
KEYSPACE="${KEYSPACE:-100000}"
TARGETS="${TARGETS:-redis ferrokv-memory ferrokv-disk}"
COMMAND="${COMMAND:-}"
if [ -n "$COMMAND" ]; then
    read -r -a WORKLOAD <<<"$COMMAND"
else
    WORKLOAD=(-t "$TESTS")
fi

TXBENCH="${TXBENCH:-0}"

cargo build --release -q -p ferrokv-server
BIN="${CARGO_TARGET_DIR:-$FERROKV_ROOT/target}/release/ferrokv-server"
if [ "$TXBENCH" = 1 ]; then
    cargo build --release -q -p ferrokv-tests --example txbench
fi
TXBENCH_BIN="${CARGO_TARGET_DIR:-$FERROKV_ROOT/target}/release/examples/txbench"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

port_of() {
    case "$1" in
        redis) echo 16379 ;;
        ferrokv-memory) echo 16380 ;;
        ferrokv-disk) echo 16381 ;;
    esac
}

start() {
    local port
    port="$(port_of "$1")"
    case "$1" in
        redis) redis-server --port "$port" --save "" --appendonly no --daemonize no \
                   --dir "$WORK" >"$WORK/redis.log" 2>&1 & ;;
        ferrokv-memory) "$BIN" --port "$port" --backend memory >"$WORK/mem.log" 2>&1 & ;;
        ferrokv-disk) mkdir -p "$WORK/disk" && "$BIN" --port "$port" --backend disk \
                   --dir "$WORK/disk" >"$WORK/disk.log" 2>&1 & ;;
    esac
    PIDS+=($!)
    for _ in $(seq 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "$1 did not start" >&2
    exit 1
}

for t in $TARGETS; do start "$t"; done

RESULTS="$WORK/results.csv"
for P in $PIPELINES; do
    for round in $(seq "$ROUNDS"); do
        for t in $TARGETS; do
            if [ "$TXBENCH" = 1 ]; then
                echo "$t,$P,MULTI/INCR/EXEC,$("$TXBENCH_BIN" "$(port_of "$t")" "$CLIENTS" "$P" "$REQUESTS" "$KEYSPACE")" >>"$RESULTS"
                continue
            fi
            redis-benchmark -p "$(port_of "$t")" -c "$CLIENTS" -n "$REQUESTS" -r "$KEYSPACE" \
                -P "$P" --csv "${WORKLOAD[@]}" 2>/dev/null |
                awk -F',' -v t="$t" -v p="$P" 'NR > 1 { gsub(/"/, "", $1); gsub(/"/, "", $2); print t "," p "," $1 "," $2 }' \
                    >>"$RESULTS"
        done
    done
done

for t in $TARGETS; do
    echo "$t RSS: $(redis-cli -p "$(port_of "$t")" info memory | awk -F: '/^used_memory_rss:/ { printf "%d", $2 / 1024 }') KiB"
done

python3 - "$RESULTS" <<'PY'
import csv, statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for target, p, test, rps in csv.reader(open(sys.argv[1])):
    runs[(p, test, target)].append(float(rps))
targets = sorted({k[2] for k in runs}, key=lambda t: (t != "redis", t))
print(f"{'pipeline':>8} {'test':<24}" + "".join(f"{t:>18}" for t in targets) + "   ratios vs redis")
for p, test in sorted({(k[0], k[1]) for k in runs}, key=lambda x: (int(x[0]), x[1])):
    med = {t: statistics.median(runs[(p, test, t)]) for t in targets if runs.get((p, test, t))}
    line = f"{p:>8} {test:<24}" + "".join(f"{med.get(t, 0):>18,.0f}" for t in targets)
    base = med.get("redis")
    if base:
        line += "   " + "  ".join(f"{t}={med[t] / base:.2f}x" for t in targets if t != "redis" and t in med)
    print(line)
PY

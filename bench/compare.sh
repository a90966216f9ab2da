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

BASE_PORT="${BASE_PORT:-16379}"
source "$FERROKV_ROOT/bench/targets.sh"
if [ "$TXBENCH" = 1 ]; then
    cargo build --release -q -p ferrokv-tests --example txbench
fi
TXBENCH_BIN="${CARGO_TARGET_DIR:-$FERROKV_ROOT/target}/release/examples/txbench"

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

summarise "$RESULTS"

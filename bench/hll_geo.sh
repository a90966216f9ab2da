#!/usr/bin/env bash
# Side-by-side throughput of the HyperLogLog and geo commands: redis-server vs ferrokv
# (memory and disk backends), same redis-benchmark custom commands, targets run in
# alternation, median of ROUNDS runs. A geo set of GEO_POINTS random points around
# Sicily is loaded first (same data everywhere) for the searches. Not a test.
#
#   bench/hll_geo.sh
#   ROUNDS=5 PIPELINES="1 16" TARGETS="redis ferrokv-memory" bench/hll_geo.sh
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$FERROKV_ROOT"

ROUNDS="${ROUNDS:-3}"
PIPELINES="${PIPELINES:-1 16}"
CLIENTS="${CLIENTS:-50}"
REQUESTS="${REQUESTS:-100000}"
GEO_POINTS="${GEO_POINTS:-100000}"
TARGETS="${TARGETS:-redis ferrokv-memory ferrokv-disk}"

BASE_PORT="${BASE_PORT:-16479}"
source "$FERROKV_ROOT/bench/targets.sh"

# The geo set: random points within about 2 degrees of (14, 37.5).
python3 - "$GEO_POINTS" >"$WORK/geo.txt" <<'PY'
import random, sys
random.seed(7)
n = int(sys.argv[1])
for start in range(0, n, 1000):
    args = []
    for i in range(start, min(n, start + 1000)):
        args += [f"{14 + random.uniform(-2, 2):.6f}", f"{37.5 + random.uniform(-2, 2):.6f}", f"p{i}"]
    print("GEOADD geo " + " ".join(args))
PY

for t in $TARGETS; do
    start "$t"
    redis-cli -p "$(port_of "$t")" <"$WORK/geo.txt" >/dev/null
    redis-cli -p "$(port_of "$t")" pfadd hll2 a b c >/dev/null
done

# name|command
CASES=(
    "PFADD|PFADD hll __rand_int__"
    "PFCOUNT 1 key (cached)|PFCOUNT hll"
    "PFCOUNT 2 keys (union)|PFCOUNT hll hll2"
    "GEOADD|GEOADD geo2 13.361389 38.115556 m:__rand_int__"
    "GEOSEARCH 5km COUNT 10|GEOSEARCH geo FROMLONLAT 14 37.5 BYRADIUS 5 km ASC COUNT 10"
    "GEOSEARCH BYBOX 20km|GEOSEARCH geo FROMLONLAT 14.3 37.1 BYBOX 20 20 km"
    "GEORADIUSBYMEMBER 3km|GEORADIUSBYMEMBER geo p1 3 km WITHDIST"
)

RESULTS="$WORK/results.csv"
for P in $PIPELINES; do
    for round in $(seq "$ROUNDS"); do
        for case in "${CASES[@]}"; do
            name="${case%%|*}"
            cmd="${case#*|}"
            for t in $TARGETS; do
                # shellcheck disable=SC2086
                rps=$(redis-benchmark -p "$(port_of "$t")" -c "$CLIENTS" -n "$REQUESTS" \
                    -r 1000000 -P "$P" --csv $cmd 2>/dev/null |
                    awk -F',' 'NR > 1 { gsub(/"/, "", $2); print $2; exit }')
                echo "$t,$P,$name,$rps" >>"$RESULTS"
            done
        done
    done
done

summarise "$RESULTS"

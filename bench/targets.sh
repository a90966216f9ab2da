# Shared by the side-by-side benchmarks (compare.sh, hll_geo.sh): builds the release
# server and starts redis-server / ferrokv-memory / ferrokv-disk on BASE_PORT,
# BASE_PORT+1 and BASE_PORT+2, stopping them (and removing $WORK) on exit.
# Source it after `set -euo pipefail` with BASE_PORT set; it defines port_of, start
# and summarise (medians and ratios to redis-server of a target,pipeline,test,ops csv).

cargo build --release -q -p ferrokv-server
BIN="${CARGO_TARGET_DIR:-$FERROKV_ROOT/target}/release/ferrokv-server"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

port_of() {
    case "$1" in
        redis) echo "$BASE_PORT" ;;
        ferrokv-memory) echo $((BASE_PORT + 1)) ;;
        ferrokv-disk) echo $((BASE_PORT + 2)) ;;
    esac
}

start() {
    local port
    port="$(port_of "$1")"
    case "$1" in
        redis) redis-server --port "$port" --save "" --appendonly no --daemonize no \
                   --dir "$WORK" >"$WORK/redis.log" 2>&1 & ;;
        ferrokv-memory) "$BIN" --port "$port" --backend memory >"$WORK/mem.log" 2>&1 & ;;
        # Not `mkdir && server &`: $! would be a subshell, and the server outlive it.
        ferrokv-disk) mkdir -p "$WORK/disk"
                   "$BIN" --port "$port" --backend disk \
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

summarise() {
    python3 - "$1" <<'PY'
import csv, statistics, sys
from collections import defaultdict
runs = defaultdict(list)
for target, p, test, rps in csv.reader(open(sys.argv[1])):
    if rps:
        runs[(p, test, target)].append(float(rps))
targets = sorted({k[2] for k in runs}, key=lambda t: (t != "redis", t))
print(f"{'pipeline':>8} {'test':<26}" + "".join(f"{t:>16}" for t in targets) + "   ratios vs redis")
for p, test in sorted({(k[0], k[1]) for k in runs}, key=lambda x: (int(x[0]), x[1])):
    med = {t: statistics.median(runs[(p, test, t)]) for t in targets if runs.get((p, test, t))}
    line = f"{p:>8} {test:<26}" + "".join(f"{med.get(t, 0):>16,.0f}" for t in targets)
    base = med.get("redis")
    if base:
        line += "   " + "  ".join(f"{t}={med[t] / base:.2f}x" for t in targets if t != "redis" and t in med)
    print(line)
PY
}

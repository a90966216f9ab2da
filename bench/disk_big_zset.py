#!/usr/bin/env python3
"""Helper of bench/disk_big_zset.sh: loads one big sorted set into a running ferrokv
and measures single-command latencies over a raw socket (one request in flight, so a
figure is one round trip: client, loopback and server). Not a test.

    disk_big_zset.py load    PORT PID MEMBERS BATCH TIMEOUT_S COUNT_FILE
    disk_big_zset.py measure PORT PID MEMBERS SAMPLES RANK_SAMPLES
    disk_big_zset.py verify  PORT PID MEMBERS EXPECTED_CARD

Member i is "m:<i>" with a pseudo-random score in [0, 1e9) derived from i (so that
`verify` can check scores after a restart without keeping them anywhere).
"""

import random
import socket
import subprocess
import sys
import threading
import time

KEY = b"big:zset"
SPAN = 1e9


def score_of(i):
    """Evenly spread, reproducible pseudo-random score of member i."""
    return ((i * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) / 2.0**64 * SPAN


def fmt(score):
    return repr(score).encode()


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if not isinstance(a, bytes):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Client:
    """Just enough RESP2 for the commands measured here."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def call(self, *args):
        self.sock.sendall(resp(*args))
        return self.read()

    def read(self):
        line = self.file.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self.read() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)

    def timed(self, *args):
        t = time.perf_counter()
        reply = self.call(*args)
        return (time.perf_counter() - t) * 1000.0, reply


def proc_status(pid):
    """VmRSS and VmHWM (peak RSS) in bytes, from /proc/PID/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":", 1)
                out[name] = int(value.split()[0]) * 1024
    return out


def info_memory(client):
    text = client.call("INFO", "memory").decode()
    fields = dict(
        line.split(":", 1) for line in text.splitlines() if ":" in line and not line.startswith("#")
    )
    return {k: fields.get(k) for k in ("used_memory", "used_memory_rss", "used_memory_peak")}


def mb(n):
    return "%.1f MB" % (int(n) / 1e6)


def report_memory(label, client, pid):
    st = proc_status(pid)
    im = info_memory(client)
    print(
        "memory %-16s VmRSS %10s  VmHWM(peak) %10s  INFO used_memory_rss %10s  used_memory %10s"
        % (label, mb(st["VmRSS"]), mb(st["VmHWM"]), mb(im["used_memory_rss"] or 0),
           mb(im["used_memory"] or 0)),
        flush=True,
    )


def load(port, pid, members, batch, timeout_s, count_file):
    """Pipes ZADD commands of `batch` members each into `redis-cli --pipe`; stops
    sending after `timeout_s` seconds (a backend that slows down with the set size
    still gets measured) and writes the number of members sent to `count_file`."""
    client = Client(port)
    report_memory("before load", client, pid)
    pipe = subprocess.Popen(
        ["redis-cli", "-p", str(port), "--pipe"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = []
    reader = threading.Thread(target=lambda: output.append(pipe.stdout.read()))
    reader.start()
    start = time.perf_counter()
    step = max(members // 10, 1)
    next_mark = step
    sent = 0
    last_report = start
    for lo in range(0, members, batch):
        now = time.perf_counter()
        if now - start > timeout_s:
            print("load   TIMEOUT: stopped sending after %d s at %d members" % (timeout_s, sent))
            break
        hi = min(lo + batch, members)
        args = [b"ZADD", KEY]
        for i in range(lo, hi):
            args.append(fmt(score_of(i)))
            args.append(b"m:%d" % i)
        pipe.stdin.write(resp(*args))
        sent = hi
        if hi >= next_mark or now - last_report > 30:
            # Every 10% of the members, or every 30 s when the load slows down.
            last_report = now
            pipe.stdin.flush()
            st = proc_status(pid)
            print(
                "load   %8d members sent  %6.1f s  VmRSS %10s  VmHWM %10s"
                % (hi, time.perf_counter() - start, mb(st["VmRSS"]), mb(st["VmHWM"])),
                flush=True,
            )
            while next_mark <= hi:
                next_mark += step
    pipe.stdin.close()
    reader.join()
    pipe.wait()
    elapsed = time.perf_counter() - start
    text = output[0].decode(errors="replace").strip().splitlines()
    print("redis-cli --pipe:", text[-1] if text else "(no output)")
    if pipe.returncode != 0 or "errors: 0" not in (text[-1] if text else ""):
        print("load failed", file=sys.stderr)
        sys.exit(1)
    card = client.call("ZCARD", KEY)
    print(
        "load   done: %d members in %.1f s = %.0f members/s (ZADD batches of %d); ZCARD %d"
        % (sent, elapsed, sent / elapsed, batch, card),
        flush=True,
    )
    with open(count_file, "w") as f:
        f.write("%d\n" % sent)
    if card != sent:
        print("ZCARD %d, expected %d" % (card, sent), file=sys.stderr)
        sys.exit(1)
    report_memory("after load", client, pid)


def percentiles(samples):
    s = sorted(samples)

    def q(p):
        return s[min(len(s) - 1, int(p * len(s)))]

    return q(0.50), q(0.99), s[-1], sum(s) / len(s)


def line(name, samples, extra=""):
    p50, p99, mx, mean = percentiles(samples)
    print(
        "| %-44s | %6d | %8.3f | %8.3f | %8.3f | %8.3f |%s"
        % (name, len(samples), p50, p99, mx, mean, extra),
        flush=True,
    )


def measure(port, pid, members, samples, rank_samples):
    client = Client(port)
    rng = random.Random(12345)
    print("| command | samples | p50 ms | p99 ms | max ms | mean ms |")
    print("|---|---:|---:|---:|---:|---:|")

    lat = []
    for _ in range(samples):
        i = rng.randrange(members)
        ms, reply = client.timed("ZSCORE", KEY, b"m:%d" % i)
        if reply is None or float(reply) != score_of(i):
            raise RuntimeError("ZSCORE m:%d = %r, expected %r" % (i, reply, score_of(i)))
        lat.append(ms)
    line("ZSCORE key <random member>", lat)

    lat = []
    for _ in range(samples):
        lo = rng.uniform(0, SPAN * 0.9)
        ms, reply = client.timed(
            "ZRANGEBYSCORE", KEY, fmt(lo), fmt(lo + SPAN * 0.1), "LIMIT", "0", "10"
        )
        if len(reply) != 10:
            raise RuntimeError("ZRANGEBYSCORE returned %d members" % len(reply))
        lat.append(ms)
    line("ZRANGEBYSCORE key lo lo+10% LIMIT 0 10", lat, " (10% of the set in range)")

    lat = []
    for _ in range(samples):
        lo = rng.uniform(0, SPAN * 0.9)
        ms, reply = client.timed(
            "ZREVRANGEBYSCORE", KEY, fmt(lo + SPAN * 0.1), fmt(lo), "WITHSCORES", "LIMIT", "0", "10"
        )
        if len(reply) != 20:
            raise RuntimeError("ZREVRANGEBYSCORE returned %d items" % len(reply))
        lat.append(ms)
    line("ZREVRANGEBYSCORE ... WITHSCORES LIMIT 0 10", lat)

    lat = []
    run = b"%x" % random.getrandbits(32)  # new members stay new when measuring again
    for j in range(samples):
        ms, reply = client.timed("ZADD", KEY, fmt(rng.uniform(0, SPAN)), b"new:%s:%d" % (run, j))
        if reply != 1:
            raise RuntimeError("ZADD new member replied %r" % reply)
        lat.append(ms)
    line("ZADD key <score> <new member>", lat)

    lat = []
    for _ in range(samples):
        i = rng.randrange(members)
        # Same score: the member is rewritten in place, the set stays as loaded.
        ms, reply = client.timed("ZADD", KEY, fmt(score_of(i)), b"m:%d" % i)
        if reply != 0:
            raise RuntimeError("ZADD existing member replied %r" % reply)
        lat.append(ms)
    line("ZADD key <same score> <existing member>", lat)

    lat = []
    for _ in range(samples):
        ms, reply = client.timed("ZCARD", KEY)
        lat.append(ms)
    line("ZCARD key", lat)

    lat = []
    for _ in range(5):
        ms, reply = client.timed("ZCOUNT", KEY, fmt(rng.uniform(0, SPAN)), "+inf")
        lat.append(ms)
    # Not in the acceptance list; shows what a count of a wide range costs.
    zcount_probe = lat

    # ZRANK walks the score index from the nearer end: time against the distance.
    card = client.call("ZCARD", KEY)
    lat, walked = [], []
    for _ in range(rank_samples):
        i = rng.randrange(members)
        ms, rank = client.timed("ZRANK", KEY, b"m:%d" % i)
        lat.append(ms)
        walked.append(min(rank, card - 1 - rank))
    us_per_entry = 1000.0 * sum(lat) / max(sum(walked), 1)
    line(
        "ZRANK key <random member>",
        lat,
        " (mean distance to the nearer end %d entries: %.3f us/entry)"
        % (sum(walked) / len(walked), us_per_entry),
    )
    near = []
    for _ in range(min(samples, 200)):
        # Members whose score is in the lowest 0.01%: ranks below ~500.
        lo = rng.uniform(0, SPAN * 0.0001)
        first = client.call("ZRANGEBYSCORE", KEY, fmt(lo), "+inf", "LIMIT", "0", "1")
        ms, rank = client.timed("ZRANK", KEY, first[0])
        near.append(ms)
    line("ZRANK key <member of rank < ~500>", near)
    print()
    p50, p99, mx, mean = percentiles(zcount_probe)
    print(
        "ZCOUNT key <random> +inf (walks the members it counts, half the set on average): "
        "p50 %.1f ms p99 %.1f ms max %.1f ms (%d samples)"
        % (p50, p99, mx, len(zcount_probe))
    )
    report_memory("after queries", client, pid)


def verify(port, pid, members, expected):
    client = Client(port)
    card = client.call("ZCARD", KEY)
    rng = random.Random(999)
    checked = 0
    for _ in range(1000):
        i = rng.randrange(members)
        reply = client.call("ZSCORE", KEY, b"m:%d" % i)
        if reply is None or float(reply) != score_of(i):
            print("after restart: ZSCORE m:%d = %r, expected %r" % (i, reply, score_of(i)))
            sys.exit(1)
        checked += 1
    first = client.call("ZRANGE", KEY, "0", "0", "WITHSCORES")
    print(
        "restart: ZCARD %d (expected %d), %d random ZSCOREs match, lowest %s"
        % (card, expected, checked, first)
    )
    report_memory("after restart", client, pid)
    if card != expected:
        sys.exit(1)


def main():
    mode, port, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if mode == "load":
        load(port, pid, *[int(a) for a in sys.argv[4:7]], sys.argv[7])
    elif mode == "measure":
        measure(port, pid, *[int(a) for a in sys.argv[4:7]])
    elif mode == "verify":
        verify(port, pid, *[int(a) for a in sys.argv[4:6]])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()

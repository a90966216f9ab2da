#!/usr/bin/env python3
"""Pub/sub fan-out: SUBSCRIBERS connections subscribe to one channel, one publisher
sends MESSAGES messages (pipelined in batches), and every subscriber counts the bytes
it receives (each message has the same size, so bytes tell messages). Prints the
deliveries per second (messages x subscribers over the time from the first PUBLISH to
the last byte received by the slowest subscriber), the publish rate and how long the
slowest subscriber lagged behind the publisher. Loopback only; bounded in time.

    bench/pubsub_fanout.py --port 6379 [--subscribers 1000] [--messages 10000]
        [--payload 16] [--pipeline 100] [--timeout 120]
"""

import argparse
import multiprocessing
import selectors
import socket
import sys
import time

CHANNEL = b"fanout"


def command(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def read_exactly(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    return buf


def read_line_reply(sock):
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise RuntimeError("connection closed")
        buf += chunk
    return buf


def publisher(port, messages, payload, pipeline, start_evt, result):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    one = command(b"PUBLISH", CHANNEL, payload)
    start_evt.wait()
    t0 = time.time()
    sent = 0
    receivers = None
    pending = b""
    while sent < messages:
        batch = min(pipeline, messages - sent)
        sock.sendall(one * batch)
        sent += batch
        # Each reply is ":<n>\r\n".
        got = 0
        while got < batch:
            pending += sock.recv(65536)
            lines = pending.split(b"\r\n")
            pending = lines.pop()
            for line in lines:
                if not line.startswith(b":"):
                    raise RuntimeError("unexpected reply %r" % line)
                receivers = int(line[1:])
                got += 1
    result["t0"] = t0
    result["t_published"] = time.time()
    result["receivers"] = receivers
    sock.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--subscribers", type=int, default=1000)
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--payload", type=int, default=16)
    ap.add_argument("--pipeline", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--label", default="")
    args = ap.parse_args()

    payload = b"p" * args.payload
    frame = b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
        len(CHANNEL), CHANNEL, len(payload), payload)
    expected = len(frame) * args.messages

    subs = []
    confirmation = b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(CHANNEL), CHANNEL)
    for _ in range(args.subscribers):
        s = socket.create_connection(("127.0.0.1", args.port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.sendall(command(b"SUBSCRIBE", CHANNEL))
        subs.append(s)
    for s in subs:
        got = read_exactly(s, len(confirmation))
        if got != confirmation:
            sys.exit("unexpected confirmation %r" % got)
    admin = socket.create_connection(("127.0.0.1", args.port))
    admin.sendall(command(b"PUBSUB", b"NUMSUB", CHANNEL))
    header = read_line_reply(admin)  # *2
    read_line_reply(admin)  # $len
    read_line_reply(admin)  # channel
    count = read_line_reply(admin)
    if count.strip() != b":%d" % args.subscribers:
        sys.exit("NUMSUB says %r, expected %d (%r)" % (count, args.subscribers, header))

    manager = multiprocessing.Manager()
    result = manager.dict()
    start_evt = multiprocessing.Event()
    proc = multiprocessing.Process(
        target=publisher,
        args=(args.port, args.messages, payload, args.pipeline, start_evt, result))
    proc.start()

    sel = selectors.DefaultSelector()
    received = {}
    for s in subs:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        received[s] = 0
    remaining = len(subs)
    start_evt.set()
    t_start = time.time()
    deadline = t_start + args.timeout
    t_last = None
    while remaining and time.time() < deadline:
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            try:
                data = s.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                sys.exit("a subscriber was disconnected")
            received[s] += len(data)
            if received[s] >= expected:
                sel.unregister(s)
                remaining -= 1
                t_last = time.time()
    proc.join(timeout=max(1.0, deadline - time.time()))
    if remaining:
        got = sum(min(v, expected) for v in received.values()) // len(frame)
        sys.exit("timeout: %d subscribers incomplete, %d of %d deliveries"
                 % (remaining, got, args.messages * args.subscribers))
    t0 = result["t0"]
    elapsed = t_last - t0
    publish_elapsed = result["t_published"] - t0
    deliveries = args.messages * args.subscribers
    print("%s subscribers=%d messages=%d payload=%dB pipeline=%d receivers=%s: "
          "%.0f deliveries/s, %.0f publishes/s, total %.2fs, last subscriber %.2fs "
          "behind the last publish"
          % (args.label, args.subscribers, args.messages, args.payload, args.pipeline,
             result["receivers"], deliveries / elapsed, args.messages / publish_elapsed,
             elapsed, t_last - result["t_published"]))
    for s in subs:
        s.close()


if __name__ == "__main__":
    main()

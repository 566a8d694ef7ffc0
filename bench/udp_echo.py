"""UDP echo round trips: Socket Lab's UdpEchoClient.request against UdpEchoServer, beside raw sockets.

The raw pair is the course's code: a blocking ``recvfrom``/``sendto`` server loop and a blocking
``sendto``/``recvfrom`` client. Each server runs in its own process (so client and server never
share a GIL), on 127.0.0.1 port 0, after a warm-up. Prints p50/p99 µs, round trips per second and
the ratio ours/raw (target ≤ 1.5x). Usage: python bench/udp_echo.py [--requests N] [--size B]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import statistics
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from benchlib import percentile, pin, start

from netcore.engines.serving import ReplyGuard
from netcore.engines.udp_echo import UdpEchoClient, UdpEchoServer
from netcore.io.loop import discard_events

RAW = "raw sockets (course code)"
OURS = "netcore UdpEcho"


def raw_server(ready: Connection) -> None:
    """The course's UDP echo server: recvfrom, sendto, forever (the parent terminates it)."""
    pin()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        ready.send(sock.getsockname()[1])
        while True:
            data, addr = sock.recvfrom(65_535)
            sock.sendto(data, addr)


def netcore_server(ready: Connection) -> None:
    pin()
    # One client asks as fast as it can: the reply rate per peer would measure the limit, not the path.
    server = UdpEchoServer("127.0.0.1", 0, guard=ReplyGuard(rate=1e9, burst=10**9))
    ready.send(server.bind().port)
    server.run(discard_events)


def raw_client(port: int, n: int, message: bytes) -> list[int]:
    times = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2.0)
        server = ("127.0.0.1", port)
        for _ in range(n):
            t0 = time.perf_counter_ns()
            sock.sendto(message, server)
            sock.recvfrom(65_535)
            times.append(time.perf_counter_ns() - t0)
    return times


def netcore_client(port: int, n: int, message: bytes) -> list[int]:
    client = UdpEchoClient("127.0.0.1", port, timeout=2.0)
    times = []
    try:
        for _ in range(n):
            t0 = time.perf_counter_ns()
            client.request(message)
            times.append(time.perf_counter_ns() - t0)
    finally:
        client.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000, help="round trips per path")
    parser.add_argument("--size", type=int, default=64, help="datagram size in bytes")
    parser.add_argument("--rounds", type=int, default=10, help="the paths take turns this many times")
    args = parser.parse_args()
    pin()
    message = bytes(i % 256 for i in range(args.size))
    paths: list[tuple[str, Callable[[Connection], None], Callable[[int, int, bytes], list[int]]]] = [
        (RAW, raw_server, raw_client),
        (OURS, netcore_server, netcore_client),
    ]
    # Both servers run at once and the paths take turns, so a machine that speeds up or slows
    # down during the run (frequency scaling, a neighbour) weighs on both alike.
    results: dict[str, tuple[list[int], float]] = {name: ([], 0.0) for name, _, _ in paths}
    procs: list[mp.Process] = []
    try:
        ports = {}
        for name, server, client in paths:
            proc, ports[name] = start(server)
            procs.append(proc)
            client(ports[name], 1_000, message)  # warm up (the server's caches, the client's code paths)
        per_round = max(1, args.requests // args.rounds)
        for _ in range(args.rounds):
            for name, _, client in paths:
                t0 = time.perf_counter()
                times = client(ports[name], per_round, message)
                elapsed = time.perf_counter() - t0
                results[name][0].extend(times)
                results[name] = (results[name][0], results[name][1] + elapsed)
    finally:
        for proc in procs:
            proc.terminate()
            proc.join(5)
    total = len(results[RAW][0])
    print(f"{total:,} UDP round trips of {args.size} bytes per path on 127.0.0.1, in {args.rounds} turns")
    print(f"{'path':28} {'p50 µs':>8} {'p99 µs':>8} {'mean µs':>8} {'trips/s':>9}")
    for name, (times, elapsed) in results.items():
        print(
            f"{name:28} {percentile(times, 0.5) / 1000:8.1f} {percentile(times, 0.99) / 1000:8.1f} "
            f"{statistics.fmean(times) / 1000:8.1f} {len(times) / elapsed:9,.0f}"
        )
    (raw, raw_s), (ours, ours_s) = results[RAW], results[OURS]
    print(
        f"ratio ours/raw: p50 {percentile(ours, 0.5) / percentile(raw, 0.5):.2f}x, "
        f"p99 {percentile(ours, 0.99) / percentile(raw, 0.99):.2f}x, "
        f"time per round trip {ours_s / raw_s:.2f}x (target ≤ 1.5x)"
    )


if __name__ == "__main__":
    main()

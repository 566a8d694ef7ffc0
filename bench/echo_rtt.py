"""Round trip of 64-byte messages: Socket Lab's netcore client/server beside raw sockets, in one run.

Each server runs in its own process (so client and server never share a GIL), on 127.0.0.1 port 0.
Prints p50/p99 per path and the ratio ours/raw. Usage: python bench/echo_rtt.py [--messages N]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import socket
import statistics
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from netcore.engine import discard_events
from netcore.tcp_echo import TcpEchoClient, TcpEchoServer

MESSAGE = bytes(range(64))


def raw_server(ready: Connection) -> None:
    """The course's blocking echo server: accept one client, recv(1024), sendall, until EOF."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        ready.send(listener.getsockname()[1])
        conn, _ = listener.accept()
        with conn:
            while data := conn.recv(1024):
                conn.sendall(data)


def netcore_server(ready: Connection) -> None:
    server = TcpEchoServer("127.0.0.1", 0)
    ready.send(server.bind().port)
    server.run(discard_events)


def start(target: Callable[[Connection], None]) -> tuple[mp.Process, int]:
    parent, child = mp.Pipe()
    proc = mp.Process(target=target, args=(child,), daemon=True)
    proc.start()
    port: int = parent.recv()
    return proc, port


def raw_client(port: int, n: int) -> list[int]:
    times = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for _ in range(n):
            t0 = time.perf_counter_ns()
            sock.sendall(MESSAGE)
            got = 0
            while got < len(MESSAGE):
                got += len(sock.recv(1024))
            times.append(time.perf_counter_ns() - t0)
    return times


def netcore_client(port: int, n: int) -> list[int]:
    client = TcpEchoClient("127.0.0.1", port)
    client.connect()
    times = []
    try:
        for _ in range(n):
            t0 = time.perf_counter_ns()
            client.request(MESSAGE)
            times.append(time.perf_counter_ns() - t0)
    finally:
        client.close()
    return times


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    results: dict[str, list[int]] = {}
    paths = [
        ("raw sockets (course code)", raw_server, raw_client),
        ("netcore", netcore_server, netcore_client),
    ]
    for name, server, client in paths:
        proc, port = start(server)
        try:
            client(port, 500)  # warm up
            proc.terminate()
            proc.join()
            proc, port = start(server)
            results[name] = client(port, args.messages)
        finally:
            proc.terminate()
            proc.join(5)
    print(f"{args.messages:,} round trips of {len(MESSAGE)} bytes on 127.0.0.1")
    print(f"{'path':28} {'p50 µs':>8} {'p99 µs':>8} {'mean µs':>8}")
    for name, times in results.items():
        print(
            f"{name:28} {percentile(times, 0.5):8.1f} {percentile(times, 0.99):8.1f} "
            f"{statistics.fmean(times) / 1000:8.1f}"
        )
    raw, ours = results["raw sockets (course code)"], results["netcore"]
    print(
        f"ratio netcore/raw: p50 {percentile(ours, 0.5) / percentile(raw, 0.5):.2f}x, "
        f"p99 {percentile(ours, 0.99) / percentile(raw, 0.99):.2f}x (target ≤ 1.5x)"
    )


if __name__ == "__main__":
    main()

"""TCP round trips of 64-byte messages: Socket Lab's netcore client and server beside the course's
raw blocking sockets, in one run.

Each server runs in its own process (so client and server never share a GIL), on 127.0.0.1 port 0.
Both servers run at once and the two paths take turns in rounds, so a machine that speeds up or
slows down mid-run (this class of VM does) affects both alike. Prints p50/p99 per path and the
ratio ours/raw. Usage: python bench/echo_rtt.py [--messages N] [--rounds R]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import time
from multiprocessing.connection import Connection

from benchlib import percentile, pin, start

from netcore.engines.tcp_echo import TcpEchoClient, TcpEchoServer
from netcore.io.loop import discard_events

MESSAGE = bytes(range(64))


def raw_server(ready: Connection) -> None:
    """The course's blocking echo server: accept a client, recv(1024), sendall, until EOF."""
    pin()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        ready.send(listener.getsockname()[1])
        while True:
            conn, _ = listener.accept()
            with conn:
                while data := conn.recv(1024):
                    conn.sendall(data)


def netcore_server(ready: Connection) -> None:
    pin()
    server = TcpEchoServer("127.0.0.1", 0)
    ready.send(server.bind().port)
    server.run(discard_events)


class RawClient:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))

    def round_trips(self, n: int) -> list[int]:
        times = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            self.sock.sendall(MESSAGE)
            got = 0
            while got < len(MESSAGE):
                got += len(self.sock.recv(1024))
            times.append(time.perf_counter_ns() - t0)
        return times

    def close(self) -> None:
        self.sock.close()


class NetcoreClient:
    def __init__(self, port: int) -> None:
        self.client = TcpEchoClient("127.0.0.1", port)
        self.client.connect()

    def round_trips(self, n: int) -> list[int]:
        times = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            self.client.request(MESSAGE)
            times.append(time.perf_counter_ns() - t0)
        return times

    def close(self) -> None:
        self.client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000, help="round trips per path")
    parser.add_argument("--rounds", type=int, default=10, help="the paths take turns this many times")
    args = parser.parse_args()
    pin()
    raw_proc, raw_port = start(raw_server)
    our_proc, our_port = start(netcore_server)
    clients: dict[str, RawClient | NetcoreClient] = {}
    results: dict[str, list[int]] = {"raw sockets (course code)": [], "netcore": []}
    try:
        clients = {"raw sockets (course code)": RawClient(raw_port), "netcore": NetcoreClient(our_port)}
        for client in clients.values():
            client.round_trips(500)  # warm up
        per_round = max(1, args.messages // args.rounds)
        for _ in range(args.rounds):
            for name, client in clients.items():
                results[name] += client.round_trips(per_round)
    finally:
        for client in clients.values():
            client.close()
        for proc in (raw_proc, our_proc):
            proc.terminate()
            proc.join(5)
    total = len(results["netcore"])
    print(f"{total:,} round trips of {len(MESSAGE)} bytes per path on 127.0.0.1, in {args.rounds} turns")
    print(f"{'path':28} {'p50 µs':>8} {'p99 µs':>8} {'mean µs':>8}")
    for name, times in results.items():
        print(
            f"{name:28} {percentile(times, 0.5) / 1000:8.1f} {percentile(times, 0.99) / 1000:8.1f} "
            f"{statistics.fmean(times) / 1000:8.1f}"
        )
    raw, ours = results["raw sockets (course code)"], results["netcore"]
    print(
        f"ratio netcore/raw: p50 {percentile(ours, 0.5) / percentile(raw, 0.5):.2f}x, "
        f"p99 {percentile(ours, 0.99) / percentile(raw, 0.99):.2f}x, "
        f"mean {statistics.fmean(ours) / statistics.fmean(raw):.2f}x (target ≤ 1.5x)"
    )


if __name__ == "__main__":
    main()

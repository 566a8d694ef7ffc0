"""Many clients against the TCP echo server: connections held, messages per second, round-trip p99.

The server runs in its own process on 127.0.0.1 port 0; N clients in this process each keep one
64-byte message in flight for the run's duration. Usage: python bench/load.py [--clients N] [--seconds S]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import selectors
import socket
import time
from multiprocessing.connection import Connection

from netcore.engines.tcp_echo import TcpEchoServer
from netcore.io.loop import discard_events
from netcore.io.platform import raise_open_files_limit

MESSAGE = b"x" * 64


def serve(ready: Connection) -> None:
    server = TcpEchoServer("127.0.0.1", 0)
    ready.send(server.bind().port)
    server.run(discard_events)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    raise_open_files_limit(args.clients + 100)
    parent, child = mp.Pipe()
    proc = mp.Process(target=serve, args=(child,), daemon=True)
    proc.start()
    port: int = parent.recv()
    clients: list[socket.socket] = []
    rtts: list[int] = []
    try:
        for _ in range(args.clients):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setblocking(False)
            clients.append(sock)
        sent_at = [0] * len(clients)
        pending = [0] * len(clients)  # bytes of the reply still to come
        with selectors.DefaultSelector() as sel:
            for i, sock in enumerate(clients):
                sel.register(sock, selectors.EVENT_READ, i)
                sock.send(MESSAGE)
                sent_at[i], pending[i] = time.perf_counter_ns(), len(MESSAGE)
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                for key, _ in sel.select(0.1):
                    i = key.data
                    pending[i] -= len(clients[i].recv(65536))
                    if pending[i] <= 0:
                        now = time.perf_counter_ns()
                        rtts.append(now - sent_at[i])
                        clients[i].send(MESSAGE)
                        sent_at[i], pending[i] = now, len(MESSAGE)
    finally:
        for sock in clients:
            sock.close()
        proc.terminate()
        proc.join(5)
    rtts.sort()
    print(f"connections held: {len(clients):,}")
    print(
        f"messages answered: {len(rtts):,} in {args.seconds:g} s = {len(rtts) / args.seconds:,.0f} messages/s"
    )
    print(
        f"round trip p50 {rtts[len(rtts) // 2] / 1e6:.2f} ms, p99 {rtts[int(len(rtts) * 0.99)] / 1e6:.2f} ms"
    )


if __name__ == "__main__":
    main()

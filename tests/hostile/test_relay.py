"""The re-chunking relay under load a hostile or careless client can make: many idle pairs, a slow
target, and one pair re-chunking a large transfer byte by byte — none may stall the others or make
the loop's cost grow with connections that do nothing.

Network rules: 127.0.0.1 only, port 0, every loop bounded in count and time, everything stopped.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from netcore.engines.relay import ChunkPlan, RechunkRelay
from netcore.engines.tcp_echo import TcpEchoServer
from netcore.io import platform
from netcore.model.events import Connected
from tests.netcore.support import WAIT_S, EngineThreads

IDLE_PAIRS = 500


def _round_trip(sock: socket.socket, message: bytes) -> float:
    t0 = time.monotonic()
    sock.sendall(message)
    got = b""
    while len(got) < len(message):
        piece = sock.recv(65536)
        assert piece, "the relay closed the connection"
        got += piece
    assert got == message
    return time.monotonic() - t0


def test_idle_pairs_cost_the_loop_nothing_per_round(record_property):
    """500 idle pairs: a loop round costs the same as with none (the old relay visited every leg,
    and every leg's partner, on every round: O(pairs²))."""
    if (platform.raise_open_files_limit(4 * IDLE_PAIRS + 200) or 0) < 4 * IDLE_PAIRS + 100:
        pytest.skip(f"needs {4 * IDLE_PAIRS + 100} open files")
    rounds: list[int] = [0]
    cpu: list[tuple[int, float]] = []
    clients: list[socket.socket] = []
    with EngineThreads() as threads:
        target, _, _ = threads.start(TcpEchoServer(), "relay-target")
        relay = RechunkRelay(str(target), ChunkPlan(16))
        write_due = relay._write_due

        def counted() -> None:
            rounds[0] += 1
            write_due()

        relay._write_due = counted  # type: ignore[method-assign]
        addr, log, _ = threads.start(relay, "relay-idle")
        try:
            for _ in range(IDLE_PAIRS):
                clients.append(socket.create_connection((addr.host, addr.port), timeout=WAIT_S))
            log.wait_for(Connected, count=2 * IDLE_PAIRS, timeout=30)
            assert _round_trip(clients[-1], b"warm") < WAIT_S

            def sample() -> None:
                cpu.append((rounds[0], time.thread_time()))

            relay.call_soon(sample)
            deadline = time.monotonic() + 30
            while len(cpu) < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            first_round = cpu[0][0]
            while rounds[0] < first_round + 20 and time.monotonic() < deadline:  # ~1 s of idle rounds
                time.sleep(0.01)
            relay.call_soon(sample)
            while len(cpu) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(cpu) == 2, "the relay's loop stopped turning"
            newest = _round_trip(clients[0], b"still relayed")
        finally:
            for c in clients:
                c.close()
    (r0, t0), (r1, t1) = cpu
    per_round_ms = (t1 - t0) / max(1, r1 - r0) * 1000
    record_property("idle pairs", IDLE_PAIRS)
    record_property("CPU per loop round (ms)", round(per_round_ms, 3))
    record_property("round trip through the relay (ms)", round(newest * 1000, 2))
    assert per_round_ms < 2.0, f"{per_round_ms:.2f} ms of CPU per round with {IDLE_PAIRS} idle pairs"


def test_a_byte_by_byte_transfer_does_not_starve_another_pair(record_property):
    """--chunks 1 on a 256 KiB transfer: the relay sends one byte per send(); another client's round
    trip meanwhile stays short (the old relay sent the whole buffer in one go before anyone else)."""
    with EngineThreads() as threads:
        target, _, _ = threads.start(TcpEchoServer(), "relay-target")
        addr, log, _ = threads.start(RechunkRelay(str(target), ChunkPlan(1)), "relay-1")
        with (
            socket.create_connection((addr.host, addr.port), timeout=WAIT_S) as bulk,
            socket.create_connection((addr.host, addr.port), timeout=WAIT_S) as chat,
        ):
            log.wait_for(Connected, count=4)
            payload = bytes(range(256)) * 1024  # 256 KiB, echoed back through the relay
            received = bytearray()

            def drain() -> None:
                while len(received) < len(payload):
                    piece = bulk.recv(65536)
                    if not piece:
                        return
                    received.extend(piece)

            reader = threading.Thread(target=drain, daemon=True)
            reader.start()
            bulk.sendall(payload)
            rtts = [_round_trip(chat, b"ping %d" % i) for i in range(5)]
            in_flight = len(received) < len(payload)
            bulk.settimeout(60)
            reader.join(60)
            assert bytes(received) == payload
    record_property(
        "chat round trips during the byte-by-byte transfer (ms)", [round(r * 1000, 1) for r in rtts]
    )
    assert in_flight, "the transfer ended before the chat: nothing was measured"
    assert max(rtts) < 1.0, rtts


def test_a_target_that_does_not_answer_holds_up_no_existing_pair(record_property):
    """New clients whose target connection hangs (the target's accept queue is full) do not stall a
    pair already relaying: the relay connects without blocking its loop."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    target = listener.getsockname()
    fillers: list[socket.socket] = []
    waiting: list[socket.socket] = []
    try:
        with EngineThreads() as threads:
            relay = RechunkRelay(f"{target[0]}:{target[1]}", ChunkPlan(4), connect_timeout=30)
            addr, log, _ = threads.start(relay, "relay-hang")
            with socket.create_connection((addr.host, addr.port), timeout=WAIT_S) as first:
                log.wait_for(Connected, count=2)
                upstream, _ = listener.accept()  # the target side of the first pair
                with upstream:
                    for _ in range(4):  # fill the accept queue: later connects hang in SYN_SENT
                        s = socket.socket()
                        s.setblocking(False)
                        s.connect_ex(target)
                        fillers.append(s)
                    for _ in range(3):
                        waiting.append(socket.create_connection((addr.host, addr.port), timeout=WAIT_S))
                    deadline = time.monotonic() + WAIT_S
                    while len(relay._connecting) < 3 and time.monotonic() < deadline:
                        time.sleep(0.005)  # polling the relay's own state, bounded
                    assert len(relay._connecting) == 3
                    t0 = time.monotonic()
                    first.sendall(b"through")
                    got = b""
                    upstream.settimeout(WAIT_S)
                    while len(got) < 7:
                        got += upstream.recv(100)
                    elapsed = time.monotonic() - t0
    finally:
        for s in fillers + waiting:
            s.close()
        listener.close()
    record_property("relay latency while 3 target connects hang (ms)", round(elapsed * 1000, 2))
    assert got == b"through"
    assert elapsed < 1.0

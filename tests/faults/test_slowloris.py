"""Slowloris: a client that sends one byte a second, so it is never idle for long, yet never
finishes what it started. Each TCP server must close it after its time limit for that unfinished
part, with the reason reported, free its descriptor, and keep answering a well-behaved client fast."""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from netcore.engines.filefetch import CHALLENGE_SIZE, FetchClient, FileServer, key_response
from netcore.engines.tcp_echo import TcpEchoClient, TcpEchoServer
from netcore.engines.time_service import TimeClient, TimeServer
from netcore.errors import TimedOut
from netcore.model.events import Closed, CloseReason
from tests.faults.support import Trickle, wait_until
from tests.netcore.support import WAIT_S, NetcoreProcess, Running, local_of, recv_exactly

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

BYTE_EVERY_S = 1.0  # the one byte per second
LIMIT_S = 1.5  # the servers' limit in these tests: longer than the gap between two bytes
LATE_S = 0.5  # how much later than its limit a server may close
PACE_S = 0.01  # the well-behaved client's pause between two requests
KEY = b"shared secret"


def frame4(payload: bytes) -> bytes:
    return struct.pack("!I", len(payload)) + payload


def test_tcp_echo_server_closes_slowloris_partial_frames_and_keeps_answering_others(
    echo_server: Callable[..., Running[TcpEchoServer]], record_property
):
    """Three clients trickling a length4 frame one byte a second are each closed 1.5 s after its
    first byte with TimedOut and its hint, and freed, while another client's round trips stay fast."""
    running = echo_server(framing="length4", frame_timeout=LIMIT_S)
    good = TcpEchoClient("127.0.0.1", running.addr.port, "length4", timeout=WAIT_S)
    slow = [socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S) for _ in range(3)]
    trickles: list[Trickle] = []
    try:
        good.connect()
        conns = [running.conn_of(local_of(sock)) for sock in slow]
        trickles = [Trickle(sock, frame4(bytes(100)), BYTE_EVERY_S).start() for sock in slow]
        closed_at: dict[int, float] = {}
        rtts: list[float] = []
        deadline = time.monotonic() + LIMIT_S + WAIT_S
        while len(closed_at) < len(conns):
            assert time.monotonic() < deadline, f"only {sorted(closed_at)} of {conns} were closed"
            rtts.append(good.request(b"ping")[0].rtt_s)
            for event in running.log.of(Closed):
                closed_at.setdefault(event.conn, time.monotonic())
            time.sleep(PACE_S)
        assert running.server.client_count == 1
    finally:
        for trickle in trickles:
            trickle.stop()
        for sock in slow:
            sock.close()
        good.close()
    lasted = [closed_at[conn] - trickle.first_byte for conn, trickle in zip(conns, trickles, strict=True)]
    for conn, seconds in zip(conns, lasted, strict=True):
        closed = running.log.of(Closed, conn=conn)[0]
        assert closed.reason is CloseReason.ERROR
        assert isinstance(closed.error, TimedOut)
        assert f"timed out after {LIMIT_S:g} s" in closed.error.summary and closed.error.hint
        assert LIMIT_S - 0.05 <= seconds <= LIMIT_S + LATE_S, seconds
    assert all(trickle.sent <= 3 for trickle in trickles)  # none got near the 104 bytes of its frame
    assert max(rtts) < 0.05
    record_property("slowloris closed after (s)", ", ".join(f"{s:.2f}" for s in lasted))
    record_property("good client's round trips", f"{len(rtts)}, max {max(rtts) * 1000:.2f} ms")


@pytest.mark.parametrize("framing", ["raw", "length4"])
def test_tcp_echo_server_leaves_a_client_idle_between_whole_messages_open(
    echo_server: Callable[..., Running[TcpEchoServer]], framing: str
):
    """A chat that stays silent between whole messages for three frame timeouts is not closed and
    is answered afterwards: only an unfinished frame is timed."""
    running = echo_server(framing=framing, frame_timeout=0.3)
    client = TcpEchoClient("127.0.0.1", running.addr.port, framing, timeout=WAIT_S)
    try:
        client.connect()
        client.request(b"hello")
        time.sleep(0.9)  # the silence under test
        assert running.log.of(Closed) == []
        answered, _ = client.request(b"still there?")
    finally:
        client.close()
    assert answered.rtt_s < 0.1


def test_file_server_closes_a_slowloris_key_answer_and_keeps_serving(
    open_fds, file_server: Callable[..., Running[FileServer]], dest: Path, record_property
):
    """A client trickling its 32-byte key answer one byte a second is closed 1.5 s after the
    challenge (TimedOut with its hint), though no single wait was that long, and freed; other
    clients fetch meanwhile."""
    running = file_server(key=KEY, idle_timeout=LIMIT_S)
    fds = open_fds()
    slow = socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S)
    trickle: Trickle | None = None
    try:
        conn = running.conn_of(local_of(slow))
        challenge = recv_exactly(slow, CHALLENGE_SIZE)
        challenged = time.monotonic()  # the server's clock started just before: it sent the challenge
        trickle = Trickle(slow, key_response(KEY, challenge), BYTE_EVERY_S).start()
        fetches: list[float] = []
        deadline = time.monotonic() + LIMIT_S + WAIT_S
        while not running.log.of(Closed, conn=conn):
            assert time.monotonic() < deadline, "the slowloris was not closed"
            fetches.append(fetch_small(running.addr.port, dest))
            time.sleep(PACE_S)
        lasted = time.monotonic() - challenged
    finally:
        if trickle is not None:
            trickle.stop()
        slow.close()
    wait_until(lambda: open_fds() == fds, "every connection to be freed")
    closed = running.log.of(Closed, conn=conn)[0]
    assert closed.reason is CloseReason.LOCAL
    assert isinstance(closed.error, TimedOut)
    assert f"timed out after {LIMIT_S:g} s" in closed.error.summary and closed.error.hint
    assert LIMIT_S - 0.05 <= lasted <= LIMIT_S + LATE_S, lasted
    assert trickle.sent < CHALLENGE_SIZE
    assert max(fetches) < 0.5
    record_property("slowloris closed after (s)", f"{lasted:.2f}")
    record_property("good fetches", f"{len(fetches)}, max {max(fetches) * 1000:.1f} ms")


def fetch_small(port: int, dest: Path) -> float:
    """Fetch small.txt with the key, as a well-behaved client; the seconds it took."""
    start = time.monotonic()
    client = FetchClient("127.0.0.1", port, dest, key=KEY, timeout=WAIT_S, overwrite=True)
    try:
        client.connect()
        client.fetch("small.txt")
    finally:
        client.close()
    return time.monotonic() - start


def test_tcp_time_server_answers_a_slowloris_at_once_and_keeps_serving(
    open_fds,
    time_server: Callable[[str], Running[TimeServer]],
):
    """TIME over TCP speaks first and closes: a client trickling bytes gets its 4 bytes and the
    close (FIN, or RST for the bytes the server never read) at once, holds nothing, and another
    client's query stays fast."""
    running = time_server("time-tcp")
    fds = open_fds()
    slow = socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S)
    trickle = Trickle(slow, bytes(10), BYTE_EVERY_S).start()
    try:
        start = time.monotonic()
        reply = recv_exactly(slow, 4)
        with contextlib.suppress(ConnectionResetError):  # RST: the server never read what came
            assert slow.recv(1) == b""
        answered = time.monotonic() - start
        result = TimeClient("time-tcp", "127.0.0.1", running.addr.port, timeout=WAIT_S)
        try:
            delay = result.query().delay
        finally:
            result.close()
    finally:
        trickle.stop()
        slow.close()
    assert abs(struct.unpack("!I", reply)[0] - (time.time() + 2_208_988_800)) < 5
    assert answered < 0.5
    assert delay is not None and delay < 0.1
    wait_until(lambda: open_fds() == fds, "every connection to be freed")


def test_tcp_echo_server_cli_frame_timeout_closes_an_unfinished_frame():
    """`tcp-echo-server --framing length4 --frame-timeout 0.5` closes a client that sent 2 bytes of
    a header after 0.5 s and prints why."""
    server = NetcoreProcess(
        "tcp-echo-server", "--port", "0", "--framing", "length4", "--frame-timeout", "0.5"
    )
    try:
        port = int(server.wait_for_line(r"listening on \S+:(\d+)").group(1))
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S) as sock:
            sock.sendall(b"\0\0")
            start = time.monotonic()
            assert sock.recv(1) == b""
            lasted = time.monotonic() - start
        line = server.wait_for("closed: error")
    finally:
        server.stop()
    assert 0.45 <= lasted <= 0.5 + LATE_S, lasted
    assert "wait for a request from" in line and "timed out after 0.5 s" in line


def test_file_server_cli_idle_timeout_closes_a_silent_client():
    """`file-server --idle-timeout 0.5` closes a client that sends nothing after 0.5 s and prints why."""
    server = NetcoreProcess(
        "file-server", "--root", str(Path(__file__).parent), "--port", "0", "--idle-timeout", "0.5"
    )
    try:
        port = int(server.wait_for_line(r"listening on \S+:(\d+)").group(1))
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S) as sock:
            start = time.monotonic()
            assert sock.recv(1) == b""
            lasted = time.monotonic() - start
        line = server.wait_for("closed: closed here")
    finally:
        server.stop()
    assert 0.45 <= lasted <= 0.5 + LATE_S, lasted
    assert "wait for a request from" in line and "timed out after 0.5 s" in line

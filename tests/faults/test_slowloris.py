"""Slowloris: a client that sends one byte a second, so it is never idle for long, yet never
finishes what it started. Each TCP server must close it after its time limit for that unfinished
part, with the reason reported, free its descriptor, and keep answering a well-behaved client meanwhile."""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from netcore.engines.filefetch import FetchClient, FileServer
from netcore.engines.tcp_echo import TcpEchoClient, TcpEchoServer
from netcore.engines.time_service import TimeClient, TimeServer
from netcore.errors import TimedOut
from netcore.model.events import Closed, CloseReason
from netcore.model.traffic import Direction
from tests.faults.support import Trickle, wait_until
from tests.netcore.support import WAIT_S, NetcoreProcess, Running, key_answer, local_of, recv_exactly

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

BYTE_EVERY_S = 1.0  # the one byte per second
LIMIT_S = 1.5  # the servers' limit in these tests: longer than the gap between two bytes
ROUND_TRIPS = 20  # the well-behaved client's requests while the slowloris is held
KEY = b"a shared secret of 32 bytes....."


def frame4(payload: bytes) -> bytes:
    return struct.pack("!I", len(payload)) + payload


def reads_the_close(sock: socket.socket) -> bool:
    """Whether the peer closed *sock*: recv() returns b"" (FIN) or reports a reset (RST, when the
    closed end still got bytes). Waits at most the socket's timeout."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_tcp_echo_server_closes_slowloris_partial_frames_and_keeps_answering_others(
    echo_server: Callable[..., Running[TcpEchoServer]], record_property
):
    """Three clients trickling a length4 frame one byte a second are each closed with TimedOut and
    its hint, no sooner than 1.5 s after its first byte (though no gap was that long), and freed,
    while another client is answered: its requests made once every slowloris had begun its frame
    are answered before the server closes any of them."""
    running = echo_server(framing="length4", frame_timeout=LIMIT_S)
    good = TcpEchoClient("127.0.0.1", running.addr.port, "length4", timeout=WAIT_S)
    slow = [socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S) for _ in range(3)]
    trickles: list[Trickle] = []
    try:
        good.connect()
        conns = [running.conn_of(local_of(sock)) for sock in slow]
        trickles = [Trickle(sock, frame4(bytes(100)), BYTE_EVERY_S).start() for sock in slow]
        for conn in conns:
            running.traffic(conn, Direction.RECEIVED, wait_bytes=1)  # its frame has begun: clock on
        rtts, held = [], 0
        for _ in range(ROUND_TRIPS):
            rtts.append(good.request(b"ping")[0].rtt_s)
            # no Closed logged yet: the server answered before closing any slowloris (it logs each
            # round's events at the round's end, and answers a round's requests before its closes)
            held += not running.log.of(Closed)
        closed_at: dict[int, float] = {}
        for conn in conns:
            running.log.wait_for(Closed, conn=conn, timeout=LIMIT_S + WAIT_S)
            closed_at[conn] = time.monotonic()  # when seen: no sooner than when it happened
        assert all(reads_the_close(sock) for sock in slow)
        assert running.server.client_count == 1
        assert good.request(b"still there?")[0].rtt_s < WAIT_S
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
        assert seconds >= LIMIT_S, seconds  # the clock starts at the first byte, after first_byte
    assert all(trickle.sent < 104 for trickle in trickles)  # none finished its frame
    assert held >= 1, "the good client was answered only after the slowloris clients were closed"
    record_property("slowloris closed after (s)", ", ".join(f"{s:.2f}" for s in lasted))
    record_property(
        "good client's round trips", f"{held} of {len(rtts)} while held, max {max(rtts) * 1000:.2f} ms"
    )


@pytest.mark.parametrize("framing", ["raw", "length4"])
def test_tcp_echo_server_leaves_a_client_idle_between_whole_messages_open(
    echo_server: Callable[..., Running[TcpEchoServer]], framing: str
):
    """A chat that stays silent between whole messages is not closed and is answered afterwards:
    only an unfinished frame is timed, and between whole messages no clock runs for the chat.

    With length4 the silence is measured by the server's own clock, not slept: three witnesses in
    turn, the first after the chat's last message, each leave 2 bytes of a header and are closed
    for it, so when the third is closed the chat has been silent for three frame timeouts.
    Raw framing has no unfinished frames, so no witness: that no clock runs is what decides."""
    running = echo_server(framing=framing, frame_timeout=0.3)
    client = TcpEchoClient("127.0.0.1", running.addr.port, framing, timeout=WAIT_S)
    try:
        conn = running.conn_of(client.connect().local)
        client.request(b"hello")
        assert conn not in running.server._frame_timers  # the reply is sent after the clock is set
        if framing == "length4":
            for _ in range(3):
                with socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S) as witness:
                    witness.sendall(b"\0\0")
                    assert reads_the_close(witness)
                    closed = running.log.wait_for(Closed, conn=running.conn_of(local_of(witness)))[0]
                    assert isinstance(closed.error, TimedOut)
        assert running.log.of(Closed, conn=conn) == []
        answered, _ = client.request(b"still there?")
    finally:
        client.close()
    assert answered.index == 1


def test_file_server_closes_a_slowloris_key_answer_and_keeps_serving(
    open_fds, file_server: Callable[..., Running[FileServer]], dest: Path, record_property
):
    """A client trickling its 64-byte key answer one byte a second is closed (TimedOut with its
    hint) no sooner than 1.5 s after it connected, though no single wait was that long, and freed;
    other clients fetch while it is held."""
    running = file_server(key=KEY, idle_timeout=LIMIT_S)
    fds = open_fds()
    connecting = time.monotonic()  # the server's clock starts later: when it sends the challenge
    slow = socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S)
    trickle: Trickle | None = None
    try:
        conn = running.conn_of(local_of(slow))
        answer, _ = key_answer(slow, KEY)
        trickle = Trickle(slow, answer, BYTE_EVERY_S).start()
        fetches, held = [], 0
        for _ in range(ROUND_TRIPS // 4):  # each fetch is a new connection with its own challenge
            fetches.append(fetch_small(running.addr.port, dest))
            held += not running.log.of(Closed, conn=conn)  # fetched while the slowloris was open
        running.log.wait_for(Closed, conn=conn, timeout=LIMIT_S + WAIT_S)
        lasted = time.monotonic() - connecting
        assert reads_the_close(slow)
    finally:
        if trickle is not None:
            trickle.stop()
        slow.close()
    wait_until(lambda: open_fds() == fds, "every connection to be freed")
    closed = running.log.of(Closed, conn=conn)[0]
    assert closed.reason is CloseReason.LOCAL
    assert isinstance(closed.error, TimedOut)
    assert f"timed out after {LIMIT_S:g} s" in closed.error.summary and closed.error.hint
    assert lasted >= LIMIT_S, lasted
    assert trickle.sent < len(answer)
    assert held >= 1, "no other client fetched while the slowloris was held"
    record_property("slowloris closed after (s)", f"{lasted:.2f}")
    record_property("good fetches", f"{held} of {len(fetches)} while held, max {max(fetches) * 1000:.1f} ms")


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
    """TIME over TCP speaks first and closes: it answers a client that sends nothing at all, and a
    client trickling bytes gets its 4 bytes and the close (FIN, or RST for the bytes the server
    never read) while it is still trickling, holds nothing, and another client's query is
    answered."""
    running = time_server("time-tcp")
    fds = open_fds()
    with socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S) as silent:
        silent_reply = recv_exactly(silent, 4)  # nothing sent: nothing for the server to wait for
        assert reads_the_close(silent)
    slow = socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S)
    trickle = Trickle(slow, bytes(10), BYTE_EVERY_S).start()
    try:
        reply = recv_exactly(slow, 4)
        assert reads_the_close(slow)
        sent_before_the_close = trickle.sent
        result = TimeClient("time-tcp", "127.0.0.1", running.addr.port, timeout=WAIT_S)
        try:
            delay = result.query().delay
        finally:
            result.close()
    finally:
        trickle.stop()
        slow.close()
    for answer in (silent_reply, reply):
        assert abs(struct.unpack("!I", answer)[0] - (time.time() + 2_208_988_800)) < 5
    assert sent_before_the_close < 10, "the server waited for the slowloris to finish"
    assert delay is not None
    wait_until(lambda: open_fds() == fds, "every connection to be freed")


def test_tcp_echo_server_cli_frame_timeout_closes_an_unfinished_frame():
    """`tcp-echo-server --framing length4 --frame-timeout 0.5` closes a client that sent 2 bytes of
    a header, no sooner than 0.5 s after, and prints why."""
    server = NetcoreProcess(
        "tcp-echo-server", "--port", "0", "--framing", "length4", "--frame-timeout", "0.5"
    )
    try:
        port = int(server.wait_for_line(r"listening on \S+:(\d+)").group(1))
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S) as sock:
            start = time.monotonic()  # before the server can see the bytes and start its clock
            sock.sendall(b"\0\0")
            assert sock.recv(1) == b""
            lasted = time.monotonic() - start
        line = server.wait_for("closed: error")
    finally:
        server.stop()
    assert lasted >= 0.5, lasted
    assert "wait for a request from" in line and "timed out after 0.5 s" in line


def test_file_server_cli_idle_timeout_closes_a_silent_client():
    """`file-server --idle-timeout 0.5` closes a client that sends nothing, no sooner than 0.5 s
    after it connected, and prints why."""
    server = NetcoreProcess(
        "file-server", "--root", str(Path(__file__).parent), "--port", "0", "--idle-timeout", "0.5"
    )
    try:
        port = int(server.wait_for_line(r"listening on \S+:(\d+)").group(1))
        start = time.monotonic()  # before the server can accept and start its clock
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S) as sock:
            assert sock.recv(1) == b""
            lasted = time.monotonic() - start
        line = server.wait_for("closed: closed here")
    finally:
        server.stop()
    assert lasted >= 0.5, lasted
    assert "wait for a request from" in line and "timed out after 0.5 s" in line

"""Peer reset mid-transfer: one side closes with SO_LINGER on and a linger of 0, so the kernel sends
RST. The other side must report ConnectionReset with its hint, free that connection and (a server)
keep serving its other clients."""

from __future__ import annotations

import hashlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from netcore.engines.filefetch import BUFFER_SIZE, FetchClient, FileServer
from netcore.engines.tcp_echo import TcpEchoClient, TcpEchoServer
from netcore.errors import ConnectionReset
from netcore.model.events import Closed, CloseReason
from netcore.model.traffic import Direction
from netcore.protocols.filehdr import encode_header
from tests.faults.support import abort, scripted_server, wait_until
from tests.netcore.support import WAIT_S, Running, local_of, recv_exactly

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

RESET_HINT = "closed abruptly"


def frame4(payload: bytes) -> bytes:
    return struct.pack("!I", len(payload)) + payload


def test_tcp_echo_client_reports_reset_when_server_aborts_mid_reply(open_fds, record_property):
    """A length4 reply cut short by the server's RST: request() raises ConnectionReset with its hint
    at once, and the client's socket is closed."""

    def script(conn: socket.socket) -> None:
        recv_exactly(conn, 4 + 5)
        conn.sendall(struct.pack("!I", 1000) + b"only ten b")  # 10 of the 1,000 bytes announced
        abort(conn)

    fds = open_fds()
    with scripted_server(script) as port:
        client = TcpEchoClient("127.0.0.1", port, "length4", timeout=WAIT_S)
        try:
            client.connect()
            start = time.monotonic()
            with pytest.raises(ConnectionReset) as info:
                client.request(b"hello")
            elapsed = time.monotonic() - start
            assert not client.connected
        finally:
            client.close()
    assert RESET_HINT in info.value.hint
    assert elapsed < 1.0
    assert open_fds() == fds
    record_property("reset reported after (ms)", f"{elapsed * 1000:.1f}")


def test_tcp_echo_server_reports_a_client_reset_and_keeps_serving_others(
    open_fds, echo_server: Callable[..., Running[TcpEchoServer]], record_property
):
    """A client that resets with one echo unread and half a frame sent is reported as reset with
    the hint, its connection and descriptor are freed, and another client is still answered."""
    running = echo_server(framing="length4")
    good = TcpEchoClient("127.0.0.1", running.addr.port, "length4", timeout=WAIT_S)
    try:
        good.connect()
        good.request(b"before")
        fds = open_fds()
        bad = socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S)
        try:
            conn = running.conn_of(local_of(bad))
            bad.sendall(frame4(b"first") + struct.pack("!I", 100) + b"half")
            running.traffic(conn, Direction.RECEIVED, wait_bytes=9 + 8)
            running.traffic(conn, Direction.SENT, wait_bytes=9)  # the echo of "first", never read
            start = time.monotonic()
        finally:
            abort(bad)
        closed = running.log.wait_for(Closed, conn=conn)[0]
        wait_until(
            lambda: running.server.client_count == 1 and open_fds() == fds, "the connection to be freed"
        )
        freed = time.monotonic() - start
        answered, _ = good.request(b"after")
    finally:
        good.close()
    assert closed.reason is CloseReason.RESET
    assert isinstance(closed.error, ConnectionReset) and RESET_HINT in closed.error.hint
    assert answered.rtt_s < 0.1
    record_property("connection freed after (ms)", f"{freed * 1000:.1f}")
    record_property("other client's round trip after (ms)", f"{answered.rtt_s * 1000:.2f}")


def test_fetch_client_reports_reset_mid_body_and_leaves_no_file(open_fds, dest: Path):
    """A server that resets after 1.5 of 4 MiB of body: fetch() raises ConnectionReset with its hint,
    the connection is dropped and no file (not even a .part) is left."""
    body = bytes(4 * BUFFER_SIZE)
    progressed = threading.Event()

    def script(conn: socket.socket) -> None:
        conn.recv(4096)
        header = {"file_name": "cut.bin", "file_hex": hashlib.md5(body).hexdigest(), "data_all": len(body)}
        conn.sendall(encode_header(header) + body[: BUFFER_SIZE * 3 // 2])
        assert progressed.wait(WAIT_S), "the client reported no progress"
        abort(conn)

    fds = open_fds()
    with scripted_server(script) as port:
        client = FetchClient("127.0.0.1", port, dest, timeout=WAIT_S)
        try:
            client.connect()
            with pytest.raises(ConnectionReset) as info:
                client.fetch("cut.bin", lambda _done, _total: progressed.set())
            assert client.sock is None
        finally:
            client.close()
    assert RESET_HINT in info.value.hint
    assert list(dest.iterdir()) == []
    assert open_fds() == fds


def test_file_server_reports_a_client_reset_mid_body_and_keeps_serving(
    open_fds, file_server: Callable[..., Running[FileServer]], served: Path, dest: Path
):
    """A client that resets in the middle of a 64 MiB body is reported as reset with the hint and
    its descriptor is freed; other clients fetch while it stalls and after it is gone."""
    running = file_server()
    fds = open_fds()
    bad = socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S)
    try:
        conn = running.conn_of(local_of(bad))
        bad.sendall(b"big.bin")
        (length,) = struct.unpack("!I", recv_exactly(bad, 4))
        recv_exactly(bad, length + 65536)  # the header and the first 64 KiB of the body
        during = fetch_small(running.addr.port, dest)
    finally:
        abort(bad)
    closed = running.log.wait_for(Closed, conn=conn)[0]
    wait_until(lambda: open_fds() == fds, "the server to free the reset connection")
    (dest / "small.txt").unlink()
    after = fetch_small(running.addr.port, dest)
    assert closed.reason is CloseReason.RESET
    assert isinstance(closed.error, ConnectionReset) and RESET_HINT in closed.error.hint
    assert during == after == (served / "small.txt").read_bytes()


def fetch_small(port: int, dest: Path) -> bytes:
    """Fetch small.txt with a well-behaved client; its bytes."""
    client = FetchClient("127.0.0.1", port, dest, timeout=WAIT_S)
    try:
        client.connect()
        result = client.fetch("small.txt")
    finally:
        client.close()
    return result.path.read_bytes()

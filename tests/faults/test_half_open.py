"""Half-open connections: a peer that vanishes without FIN or RST (a crashed machine, a pulled
cable). Each test makes its own network namespace, sets the connection up over that namespace's
loopback, then has nftables drop every packet of that connection there: neither end hears from the
other again. (A SIGSTOPped peer would not do: its kernel still acknowledges, so it is alive but
silent, which the silent-server tests cover.) Our side must free the connection within the limit
meant for that case: TCP keepalive for the echo server's idle connections, the file server's idle
timeout, the clients' reply timeouts."""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path

import pytest

from netcore.engines.filefetch import FetchClient, FileServer
from netcore.engines.tcp_echo import TcpEchoClient, TcpEchoServer
from netcore.errors import TimedOut
from netcore.model.events import Closed, CloseReason, Connected
from tests.faults.support import Namespace, wait_until
from tests.netcore.support import WAIT_S, EngineThreads, Running, local_of, recv_exactly

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

DEAD_PEER_S = 1.5  # the echo server's dead-peer timeout here (keepalive probes every 1 s)
IDLE_S = 1.0  # the file server's idle timeout here
REPLY_S = 0.5  # the clients' reply timeout here
LATE_S = 1.0  # how much later than its limit a side may give up (keepalive works in whole seconds)


def test_tcp_echo_server_drops_a_vanished_peer_by_keepalive_and_keeps_an_idle_live_one(
    open_fds, netns: Namespace, engines: EngineThreads, record_property
):
    """A raw-mode client that vanishes is closed with TimedOut about 1.5 s after it last answered
    and its descriptor freed; an idle client whose kernel still answers stays connected and served."""
    server = TcpEchoServer("127.0.0.1", 0, dead_peer_timeout=DEAD_PEER_S)
    with netns.inside():
        addr = server.bind()
        vanishing = socket.create_connection(("127.0.0.1", addr.port), timeout=WAIT_S)
        idle = socket.create_connection(("127.0.0.1", addr.port), timeout=WAIT_S)
    try:
        running = Running(server, *engines.start(server, "half-open-echo-server"))
        gone = running.conn_of(local_of(vanishing))
        for sock in (vanishing, idle):
            sock.sendall(b"hello")
            assert recv_exactly(sock, 5) == b"hello"
        fds = open_fds()
        netns.vanish(vanishing.getsockname()[1])
        vanished = time.monotonic()
        closed = running.log.wait_for(Closed, conn=gone, timeout=DEAD_PEER_S + WAIT_S)[0]
        dropped = time.monotonic() - vanished
        wait_until(lambda: open_fds() == fds - 1 and server.client_count == 1, "the server to free it")
        idle.sendall(b"still here")
        assert recv_exactly(idle, 10) == b"still here"
    finally:
        vanishing.close()
        idle.close()
    assert closed.reason is CloseReason.ERROR
    assert isinstance(closed.error, TimedOut)
    assert f"timed out after {DEAD_PEER_S:g} s" in closed.error.summary and closed.error.hint
    assert DEAD_PEER_S - 0.1 <= dropped <= DEAD_PEER_S + LATE_S, dropped
    record_property("vanished peer dropped after (s)", f"{dropped:.2f}")


def test_tcp_echo_client_request_times_out_when_the_server_vanishes(
    open_fds, netns: Namespace, engines: EngineThreads, record_property
):
    """request() to a server that vanished raises TimedOut with its hint within its timeout, and
    close() frees every descriptor."""
    server = TcpEchoServer("127.0.0.1", 0, framing="length4")
    with netns.inside():
        addr = server.bind()
    running = Running(server, *engines.start(server, "half-open-echo-server"))
    client_fds = open_fds()
    with netns.inside():
        client = TcpEchoClient("127.0.0.1", addr.port, "length4", timeout=REPLY_S)
        client.connect()
    try:
        running.log.wait_for(Connected)
        client.request(b"before")
        assert client.stream is not None
        netns.vanish(int(client.stream.local.rsplit(":", 1)[1]))
        start = time.monotonic()
        with pytest.raises(TimedOut) as info:
            client.request(b"after")
        elapsed = time.monotonic() - start
    finally:
        client.close()
    assert REPLY_S - 0.01 <= elapsed <= REPLY_S + LATE_S, elapsed
    assert info.value.hint.startswith("No answer from")
    assert open_fds() == client_fds + 1  # the server's end, which its own dead-peer timeout frees
    record_property("gave up after (s)", f"{elapsed:.2f}")


def test_file_server_frees_a_client_that_vanishes_mid_body_within_its_idle_timeout(
    open_fds, netns: Namespace, engines: EngineThreads, served: Path, record_property
):
    """A client that vanishes in the middle of a 64 MiB body is closed with TimedOut (sending made
    no progress) about 1 s later and its descriptor freed."""
    server = FileServer(served, "127.0.0.1", 0, idle_timeout=IDLE_S)
    with netns.inside():
        addr = server.bind()
        client = socket.create_connection(("127.0.0.1", addr.port), timeout=WAIT_S)
    try:
        running = Running(server, *engines.start(server, "half-open-file-server"))
        conn = running.conn_of(local_of(client))
        client.sendall(b"big.bin")
        (length,) = struct.unpack("!I", recv_exactly(client, 4))
        recv_exactly(client, length + 65536)
        fds = open_fds()
        netns.vanish(client.getsockname()[1])
        vanished = time.monotonic()
        closed = running.log.wait_for(Closed, conn=conn, timeout=IDLE_S + WAIT_S)[0]
        freed = time.monotonic() - vanished
        wait_until(lambda: open_fds() == fds - 2, "the server to free the socket and the file it sent")
    finally:
        client.close()
    assert closed.reason is CloseReason.LOCAL
    assert isinstance(closed.error, TimedOut)
    assert "send to" in closed.error.summary and f"timed out after {IDLE_S:g} s" in closed.error.summary
    assert IDLE_S - 0.1 <= freed <= IDLE_S + LATE_S, freed
    record_property("vanished client freed after (s)", f"{freed:.2f}")


def test_fetch_client_times_out_when_the_server_vanishes_mid_body(
    netns: Namespace, engines: EngineThreads, served: Path, dest: Path, record_property
):
    """A file server that vanishes mid-body: fetch() raises TimedOut with its hint once the bytes
    already received are read and no more come within its timeout, and leaves no file."""
    server = FileServer(served, "127.0.0.1", 0)
    vanished: list[float] = []
    with netns.inside():
        addr = server.bind()
        client = FetchClient("127.0.0.1", addr.port, dest, timeout=REPLY_S)
        client.connect()

    def vanish_once(_done: int, _total: int) -> None:
        if not vanished and client.sock is not None:
            netns.vanish(client.sock.getsockname()[1])
            vanished.append(time.monotonic())

    try:
        engines.start(server, "half-open-file-server")
        with pytest.raises(TimedOut) as info:
            client.fetch("big.bin", vanish_once)
        elapsed = time.monotonic() - vanished[0]
        assert client.sock is None
    finally:
        client.close()
    assert REPLY_S - 0.01 <= elapsed <= REPLY_S + LATE_S, elapsed
    assert info.value.hint.startswith("No answer from")
    assert list(dest.iterdir()) == []
    record_property("gave up after (s)", f"{elapsed:.2f}")

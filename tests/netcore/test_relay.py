"""The re-chunking relay (netcore.engines.relay) between real clients and our TCP echo server: framed
protocols survive any chunking, a client that takes one recv() for one message does not.

Network rules: only 127.0.0.1, port 0 or a port held by a socket of ours, every loop bounded in
count and time, every server, relay, thread and socket released in a finally or a fixture.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from netcore.engines.relay import ChunkPlan, RechunkRelay
from netcore.engines.tcp_echo import TcpEchoClient, TcpEchoServer
from netcore.errors import ConnectionRefused, InputError, format_endpoint
from netcore.model.events import Closed, CloseReason, Connected, Failed, Stopped, Traffic
from netcore.model.traffic import Direction
from netcore.protocols.address import Address
from tests.netcore.support import WAIT_S, EngineThreads, EventLog, client_sockets, recv_exactly

CHINESE = "你好，世界".encode()
MESSAGES = {
    "length4": [b"hello", b"", CHINESE, bytes(range(256)), b"x" * 300],
    "json": [b"hello", b"", CHINESE, b"{}\n", b"y" * 300],
    "line": [b"hello", b"", CHINESE, b"a\tb", b"z" * 300],
}


# -- helpers ------------------------------------------------------------------------------------
@dataclass
class Running:
    engine: TcpEchoServer | RechunkRelay
    addr: Address
    log: EventLog
    thread: threading.Thread


@pytest.fixture
def start() -> Iterator[Callable[[TcpEchoServer | RechunkRelay], Running]]:
    """Start echo servers and relays in threads; every one is stopped and joined at the end."""
    with EngineThreads() as engines:

        def run(engine: TcpEchoServer | RechunkRelay) -> Running:
            return Running(engine, *engines.start(engine, f"test-{type(engine).__name__}"))

        yield run


@pytest.fixture
def make_client() -> Iterator[Callable[..., TcpEchoClient]]:
    with contextlib.ExitStack() as stack:

        def make(port: int, framing: str) -> TcpEchoClient:
            client = TcpEchoClient("127.0.0.1", port, framing=framing, timeout=WAIT_S)
            stack.callback(client.close)
            client.connect()
            return client

        yield make


@pytest.fixture
def sockets() -> Iterator[Callable[..., socket.socket]]:
    """Plain blocking sockets (the course's client code), closed at the end of the test."""
    with client_sockets() as connect:
        yield connect


def relay_to(
    target: Running | int, chunks: str = "1", seed: int = 0, delay_s: float = 0.0, max_size: int = 64
) -> RechunkRelay:
    port = target if isinstance(target, int) else target.addr.port
    return RechunkRelay(f"127.0.0.1:{port}", ChunkPlan.parse(chunks, seed, delay_s, max_size))


def recv_until_eof(sock: socket.socket, limit: int = 1 << 20) -> bytes:
    buf = bytearray()
    while len(buf) < limit:
        data = sock.recv(65536)
        if not data:
            return bytes(buf)
        buf += data
    raise AssertionError(f"no end of stream after {limit} bytes")


def assert_contiguous(traffic: list[Traffic]) -> None:
    offset = 0
    for t in traffic:
        assert t.chunk.offset == offset, f"offset {t.chunk.offset}, expected {offset}"
        offset = t.chunk.end


def echo_through(client: TcpEchoClient, messages: list[bytes]) -> list[bytes]:
    """Each request gets exactly its reply: one frame, equal to the message."""
    replies = []
    for message in messages:
        _, events = client.request(message, timeout=WAIT_S)
        received = [e for e in events if isinstance(e, Traffic) and e.chunk.direction is Direction.RECEIVED]
        reply = [f for t in received for f in t.frames]
        assert len(reply) == 1, f"{message!r}: {len(reply)} reply frames: {reply}"
        replies.append(reply[0].payload)
    return replies


# -- framed protocols survive any chunking ------------------------------------------------------
@pytest.mark.parametrize("framing", ["length4", "line", "json"])
def test_framed_echo_through_a_one_byte_relay(start, make_client, framing):
    server = start(TcpEchoServer(framing=framing))
    relay = start(relay_to(server, "1"))
    client = make_client(relay.addr.port, framing)
    messages = MESSAGES[framing]
    assert echo_through(client, messages) == messages
    log = relay.log
    log.wait_stream(1, Direction.SENT, client.stream.rx_offset)  # the relay reports in batches
    up = log.wait_for(Connected, 2)
    assert up[0].peer == client.stream.local
    assert up[1].peer == str(server.addr)
    # every byte crossed the relay in its own send(), both ways
    to_server, to_client = log.chunks(2, Direction.SENT), log.chunks(1, Direction.SENT)
    assert to_server and to_client
    assert all(len(t.chunk.data) == 1 for t in to_server + to_client)
    # both directions are reported, with contiguous offsets, and nothing is lost or changed
    for conn in (1, 2):
        for direction in Direction:
            assert_contiguous(log.chunks(conn, direction))
    assert log.stream(1, Direction.RECEIVED) == log.stream(2, Direction.SENT)
    assert log.stream(2, Direction.RECEIVED) == log.stream(1, Direction.SENT)
    assert len(log.stream(1, Direction.RECEIVED)) == client.stream.tx_offset
    assert len(log.stream(1, Direction.SENT)) == client.stream.rx_offset


def test_framed_echo_through_a_slow_one_byte_relay(start, make_client):
    server = start(TcpEchoServer(framing="length4"))
    relay = start(relay_to(server, "1", delay_s=0.002))
    client = make_client(relay.addr.port, "length4")
    assert echo_through(client, [b"hello", b"world"]) == [b"hello", b"world"]


@pytest.mark.parametrize("chunks", ["3", "random"])
def test_other_chunk_sizes_keep_frames_whole(start, make_client, chunks):
    server = start(TcpEchoServer(framing="json"))
    relay = start(relay_to(server, chunks, max_size=7))
    client = make_client(relay.addr.port, "json")
    messages = MESSAGES["json"]
    assert echo_through(client, messages) == messages
    sizes = [len(t.chunk.data) for t in relay.log.chunks(2, Direction.SENT)]
    assert max(sizes) <= (3 if chunks == "3" else 7)
    if chunks == "3":
        assert 3 in sizes


def relayed_sizes(start, make_client, seed: int) -> tuple[list[int], list[int]]:
    """Chunk sizes of the relay's sent traffic, towards the server and towards the client."""
    server = start(TcpEchoServer(framing="length4"))
    relay = start(relay_to(server, "random", seed=seed, max_size=16))
    client = make_client(relay.addr.port, "length4")
    messages = [bytes([65 + i]) * (50 + 17 * i) for i in range(6)]
    assert echo_through(client, messages) == messages
    log = relay.log
    total = sum(4 + len(m) for m in messages)
    log.wait_stream(1, Direction.SENT, total)
    to_server = [len(t.chunk.data) for t in log.chunks(2, Direction.SENT)]
    to_client = [len(t.chunk.data) for t in log.chunks(1, Direction.SENT)]
    assert sum(to_server) == sum(to_client) == total
    assert all(1 <= n <= 16 for n in to_server + to_client)
    return to_server, to_client


def test_random_chunk_sizes_replay_from_the_seed(start, make_client):
    first = relayed_sizes(start, make_client, seed=7)
    again = relayed_sizes(start, make_client, seed=7)
    other = relayed_sizes(start, make_client, seed=8)
    print(f"seed 7: {first[0][:12]}…  seed 8: {other[0][:12]}…")
    assert first == again
    assert first[0] != other[0] and first[1] != other[1]
    assert first[0] != first[1]  # each direction has its own sequence
    assert len(set(first[0])) > 3


def test_chunk_plan_bad_input():
    for text in ("0", "-1", "abc", "", "1.5"):
        with pytest.raises(InputError, match="chunks must be a size in bytes"):
            ChunkPlan.parse(text)
    with pytest.raises(InputError, match="at least 1 byte"):
        ChunkPlan.parse("random", max_size=0)
    assert ChunkPlan.parse("10").size == 10
    assert ChunkPlan.parse("random", seed=3).size is None


# -- a client that takes one recv() for one message breaks ----------------------------------------
def test_one_recv_is_not_one_message(start, sockets):
    server = start(TcpEchoServer())
    relay = start(relay_to(server, "1", delay_s=0.02))
    sock = sockets(relay.addr)
    sock.sendall(b"Hello")
    first = sock.recv(1024)  # the course's naive client: one recv(), assumed to be the whole reply
    print(f"one recv() through a 1-byte relay returned {first!r} of b'Hello'")
    assert 1 <= len(first) < 5 and b"Hello".startswith(first)
    rest = recv_exactly(sock, 5 - len(first))
    assert first + rest == b"Hello"


# -- connection lifetime ------------------------------------------------------------------------
def test_half_close_passes_through(start, sockets):
    server = start(TcpEchoServer())
    relay = start(relay_to(server, "1"))
    sock = sockets(relay.addr)
    sock.sendall(b"bye")
    sock.shutdown(socket.SHUT_WR)
    assert recv_until_eof(sock) == b"bye"  # the reply, then the end of stream
    server_closed = server.log.wait_for(Closed)
    assert server_closed[0].reason is CloseReason.PEER_CLOSED  # the server saw our EOF
    closed = relay.log.wait_for(Closed, 2)
    assert {c.conn for c in closed} == {1, 2}
    assert all(c.reason is CloseReason.PEER_CLOSED for c in closed)
    assert relay.log.stream(2, Direction.SENT) == b"bye"
    assert relay.log.stream(1, Direction.SENT) == b"bye"


def test_nothing_listening_behind_the_relay(start, sockets):
    with socket.socket() as held:  # bound but not listening: connections to it are refused
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        relay = start(relay_to(port, "1"))
        first = sockets(relay.addr)
        failed = relay.log.wait_for(Failed)[0]
        assert isinstance(failed.error, ConnectionRefused)
        assert f"Nothing is listening on 127.0.0.1:{port}" in failed.error.describe()
        with contextlib.suppress(ConnectionResetError):
            assert recv_until_eof(first) == b""  # the relay closed the client it could not serve
        # the relay keeps serving: once something listens, the next client gets through
        held.listen(1)
        held.settimeout(WAIT_S)
        second = sockets(relay.addr)
        second.sendall(b"ping")
        peer, _ = held.accept()
        with peer:
            peer.settimeout(WAIT_S)
            assert recv_exactly(peer, 4) == b"ping"
            peer.sendall(b"pong")
            assert recv_exactly(second, 4) == b"pong"
        assert len(relay.log.wait_for(Failed)) == 1
        assert relay.thread.is_alive()


def test_stop_is_prompt_with_clients_and_bytes_pending(start, sockets):
    server = start(TcpEchoServer())
    relay = start(relay_to(server, "1", delay_s=1.0))
    sock = sockets(relay.addr)
    sock.sendall(b"x" * 1000)  # would take 1,000 s to pass through
    relay.log.wait_stream(1, Direction.RECEIVED, 1000)
    started = time.monotonic()
    relay.engine.join(WAIT_S)
    took = time.monotonic() - started
    assert not relay.thread.is_alive()
    assert took < 0.5, f"stop took {took:.3f} s"
    assert isinstance(relay.log.events[-1], Stopped)
    with contextlib.suppress(ConnectionResetError):
        assert recv_until_eof(sock) in (b"", b"x")  # at most the echo of the one byte let through
    with pytest.raises(ConnectionRefusedError):  # the port is released
        socket.create_connection((relay.addr.host, relay.addr.port), timeout=WAIT_S).close()


def test_peers_are_reported(start, sockets):
    server = start(TcpEchoServer())
    relay = start(relay_to(server, "1"))
    sock = sockets(relay.addr)
    sock.sendall(b"hi")
    relay.log.wait_stream(1, Direction.SENT, 2)
    assert recv_exactly(sock, 2) == b"hi"
    [client_side] = [t.chunk for t in relay.log.chunks(1, Direction.RECEIVED)]
    assert client_side.peer == format_endpoint(*sock.getsockname()[:2])
    assert {t.chunk.peer for t in relay.log.chunks(2, Direction.SENT)} == {str(server.addr)}


def test_a_reset_names_the_peer_that_reset(start, sockets):
    with socket.socket() as target:
        target.bind(("127.0.0.1", 0))
        target.listen(1)
        target.settimeout(WAIT_S)
        port = target.getsockname()[1]
        relay = start(relay_to(port, "1"))
        client = sockets(relay.addr)
        client.sendall(b"ping")
        peer, _ = target.accept()
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        peer.close()  # linger 0: an RST instead of a FIN
        failed = relay.log.wait_for(Failed)[0]
        assert f"connection with 127.0.0.1:{port} was reset" in failed.error.describe()

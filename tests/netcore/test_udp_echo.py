"""Real loopback tests of the UDP echo server and client (netcore.engines.udp_echo).

Network rules: only 127.0.0.1 / ::1, port 0 (or a port just found free for the 'nothing listens
there' tests), every loop bounded in count and time, every server, thread and socket released in a
finally or a fixture. The probe statistics are checked against a deliberately faulty echo server
written here, which drops, duplicates, reorders and delays chosen sequence numbers.
"""

from __future__ import annotations

import contextlib
import heapq
import selectors
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from netcore.engines.serving import ReplyMode
from netcore.engines.udp_echo import (
    MAX_PAYLOAD_IPV4,
    MAX_PAYLOAD_IPV6,
    MTU_PAYLOAD,
    UdpEchoClient,
    UdpEchoServer,
    check_datagram_size,
)
from netcore.errors import InputError, LocalProtocolError, NoUdpReply, PortUnreachable, format_endpoint
from netcore.model.events import (
    Connected,
    Event,
    Failed,
    LargeDatagram,
    ProbeFinished,
    ProbeReply,
    Stopped,
    Traffic,
    Truncated,
)
from netcore.model.traffic import Direction
from netcore.protocols.probe import ReplyStatus, decode_probe
from tests.netcore.support import (
    WAIT_S,
    EngineThreads,
    EventLog,
    Running,
    ipv6_loopback_works,
    lane,
    pump_until,
)

SHORT_S = 0.3  # a reply timeout for replies that must not come


# -- helpers ------------------------------------------------------------------------------------
@pytest.fixture
def start_server() -> Iterator[Callable[..., Running]]:
    """Start UdpEchoServers in threads; every one is stopped and joined at the end."""
    with EngineThreads("a server thread") as engines:

        def start(host: str = "127.0.0.1", **kwargs: object) -> Running:
            server = UdpEchoServer(host, 0, **kwargs)  # type: ignore[arg-type]
            return Running(server, *engines.start(server, "test-udp-server"))

        yield start


@pytest.fixture
def make_client() -> Iterator[Callable[..., UdpEchoClient]]:
    """UdpEchoClients that are closed at the end of the test."""
    with contextlib.ExitStack() as stack:

        def make(host: str, port: int, timeout: float = 2.0, **kwargs: object) -> UdpEchoClient:
            client = UdpEchoClient(host, port, timeout=timeout, **kwargs)  # type: ignore[arg-type]
            stack.callback(client.close)
            return client

        yield make


def closed_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port that nothing listens on (found free, then released)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


# -- replies ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "prefix", "payload", "expected"),
    [
        ("echo", b"", b"hello udp", b"hello udp"),
        ("echo", b"", bytes(range(256)), bytes(range(256))),
        ("upper", b"", "hello 你好 world".encode(), "HELLO 你好 WORLD".encode()),
        ("prefix", b"echo: ", b"abc", b"echo: abc"),
    ],
)
def test_reply_modes(start_server, make_client, mode, prefix, payload, expected):
    srv = start_server(mode=mode, prefix=prefix)
    client = make_client(srv.addr.host, srv.addr.port)
    reply, events = client.request(payload)
    assert reply.chunk.data == expected
    assert reply.chunk.direction is Direction.RECEIVED
    assert reply.chunk.peer == format_endpoint(srv.addr.host, srv.addr.port)
    assert [f.payload for f in reply.frames] == [expected]
    sent = lane(events, Direction.SENT)
    assert [t.chunk.data for t in sent] == [payload]
    assert not any(isinstance(e, LargeDatagram | Truncated) for e in events)
    received = srv.log.wait_for(Traffic, 2)  # the request, then the reply
    assert [t.chunk.direction for t in received] == [Direction.RECEIVED, Direction.SENT]
    assert [t.chunk.data for t in received] == [payload, expected]


def test_empty_datagram_round_trip(start_server, make_client):
    """An empty datagram is a real datagram (unlike an empty TCP send, which sends nothing)."""
    srv = start_server()
    client = make_client(srv.addr.host, srv.addr.port)
    reply, _ = client.request(b"")
    assert reply.chunk.data == b""
    assert len(reply.frames) == 1 and reply.frames[0].payload == b""
    server_rx = lane(srv.log.wait_for(Traffic, 2), Direction.RECEIVED)
    assert [t.chunk.data for t in server_rx] == [b""]
    reply, _ = client.request(b"after")  # and the stream offsets are not confused by it
    assert reply.chunk.data == b"after" and reply.chunk.offset == 0 and reply.frames[0].index == 1


def test_largest_ipv4_datagram_round_trip(start_server, make_client):
    srv = start_server()
    client = make_client(srv.addr.host, srv.addr.port)
    payload = bytes(i % 251 for i in range(MAX_PAYLOAD_IPV4))
    assert len(payload) == 65_507
    reply, events = client.request(payload)
    assert reply.chunk.data == payload
    assert [e.size for e in events if isinstance(e, LargeDatagram)] == [65_507]
    assert not any(isinstance(e, Truncated) for e in events)


def test_one_byte_too_many_is_refused_before_sending(start_server, make_client):
    srv = start_server()
    client = make_client(srv.addr.host, srv.addr.port, timeout=SHORT_S)
    with pytest.raises(LocalProtocolError) as info:
        client.request(b"x" * (MAX_PAYLOAD_IPV4 + 1))
    message = str(info.value)
    assert "65,508 bytes" in message and "65,507" in message
    assert "65,535 − 20 (IP header) − 8 (UDP header)" in message
    assert "local mistake" in info.value.hint
    # Nothing left this side...
    assert lane(client.pump(0.05), Direction.SENT) == []
    # ...and nothing arrived at the server: the next datagram, answered, is the first it saw (one
    # sent before would have arrived before it, not after its whole round trip).
    reply, _ = client.request(b"small")
    assert reply.chunk.data == b"small"
    assert [t.chunk.data for t in lane(srv.log.wait_for(Traffic, 2), Direction.RECEIVED)] == [b"small"]


def test_check_datagram_size_limits():
    check_datagram_size(MAX_PAYLOAD_IPV4)
    check_datagram_size(MAX_PAYLOAD_IPV6, ipv6=True)
    check_datagram_size(MAX_PAYLOAD_IPV4 + 1, ipv6=True)
    with pytest.raises(LocalProtocolError, match="over IPv4: the maximum is 65,507"):
        check_datagram_size(MAX_PAYLOAD_IPV4 + 1)
    with pytest.raises(LocalProtocolError, match=r"over IPv6: the maximum is 65,527 = 65,535 − 8 \(UDP"):
        check_datagram_size(MAX_PAYLOAD_IPV6 + 1, ipv6=True)


def test_large_datagram_note_above_the_mtu_payload_only(start_server, make_client):
    srv = start_server()
    client = make_client(srv.addr.host, srv.addr.port)
    _, at_mtu = client.request(b"m" * MTU_PAYLOAD)
    assert not any(isinstance(e, LargeDatagram) for e in at_mtu)
    reply, over = client.request(b"m" * (MTU_PAYLOAD + 1))
    assert reply.chunk.data == b"m" * 1_473
    assert [e for e in over if isinstance(e, LargeDatagram)] == [LargeDatagram(1, 1_473)]


# -- truncation ---------------------------------------------------------------------------------
def test_server_with_small_buffer_truncates_and_echoes_what_it_kept(start_server, make_client):
    srv = start_server(recv_size=10)
    client = make_client(srv.addr.host, srv.addr.port)
    reply, _ = client.request(b"0123456789abcdef")
    assert reply.chunk.data == b"0123456789"
    [truncated] = srv.log.wait_for(Truncated)
    assert (truncated.conn, truncated.kept, truncated.size) == (1, 10, 16)
    assert truncated.peer == srv.log.of(Connected)[0].peer
    # The rest is gone for good: the next datagram starts fresh.
    reply, _ = client.request(b"short")
    assert reply.chunk.data == b"short"
    assert len(srv.log.of(Truncated)) == 1


def test_client_with_small_buffer_sees_the_reply_truncated(start_server, make_client):
    srv = start_server()
    client = make_client(srv.addr.host, srv.addr.port, recv_size=8)
    reply, events = client.request(b"ABCDEFGHIJKLMNOP")
    assert reply.chunk.data == b"ABCDEFGH"
    truncated = [e for e in events if isinstance(e, Truncated)]
    assert [(t.kept, t.size) for t in truncated] == [(8, 16)]
    assert truncated[0].peer == format_endpoint(srv.addr.host, srv.addr.port)
    [server_tx] = lane(srv.log.wait_for(Traffic, 2), Direction.SENT)
    assert server_tx.chunk.data == b"ABCDEFGHIJKLMNOP"  # the server sent it all


@pytest.mark.parametrize("recv_size", [0, 65_536])
def test_receive_buffer_size_is_checked(recv_size):
    with pytest.raises(InputError, match="receive buffer"):
        UdpEchoServer("127.0.0.1", 0, recv_size=recv_size)
    with pytest.raises(InputError, match="receive buffer"):
        UdpEchoClient("127.0.0.1", 9, recv_size=recv_size)


# -- no server: timeout vs port unreachable -----------------------------------------------------
def test_unconnected_client_times_out_when_nothing_listens(make_client):
    port = closed_udp_port()
    client = make_client("127.0.0.1", port, timeout=SHORT_S, connected=False)
    t0 = time.monotonic()
    with pytest.raises(NoUdpReply) as info:
        client.request(b"anyone?")
    elapsed = time.monotonic() - t0
    assert SHORT_S * 0.9 <= elapsed < SHORT_S + 1.0
    assert not isinstance(info.value, PortUnreachable)
    assert info.value.summary == f"no reply from 127.0.0.1:{port} within 0.3 s"
    assert "plain UDP cannot tell" in info.value.hint and "port unreachable" in info.value.hint


def test_connected_client_reports_port_unreachable(make_client):
    port = closed_udp_port()
    client = make_client("127.0.0.1", port, timeout=WAIT_S, connected=True)
    t0 = time.monotonic()
    with pytest.raises(PortUnreachable) as info:
        client.request(b"anyone?")
    assert time.monotonic() - t0 < 1.0  # the ICMP error comes at once, long before the timeout
    assert not isinstance(info.value, NoUdpReply)
    assert info.value.summary == f"127.0.0.1:{port} answered with ICMP 'port unreachable'"
    assert "start the UDP server first" in info.value.hint
    assert type(info.value).hint_template != NoUdpReply.hint_template


def test_connected_client_works_with_a_server(start_server, make_client):
    srv = start_server(mode="upper")
    client = make_client(srv.addr.host, srv.addr.port, connected=True)
    reply, _ = client.request(b"connected")
    assert reply.chunk.data == b"CONNECTED"
    assert client.local.startswith("127.0.0.1:")
    assert srv.log.wait_for(Connected)[0].peer == client.local


# -- IPv6 ---------------------------------------------------------------------------------------
@pytest.mark.skipif(not ipv6_loopback_works(), reason="IPv6 loopback (::1) is not available here")
def test_ipv6_loopback(start_server, make_client):
    srv = start_server("::1", mode="upper")
    assert srv.addr.host == "::1"
    client = make_client("::1", srv.addr.port)
    reply, _ = client.request(b"over ipv6")
    assert reply.chunk.data == b"OVER IPV6"
    assert reply.chunk.peer == f"[::1]:{srv.addr.port}"
    assert srv.log.wait_for(Connected)[0].peer.startswith("[::1]:")
    assert client.ipv6
    # The IPv6 limit counts no IP header: 65,527 bytes fit, 65,528 do not.
    reply, _ = client.request(b"6" * MAX_PAYLOAD_IPV6)
    assert len(reply.chunk.data) == 65_527
    with pytest.raises(LocalProtocolError, match="65,527"):
        client.send(b"6" * (MAX_PAYLOAD_IPV6 + 1))


# -- datagram boundaries and many peers ---------------------------------------------------------
def test_datagram_boundaries_are_preserved(start_server, make_client):
    """50 datagrams sent back to back come back as 50 datagrams of the same sizes, never merged."""
    srv = start_server()
    client = make_client(srv.addr.host, srv.addr.port)
    sizes = [1 + 29 * i for i in range(50)]  # 1 .. 1,422 bytes, all distinct
    payloads = [bytes([65 + i % 26]) * size for i, size in enumerate(sizes)]
    for payload in payloads:
        client.send(payload)
    # The sends' own events come out of the first pump, with the replies.
    events = pump_until(client, lambda evs: len(lane(evs, Direction.RECEIVED)) >= len(payloads))
    received = lane(events, Direction.RECEIVED)
    assert [t.chunk.data for t in received] == payloads
    assert_one_frame_each_contiguous(lane(events, Direction.SENT), sizes)
    assert_one_frame_each_contiguous(received, sizes)
    server_events = srv.log.wait_for(Traffic, 2 * len(payloads))
    assert_one_frame_each_contiguous(lane(server_events, Direction.RECEIVED), sizes)
    assert_one_frame_each_contiguous(lane(server_events, Direction.SENT), sizes)


def assert_one_frame_each_contiguous(traffic: list[Traffic], sizes: list[int]) -> None:
    assert [len(t.chunk.data) for t in traffic] == sizes
    offset = 0
    for index, t in enumerate(traffic):
        assert t.chunk.offset == offset
        [frame] = t.frames
        assert frame.index == index
        assert frame.start == frame.payload_start == offset
        assert frame.payload_end == frame.end == t.chunk.end == offset + len(t.chunk.data)
        assert frame.payload == t.chunk.data
        offset = t.chunk.end


def test_client_reports_its_sends_with_contiguous_offsets(start_server, make_client):
    srv = start_server()
    client = make_client(srv.addr.host, srv.addr.port)
    sizes = [3, 0, 1000, 7]
    events: list[Event] = []
    for size in sizes:
        _, new = client.request(b"s" * size)
        events += new
    assert_one_frame_each_contiguous(lane(events, Direction.SENT), sizes)
    assert_one_frame_each_contiguous(lane(events, Direction.RECEIVED), sizes)


def test_many_peers_get_their_own_replies(start_server):
    srv = start_server(mode="upper")
    with contextlib.ExitStack() as stack:
        peers = []
        for _ in range(50):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(WAIT_S)
            peers.append(sock)
        for round_ in range(2):
            for i, sock in enumerate(peers):
                sock.sendto(b"peer %d round %d" % (i, round_), (srv.addr.host, srv.addr.port))
            for i, sock in enumerate(peers):
                data, addr = sock.recvfrom(100)
                assert data == b"PEER %d ROUND %d" % (i, round_)
                assert addr == (srv.addr.host, srv.addr.port)
        endpoints = [format_endpoint(*s.getsockname()[:2]) for s in peers]
    srv.log.wait_until(lambda evs: len(lane(evs, Direction.SENT)) >= 100, what="100 replies")
    connected = srv.log.of(Connected)
    assert len(connected) == 50  # one per new peer, none for a peer's second datagram
    assert sorted(c.conn for c in connected) == list(range(1, 51))
    assert {c.peer for c in connected} == set(endpoints)
    assert all(c.local == str(srv.addr) for c in connected)
    by_conn = {c.conn: c.peer for c in connected}
    events = srv.log.events
    for conn, peer in by_conn.items():
        i = endpoints.index(peer)
        rx = lane(events, Direction.RECEIVED, conn)
        assert [t.chunk.data for t in rx] == [b"peer %d round 0" % i, b"peer %d round 1" % i]
        assert all(t.chunk.peer == peer for t in rx)
        assert [t.chunk.offset for t in rx] == [0, len(rx[0].chunk.data)]


# -- manual mode and a server that keeps going --------------------------------------------------
def test_manual_mode_replies_only_when_told(start_server, make_client):
    srv = start_server(mode=ReplyMode.MANUAL)
    client = make_client(srv.addr.host, srv.addr.port, timeout=SHORT_S, connected=True)
    with pytest.raises(NoUdpReply):
        client.request(b"hello operator")
    [connected] = srv.log.wait_for(Connected)
    assert connected.peer == client.local
    assert [t.chunk.data for t in lane(srv.log.events, Direction.RECEIVED)] == [b"hello operator"]
    assert lane(srv.log.events, Direction.SENT) == []
    srv.server.send_to(connected.conn, b"typed reply 1")
    srv.server.send_to(connected.conn, b"typed reply 2")
    events = pump_until(client, lambda evs: len(lane(evs, Direction.RECEIVED)) >= 2)
    assert [t.chunk.data for t in lane(events, Direction.RECEIVED)] == [b"typed reply 1", b"typed reply 2"]
    srv.server.send_to(99, b"to nobody")
    [failed] = srv.log.wait_for(Failed)
    assert isinstance(failed.error, InputError) and failed.conn == 99
    assert "no datagram has come from peer #99" in str(failed.error)


def test_server_keeps_serving_after_a_reply_too_big_to_send(start_server, make_client):
    srv = start_server(mode="prefix", prefix=b"P" * 100)
    client = make_client(srv.addr.host, srv.addr.port, timeout=SHORT_S)
    with pytest.raises(NoUdpReply):  # 65,450 + 100 bytes cannot go back in one datagram
        client.request(b"q" * 65_450)
    [failed] = srv.log.wait_for(Failed)
    assert isinstance(failed.error, LocalProtocolError) and failed.conn == 1
    assert "65,550 bytes do not fit" in str(failed.error)
    reply, _ = client.request(b"still there?")
    assert reply.chunk.data == b"P" * 100 + b"still there?"
    assert len(srv.log.of(Failed)) == 1


def test_manual_send_too_big_is_reported_and_serving_goes_on(start_server, make_client):
    srv = start_server(mode="manual")
    client = make_client(srv.addr.host, srv.addr.port, timeout=SHORT_S)
    client.send(b"hi")
    [connected] = srv.log.wait_for(Connected)
    srv.server.send_to(connected.conn, b"z" * (MAX_PAYLOAD_IPV4 + 1))
    [failed] = srv.log.wait_for(Failed)
    assert isinstance(failed.error, LocalProtocolError)
    srv.server.send_to(connected.conn, b"fits")
    events = pump_until(client, lambda evs: len(lane(evs, Direction.RECEIVED)) >= 1)
    assert [t.chunk.data for t in lane(events, Direction.RECEIVED)] == [b"fits"]


# -- lifetime -----------------------------------------------------------------------------------
def test_stop_is_prompt_and_releases_the_port(start_server, make_client):
    srv = start_server()
    client = make_client(srv.addr.host, srv.addr.port)
    client.request(b"warm")
    t0 = time.monotonic()
    srv.server.join(WAIT_S)
    assert time.monotonic() - t0 < 1.0
    assert not srv.thread.is_alive()
    assert isinstance(srv.log.events[-1], Stopped)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:  # no SO_REUSEADDR needed
        again.bind((srv.addr.host, srv.addr.port))
    again_server = UdpEchoServer(srv.addr.host, srv.addr.port)
    log = EventLog()
    assert again_server.bind().port == srv.addr.port
    again_server.start_thread(log.sink)
    try:
        reply, _ = client.request(b"second life")
        assert reply.chunk.data == b"second life"
    finally:
        again_server.join(WAIT_S)
    assert isinstance(log.events[-1], Stopped)


def test_threaded_client_submit_and_probe(start_server):
    """The GUI's way: the client runs in its own thread and is driven by submit()/submit_probe()."""
    srv = start_server(mode="upper")
    client = UdpEchoClient(srv.addr.host, srv.addr.port, timeout=1.0)
    log = EventLog()
    thread = client.start_thread(log.sink, name="test-udp-client")
    try:
        client.submit(b"from a thread")
        log.wait_until(lambda evs: len(lane(evs, Direction.RECEIVED)) >= 1, what="the reply")
        client.submit(b"x" * (MAX_PAYLOAD_IPV4 + 1))
        [failed] = log.wait_for(Failed)
        assert isinstance(failed.error, LocalProtocolError)
        client.submit_probe(10, 0.005, 64)
        [finished] = log.wait_for(ProbeFinished)
        assert (finished.stats.sent, finished.stats.received, finished.stats.lost) == (10, 10, 0)
        assert [e.seq for e in log.of(ProbeReply)] == list(range(10))
    finally:
        client.join(WAIT_S)
    assert not thread.is_alive()
    assert isinstance(log.events[-1], Stopped)
    replies = [t.chunk.data for t in lane(log.events, Direction.RECEIVED)]
    assert replies[0] == b"FROM A THREAD" and len(replies) == 1 + 10


# -- probes -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("mode", "size"), [("echo", 34), ("upper", 200), ("prefix", 1_473)])
def test_probe_against_our_server(start_server, make_client, mode, size):
    srv = start_server(mode=mode, prefix=b"echo: ")
    client = make_client(srv.addr.host, srv.addr.port, timeout=1.0)
    stats, events = client.probe(20, 0.002, size)
    assert (stats.sent, stats.received, stats.lost, stats.late, stats.pending) == (20, 20, 0, 0, 0)
    assert (stats.duplicates, stats.reordered, stats.unknown) == (0, 0, 0)
    assert stats.rtt_min_ms is not None and stats.rtt_p99_ms is not None and stats.rtt_max_ms is not None
    assert 0 < stats.rtt_min_ms <= stats.rtt_p99_ms <= stats.rtt_max_ms < 1000
    assert [e.seq for e in events if isinstance(e, ProbeReply)] == list(range(20))
    assert len([e for e in events if isinstance(e, LargeDatagram)]) == (20 if size > MTU_PAYLOAD else 0)


def test_probe_size_is_checked_before_sending(make_client):
    client = make_client("127.0.0.1", closed_udp_port())
    with pytest.raises(LocalProtocolError, match="at least 34 bytes"):
        client.probe(3, 0.01, 33)
    with pytest.raises(LocalProtocolError, match="65,507"):
        client.probe(3, 0.01, MAX_PAYLOAD_IPV4 + 1)
    with pytest.raises(InputError):
        client.probe(0, 0.01)
    assert client.sock is None  # nothing was opened, so nothing was sent


@dataclass
class FaultPlan:
    """What the faulty server does to each sequence number."""

    drop: frozenset[int] = frozenset()
    duplicate: frozenset[int] = frozenset()
    hold_until: dict[int, int] = field(default_factory=dict)  # seq -> send it right after this seq
    late: dict[int, float] = field(default_factory=dict)  # seq -> reply after this many seconds
    stray_after: frozenset[int] = frozenset()  # also send a datagram that is not a probe


class FaultyEchoServer:
    """A small UDP echo loop in a thread that misbehaves on purpose, as told by a FaultPlan."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = int(self.sock.getsockname()[1])
        self.seen: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="faulty-udp-server", daemon=True)

    def __enter__(self) -> FaultyEchoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(WAIT_S)
        self.sock.close()
        assert not self._thread.is_alive()

    def _run(self) -> None:
        held: dict[int, tuple[bytes, object]] = {}
        delayed: list[tuple[float, int, bytes, object]] = []  # heap of (due, seq, data, addr)
        deadline = time.monotonic() + 30  # never outlive a test by much, whatever happens
        with selectors.DefaultSelector() as sel:
            sel.register(self.sock, selectors.EVENT_READ)
            while not self._stop.is_set() and time.monotonic() < deadline:
                wait = 0.01 if not delayed else max(0.0, min(0.01, delayed[0][0] - time.monotonic()))
                if sel.select(wait):
                    for _ in range(64):
                        try:
                            data, addr = self.sock.recvfrom(65_535)
                        except BlockingIOError:
                            break
                        self._on_datagram(data, addr, held, delayed)
                while delayed and delayed[0][0] <= time.monotonic():
                    _, _, data, addr = heapq.heappop(delayed)
                    self.sock.sendto(data, addr)

    def _on_datagram(
        self,
        data: bytes,
        addr: object,
        held: dict[int, tuple[bytes, object]],
        delayed: list[tuple[float, int, bytes, object]],
    ) -> None:
        decoded = decode_probe(data)
        assert decoded is not None, f"not a probe: {data[:40]!r}"
        seq = decoded[0]
        self.seen.append(seq)
        plan = self.plan
        if seq in plan.drop:
            return
        if seq in plan.hold_until:
            held[seq] = (data, addr)
            return
        if seq in plan.late:
            heapq.heappush(delayed, (time.monotonic() + plan.late[seq], seq, data, addr))
            return
        self.sock.sendto(data, addr)
        if seq in plan.duplicate:
            self.sock.sendto(data, addr)
        for held_seq, after in list(plan.hold_until.items()):
            if after == seq and held_seq in held:
                self.sock.sendto(*held.pop(held_seq))
        if seq in plan.stray_after:
            self.sock.sendto(b"this is not a probe", addr)


def test_probe_statistics_name_exactly_the_faults(make_client):
    """Dropped 3, 7 and 16; 5 duplicated; 10 held back until after 11; 1 answered 0.45 s late
    (timeout 0.3 s); a stray non-probe datagram after 12. Every figure must say exactly that."""
    plan = FaultPlan(
        drop=frozenset({3, 7, 16}),
        duplicate=frozenset({5}),
        hold_until={10: 11},
        late={1: 0.45},
        stray_after=frozenset({12}),
    )
    # Seq 16 is dropped late in the run, so the probe waits for its timeout (sent at ~0.48 s,
    # settled at ~0.78 s): the late reply of seq 1 (sent at ~0.03 s, back at ~0.48 s) arrives
    # while the probe is still running, and is counted late, not lost.
    with FaultyEchoServer(plan) as faulty:
        client = make_client("127.0.0.1", faulty.port, timeout=0.3)
        stats, events = client.probe(20, 0.03, 48)
        assert faulty.seen == list(range(20))
    assert stats.sent == 20
    assert stats.lost_seqs == (3, 7, 16) and stats.lost == 3
    assert stats.duplicate_seqs == (5,) and stats.duplicates == 1
    assert stats.late_seqs == (1,) and stats.late == 1
    # 10 came after 11; the late 1 came after 2..15: both arrived after a higher number.
    assert sorted(stats.reordered_seqs) == [1, 10] and stats.reordered == 2
    assert stats.unknown == 1
    assert stats.pending == 0
    assert stats.received == 20 - 3 - 1
    assert stats.sent == stats.received + stats.late + stats.lost + stats.pending
    assert stats.loss_percent == pytest.approx(15.0)
    assert stats.rtt_max_ms is not None and stats.rtt_max_ms < 300  # the late one is not in the figures

    replies = [e for e in events if isinstance(e, ProbeReply)]
    statuses: dict[int, list[ReplyStatus]] = {}
    for reply in replies:
        statuses.setdefault(reply.seq, []).append(reply.status)
    assert statuses[5] == [ReplyStatus.ON_TIME, ReplyStatus.DUPLICATE]
    assert statuses[1] == [ReplyStatus.LATE]
    assert statuses[10] == [ReplyStatus.ON_TIME]
    assert sorted(statuses) == sorted(set(range(20)) - {3, 7, 16})
    late_reply = next(r for r in replies if r.seq == 1)
    assert late_reply.rtt_ms is not None and late_reply.rtt_ms >= 450
    order = [r.seq for r in replies if r.status is not ReplyStatus.DUPLICATE]
    assert order.index(10) == order.index(11) + 1
    assert [e.stats for e in events if isinstance(e, ProbeFinished)] == [stats]

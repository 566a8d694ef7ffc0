"""The TCP echo, UDP echo and time clients against a hostile server that answers with random and
crafted bytes.

tests/netcore/test_time_service.py checks a few crafted garbage replies (sntp_garbage_reply,
udp_garbage_reply, tcp_garbage_reply) and test_tcp_echo.py a well-behaved server; here each client
meets hundreds of hostile answers and must end every one with its answer or a typed error, in bounded
time, and never report a time the reply does not carry.
"""

from __future__ import annotations

import queue
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcore.engines.tcp_echo import TcpEchoClient
from netcore.engines.time_service import MAX_REPLY, TimeClient
from netcore.engines.udp_echo import MAX_PAYLOAD_IPV4, RECV_SIZE, UdpEchoClient
from netcore.errors import InternalError, ProtocolError, RemoteProtocolError, SocketLabError
from netcore.model.events import Traffic, Truncated
from netcore.model.traffic import Direction
from netcore.protocols.framing import Frame, make_codec
from tests.hostile.strategies import cut, hostile_stream, sized_bytes
from tests.hostile.support import FakeTcpServer, play_and_close
from tests.netcore.support import WAIT_S

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

REQUEST = b"hello"
NTP_UNIX_DELTA = 2_208_988_800


class FakeUdpServer:
    """A UDP server on 127.0.0.1 that answers each datagram with ``answer(request)``: a list of datagrams."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = int(self.sock.getsockname()[1])
        self.answers: queue.SimpleQueue[Callable[[bytes], list[bytes]]] = queue.SimpleQueue()
        self.failures: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-udp-server", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                request, sender = self.sock.recvfrom(RECV_SIZE)
            except TimeoutError:
                continue
            try:
                for datagram in self.answers.get_nowait()(request):
                    self.sock.sendto(datagram, sender)
            except BaseException as exc:  # reported by close() in the test's thread
                self.failures.append(exc)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(WAIT_S)
        self.sock.close()
        assert not self._thread.is_alive(), "the fake UDP server did not stop"
        assert not self.failures, f"the fake UDP server failed: {self.failures[0]!r}"


@pytest.fixture(scope="module")
def fake_udp() -> Iterator[FakeUdpServer]:
    server = FakeUdpServer()
    try:
        yield server
    finally:
        server.close()


def first_frame(framing: str, reply: bytes) -> tuple[Frame | None, bool]:
    """The first frame *reply* holds (then end of stream), and whether a fault comes before it."""
    codec = make_codec(framing)
    try:
        for piece in (reply, b"") if reply else (b"",):
            codec.receive_data(piece)
            for event in codec.events():
                if isinstance(event, Frame):
                    return event, False
    except RemoteProtocolError:
        return None, True
    return None, False


# -- TCP echo client -----------------------------------------------------------------------------
@settings(max_examples=600, deadline=None)
@given(framing=st.sampled_from(["raw", "length4", "length8s", "json"]), data=st.data(), reset=st.booleans())
def test_tcp_echo_client_ends_every_hostile_reply_with_the_reply_or_a_typed_error(
    fake_tcp: FakeTcpServer, framing: str, data: st.DataObject, reset: bool
) -> None:
    """Random and crafted replies (huge prefixes, broken JSON headers, cut frames, resets): the client
    reports the first whole reply frame exactly, or raises a RemoteProtocolError when a fault comes
    first, or a typed error when the server closes without a reply — within its timeout."""
    reply = data.draw(hostile_stream(framing), label="reply")
    request = make_codec(framing).encode(REQUEST)
    fake_tcp.expect(play_and_close(data.draw(cut(reply), label="pieces"), len(request), reset))
    frame, fault = first_frame(framing, reply)
    client = TcpEchoClient("127.0.0.1", fake_tcp.port, framing, timeout=WAIT_S)
    started = time.monotonic()
    outcome: list[Traffic] | SocketLabError
    try:
        client.connect()
        _, events = client.request(REQUEST)
        outcome = [e for e in events if isinstance(e, Traffic) and e.chunk.direction is Direction.RECEIVED]
    except SocketLabError as exc:
        outcome = exc
    finally:
        client.close()
    fake_tcp.wait_done()
    assert time.monotonic() - started < WAIT_S
    assert not isinstance(outcome, InternalError)
    if isinstance(outcome, list):
        got = b"".join(t.chunk.data for t in outcome)
        if framing == "raw":
            assert reply.startswith(got) and len(got) >= len(REQUEST)
        else:
            assert frame is not None, "the client answered without a whole reply frame"
            assert next(f.payload for t in outcome for f in t.frames) == frame.payload
    elif not reset:
        if framing == "raw":
            assert len(reply) < len(REQUEST)
        elif frame is None:  # a reply frame then a fault in the same recv() may end either way
            assert isinstance(outcome, RemoteProtocolError if fault else ProtocolError), outcome


# -- UDP echo client -----------------------------------------------------------------------------
UDP_REPLIES = st.one_of(
    st.binary(max_size=600),
    sized_bytes(st.sampled_from([0, 1, 99, 100, 101, 1473, MAX_PAYLOAD_IPV4])),
)


@settings(max_examples=300, deadline=None)
@given(
    replies=st.lists(UDP_REPLIES, min_size=1, max_size=3),
    recv_size=st.sampled_from([RECV_SIZE, 100]),
    connected=st.booleans(),
    intruder=st.booleans(),
)
def test_udp_echo_client_reports_any_reply_exactly_and_from_whom(
    fake_udp: FakeUdpServer, replies: list[bytes], recv_size: int, connected: bool, intruder: bool
) -> None:
    """Empty, random and maximum-size replies, more than one per request, and a datagram from a third
    party: the client returns the first datagram it may accept, cut to its buffer with a Truncated
    event, named with the address it really came from (a connected client never accepts the stranger)."""
    fake_udp.answers.put(lambda _request: replies)
    client = UdpEchoClient(
        "127.0.0.1", fake_udp.port, timeout=WAIT_S, connected=connected, recv_size=recv_size
    )
    try:
        client.open()
        assert client.sock is not None
        expected, sender = replies[0], f"127.0.0.1:{fake_udp.port}"
        if intruder:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
                stranger.bind(("127.0.0.1", 0))
                stranger.sendto(b"from a stranger", ("127.0.0.1", client.sock.getsockname()[1]))
                if not connected:
                    expected, sender = b"from a stranger", f"127.0.0.1:{stranger.getsockname()[1]}"
        reply, events = client.request(REQUEST)
    finally:
        client.close()
    assert reply.chunk.data == expected[:recv_size]
    assert reply.chunk.peer == sender
    truncated = [e for e in events if isinstance(e, Truncated)]
    assert [(e.kept, e.size) for e in truncated] == (
        [(recv_size, len(expected))] if len(expected) > recv_size else []
    )


# -- time client ---------------------------------------------------------------------------------
def unix_of_1900_seconds(seconds: int) -> int:
    return seconds - NTP_UNIX_DELTA + (0 if seconds & 0x8000_0000 else 1 << 32)


@st.composite
def sntp_replies(draw: st.DrawFn) -> Callable[[bytes], bytes]:
    """A server's answer to a request, with hostile fields: any LI/VN/mode/stratum, an origin that is
    or is not the request's, any timestamps, cut short or with bytes after it."""
    first = draw(st.integers(0, 255) | st.sampled_from([0x24, 0x24, 0xE4, 0x1C]))
    stratum = draw(st.sampled_from([0, 1, 2, 15, 16, 255]) | st.integers(0, 255))
    middle = draw(st.binary(min_size=22, max_size=22))
    foreign = draw(st.none() | st.binary(min_size=8, max_size=8))
    stamps = draw(st.sampled_from([bytes(16)]) | st.binary(min_size=16, max_size=16))
    keep = draw(st.sampled_from([48, 48, 48, 0, 47, 1]))
    tail = draw(st.sampled_from([b"", b"", bytes(20), bytes(MAX_REPLY)]))

    def reply_to(request: bytes) -> bytes:
        origin = request[40:48] if foreign is None else foreign
        return (bytes([first, stratum]) + middle + origin + stamps)[:keep] + tail

    return reply_to


def check_sntp_result(reply: bytes, request: bytes, result_time: float, text: str) -> None:
    """An accepted SNTP reply is a whole server packet of stratum ≥ 1 answering our request, with a
    transmit time, and the time reported is the one it carries (flagged when unsynchronised)."""
    assert 48 <= len(reply) <= MAX_REPLY
    assert reply[0] & 7 == 4 and reply[1] != 0
    assert reply[24:32] == request[40:48]
    assert reply[40:48] != bytes(8)
    seconds, fraction = struct.unpack("!II", reply[40:48])
    assert result_time == pytest.approx(unix_of_1900_seconds(seconds) + fraction / 2**32, abs=1e-6)
    if reply[0] >> 6 == 3:
        assert "UNSYNCHRONISED" in text


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_sntp_client_never_reports_a_time_the_reply_does_not_carry(
    fake_udp: FakeUdpServer, data: st.DataObject
) -> None:
    """Replies with the wrong mode, stratum 0, a foreign origin, a zero transmit time, cut short or
    too long: each is a RemoteProtocolError; an accepted one carries exactly the time reported."""
    reply_to = data.draw(sntp_replies(), label="reply")
    seen: list[tuple[bytes, bytes]] = []

    def answer(request: bytes) -> list[bytes]:
        seen.append((request, reply_to(request)))
        return [seen[-1][1]]

    fake_udp.answers.put(answer)
    client = TimeClient("sntp", "127.0.0.1", fake_udp.port, timeout=WAIT_S)
    try:
        result = client.query()
    except SocketLabError as exc:
        assert isinstance(exc, RemoteProtocolError), exc
    else:
        [(request, reply)] = seen
        assert result.sntp is not None
        check_sntp_result(reply, request, result.server_time, result.text)
    finally:
        client.close()


TIME_REPLIES = st.one_of(
    st.binary(max_size=12),
    st.binary(min_size=4, max_size=4),
    st.text(max_size=60).map(lambda text: text.encode("utf-8", "surrogateescape")),
    sized_bytes(st.sampled_from([0, 3, 4, 5, MAX_REPLY, MAX_REPLY + 1, 10_000])),
)


def check_time_result(protocol: str, reply: bytes, server_time: float, text: str) -> None:
    """An accepted reply has this protocol's shape, and the time reported is the one it carries."""
    if protocol.startswith("daytime"):
        assert 0 < len(reply) <= MAX_REPLY
        assert text == reply.decode("ascii", "backslashreplace").rstrip("\r\n")
        return
    assert len(reply) == 4
    seconds = int.from_bytes(reply, "big")
    expected = seconds if protocol == "simple" else unix_of_1900_seconds(seconds)
    assert server_time == expected + 0.5
    datetime.fromtimestamp(server_time, UTC)  # a time the client can show


@settings(max_examples=400, deadline=None)
@given(
    protocol=st.sampled_from(["time-udp", "daytime-udp", "simple", "time-tcp", "daytime-tcp"]),
    reply=TIME_REPLIES,
    data=st.data(),
)
def test_time_clients_reject_short_long_and_garbage_replies_with_protocol_errors(
    fake_udp: FakeUdpServer, fake_tcp: FakeTcpServer, protocol: str, reply: bytes, data: st.DataObject
) -> None:
    """TIME, DAYTIME and the course's protocol, over UDP and TCP: a reply of the wrong size, an empty
    one or one over 4,096 bytes is a RemoteProtocolError; an accepted one carries the time reported."""
    if protocol.endswith("tcp"):
        fake_tcp.expect(play_and_close(data.draw(cut(reply), label="pieces")))
    else:
        fake_udp.answers.put(lambda _request: [reply])
    port = fake_tcp.port if protocol.endswith("tcp") else fake_udp.port
    client = TimeClient(protocol, "127.0.0.1", port, timeout=WAIT_S)
    try:
        result = client.query()
    except SocketLabError as exc:
        assert isinstance(exc, RemoteProtocolError), exc
    else:
        check_time_result(protocol, reply, result.server_time, result.text)
    finally:
        client.close()
        if protocol.endswith("tcp"):
            fake_tcp.wait_done()

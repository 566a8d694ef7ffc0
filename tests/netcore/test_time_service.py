"""Real loopback tests of the time clients and servers (netcore.engines.time_service).

Network rules: only 127.0.0.1 / ::1, port 0 or a port just found free, every loop bounded in count
and time, every server, fake peer, thread and socket released in a finally or a fixture.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from netcore.engines.serving import ReplyGuard
from netcore.engines.time_service import MAX_REPLY, TimeClient, TimeServer
from netcore.errors import (
    ConnectionRefused,
    InputError,
    NoUdpReply,
    PortUnreachable,
    RemoteProtocolError,
    SocketLabError,
    TimedOut,
)
from netcore.model.events import Connected, Event, Failed, Stopped, TimeQueried, Traffic
from netcore.model.traffic import Direction
from netcore.protocols.timeproto import (
    KissOfDeath,
    SntpPacket,
    TimeProtocol,
    TimeResult,
    decode_time_reply,
    encode_time_reply,
    ntp_to_unix,
    sntp_request,
    unix_to_ntp,
)
from tests.netcore.support import WAIT_S, EngineThreads, EventLog, Running, free_port
from tests.netcore.support import ipv6_loopback_works as ipv6_available

SNTP_TOLERANCE_S = 0.05
WHOLE_SECOND_TOLERANCE_S = 1.0
ALL_PROTOCOLS = [p.value for p in TimeProtocol]
UDP_PROTOCOLS = [p.value for p in TimeProtocol if not p.is_tcp]
TCP_PROTOCOLS = [p.value for p in TimeProtocol if p.is_tcp]


# -- helpers ------------------------------------------------------------------------------------
@pytest.fixture
def start_server() -> Iterator[Callable[..., Running]]:
    """Start TimeServers in threads; every one is stopped and joined at the end."""
    with EngineThreads("a time server thread") as engines:

        def start(protocol: str, host: str = "127.0.0.1", **kwargs: object) -> Running:
            server = TimeServer(protocol, host, 0, **kwargs)  # type: ignore[arg-type]
            return Running(server, *engines.start(server, f"test-time-server-{protocol}"))

        yield start


def query(protocol: str, host: str, port: int, timeout: float = 2.0) -> TimeResult:
    client = TimeClient(protocol, host, port, timeout)
    try:
        return client.query()
    finally:
        client.close()


def query_error(protocol: str, port: int, timeout: float = 2.0) -> SocketLabError:
    """The error a query raises; fails if it returns, or if it takes much longer than *timeout*."""
    started = time.monotonic()
    client = TimeClient(protocol, "127.0.0.1", port, timeout)
    try:
        with pytest.raises(SocketLabError) as info:
            client.query()
    finally:
        client.close()
    assert time.monotonic() - started < timeout + 1.0
    return info.value


def parse_daytime(text: str) -> float:
    """Our DAYTIME server's line, e.g. 'Sunday, January 01, 2040 12:30:05-UTC', as Unix seconds."""
    return datetime.strptime(text, "%A, %B %d, %Y %H:%M:%S-UTC").replace(tzinfo=UTC).timestamp()


def tolerance(protocol: str) -> float:
    return SNTP_TOLERANCE_S if protocol == "sntp" else WHOLE_SECOND_TOLERANCE_S


def check_offset(result: TimeResult, expected: float) -> None:
    now = time.time()
    if result.protocol in (TimeProtocol.DAYTIME_TCP, TimeProtocol.DAYTIME_UDP):
        assert result.offset is None  # free-form text: the client cannot tell
        said = parse_daytime(result.text)
        # whole seconds, and the line was made a moment ago
        assert said - (now + expected) == pytest.approx(0, abs=WHOLE_SECOND_TOLERANCE_S + 0.5)
        return
    assert result.offset is not None
    assert result.offset == pytest.approx(expected, abs=tolerance(result.protocol))
    assert result.server_time - (now + expected) == pytest.approx(0, abs=tolerance(result.protocol) + 0.5)


# -- fake servers that misbehave ----------------------------------------------------------------
@contextlib.contextmanager
def fake_udp_server(answer: Callable[[bytes], bytes | None]) -> Iterator[int]:
    """A UDP socket on 127.0.0.1 that answers each datagram with ``answer(datagram)`` (None: silence)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        deadline = time.monotonic() + 2 * WAIT_S
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                data, addr = sock.recvfrom(4096)
            except TimeoutError:
                continue
            reply = answer(data)
            if reply is not None:
                sock.sendto(reply, addr)

    thread = threading.Thread(target=serve, name="fake-udp-time-server", daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(WAIT_S)
        sock.close()
        assert not thread.is_alive()


@contextlib.contextmanager
def fake_tcp_server(say: bytes, linger_s: float = 0.0) -> Iterator[int]:
    """A TCP listener on 127.0.0.1 that sends *say* to each client, waits *linger_s*, then closes."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        deadline = time.monotonic() + 2 * WAIT_S
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(say)
                stop.wait(linger_s)

    thread = threading.Thread(target=serve, name="fake-tcp-time-server", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(WAIT_S)
        listener.close()
        assert not thread.is_alive()


def sntp_answer(**changes: object) -> Callable[[bytes], bytes]:
    """A correct SNTP server reply to the request, with some fields changed."""

    def answer(request: bytes) -> bytes:
        query = SntpPacket.decode(request)
        now = unix_to_ntp(time.time())
        fields: dict[str, object] = {
            "leap": 0,
            "version": 4,
            "mode": 4,
            "stratum": 2,
            "poll": 0,
            "precision": -20,
            "root_delay": 0,
            "root_dispersion": 0,
            "reference_id": b"\x7f\0\0\x01",
            "reference": now,
            "origin": query.transmit,
            "receive": now,
            "transmit": now,
        }
        fields.update(changes)
        return SntpPacket(**fields).encode()  # type: ignore[arg-type]

    return answer


# -- every protocol, our client against our server ----------------------------------------------
@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
def test_query_our_server(start_server: Callable[..., Running], protocol: str) -> None:
    running = start_server(protocol)
    result = query(protocol, "127.0.0.1", running.addr.port)
    assert result.protocol == TimeProtocol(protocol)
    assert result.server == f"127.0.0.1:{running.addr.port}"
    assert 0 <= result.delay < 0.5
    assert result.local_time == pytest.approx(time.time(), abs=1.0)
    check_offset(result, 0.0)
    if protocol == "sntp":
        assert result.sntp is not None
        assert result.sntp.synchronised
        assert result.text == "stratum 1, reference LOCL"
        assert result.sntp.t1 <= result.sntp.t4
    elif protocol.startswith("daytime"):
        assert result.text.endswith("-UTC")
    else:
        assert result.text.endswith(" s")
        assert result.sntp is None


@pytest.mark.parametrize("protocol", ALL_PROTOCOLS)
def test_deliberate_offset_shows(start_server: Callable[..., Running], protocol: str) -> None:
    running = start_server(protocol, offset=3.5)
    result = query(protocol, "127.0.0.1", running.addr.port)
    check_offset(result, 3.5)
    if result.sntp is not None:
        assert result.sntp.t2 - result.sntp.t1 == pytest.approx(3.5, abs=SNTP_TOLERANCE_S)
        assert result.sntp.t3 - result.sntp.t4 == pytest.approx(3.5, abs=SNTP_TOLERANCE_S)


def test_negative_offset_and_stratum(start_server: Callable[..., Running]) -> None:
    running = start_server("sntp", offset=-120.25, stratum=1, reference_id="GPS")
    result = query("sntp", "127.0.0.1", running.addr.port)
    assert result.offset == pytest.approx(-120.25, abs=SNTP_TOLERANCE_S)
    assert result.sntp is not None
    packet = result.sntp.packet
    assert (packet.leap, packet.version, packet.mode, packet.stratum) == (0, 4, 4, 1)
    assert packet.reference_id == b"GPS\0"
    assert packet.reference_text == "GPS"
    assert result.text == "stratum 1, reference GPS"

    running = start_server("sntp", stratum=3)
    result = query("sntp", "127.0.0.1", running.addr.port)
    assert result.sntp is not None
    assert result.sntp.packet.stratum == 3


def test_sntp_traffic_events(start_server: Callable[..., Running]) -> None:
    running = start_server("sntp")
    client = TimeClient("sntp", "127.0.0.1", running.addr.port)
    try:
        client.query()
        events = client.take_events()
    finally:
        client.close()
    traffic = [e for e in events if isinstance(e, Traffic)]
    assert [(t.chunk.direction, len(t.chunk.data)) for t in traffic] == [
        (Direction.SENT, 48),
        (Direction.RECEIVED, 48),
    ]
    assert SntpPacket.decode(traffic[0].chunk.data).mode == 3
    assert SntpPacket.decode(traffic[1].chunk.data).mode == 4
    server_events = running.log.wait_for(Traffic, count=2)
    assert [(t.chunk.direction, len(t.chunk.data)) for t in server_events] == [
        (Direction.RECEIVED, 48),
        (Direction.SENT, 48),
    ]
    assert running.log.wait_for(Connected)


def test_tcp_traffic_events(start_server: Callable[..., Running]) -> None:
    running = start_server("time-tcp")
    client = TimeClient("time-tcp", "127.0.0.1", running.addr.port)
    try:
        result = client.query()
        events = client.take_events()
    finally:
        client.close()
    assert [type(e).__name__ for e in events] == ["Connected", "Traffic", "Closed"]
    traffic = events[1]
    assert isinstance(traffic, Traffic)
    assert traffic.chunk.direction is Direction.RECEIVED
    assert len(traffic.chunk.data) == 4
    assert result.text == f"{decode_time_reply(traffic.chunk.data)} s"


def test_server_version_follows_the_request(start_server: Callable[..., Running]) -> None:
    running = start_server("sntp")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(WAIT_S)
        request = sntp_request(time.time())
        sock.sendto(dataclasses.replace(request, version=3).encode(), ("127.0.0.1", running.addr.port))
        reply = SntpPacket.decode(sock.recv(1024))
    assert (reply.version, reply.mode, reply.origin) == (3, 4, request.transmit)
    assert ntp_to_unix(reply.transmit) == pytest.approx(time.time(), abs=SNTP_TOLERANCE_S)
    assert ntp_to_unix(reply.receive) <= ntp_to_unix(reply.transmit)


# -- many clients at once -----------------------------------------------------------------------
@pytest.mark.parametrize(("protocol", "clients"), [("sntp", 50), ("time-tcp", 30), ("simple", 30)])
def test_many_clients_at_once(start_server: Callable[..., Running], protocol: str, clients: int) -> None:
    running = start_server(protocol)
    results: list[TimeResult] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    go = threading.Barrier(clients, timeout=WAIT_S)

    def one() -> None:
        try:
            go.wait()
            result = query(protocol, "127.0.0.1", running.addr.port, timeout=WAIT_S)
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=one, name=f"time-client-{i}", daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(2 * WAIT_S)
    assert not any(t.is_alive() for t in threads), "a client thread hung"
    assert errors == []
    assert len(results) == clients
    for result in results:
        assert result.offset == pytest.approx(0, abs=tolerance(protocol))
    if protocol != "time-tcp":  # one UDP peer per client socket
        peers = {e.peer for e in running.log.wait_for(Connected, count=clients)}
        assert len(peers) == clients


# -- errors: nothing there, silence, refusal ----------------------------------------------------
@pytest.mark.parametrize("protocol", UDP_PROTOCOLS)
def test_udp_port_with_nothing_bound_is_unreachable(protocol: str) -> None:
    error = query_error(protocol, free_port(socket.SOCK_DGRAM))
    assert isinstance(error, PortUnreachable)
    assert "port unreachable" in error.summary
    assert "start the UDP server first" in error.hint


@pytest.mark.parametrize("protocol", UDP_PROTOCOLS)
def test_udp_socket_that_never_answers_times_out(protocol: str) -> None:
    received: list[bytes] = []

    def swallow(data: bytes) -> None:
        received.append(data)

    with fake_udp_server(swallow) as port:
        started = time.monotonic()
        error = query_error(protocol, port, timeout=0.3)
        elapsed = time.monotonic() - started
    assert isinstance(error, NoUdpReply)
    assert error.summary == f"no reply from 127.0.0.1:{port} within 0.3 s"
    assert "lost, or nothing is listening" in error.hint
    assert elapsed >= 0.29
    assert len(received) == 1
    assert len(received[0]) == (48 if protocol == "sntp" else 0)  # RFC 868 / the course: empty datagram


@pytest.mark.parametrize("protocol", TCP_PROTOCOLS)
def test_tcp_refused(protocol: str) -> None:
    port = free_port()
    error = query_error(protocol, port)
    assert isinstance(error, ConnectionRefused)
    assert error.summary == f"query 127.0.0.1:{port} failed: connection refused"
    assert "start the server first" in error.hint


@pytest.mark.parametrize("protocol", TCP_PROTOCOLS)
def test_tcp_server_that_says_nothing_times_out(protocol: str) -> None:
    with fake_tcp_server(b"", linger_s=WAIT_S) as port:
        error = query_error(protocol, port, timeout=0.3)
    assert isinstance(error, TimedOut)
    assert error.summary == f"query 127.0.0.1:{port} timed out after 0.3 s"


def test_unknown_host_and_bad_arguments() -> None:
    with pytest.raises(SocketLabError) as info:
        query("sntp", "no-such-host.invalid", 123)
    assert "no-such-host.invalid" in info.value.summary
    with pytest.raises(InputError):
        TimeClient("sntp", "127.0.0.1", 123, timeout=0)
    with pytest.raises(InputError):
        TimeClient("sntp", "127.0.0.1", 123, count=0)
    with pytest.raises(InputError, match="stratum is 1 to 15, not 0"):
        TimeServer("sntp", stratum=0)
    with pytest.raises(ValueError):
        TimeClient("ntp-over-carrier-pigeon", "127.0.0.1", 123)


# -- errors: a server that answers garbage ------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda request: request[:47], "at least 48 bytes, this one has 47"),
        (lambda request: b"", "at least 48 bytes, this one has 0"),
        (lambda request: request, r"mode is 3 \(client\), not 4 \(server\)"),  # an echo server
        (sntp_answer(mode=5), r"mode is 5 \(broadcast\)"),
        (sntp_answer(origin=12345), "origin timestamp 0000000000003039 is not our transmit timestamp"),
        (sntp_answer(transmit=0), "transmit timestamp is zero"),
        (lambda request: encode_time_reply(time.time()), "at least 48 bytes, this one has 4"),
    ],
    ids=["47-bytes", "empty", "echoed", "broadcast", "wrong-origin", "zero-transmit", "time-reply"],
)
def test_sntp_garbage_reply(answer: Callable[[bytes], bytes], message: str) -> None:
    with fake_udp_server(answer) as port:
        error = query_error("sntp", port)
    assert isinstance(error, RemoteProtocolError)
    assert re.search(message, error.summary), error.summary


@pytest.mark.parametrize("code", ["RATE", "DENY"])
def test_sntp_kiss_of_death(code: str) -> None:
    with fake_udp_server(sntp_answer(stratum=0, reference_id=code.encode())) as port:
        error = query_error("sntp", port)
    assert isinstance(error, KissOfDeath)
    assert error.params["code"] == code
    assert code in error.summary
    assert ("query less often" if code == "RATE" else "access denied") in error.hint


def test_sntp_unsynchronised_server_is_flagged() -> None:
    # leap indicator 3 with a real stratum: the client answers, but says not to trust it
    with fake_udp_server(sntp_answer(leap=3, stratum=4)) as port:
        result = query("sntp", "127.0.0.1", port)
    assert result.sntp is not None
    assert not result.sntp.synchronised
    assert "UNSYNCHRONISED (leap indicator 3): do not trust" in result.text


@pytest.mark.parametrize(
    ("protocol", "reply", "message"),
    [
        ("time-udp", b"\0\0\0\0\0", "a TIME reply is exactly 4 bytes (seconds since 1900), not 5"),
        ("time-udp", b"\0\0\0", "a TIME reply is exactly 4 bytes (seconds since 1900), not 3"),
        ("simple", b"\0" * 8, "the course's time reply is exactly 4 bytes ('!I' Unix time), not 8"),
        ("simple", b"", "the course's time reply is exactly 4 bytes ('!I' Unix time), not 0"),
        ("daytime-udp", b"", "the DAYTIME reply is empty"),
    ],
)
def test_udp_garbage_reply(protocol: str, reply: bytes, message: str) -> None:
    with fake_udp_server(lambda _request: reply) as port:
        error = query_error(protocol, port)
    assert isinstance(error, RemoteProtocolError)
    assert error.summary == message


@pytest.mark.parametrize(
    ("protocol", "said", "message"),
    [
        ("time-tcp", b"\x01\x02\x03", "a TIME reply is exactly 4 bytes (seconds since 1900), not 3"),
        ("time-tcp", b"Sunday, 12:00\r\n", "a TIME reply is exactly 4 bytes (seconds since 1900), not 15"),
        ("time-tcp", b"x" * (MAX_REPLY + 1000), f"the server sent more than {MAX_REPLY:,} bytes"),
        ("daytime-tcp", b"", "the DAYTIME reply is empty"),
    ],
)
def test_tcp_garbage_reply(protocol: str, said: bytes, message: str) -> None:
    with fake_tcp_server(said) as port:
        error = query_error(protocol, port)
    assert isinstance(error, RemoteProtocolError)
    assert error.summary.startswith(message)


def test_daytime_accepts_any_text() -> None:
    with fake_tcp_server(b"22 NOV 2026 05:58:30 UTC\r\n") as port:
        result = query("daytime-tcp", "127.0.0.1", port)
    assert result.text == "22 NOV 2026 05:58:30 UTC"
    assert result.offset is None


# -- the SNTP server ignores what is not a request ----------------------------------------------
def _ignored(events: list[Event]) -> int:
    """Non-requests the SNTP server said it ignored (one notice per peer and round, with a count)."""
    counts = [
        re.match(r"ignored ([\d,]+) datagrams? that", e.error.summary)
        for e in events
        if isinstance(e, Failed)
    ]
    return sum(int(m.group(1).replace(",", "")) for m in counts if m)


def test_sntp_server_notices_a_flood_of_non_requests_in_a_few_lines(start_server, record_property) -> None:
    """2,000 junk datagrams (in bursts the receive buffer holds) make one notice per peer and round
    with its count, not 2,000 lines. (The reply rate is lifted: this is about the notices.)"""
    running = start_server("sntp", guard=ReplyGuard(rate=1e9, burst=10**9))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("127.0.0.1", running.addr.port))
        for burst in range(1, 21):
            for _ in range(100):
                sock.send(b"junk")
            events = running.log.wait_until(lambda ev, n=burst: _ignored(ev) >= 100 * n, what="a burst")
    notices = [e for e in events if isinstance(e, Failed)]
    record_property("junk datagrams counted / notices", f"{_ignored(events)} / {len(notices)}")
    assert _ignored(events) == 2_000
    assert len(notices) <= 1_000  # several datagrams a notice under a flood; one a datagram before


def test_sntp_server_ignores_non_requests_and_keeps_serving(start_server: Callable[..., Running]) -> None:
    running = start_server("sntp")
    not_requests = [
        b"hello",
        b"",
        sntp_request(time.time()).encode()[:47],
        SntpPacket(0, 4, 4, 1, 0, 0, 0, 0, b"LOCL", 0, 0, 0, unix_to_ntp(time.time())).encode(),  # mode 4
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        sock.connect(("127.0.0.1", running.addr.port))
        for datagram in not_requests:
            sock.send(datagram)
        with pytest.raises(TimeoutError):
            sock.recv(1024)
    failures = running.log.wait_until(
        lambda ev: _ignored(ev) >= len(not_requests), what="every non-request counted"
    )
    assert _ignored(failures) == len(not_requests)
    assert all(f.conn is not None for f in failures if isinstance(f, Failed))  # tied to the peer
    assert running.thread.is_alive()
    result = query("sntp", "127.0.0.1", running.addr.port)
    assert result.offset == pytest.approx(0, abs=SNTP_TOLERANCE_S)


def test_udp_time_servers_answer_any_datagram(start_server: Callable[..., Running]) -> None:
    for protocol in ("time-udp", "simple", "daytime-udp"):
        running = start_server(protocol)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(WAIT_S)
            sock.sendto(b"what time is it?", ("127.0.0.1", running.addr.port))
            reply = sock.recv(1024)
        if protocol == "daytime-udp":
            assert reply.endswith(b"-UTC\r\n")
        else:
            assert len(reply) == 4


# -- the GUI's worker loop ----------------------------------------------------------------------
def test_run_reports_each_query_then_stops(start_server: Callable[..., Running]) -> None:
    running = start_server("sntp", offset=1.0)
    log = EventLog()
    client = TimeClient("sntp", "127.0.0.1", running.addr.port, timeout=1.0, count=3, interval=0.02)
    thread = client.start_thread(log.sink, name="test-time-client")
    try:
        log.wait_for(Stopped)
    finally:
        client.join(WAIT_S)
    assert not thread.is_alive()
    queried = [e for e in log.events if isinstance(e, TimeQueried)]
    assert [q.index for q in queried] == [0, 1, 2]
    assert all(q.result.offset == pytest.approx(1.0, abs=SNTP_TOLERANCE_S) for q in queried)


def test_run_reports_failures_as_events() -> None:
    log = EventLog()
    client = TimeClient("time-tcp", "127.0.0.1", free_port(), timeout=1.0, count=2, interval=0.01)
    thread = client.start_thread(log.sink, name="test-time-client")
    try:
        log.wait_for(Stopped)
    finally:
        client.join(WAIT_S)
    assert not thread.is_alive()
    failed = [e for e in log.events if isinstance(e, Failed)]
    assert len(failed) == 2
    assert all(isinstance(f.error, ConnectionRefused) for f in failed)


# -- IPv6 ---------------------------------------------------------------------------------------
@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback (::1) on this machine")
@pytest.mark.parametrize("protocol", ["sntp", "time-tcp", "daytime-udp"])
def test_ipv6_loopback(start_server: Callable[..., Running], protocol: str) -> None:
    running = start_server(protocol, host="::1", offset=3.5)
    assert running.addr.host == "::1"
    result = query(protocol, "::1", running.addr.port)
    assert result.server == f"[::1]:{running.addr.port}"
    check_offset(result, 3.5)


@pytest.mark.parametrize("protocol", ["sntp", "time-tcp"])
def test_stop_wakes_a_query_waiting_for_a_silent_server(protocol: str) -> None:
    """With a 30 s timeout, stop() ends a query waiting for its reply within 0.5 s, reporting no error."""
    asked = threading.Event()

    def silence(_data: bytes) -> None:
        asked.set()

    with contextlib.ExitStack() as stack:
        if protocol == "sntp":
            port = stack.enter_context(fake_udp_server(silence))
        else:
            listener = stack.enter_context(socket.create_server(("127.0.0.1", 0)))
            listener.settimeout(WAIT_S)
            port = listener.getsockname()[1]
        client = TimeClient(protocol, "127.0.0.1", port, timeout=30.0, count=1)
        log = EventLog()
        thread = threading.Thread(target=client.run, args=(log.sink,), name="time-client", daemon=True)
        thread.start()
        if protocol == "sntp":
            assert asked.wait(WAIT_S), "the query never arrived"
        else:
            stack.enter_context(listener.accept()[0])  # connected; nobody ever speaks
        started = time.monotonic()
        client.stop()
        thread.join(WAIT_S)
        assert not thread.is_alive() and time.monotonic() - started < 0.5
        assert log.of(Stopped) and not log.of(Failed)

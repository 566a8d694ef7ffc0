"""UDP reflection loops and floods: the UDP echo server and the UDP time server do not answer their
own address or a service port, and answer each peer at most so many times a second.

A forged source address needs a raw socket, but a server's own socket can send to itself or to
another server: the loops it starts are the same ones a forged datagram would.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from netcore.engines.serving import REPLY_BURST, REPLY_RATE, ReplyGuard, ServerEngine
from netcore.engines.time_service import TimeServer
from netcore.engines.udp_echo import UdpEchoClient, UdpEchoServer
from netcore.errors import FromOwnAddress, FromServicePort, NoUdpReply, OverReplyRate, ReplyWithheld
from netcore.model.events import Event, Failed
from netcore.model.traffic import Direction
from netcore.protocols.address import Address
from tests.faults.support import wait_until
from tests.netcore.support import WAIT_S, EngineThreads, EventLog, lane

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

Recorder = Callable[[str, object], None]
WINDOW_S = 1.0  # how long a loop that was stopped is watched for datagrams and CPU time
IDLE_CPU_S = 0.1  # CPU time the whole test process may use in that window (a loop used ~1 s)
FLOOD = 10_000

SERVERS: dict[str, Callable[[ReplyGuard | None], ServerEngine]] = {
    "udp-echo": lambda guard: UdpEchoServer(guard=guard),
    "daytime-udp": lambda guard: TimeServer("daytime-udp", guard=guard),
}


@pytest.fixture
def engines() -> Iterator[EngineThreads]:
    with EngineThreads() as threads:
        yield threads


def to(addr: Address) -> tuple[str, int]:
    return addr.host, addr.port


def withheld(log: EventLog, reason: type[ReplyWithheld]) -> int:
    """How many datagrams the server reported not answering for *reason*."""
    return sum(
        e.error.params["count"] for e in log.events if isinstance(e, Failed) and type(e.error) is reason
    )


def barrier(addr: Address, log: EventLog) -> None:
    """Ask the server from a new client and wait until its log has the reply: every datagram that came
    before has been handled and reported. Asked again every 0.1 s: a flood may fill the server's
    receive buffer, and the kernel drops what comes then."""
    client = UdpEchoClient(addr.host, addr.port, timeout=0.1)
    deadline = time.monotonic() + WAIT_S
    try:
        while True:
            try:
                client.request(b"barrier")
                break
            except NoUdpReply:
                assert time.monotonic() < deadline, f"no reply to the barrier within {WAIT_S} s"
        assert client.sock is not None
        peer = f"127.0.0.1:{client.sock.getsockname()[1]}"
    finally:
        client.close()
    log.wait_until(
        lambda evs: any(t.chunk.peer == peer for t in lane(evs, Direction.SENT)),
        what="the reply to the barrier",
    )


def wait_withheld(log: EventLog, reason: type[ReplyWithheld]) -> list[Event]:
    return log.wait_until(
        lambda evs: any(isinstance(e, Failed) and type(e.error) is reason for e in evs),
        what=f"a {reason.__name__} report",
    )


@pytest.mark.parametrize("kind", list(SERVERS))
def test_udp_server_does_not_answer_its_own_address(engines: EngineThreads, kind: str) -> None:
    """A datagram from the server's own socket to itself is received, not answered, and reported."""
    server = SERVERS[kind](None)
    addr, log, _ = engines.start(server, kind)
    assert server._sock is not None
    server._sock.sendto(b"me again", to(addr))
    events = wait_withheld(log, FromOwnAddress)
    assert len(lane(events, Direction.RECEIVED)) == 1
    assert lane(events, Direction.SENT) == []
    assert server.withheld[FromOwnAddress] == 1


@pytest.mark.parametrize("kind", list(SERVERS))
def test_udp_server_answers_service_ports_only_when_asked(engines: EngineThreads, kind: str) -> None:
    """A client on a port the guard lists as a service is not answered, unless the server is told to
    answer service ports (the real ones, 7 13 19 37 123, would need root to bind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        client.bind(("127.0.0.1", 0))
        client.settimeout(WAIT_S)
        ports = frozenset({client.getsockname()[1]})
        refusing = SERVERS[kind](ReplyGuard(service_ports=ports))
        addr, log, _ = engines.start(refusing, f"{kind}-refusing")
        client.sendto(b"hello", to(addr))
        events = wait_withheld(log, FromServicePort)
        assert lane(events, Direction.SENT) == []
        answering = SERVERS[kind](ReplyGuard(answer_service_ports=True, service_ports=ports))
        addr, _, _ = engines.start(answering, f"{kind}-answering")
        client.sendto(b"hello", to(addr))
        assert client.recvfrom(2048)[1] == to(addr)


def test_echo_and_daytime_servers_pointed_at_each_other_stop_within_a_burst(
    engines: EngineThreads, record_property: Recorder
) -> None:
    """One datagram from the echo server's socket to the daytime server starts echo ↔ daytime: each
    answers the other a burst and what its rate allows until one drops a datagram, which ends the
    loop; then neither receives anything and the process is idle (the loop used a core each, forever)."""
    echo, daytime = UdpEchoServer(), TimeServer("daytime-udp")
    echo_addr, echo_log, _ = engines.start(echo, "echo")
    daytime_addr, daytime_log, _ = engines.start(daytime, "daytime")
    assert echo._sock is not None
    start = time.monotonic()
    echo._sock.sendto(b"ping", to(daytime_addr))
    wait_until(
        lambda: echo.withheld[OverReplyRate] + daytime.withheld[OverReplyRate] > 0, "a rate limit to end it"
    )
    barrier(echo_addr, echo_log)
    barrier(daytime_addr, daytime_log)
    elapsed = time.monotonic() - start

    def exchanged() -> int:
        return len(lane(echo_log.events, Direction.RECEIVED)) + len(
            lane(daytime_log.events, Direction.RECEIVED)
        )

    before, cpu = exchanged(), time.process_time()
    threading.Event().wait(WINDOW_S)  # the measurement: a loop still running shows in both figures
    idle_cpu = time.process_time() - cpu
    record_property("datagrams before the loop ended", f"{before - 2:,}")  # not the barriers
    record_property(f"process CPU time in the {WINDOW_S:g} s after", f"{idle_cpu * 1000:.1f} ms")
    assert exchanged() == before, "the servers still answer each other"
    assert before - 2 <= 2 * (REPLY_BURST + REPLY_RATE * elapsed + 1), (before, elapsed)
    assert idle_cpu < IDLE_CPU_S


def test_udp_echo_server_answers_a_flooding_peer_at_its_rate(
    engines: EngineThreads, record_property: Recorder
) -> None:
    """10,000 datagrams as fast as a client can send: the server answers at most the burst plus the
    rate over the flood's time, counts and reports the rest, and still answers another client."""
    server = UdpEchoServer()
    addr, log, _ = engines.start(server, "flooded")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flooder:
        flooder.bind(("127.0.0.1", 0))
        flooder.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        start = time.monotonic()
        for serial in range(FLOOD):
            flooder.sendto(serial.to_bytes(4, "big"), to(addr))
        barrier(addr, log)
        elapsed = time.monotonic() - start
        peer = "{}:{}".format(*flooder.getsockname())
    events = log.events
    received = [t for t in lane(events, Direction.RECEIVED) if t.chunk.peer == peer]
    answered = [t for t in lane(events, Direction.SENT) if t.chunk.peer == peer]
    refused = withheld(log, OverReplyRate)
    record_property("flood", f"{len(received):,} received in {elapsed:.3f} s")
    record_property("answered / withheld", f"{len(answered):,} / {refused:,}")
    assert len(answered) + refused == len(received)
    assert server.withheld[OverReplyRate] == refused > 0
    assert len(answered) <= REPLY_BURST + REPLY_RATE * elapsed + 1

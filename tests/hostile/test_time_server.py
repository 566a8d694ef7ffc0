"""The time servers (SNTP, TIME, DAYTIME, the course's protocol; UDP and TCP) against hostile requests.

tests/netcore/test_time_service.py checks a few crafted non-requests (sntp_server_ignores_non_requests,
udp_time_servers_answer_any_datagram); here each server takes hundreds of random and crafted requests
while a well-behaved TimeClient keeps asking. Every reply is checked without netcore's decoders.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcore.engines.time_service import TimeClient, TimeServer
from netcore.model.events import CloseReason
from tests.hostile.strategies import cut, sized_bytes
from tests.hostile.support import Served, Steady, abort, read_to_end, send_pieces, serving
from tests.netcore.support import WAIT_S, local_of

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

UDP = ["sntp", "time-udp", "daytime-udp", "simple"]
TCP = ["time-tcp", "daytime-tcp"]
EXAMPLES = {
    "sntp": 400,
    "time-udp": 150,
    "daytime-udp": 150,
    "simple": 150,
    "time-tcp": 200,
    "daytime-tcp": 200,
}
SLACK_S = 5.0  # how far a reply's time may be from this machine's clock (the servers have no offset)
NTP_UNIX_DELTA = 2_208_988_800


def assert_now(unix_seconds: float) -> None:
    assert abs(unix_seconds - time.time()) <= SLACK_S, f"a reply says {unix_seconds}, not about {time.time()}"


def check_reply(protocol: str, reply: bytes, request: bytes = b"") -> None:
    """*reply* is this protocol's answer to *request*, carrying about the current time."""
    if protocol == "sntp":
        assert len(reply) == 48
        first, stratum = reply[0], reply[1]
        assert (first & 7, stratum) == (4, 1), "not a server reply of stratum 1"
        assert (first >> 3) & 7 == ((request[0] >> 3) & 7 or 4), "the version does not follow the request"
        assert reply[24:32] == request[40:48], "the origin timestamp is not the request's transmit timestamp"
        seconds = int.from_bytes(reply[40:44], "big")
        assert_now(seconds - NTP_UNIX_DELTA + (0 if seconds & 0x8000_0000 else 1 << 32))
    elif protocol.startswith("time"):
        assert len(reply) == 4
        seconds = int.from_bytes(reply, "big")
        assert_now(seconds - NTP_UNIX_DELTA + (0 if seconds & 0x8000_0000 else 1 << 32))
    elif protocol == "simple":
        assert len(reply) == 4
        assert_now(int.from_bytes(reply, "big"))
    else:
        assert reply.endswith(b"\r\n")
        when = datetime.strptime(reply.decode("ascii").strip(), "%A, %B %d, %Y %H:%M:%S-UTC")
        assert_now(when.replace(tzinfo=UTC).timestamp())


@pytest.fixture(scope="module", params=UDP)
def udp_time_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, Served]]:
    """One time server per UDP protocol for the whole module."""
    with serving(TimeServer(request.param), f"hostile-time-{request.param}") as served:
        yield request.param, served


@pytest.fixture(scope="module", params=TCP)
def tcp_time_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, Served]]:
    """One time server per TCP protocol for the whole module."""
    with serving(TimeServer(request.param), f"hostile-time-{request.param}") as served:
        yield request.param, served


def steady_query(protocol: str, served: Served) -> Steady:
    """A well-behaved TimeClient asking *served* again and again; each answer must be the time."""
    client = TimeClient(protocol, served.addr.host, served.addr.port, timeout=WAIT_S)

    def ask() -> None:
        result = client.query()
        if result.offset is not None:
            assert abs(result.offset) <= SLACK_S
        assert result.text

    return Steady(ask, f"steady-time-{protocol}")


# SNTP requests that are nearly right: mode 3 with any other field, longer than 48 bytes, or cut short
SNTP_LIKE = st.builds(
    lambda first, rest, mode: bytes([(first & 0xF8) | mode]) + rest,
    st.integers(0, 255),
    st.binary(min_size=40, max_size=80),
    st.sampled_from([3, 3, 3, 0, 1, 2, 4, 5, 6, 7]),
)
REQUESTS = st.one_of(
    st.binary(max_size=100),
    SNTP_LIKE,
    sized_bytes(st.sampled_from([0, 47, 48, 49, 4096, 4097, 65_507])),
)


def is_sntp_request(datagram: bytes) -> bool:
    """What the SNTP server must answer: 48 bytes or more (of the first 4,096 it reads), mode 3."""
    return len(datagram) >= 48 and datagram[0] & 7 == 3


def good_sntp_request(serial: int) -> bytes:
    """A client request whose transmit timestamp is unique to *serial*."""
    return bytes([0x23]) + bytes(39) + struct.pack("!Q", (0xE000_0000 << 32) | serial)


def test_udp_time_servers_answer_or_ignore_hostile_datagrams_and_keep_serving(
    udp_time_server: tuple[str, Served],
) -> None:
    """Random, cut, oversized and nearly-SNTP datagrams: a TIME/DAYTIME/course server answers each
    with the time, the SNTP server answers exactly the client requests (mode 3, 48+ bytes) and ignores
    the rest, with a RemoteProtocolError each; no server dies and a TimeClient is answered meanwhile."""
    protocol, served = udp_time_server
    serial = 0

    @settings(max_examples=EXAMPLES[protocol], deadline=None)
    @given(request=REQUESTS)
    def hit(request: bytes) -> None:
        nonlocal serial
        serial += 1
        ignored_before = served.tally.counts["Failed"]
        good = good_sntp_request(serial) if protocol == "sntp" else b""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(WAIT_S)
            sock.connect((served.addr.host, served.addr.port))
            sock.send(request)
            sock.send(good)
            if protocol != "sntp" or is_sntp_request(request[:4096]):
                check_reply(protocol, sock.recv(65_535), request)
            check_reply(protocol, sock.recv(65_535), good)  # the next datagram answers the good request
        if protocol == "sntp" and not is_sntp_request(request[:4096]):
            served.tally.wait_count("Failed", ignored_before + 1)
        served.assert_healthy()

    with steady_query(protocol, served) as steady:
        hit()
    steady.check(at_least=10)
    assert all(kind.__name__ == "RemoteProtocolError" for kind, _ in served.tally.errors)
    served.assert_healthy()


def test_tcp_time_servers_send_the_time_whatever_the_client_sends_and_keep_serving(
    tcp_time_server: tuple[str, Served],
) -> None:
    """Clients that send random bytes, half close, or reset: each connection gets the time and is
    closed by the server, no server dies, and a TimeClient is answered meanwhile."""
    protocol, served = tcp_time_server

    @settings(max_examples=EXAMPLES[protocol], deadline=None)
    @given(data=st.data(), ending=st.sampled_from(["read", "half-close", "reset"]))
    def hit(data: st.DataObject, ending: str) -> None:
        pieces = data.draw(cut(data.draw(st.binary(max_size=600))))
        since = time.monotonic()
        with socket.create_connection((served.addr.host, served.addr.port), timeout=WAIT_S) as sock:
            peer = local_of(sock)
            send_pieces(sock, pieces)
            if ending == "reset":
                abort(sock)
            else:
                if ending == "half-close":
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_WR)
                reply, reset = read_to_end(sock)
                # bytes it never read make the server's close a reset, which Linux reports after
                # the reply it already delivered; the reply must be whole either way
                if reply or not reset:
                    check_reply(protocol, reply)
        outcome = served.tally.close_of(peer, since)
        assert outcome.reason in (CloseReason.LOCAL, CloseReason.ERROR), outcome
        served.assert_healthy()

    with steady_query(protocol, served) as steady:
        hit()
    steady.check(at_least=10)
    served.assert_healthy()

"""The UDP echo server against hypothesis-driven datagrams: empty, random, at the MTU, at the
65,507-byte maximum, in bursts, to a server with a full-size and with a tiny receive buffer.

tests/netcore/test_udp_echo.py proves each size limit once; here one running server takes thousands
of datagrams while a well-behaved client keeps asking.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcore.engines.udp_echo import MAX_PAYLOAD_IPV4, MTU_PAYLOAD, RECV_SIZE, UdpEchoClient, UdpEchoServer
from tests.hostile.strategies import sized_bytes
from tests.hostile.support import Served, Steady, serving
from tests.netcore.support import WAIT_S

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

SMALL_BUFFER = 512
EXAMPLES = 300  # per receive buffer size

DATAGRAMS = st.one_of(
    st.binary(max_size=2048),
    sized_bytes(
        st.sampled_from(
            [0, 1, SMALL_BUFFER, SMALL_BUFFER + 1, MTU_PAYLOAD, MTU_PAYLOAD + 1, MAX_PAYLOAD_IPV4]
        )
    ),
    sized_bytes(st.integers(0, MAX_PAYLOAD_IPV4)),
)


@pytest.fixture(scope="module", params=[RECV_SIZE, SMALL_BUFFER], ids=["full-buffer", "small-buffer"])
def udp_echo(request: pytest.FixtureRequest) -> Iterator[tuple[int, Served]]:
    """One UDP echo server per receive buffer size for the whole module."""
    recv_size = request.param
    with serving(UdpEchoServer(recv_size=recv_size), f"hostile-udp-echo-{recv_size}") as served:
        yield recv_size, served


def test_udp_echo_server_echoes_any_datagram_and_keeps_serving(udp_echo: tuple[int, Served]) -> None:
    """Bursts of empty, random and maximum-size datagrams: each is echoed as received (cut to the
    server's buffer, and reported as truncated), the server never dies and a client is answered meanwhile."""
    recv_size, served = udp_echo
    server = (served.addr.host, served.addr.port)
    good = UdpEchoClient(served.addr.host, served.addr.port, timeout=WAIT_S)
    asked = 0

    def ask() -> None:
        nonlocal asked
        asked += 1
        message = f"well-behaved #{asked}".encode()
        reply, _ = good.request(message)
        assert reply.chunk.data == message

    @settings(max_examples=EXAMPLES, deadline=None)
    @given(burst=st.lists(DATAGRAMS, min_size=1, max_size=4))
    def hit(burst: list[bytes]) -> None:
        truncated_before = served.tally.counts["Truncated"]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(WAIT_S)
            sock.bind(("127.0.0.1", 0))
            for datagram in burst:  # one at a time: a burst of 64 KiB datagrams would overflow a buffer
                sock.sendto(datagram, server)
                reply, sender = sock.recvfrom(RECV_SIZE)
                assert sender == server
                assert reply == datagram[:recv_size]
        truncated = sum(len(d) > recv_size for d in burst)
        served.tally.wait_count("Truncated", truncated_before + truncated)
        served.assert_healthy()

    try:
        with Steady(ask, f"steady-udp-{recv_size}") as steady:
            hit()
        steady.check(at_least=10)
    finally:
        good.close()
    assert served.tally.errors == []
    served.assert_healthy()

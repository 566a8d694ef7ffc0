"""The TCP echo server against a hypothesis-driven hostile client, over real loopback sockets.

tests/netcore/test_framing.py proves each codec's limits without a socket, and test_tcp_echo.py a few
crafted cases over one (a huge prefix, garbage beside a streaming client). Here one running server
per framing takes random and crafted streams, cut into random send()s and ended by a half close or a
reset, while a well-behaved client keeps talking to it on its own connection and another thread
keeps opening new ones.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcore.engines.tcp_echo import TcpEchoServer
from netcore.errors import BufferBudgetExceeded, RemoteProtocolError
from netcore.model.events import CloseReason
from netcore.protocols.framing import Frame, make_codec
from tests.faults.support import wait_until
from tests.hostile.strategies import cut, hostile_stream
from tests.hostile.support import Served, Steady, abort, read_to_end, send_pieces, serving
from tests.netcore.support import WAIT_S, local_of, recv_exactly

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

EXAMPLES = {"raw": 300, "length4": 500, "length8s": 250, "json": 700}


@pytest.fixture(scope="module", params=list(EXAMPLES))
def echo(request: pytest.FixtureRequest) -> Iterator[tuple[str, Served]]:
    """One echo server per framing for the whole module."""
    framing = request.param
    with serving(TcpEchoServer(framing=framing), f"hostile-tcp-echo-{framing}") as served:
        yield framing, served


def expected_echo(framing: str, data: bytes) -> tuple[bytes, bool]:
    """What the server must send back for *data* then end of stream: the echo of every frame before
    the first fault, and whether the whole stream was valid."""
    rx, tx = make_codec(framing), make_codec(framing)
    echoed = bytearray()
    try:
        for piece in (data, b"") if data else (b"",):
            rx.receive_data(piece)
            for event in rx.events():  # one at a time: the frames before a fault count
                if isinstance(event, Frame):
                    echoed += tx.encode(event.payload)
    except RemoteProtocolError:
        return bytes(echoed), False
    return bytes(echoed), True


class GoodClient:
    """A well-behaved client on one long-lived connection: each ``ask`` is answered exactly."""

    def __init__(self, served: Served, framing: str) -> None:
        self.codec = make_codec(framing)
        self.sock = socket.create_connection((served.addr.host, served.addr.port), timeout=WAIT_S)
        self.count = 0

    def ask(self) -> None:
        self.count += 1
        message = self.codec.encode(f"well-behaved #{self.count}".encode())
        self.sock.sendall(message)
        assert recv_exactly(self.sock, len(message)) == message

    def close(self) -> None:
        self.sock.close()


def fresh_round_trip(served: Served, framing: str) -> None:
    """A new connection, one message, the exact echo, a clean close."""
    message = make_codec(framing).encode(b"a fresh well-behaved client")
    with socket.create_connection((served.addr.host, served.addr.port), timeout=WAIT_S) as sock:
        sock.sendall(message)
        sock.shutdown(socket.SHUT_WR)
        assert read_to_end(sock) == (message, False)


def test_tcp_echo_server_survives_hostile_streams_and_keeps_serving(echo: tuple[str, Served]) -> None:
    """Random and crafted streams in any framing: the server echoes every valid frame, closes a faulty
    stream with a RemoteProtocolError, never dies, and answers a long-lived and a new client meanwhile."""
    framing, served = echo
    good = GoodClient(served, framing)

    @settings(max_examples=EXAMPLES[framing], deadline=None)
    @given(data=st.data(), reset=st.booleans())
    def hit(data: st.DataObject, reset: bool) -> None:
        stream = data.draw(hostile_stream(framing), label="stream")
        pieces = data.draw(cut(stream), label="pieces")
        echoed, valid = expected_echo(framing, stream)
        since = time.monotonic()
        with socket.create_connection((served.addr.host, served.addr.port), timeout=WAIT_S) as sock:
            peer = local_of(sock)
            served.tally.wait_connected(peer, since)  # a reset before accept() is test_tcp_echo's case
            send_pieces(sock, pieces)
            if reset:
                abort(sock)
            else:
                with contextlib.suppress(OSError):  # the server may have refused the stream already
                    sock.shutdown(socket.SHUT_WR)
                got, was_reset = read_to_end(sock)
        outcome = served.tally.close_of(peer, since)
        if not reset:
            assert echoed.startswith(got), "the server sent bytes that are no echo of a frame"
            if valid:
                assert (got, was_reset) == (echoed, False)
                assert (outcome.reason, outcome.error) == (CloseReason.PEER_CLOSED, None)
            else:
                assert outcome.reason is CloseReason.ERROR
                assert outcome.error is RemoteProtocolError, outcome.text
        served.assert_healthy()
        good.ask()

    try:
        with Steady(lambda: fresh_round_trip(served, framing), f"steady-{framing}") as steady:
            hit()
        steady.check(at_least=10)
        good.ask()
    finally:
        good.close()
    served.assert_healthy()


MIB = 2**20


def test_tcp_echo_server_closes_the_client_that_would_exceed_its_buffer_budget(
    record_property: Callable[[str, object], None],
) -> None:
    """Clients each holding 1.5 MiB of a 2 MiB length4 frame, with a 4 MiB budget: the third is
    closed with BufferBudgetExceeded, the two before it stay and get their echo when they finish."""
    frame = make_codec("length4").encode(bytes(2 * MIB))
    part = 4 + 3 * MIB // 2
    engine = TcpEchoServer(framing="length4", buffer_budget=4 * MIB)
    with serving(engine, "budget-tcp-echo") as served:
        held: list[socket.socket] = []
        try:
            for _ in range(2):
                sock = socket.create_connection((served.addr.host, served.addr.port), timeout=WAIT_S)
                held.append(sock)
                sock.sendall(frame[:part])
                wait_until(lambda: engine.held == len(held) * part, f"{len(held)} clients held")
            since = time.monotonic()
            with socket.create_connection((served.addr.host, served.addr.port), timeout=WAIT_S) as third:
                send_pieces(third, [frame[:part]])
                outcome = served.tally.close_of(local_of(third), since)
            assert outcome.error is BufferBudgetExceeded, outcome
            assert "exceed the server's buffer budget of 4 MiB" in outcome.text
            record_property("refusal", outcome.text)
            assert engine.held <= 4 * MIB
            for sock in held:
                sock.sendall(frame[part:])
                assert recv_exactly(sock, len(frame)) == frame
            served.assert_healthy()
        finally:
            for sock in held:
                sock.close()

"""A server that accepts (or, for UDP, receives) and never answers: each client gives up within its
own timeout with TimedOut (NoUdpReply for UDP) and its hint, and keeps no socket open."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from netcore.engines.filefetch import FetchClient
from netcore.engines.tcp_echo import TcpEchoClient
from netcore.engines.time_service import TimeClient
from netcore.errors import NoUdpReply, TimedOut
from tests.faults.support import SilentTcpServer

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

TIMEOUT_S = 0.5
SLACK_S = 0.5  # how much later than its timeout a client may give up
NO_ANSWER_HINT = "No answer from 127.0.0.1:"


def within_timeout(elapsed: float) -> bool:
    return TIMEOUT_S - 0.01 <= elapsed <= TIMEOUT_S + SLACK_S


def test_tcp_echo_request_times_out_against_a_server_that_accepts_and_never_answers(
    open_fds, record_property
):
    """request() raises TimedOut with its hint after its timeout; close() then frees every descriptor."""
    with SilentTcpServer() as server:
        fds = open_fds()
        client = TcpEchoClient("127.0.0.1", server.port, "length4", timeout=TIMEOUT_S)
        try:
            client.connect()
            start = time.monotonic()
            with pytest.raises(TimedOut) as info:
                client.request(b"anyone there?")
            elapsed = time.monotonic() - start
        finally:
            client.close()
        after = open_fds() - len(server.accepted)
    assert within_timeout(elapsed), elapsed
    assert info.value.hint.startswith(NO_ANSWER_HINT)
    assert f"timed out after {TIMEOUT_S:g} s" in info.value.summary
    assert after == fds
    record_property("gave up after (s)", f"{elapsed:.3f}")


@pytest.mark.parametrize("protocol", ["time-tcp", "daytime-tcp"])
def test_tcp_time_query_times_out_against_a_server_that_accepts_and_never_answers(
    open_fds, protocol, record_property
):
    """A TIME or DAYTIME query over TCP raises TimedOut with its hint after its timeout and closes
    its socket."""
    with SilentTcpServer() as server:
        client = TimeClient(protocol, "127.0.0.1", server.port, timeout=TIMEOUT_S)
        try:
            fds = open_fds()
            start = time.monotonic()
            with pytest.raises(TimedOut) as info:
                client.query()
            elapsed = time.monotonic() - start
            after = open_fds() - len(server.accepted)
        finally:
            client.close()
    assert within_timeout(elapsed), elapsed
    assert info.value.hint.startswith(NO_ANSWER_HINT)
    assert after == fds
    record_property("gave up after (s)", f"{elapsed:.3f}")


def test_sntp_query_reports_no_udp_reply_from_a_silent_udp_server(open_fds, record_property):
    """An SNTP query to a UDP socket that never replies raises NoUdpReply, whose hint explains that
    UDP cannot tell loss from absence, after its timeout, and closes its socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        client = TimeClient("sntp", "127.0.0.1", silent.getsockname()[1], timeout=TIMEOUT_S)
        try:
            fds = open_fds()
            start = time.monotonic()
            with pytest.raises(NoUdpReply) as info:
                client.query()
            elapsed = time.monotonic() - start
            after = open_fds()
        finally:
            client.close()
        assert len(silent.recv(1024)) == 48  # the request did arrive: only the answer is missing
    assert within_timeout(elapsed), elapsed
    assert "plain UDP cannot tell" in info.value.hint
    assert after == fds
    record_property("gave up after (s)", f"{elapsed:.3f}")


def test_fetch_client_times_out_against_a_server_that_accepts_and_never_answers(
    tmp_path: Path, record_property
):
    """fetch() raises TimedOut with its hint after its timeout, drops the connection (a late reply
    can never be read as the next one's) and leaves no file."""
    with SilentTcpServer() as server:
        client = FetchClient("127.0.0.1", server.port, tmp_path, timeout=TIMEOUT_S)
        try:
            client.connect()
            start = time.monotonic()
            with pytest.raises(TimedOut) as info:
                client.fetch("small.txt")
            elapsed = time.monotonic() - start
            assert client.sock is None
        finally:
            client.close()
    assert within_timeout(elapsed), elapsed
    assert info.value.hint.startswith(NO_ANSWER_HINT)
    assert list(tmp_path.iterdir()) == []
    record_property("gave up after (s)", f"{elapsed:.3f}")

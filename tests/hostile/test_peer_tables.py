"""UDP servers meet any number of source addresses (spoofed, or one socket per datagram): their
peer tables stay bounded, forget the least recently heard peer, and count what they forgot.

Network rules: 127.0.0.1 only, port 0, every loop bounded, everything stopped.
"""

from __future__ import annotations

import socket

import pytest

from netcore.engines import serving
from netcore.engines.time_service import TimeServer
from netcore.engines.udp_echo import UdpEchoServer
from netcore.io import platform
from netcore.model.events import Closed, CloseReason, Event
from netcore.protocols.timeproto import sntp_request
from tests.netcore.support import WAIT_S, EngineThreads

SOURCES = 5_000
LIMIT = 1_000


def _forgotten(events: list[Event]) -> int:
    return sum(isinstance(e, Closed) and e.reason is CloseReason.FORGOTTEN for e in events)


def _forgotten(events: list[Event]) -> int:
    return sum(isinstance(e, Closed) and e.reason is CloseReason.FORGOTTEN for e in events)


@pytest.mark.parametrize("kind", ["udp-echo", "sntp"])
def test_a_udp_server_forgets_the_least_recently_heard_peers_beyond_its_limit(
    monkeypatch, record_property, kind
):
    """5,001 source addresses against a table of 1,000: the table stays at 1,000, each forgotten
    peer is reported (Closed, FORGOTTEN) and counted, and a peer heard from all along is kept."""
    if (platform.raise_open_files_limit(SOURCES + 200) or 0) < SOURCES + 100:
        pytest.skip(f"needs {SOURCES + 100} open files")
    monkeypatch.setattr(serving, "MAX_PEERS", LIMIT)
    server = UdpEchoServer() if kind == "udp-echo" else TimeServer("sntp")
    datagram = b"x" if kind == "udp-echo" else sntp_request(0.0).encode()
    with EngineThreads() as threads:
        addr, log, _ = threads.start(server, kind)
        keeper = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # heard from first and last
        keeper.settimeout(WAIT_S)

        def ask(sock: socket.socket) -> None:
            """One datagram, and its reply awaited: no datagram is lost to a full buffer."""
            sock.sendto(datagram, (addr.host, addr.port))
            assert sock.recv(100)

        ask(keeper)
        sources: list[socket.socket] = []  # kept open, so each has a port of its own
        try:
            for i in range(SOURCES):  # a new source address each time, as spoofed sources would be
                sources.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
                sources[-1].settimeout(WAIT_S)
                ask(sources[-1])
                if i % 200 == 0:  # the keeper speaks now and then: recently heard, never forgotten
                    ask(keeper)
        finally:
            for s in sources:
                s.close()
            keeper.close()
        expected = SOURCES + 1 - LIMIT
        forgotten = log.wait_until(lambda ev: _forgotten(ev) >= expected, timeout=30, what="peers forgotten")
    gone = [e for e in forgotten if isinstance(e, Closed) and e.reason is CloseReason.FORGOTTEN]
    record_property("sources", SOURCES + 1)
    record_property("peers kept", len(server.peers.ids))
    record_property("peers forgotten", server.peers.forgotten)
    assert len(server.peers.ids) == LIMIT
    assert server.peers.forgotten == len(gone) == expected
    assert len(server.peers.offsets) <= 2 * LIMIT and len(server.peers.names) == LIMIT
    assert 1 not in {e.conn for e in gone}  # the keeper, heard from all along, was never forgotten

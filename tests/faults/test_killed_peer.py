"""A peer killed with SIGKILL mid-exchange: its kernel closes its sockets (RST when data it never
read is waiting, FIN otherwise). Servers run as ``python -m netcore`` subprocesses against our
clients; a plain-socket client subprocess runs against our in-process server."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from netcore.engines.filefetch import FetchClient
from netcore.engines.tcp_echo import TcpEchoClient, TcpEchoServer
from netcore.errors import ConnectionReset, RemoteProtocolError
from netcore.model.events import Closed, CloseReason, Connected, Traffic
from netcore.model.traffic import Direction
from tests.faults.support import wait_until
from tests.netcore.support import WAIT_S, NetcoreProcess, Running, pump_until

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

LISTENING = r"listening on (\S+):(\d+)"


def kill(process: NetcoreProcess) -> float:
    """SIGKILL the process and reap it; returns when it was killed (time.monotonic)."""
    killed = time.monotonic()
    process.proc.kill()
    process.proc.wait(WAIT_S)
    return killed


def test_tcp_echo_client_reports_reset_when_the_server_process_is_killed_mid_exchange(
    open_fds, record_property
):
    """An echo server process killed while it echoes 16 MiB: the client reports ConnectionReset with
    its hint and closes its socket."""
    fds = open_fds()
    server = NetcoreProcess("tcp-echo-server", "--port", "0", "--quiet")
    try:
        port = int(server.wait_for_line(LISTENING).group(2))
        client = TcpEchoClient("127.0.0.1", port, timeout=WAIT_S)
        try:
            client.connect()
            client.send(bytes(16 * 1024 * 1024))

            def echoed(events: list[object]) -> bool:
                return any(isinstance(e, Traffic) and e.chunk.direction is Direction.RECEIVED for e in events)

            pump_until(client, echoed)
            killed = kill(server)
            events = pump_until(client, lambda evs: any(isinstance(e, Closed) for e in evs))
            noticed = time.monotonic() - killed
            closed = next(e for e in events if isinstance(e, Closed))
            assert not client.connected
        finally:
            client.close()
    finally:
        server.stop()
    assert closed.reason is CloseReason.RESET
    assert isinstance(closed.error, ConnectionReset) and "closed abruptly" in closed.error.hint
    assert noticed < 1.0
    assert open_fds() == fds
    record_property("reset reported after the kill (ms)", f"{noticed * 1000:.1f}")


def test_fetch_client_reports_closed_early_when_the_file_server_process_is_killed_mid_body(
    served: Path, dest: Path, record_property
):
    """A file server process killed 1 MiB into a 64 MiB body (it had read our request, so its kernel
    sends FIN): fetch() says how many body bytes came, with a hint, and leaves no file."""
    server = NetcoreProcess("file-server", "--root", str(served), "--port", "0", "--quiet")
    killed: list[float] = []

    def kill_once(_done: int, _total: int) -> None:
        if not killed:
            killed.append(kill(server))

    try:
        port = int(server.wait_for_line(LISTENING).group(2))
        client = FetchClient("127.0.0.1", port, dest, timeout=WAIT_S)
        try:
            client.connect()
            with pytest.raises(RemoteProtocolError) as info:
                client.fetch("big.bin", kill_once)
            noticed = time.monotonic() - killed[0]
        finally:
            client.close()
    finally:
        server.stop()
    assert "the connection closed after" in info.value.summary
    assert "of 67,108,864 body bytes" in info.value.summary
    assert info.value.hint
    assert list(dest.iterdir()) == []
    record_property("closed-early reported after the kill (ms)", f"{noticed * 1000:.1f}")


# A course-style client: one whole length4 frame (whose echo it never reads) and half of another.
CLIENT = textwrap.dedent(
    """
    import socket, struct, sys, time
    sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    sock.sendall(struct.pack("!I", 5) + b"first" + struct.pack("!I", 100) + b"half")
    time.sleep(60)
    """
)


def test_tcp_echo_server_frees_a_killed_client_process_connection_and_keeps_serving(
    open_fds, echo_server: Callable[..., Running[TcpEchoServer]], record_property
):
    """A client process killed mid-frame with an echo unread: the server reports the reset with its
    hint, frees the connection and its descriptor, and keeps answering another client."""
    running = echo_server(framing="length4")
    good = TcpEchoClient("127.0.0.1", running.addr.port, "length4", timeout=WAIT_S)
    try:
        good.connect()
        good.request(b"before")
        fds = open_fds()
        proc = subprocess.Popen(
            [sys.executable, "-c", CLIENT, str(running.addr.port)], stdin=subprocess.DEVNULL
        )
        try:
            conn = running.log.wait_for(Connected, count=2)[1].conn
            running.traffic(conn, Direction.RECEIVED, wait_bytes=9 + 8)
            running.traffic(conn, Direction.SENT, wait_bytes=9)
            killed = time.monotonic()
            proc.kill()
        finally:
            proc.kill()
            proc.wait(WAIT_S)
        closed = running.log.wait_for(Closed, conn=conn)[0]
        wait_until(
            lambda: running.server.client_count == 1 and open_fds() == fds, "the connection to be freed"
        )
        freed = time.monotonic() - killed
        answered, _ = good.request(b"after")
    finally:
        good.close()
    assert closed.reason is CloseReason.RESET
    assert isinstance(closed.error, ConnectionReset) and "closed abruptly" in closed.error.hint
    assert answered.rtt_s < 0.1
    record_property("connection freed after the kill (ms)", f"{freed * 1000:.1f}")

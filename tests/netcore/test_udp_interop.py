"""Our UDP echo client and server against programs we did not write: socat and OpenBSD netcat.

Peers run as subprocesses on 127.0.0.1 only, each in its own process group (socat forks a child per
UDP peer), which is terminated and waited for in a finally.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence

import pytest

from netcore.engines.udp_echo import UdpEchoClient, UdpEchoServer
from netcore.errors import NoUdpReply
from netcore.model.events import Connected, Event, LargeDatagram, ProbeReply, Stopped, Traffic, Truncated
from netcore.model.traffic import Direction
from netcore.protocols.probe import ReplyStatus
from tests.requires import posix

pytestmark = posix("the peers run in their own process group (start_new_session, os.killpg)")

WAIT_S = 5.0


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not installed")
    return path


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Terminate *proc* and every child it forked (it leads its own session), then reap it.

    Only while *proc* is not reaped: until then its pid (the group's id) cannot belong to anyone else.
    """
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(WAIT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(WAIT_S)


# -- socat as the UDP echo server, our client ---------------------------------------------------
@pytest.fixture
def socat_udp_echo_port() -> Iterator[int]:
    socat = need("socat")
    port = free_udp_port()
    # -b 65536: without it socat truncates datagrams over 8,192 bytes.
    proc = subprocess.Popen(
        [socat, "-T", "2", "-b", "65536", f"UDP4-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", "PIPE"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_for_udp_echo(proc, port)
        yield port
    finally:
        stop_group(proc)
        assert proc.stderr is not None
        proc.stderr.close()


def wait_for_udp_echo(proc: subprocess.Popen[bytes], port: int) -> None:
    """UDP has no connect() to wait on: send a datagram every 50 ms until one comes back."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.05)
        deadline = time.monotonic() + WAIT_S
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read() if proc.stderr else b""
                raise AssertionError(f"socat exited: {err.decode(errors='replace')}")
            assert time.monotonic() < deadline, "socat did not answer within 5 s"
            s.sendto(b"ready?", ("127.0.0.1", port))
            with contextlib.suppress(TimeoutError):
                if s.recv(100) == b"ready?":
                    return


def test_our_client_against_socat_udp_echo(socat_udp_echo_port):
    client = UdpEchoClient("127.0.0.1", socat_udp_echo_port, timeout=2.0)
    try:
        # Not b"": socat reads an empty datagram as 0 bytes and sends nothing back (ours answers it).
        for payload in [b"hello socat", "你好，数据报".encode(), bytes(range(256))]:
            reply, events = client.request(payload)
            assert reply.chunk.data == payload
            assert reply.chunk.peer == f"127.0.0.1:{socat_udp_echo_port}"
            assert not any(isinstance(e, Truncated) for e in events)
        big = random.Random(1).randbytes(60_000)
        reply, events = client.request(big)
        assert reply.chunk.data == big  # one datagram of 60,000 bytes, whole
        assert [e.size for e in events if isinstance(e, LargeDatagram)] == [60_000]
        assert [len(f.payload) for f in reply.frames] == [60_000]
    finally:
        client.close()


def test_probe_against_socat_udp_echo(socat_udp_echo_port):
    client = UdpEchoClient("127.0.0.1", socat_udp_echo_port, timeout=1.0)
    try:
        stats, events = client.probe(20, 0.005, 100)
    finally:
        client.close()
    assert (stats.sent, stats.received, stats.lost, stats.late, stats.pending) == (20, 20, 0, 0, 0)
    assert (stats.duplicates, stats.reordered, stats.unknown) == (0, 0, 0)
    assert stats.lost_seqs == stats.duplicate_seqs == stats.reordered_seqs == stats.late_seqs == ()
    assert stats.rtt_min_ms is not None and stats.rtt_max_ms is not None
    assert 0 < stats.rtt_min_ms <= stats.rtt_max_ms < 1000
    replies = [e for e in events if isinstance(e, ProbeReply)]
    assert [r.seq for r in replies] == list(range(20))
    assert all(r.status is ReplyStatus.ON_TIME for r in replies)


# -- our server, socat and nc as clients --------------------------------------------------------
class ServerLog:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.lock = threading.Lock()

    def sink(self, events: Sequence[Event]) -> None:
        with self.lock:
            self.events.extend(events)

    def snapshot(self) -> list[Event]:
        with self.lock:
            return list(self.events)


@pytest.fixture
def upper_server() -> Iterator[tuple[UdpEchoServer, int, ServerLog]]:
    server = UdpEchoServer("127.0.0.1", 0, mode="upper")
    port = server.bind().port
    log = ServerLog()
    thread = server.start_thread(log.sink, name="interop-udp-server")
    try:
        yield server, port, log
    finally:
        server.join(WAIT_S)
        assert not thread.is_alive()
        assert isinstance(log.events[-1], Stopped)


def run_client(argv: list[str], data: bytes, timeout: float = 10.0) -> bytes:
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(data, timeout=timeout)
    finally:
        stop_group(proc)
    assert proc.returncode == 0, f"{argv[0]} exited with {proc.returncode}: {err.decode(errors='replace')}"
    return out


def server_received(log: ServerLog) -> list[bytes]:
    return [
        e.chunk.data
        for e in log.snapshot()
        if isinstance(e, Traffic) and e.chunk.direction is Direction.RECEIVED
    ]


def test_socat_client_against_our_upper_server(upper_server):
    socat = need("socat")
    _, port, log = upper_server
    data = "hello from socat, 你好\n".encode()
    out = run_client([socat, "-t", "1", "-", f"UDP4:127.0.0.1:{port}"], data)
    assert out == "HELLO FROM SOCAT, 你好\n".encode()
    assert server_received(log) == [data]  # one read of stdin, one datagram
    assert len([e for e in log.snapshot() if isinstance(e, Connected)]) == 1


def test_netcat_client_against_our_upper_server(upper_server):
    nc = need("nc")
    _, port, log = upper_server
    data = b"netcat over udp\n"
    out = run_client([nc, "-u", "-w", "1", "127.0.0.1", str(port)], data)
    assert out == b"NETCAT OVER UDP\n"
    assert server_received(log) == [data]


def test_socat_as_peer_ends_and_our_client_times_out_cleanly():
    """After socat (our peer) is gone, an unconnected client sees only silence: NoUdpReply."""
    socat = need("socat")
    port = free_udp_port()
    proc = subprocess.Popen(
        [socat, "-T", "2", "-b", "65536", f"UDP4-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", "PIPE"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    client = UdpEchoClient("127.0.0.1", port, timeout=0.3)
    try:
        wait_for_udp_echo(proc, port)
        assert client.request(b"alive")[0].chunk.data == b"alive"
        stop_group(proc)
        with pytest.raises(NoUdpReply):
            client.request(b"gone")
    finally:
        client.close()
        stop_group(proc)
        assert proc.stderr is not None
        proc.stderr.close()

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
from pathlib import Path

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
@contextlib.contextmanager
def socat_udp_echo(bufsize: int = 65536) -> Iterator[int]:
    """socat echoing every datagram sent to a free port of 127.0.0.1, once it has echoed one; yields
    the port. *bufsize* is socat's ``-b``: without it socat truncates datagrams over 8,192 bytes."""
    socat = need("socat")
    port = free_udp_port()
    proc = subprocess.Popen(
        [socat, "-T", "2", "-b", str(bufsize), f"UDP4-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", "PIPE"],
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


@pytest.fixture
def socat_udp_echo_port() -> Iterator[int]:
    with socat_udp_echo() as port:
        yield port


def wait_for_udp_echo(proc: subprocess.Popen[bytes], port: int) -> None:
    """UDP has no connect() to wait on: send a datagram every 50 ms until one comes back (a datagram
    sent before socat has bound its port is dropped, so the resends are needed; 100 at most)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.05)
        deadline = time.monotonic() + WAIT_S
        for _ in range(100):
            if proc.poll() is not None:
                err = proc.stderr.read() if proc.stderr else b""
                raise AssertionError(f"socat exited: {err.decode(errors='replace')}")
            if time.monotonic() > deadline:
                break
            s.sendto(b"ready?", ("127.0.0.1", port))
            with contextlib.suppress(TimeoutError):
                if s.recv(100) == b"ready?":
                    return
    raise AssertionError(f"socat did not echo a datagram within {WAIT_S} s")


def udp_sockets_on(port: int) -> int | None:
    """How many UDP sockets of this machine are bound to *port* (Linux /proc); None elsewhere."""
    try:
        table = Path("/proc/net/udp").read_text()
    except OSError:
        return None
    return sum(line.split()[1].endswith(f":{port:04X}") for line in table.splitlines()[1:])


def wait_until_unbound(port: int) -> None:
    """Wait (bounded) until no socket is bound to UDP *port*; at once where that cannot be seen."""
    deadline = time.monotonic() + WAIT_S
    for _ in range(1000):
        if not udp_sockets_on(port):
            return
        assert time.monotonic() < deadline, f"a socket stayed bound to UDP port {port} for {WAIT_S} s"
        time.sleep(0.005)
    raise AssertionError(f"a socket stayed bound to UDP port {port}")


def test_our_client_against_socat_udp_echo(socat_udp_echo_port):
    client = UdpEchoClient("127.0.0.1", socat_udp_echo_port, timeout=WAIT_S)
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


PROBE_SIZE = 100


def test_probe_against_socat_udp_echo():
    """20 probes at 5 ms intervals, every one answered once, in order, on time.

    socat, not the probe, made this fail on a busy machine (5 of 30 runs with three busy loops
    on two cores), in two ways that this test now rules out by construction:

    - ``UDP4-LISTEN,fork`` forks a child for a new peer on its first datagram; until that child has
      ``connect()``-ed its socket to the peer, the peer's next datagrams reach the parent's new
      listening socket, which forks a second child for the same peer, and the two answer out of
      order (``reordered``). So the probing socket's own first datagram must come back (its child
      is connected: the event waited for) before the probe starts.
    - ``PIPE`` is a byte stream: a socat that finds two datagrams waiting writes both into the pipe
      before it reads it, gets them back in one read() and sends them as one datagram, and the
      second probe is lost. With ``-b`` equal to the probe size every read takes exactly one probe
      (the pipe holds whole probes: writes under PIPE_BUF are atomic).

    The timeout is 5 s, so a reply counts as late or lost only if the machine stalls that long.
    """
    with socat_udp_echo(bufsize=PROBE_SIZE) as port:
        client = UdpEchoClient("127.0.0.1", port, timeout=WAIT_S)
        try:
            hello = b"h" * PROBE_SIZE  # one datagram in flight: no retry, so no second child
            assert client.request(hello)[0].chunk.data == hello
            stats, events = client.probe(20, 0.005, PROBE_SIZE)
        finally:
            client.close()
    assert (stats.sent, stats.received, stats.lost, stats.late, stats.pending) == (20, 20, 0, 0, 0)
    assert (stats.duplicates, stats.reordered, stats.unknown) == (0, 0, 0)
    assert stats.lost_seqs == stats.duplicate_seqs == stats.reordered_seqs == stats.late_seqs == ()
    assert stats.rtt_min_ms is not None and stats.rtt_max_ms is not None
    assert 0 < stats.rtt_min_ms <= stats.rtt_max_ms <= WAIT_S * 1000
    replies = [e for e in events if isinstance(e, ProbeReply)]
    assert [r.seq for r in replies] == list(range(20))
    assert all(r.status is ReplyStatus.ON_TIME for r in replies)
    received = [
        e.chunk.data for e in events if isinstance(e, Traffic) and e.chunk.direction is Direction.RECEIVED
    ]
    assert [len(d) for d in received] == [PROBE_SIZE] * 20  # one probe per datagram, none merged


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
        assert client.request(b"alive", timeout=WAIT_S)[0].chunk.data == b"alive"
        stop_group(proc)
        # stop_group reaps socat, not the child it forked for us: "gone" goes out once no socket
        # is bound to the port any more (a child still exiting could read and echo it)
        wait_until_unbound(port)
        with pytest.raises(NoUdpReply):
            client.request(b"gone")
    finally:
        client.close()
        stop_group(proc)
        assert proc.stderr is not None
        proc.stderr.close()

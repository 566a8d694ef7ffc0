"""Our TCP echo client and server against programs we did not write: socat and OpenBSD netcat.

Peers run as subprocesses on 127.0.0.1 only; each is terminated and waited for in a finally.
"""

from __future__ import annotations

import random
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from netcore.engines.tcp_echo import TcpEchoClient, TcpEchoServer
from netcore.model.events import (
    Answered,
    Closed,
    CloseReason,
    Connected,
    Event,
    Stopped,
    Traffic,
    WriteShutdown,
)
from netcore.model.traffic import Direction

WAIT_S = 5.0


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not installed")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(WAIT_S)


def received(events: list[Event]) -> bytes:
    return b"".join(
        e.chunk.data for e in events if isinstance(e, Traffic) and e.chunk.direction is Direction.RECEIVED
    )


def received_frames(events: list[Event]) -> list[bytes]:
    return [
        f.payload
        for e in events
        if isinstance(e, Traffic) and e.chunk.direction is Direction.RECEIVED
        for f in e.frames
    ]


def pump_until_closed(client: TcpEchoClient, timeout: float = WAIT_S) -> list[Event]:
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    while not any(isinstance(e, Closed) for e in events):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no Closed within {timeout} s; events: {events[-8:]}")
        events += client.pump(min(left, 0.05))
    return events


# -- socat as the echo server, our client -------------------------------------------------------
@pytest.fixture
def socat_echo_port() -> Iterator[int]:
    socat = need("socat")
    port = free_port()
    proc = subprocess.Popen(
        [socat, f"TCP4-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", "PIPE"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + WAIT_S
        while True:  # wait until it accepts
            assert proc.poll() is None, f"socat exited: {proc.stderr.read().decode(errors='replace')}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield port
    finally:
        stop_process(proc)
        assert proc.stderr is not None
        proc.stderr.close()


def test_our_client_against_socat_echo_raw(socat_echo_port):
    client = TcpEchoClient("127.0.0.1", socat_echo_port, framing="raw", timeout=WAIT_S)
    try:
        client.connect()
        payloads = [
            b"hello socat",
            "你好，套接字".encode(),
            bytes(range(256)),
            random.Random(1).randbytes(200_000),
        ]
        for i, payload in enumerate(payloads):
            answered, events = client.request(payload)
            assert answered.index == i and answered.rtt_s > 0
            assert received(events) == payload
        # Half close: socat sees EOF, finishes echoing and closes its side.
        client.send(b"goodbye")
        client.shutdown_write()
        events = pump_until_closed(client)
        assert any(isinstance(e, WriteShutdown) for e in events)
        assert received(events) == b"goodbye"
        assert [e.index for e in events if isinstance(e, Answered)] == [len(payloads)]
        closed = [e for e in events if isinstance(e, Closed)]
        assert closed[0].reason is CloseReason.PEER_CLOSED and closed[0].error is None
    finally:
        client.close()


def test_our_client_against_socat_echo_length4(socat_echo_port):
    """socat echoes bytes blindly, so our own length-prefixed frames come back as frames."""
    client = TcpEchoClient("127.0.0.1", socat_echo_port, framing="length4", timeout=WAIT_S)
    try:
        client.connect()
        messages = [f"message {i} 消息".encode() * (i + 1) for i in range(20)]
        for message in messages:
            client.send(message)
        events: list[Event] = []
        deadline = time.monotonic() + WAIT_S
        while sum(isinstance(e, Answered) for e in events) < len(messages):
            assert time.monotonic() < deadline, f"not all answered: {events[-5:]}"
            events += client.pump(0.05)
        assert received_frames(events) == messages
        assert [e.index for e in events if isinstance(e, Answered)] == list(range(len(messages)))
    finally:
        client.close()


# -- our server, socat and nc as clients --------------------------------------------------------
class ServerLog:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.lock = threading.Lock()

    def sink(self, events: list[Event]) -> None:
        with self.lock:
            self.events.extend(events)

    def wait_closed(self, count: int, timeout: float = WAIT_S) -> list[Closed]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                closed = [e for e in self.events if isinstance(e, Closed)]
            if len(closed) >= count or time.monotonic() > deadline:
                return closed
            time.sleep(0.02)


@pytest.fixture
def our_server(request: pytest.FixtureRequest) -> Iterator[tuple[TcpEchoServer, int, ServerLog]]:
    kwargs = getattr(request, "param", {})
    server = TcpEchoServer("127.0.0.1", 0, **kwargs)
    port = server.bind().port
    log = ServerLog()
    thread = server.start_thread(log.sink, name="interop-server")
    try:
        yield server, port, log
    finally:
        server.join(WAIT_S)
        assert not thread.is_alive()
        assert isinstance(log.events[-1], Stopped)


def run_client(argv: list[str], data: bytes, timeout: float = 10.0) -> bytes:
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(data, timeout=timeout)
    finally:
        stop_process(proc)
    assert proc.returncode == 0, f"{argv[0]} exited with {proc.returncode}: {err.decode(errors='replace')}"
    return out


@pytest.mark.parametrize("our_server", [{"mode": "echo"}], indirect=True)
def test_socat_client_against_our_echo_server(our_server):
    socat = need("socat")
    _, port, log = our_server
    data = b"hello from socat\n" + "中文 UTF-8 bytes\n".encode() + random.Random(2).randbytes(300_000)
    out = run_client([socat, "-t", "1", "-", f"TCP4:127.0.0.1:{port}"], data)
    assert out == data
    closed = log.wait_closed(1)
    assert [c.reason for c in closed] == [CloseReason.PEER_CLOSED]  # socat half-closed, we flushed and closed
    with log.lock:
        rx = b"".join(
            e.chunk.data
            for e in log.events
            if isinstance(e, Traffic) and e.chunk.direction is Direction.RECEIVED
        )
    assert rx == data


@pytest.mark.parametrize("our_server", [{"mode": "upper", "framing": "line"}], indirect=True)
def test_socat_client_against_our_line_upper_server(our_server):
    socat = need("socat")
    _, port, _ = our_server
    out = run_client([socat, "-t", "1", "-", f"TCP4:127.0.0.1:{port}"], "hello\n你好 world\n".encode())
    assert out == "HELLO\n你好 WORLD\n".encode()


@pytest.mark.parametrize("our_server", [{"mode": "echo"}], indirect=True)
def test_netcat_client_against_our_echo_server(our_server):
    nc = need("nc")
    _, port, log = our_server
    data = b"netcat says hi\n" + random.Random(3).randbytes(100_000)
    out = run_client([nc, "-N", "127.0.0.1", str(port)], data)
    assert out == data
    assert [c.reason for c in log.wait_closed(1)] == [CloseReason.PEER_CLOSED]
    with log.lock:
        assert len([e for e in log.events if isinstance(e, Connected)]) == 1


@pytest.mark.parametrize("our_server", [{"mode": "upper", "framing": "length4"}], indirect=True)
def test_netcat_client_with_framed_bytes_against_our_length4_server(our_server):
    nc = need("nc")
    _, port, _ = our_server
    messages = [b"first", b"", "第三".encode() + b" third", b"x" * 5000]
    data = b"".join(struct.pack("!I", len(m)) + m for m in messages)
    out = run_client([nc, "-N", "127.0.0.1", str(port)], data)
    assert out == b"".join(struct.pack("!I", len(m)) + m.upper() for m in messages)

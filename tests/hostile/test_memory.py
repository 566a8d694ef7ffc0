"""Memory under hostile input: servers measured from outside, clients from inside.

A server runs as ``python -m netcore …`` and its /proc figures are read before and after the worst
crafted input: VmPeak (peak virtual size) would show even a 4 GiB buffer that was never touched,
VmHWM (peak resident size) the bytes really held. Servers run with MALLOC_ARENA_MAX=1: otherwise
each new serving thread may reserve a 64 MiB malloc arena it never uses, and VmPeak would measure
glibc's thread arenas rather than our buffers. A client runs in this process under tracemalloc,
whose peak counts every Python buffer the moment it is asked for.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netcore.engines.filefetch import MAX_PIPELINED, FetchClient
from netcore.engines.tcp_echo import TcpEchoClient
from netcore.engines.time_service import TimeClient
from netcore.errors import RemoteProtocolError, SocketLabError
from netcore.protocols.framing import DEFAULT_MAX_FRAME, make_codec
from tests.hostile.support import FakeTcpServer, memory_kib, play_and_close, read_to_end, send_pieces
from tests.netcore.support import NETCORE, ROOT, WAIT_S, NetcoreProcess, recv_exactly
from tests.requires import linux

MIB = 1024
PEAK_BOUND_KIB = 64 * MIB  # virtual: far below the 4 GiB a trusted 0xFFFFFFFF prefix would ask for
HELD_BYTES = 256 * 1024  # what each of the slow clients sends of a frame announced at the limit
SLOW_CLIENTS = 16
Recorder = Callable[[str, object], None]  # pytest's record_property: a figure for the report
CLIENT_PEAK_BOUND = 1024 * 1024  # bytes a client may allocate while refusing a hostile reply
reads_proc_status = linux("reads the server's memory from /proc/PID/status")


@pytest.fixture
def server() -> Iterator[Callable[..., tuple[NetcoreProcess, int]]]:
    """``python -m netcore SERVER …`` subprocesses; each is interrupted and must exit 0 at the end."""
    started: list[NetcoreProcess] = []

    def start(*args: str) -> tuple[NetcoreProcess, int]:
        proc = NetcoreProcess(
            *args,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--quiet",
            env={**os.environ, "MALLOC_ARENA_MAX": "1"},
        )
        started.append(proc)
        port = int(proc.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)").group(1))
        return proc, port

    try:
        yield start
    finally:
        for proc in started:
            proc.stop()


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)


def echo_round_trip(port: int, framing: str) -> None:
    message = make_codec(framing).encode(b"still answering")
    with connect(port) as sock:
        sock.sendall(message)
        assert recv_exactly(sock, len(message)) == message


def send_and_end(port: int, data: bytes) -> None:
    """Send *data* and half close; the server must end the connection (at once when it refuses the
    data, with a reset if it left some unread)."""
    with connect(port) as sock:
        if send_pieces(sock, [data]):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
        read_to_end(sock)


def growth(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before[key] for key in ("VmPeak", "VmHWM")}


def record_growth(record_property: Recorder, grew: dict[str, int]) -> None:
    """Put the server's memory growth into the test report (docs/RELIABILITY.md)."""
    for key, kib in grew.items():
        record_property(f"{key} growth", f"{kib / 1024:.1f} MiB")


@reads_proc_status
@pytest.mark.parametrize("framing", ["length4", "length8", "json"])
def test_tcp_echo_server_memory_stays_bounded_under_huge_announced_lengths(
    server: Callable[..., tuple[NetcoreProcess, int]], framing: str, record_property: Recorder
) -> None:
    """Frames announced at 4 GiB, 2^63 bytes or a 4 GiB JSON header are refused without a buffer, and
    16 clients each holding 256 KiB of a frame announced at the 16 MiB limit cost what they sent:
    VmPeak grows < 64 MiB and VmHWM < 16 MiB (the frame limit)."""
    proc, port = server("tcp-echo-server", "--framing", framing)
    echo_round_trip(port, framing)
    before = memory_kib(proc.proc.pid)
    huge = {
        "length4": [b"\xff\xff\xff\xff", b"\x80\x00\x00\x00", struct.pack("!I", DEFAULT_MAX_FRAME + 1)],
        "length8": [b"\xff" * 8, struct.pack("!Q", 2**63), struct.pack("!Q", DEFAULT_MAX_FRAME + 1)],
        "json": [
            b"\xff\xff\xff\xff",
            struct.pack("!I", 65_537),
            struct.pack("!I", 33) + b'{"data_all": 4611686018427387904}',
            struct.pack("!I", 50_000) + b"[" * 50_000,
        ],
    }[framing]
    for prefix in huge:
        for _ in range(10):
            send_and_end(port, prefix + bytes(1024))
    at_limit = make_codec(framing).encode(bytes(DEFAULT_MAX_FRAME))[: -DEFAULT_MAX_FRAME + HELD_BYTES]
    slow = [connect(port) for _ in range(SLOW_CLIENTS)]
    try:
        for sock in slow:
            sock.sendall(at_limit)
        echo_round_trip(port, framing)  # served while the slow clients hold their bytes
        held = memory_kib(proc.proc.pid)
    finally:
        for sock in slow:
            sock.close()
    echo_round_trip(port, framing)
    grew = growth(before, held)
    record_growth(record_property, grew)
    assert grew["VmPeak"] < PEAK_BOUND_KIB, grew
    assert grew["VmHWM"] < DEFAULT_MAX_FRAME // 1024, grew
    assert proc.interrupt() == 0


BUDGET_MIB = 16
BUDGET_CLIENTS = 16


@reads_proc_status
def test_tcp_echo_server_memory_stays_within_its_buffer_budget(
    server: Callable[..., tuple[NetcoreProcess, int]], record_property: Recorder
) -> None:
    """16 clients each send 15 MiB of a 16 MiB length4 frame to ``tcp-echo-server --buffer-budget 16``:
    the clients that would take it over 16 MiB are closed, VmHWM grows < 64 MiB (the budget counts the
    bytes held, and a growing buffer may be copied when reallocated; without the budget it grew by
    ~230 MiB), and it still answers."""
    proc, port = server("tcp-echo-server", "--framing", "length4", "--buffer-budget", str(BUDGET_MIB))
    echo_round_trip(port, "length4")
    before = memory_kib(proc.proc.pid)
    most = make_codec("length4").encode(bytes(DEFAULT_MAX_FRAME))[: -(2**20)]
    clients = [connect(port) for _ in range(BUDGET_CLIENTS)]
    try:
        refused = sum(not send_pieces(sock, [most]) for sock in clients)
        held = memory_kib(proc.proc.pid)
    finally:
        for sock in clients:
            sock.close()
    echo_round_trip(port, "length4")
    grew = growth(before, held)
    record_growth(record_property, grew)
    record_property("clients refused while sending", f"{refused} of {BUDGET_CLIENTS}")
    assert grew["VmHWM"] < 4 * BUDGET_MIB * MIB, grew
    assert refused >= 1  # which ones depends on how the server's reads interleave
    assert proc.interrupt() == 0


@reads_proc_status
def test_file_server_memory_stays_bounded_under_oversize_requests(
    server: Callable[..., tuple[NetcoreProcess, int]], tmp_path: Path, record_property: Recorder
) -> None:
    """Requests of 8 KiB and more, thousands of names in one send (more than a client may pipeline),
    and a stream of invalid UTF-8 are refused without buffering them: VmPeak grows < 64 MiB, VmHWM
    < 4 MiB."""
    (tmp_path / "hello.txt").write_bytes(b"hello\n")
    proc, port = server("file-server", "--root", str(tmp_path))
    send_and_end(port, b"hello.txt\nq\n")
    before = memory_kib(proc.proc.pid)
    for _ in range(5):
        send_and_end(port, b"x" * 64 * 1024)
        send_and_end(port, b"\xff" * 64 * 1024)
        send_and_end(port, b"../" * 20_000 + b"\n")
        with connect(port) as sock:  # as many names at once as a client may pipeline: each answered
            sock.sendall(b"nothing\n" * (MAX_PIPELINED - 1) + b"q\n")
            assert read_to_end(sock)[0].count(b"no file named") == MAX_PIPELINED - 1
        with connect(port) as sock:  # 2,000 names at once: refused, none answered, none kept
            sock.sendall(b"nothing\n" * 2000 + b"q\n")
            assert read_to_end(sock)[0].count(b"no file named") == 0
    grew = growth(before, memory_kib(proc.proc.pid))
    record_growth(record_property, grew)
    assert grew["VmPeak"] < PEAK_BOUND_KIB, grew
    assert grew["VmHWM"] < 4 * MIB, grew
    assert proc.interrupt() == 0


def peak_of(run: Callable[[], object]) -> int:
    """The most bytes Python had allocated at once (beyond what it held before) while *run* ran."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        run()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def expect_error(error: type[SocketLabError], call: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        with pytest.raises(error):
            call()

    return run


@pytest.mark.parametrize(
    ("framing", "prefix"),
    [("length4", b"\xff\xff\xff\xff"), ("length8", b"\x7f" + b"\xff" * 7), ("json", b"\xff\xff\xff\xff")],
)
def test_tcp_echo_client_refuses_a_huge_length_prefix_without_allocating_it(
    fake_tcp: FakeTcpServer, framing: str, prefix: bytes, record_property: Recorder
) -> None:
    """A reply announcing 4 GiB (or 2^63 bytes) is a RemoteProtocolError at the prefix, and the
    client allocates less than 1 MiB while refusing it."""
    request = make_codec(framing).encode(b"hello")
    fake_tcp.expect(play_and_close([prefix + bytes(60_000)], len(request)))
    client = TcpEchoClient("127.0.0.1", fake_tcp.port, framing, timeout=WAIT_S)
    try:
        client.connect()
        peak = peak_of(expect_error(RemoteProtocolError, lambda: client.request(b"hello")))
    finally:
        client.close()
    fake_tcp.wait_done()
    record_property("client's peak allocation", f"{peak / 1024:.0f} KiB")
    assert peak < CLIENT_PEAK_BOUND


@pytest.mark.parametrize(
    "reply",
    [
        b"\xff\xff\xff\xff" + bytes(60_000),
        struct.pack("!I", 41) + b'{"file_name": "x", "data_all": 1099511627776}' + bytes(60_000),
        struct.pack("!I", 45) + b'{"file_name": "x", "data_all": 16777216, "a":1}' + bytes(60_000),
    ],
    ids=["4-GiB-header", "1-TiB-body", "16-MiB-body-cut"],
)
def test_fetch_client_refuses_huge_headers_and_bodies_without_allocating_them(
    fake_tcp: FakeTcpServer, tmp_path: Path, reply: bytes, record_property: Recorder
) -> None:
    """A 4 GiB header length, a 1 TiB body and a 16 MiB body cut after 60 KB end with a typed error,
    leave nothing in the destination, and cost the client less than 1 MiB of Python memory."""
    fake_tcp.expect(play_and_close([reply], 1))
    client = FetchClient("127.0.0.1", fake_tcp.port, tmp_path, timeout=WAIT_S)
    try:
        client.connect()
        peak = peak_of(expect_error(SocketLabError, lambda: client.fetch("x")))
    finally:
        client.close()
    fake_tcp.wait_done()
    record_property("client's peak allocation", f"{peak / 1024:.0f} KiB")
    assert peak < CLIENT_PEAK_BOUND
    assert list(tmp_path.iterdir()) == []


def test_time_client_stops_reading_a_flood_at_its_reply_limit(
    fake_tcp: FakeTcpServer, record_property: Recorder
) -> None:
    """A TIME server that sends 16 MiB instead of 4 bytes: a RemoteProtocolError after 4 KiB, and less
    than 1 MiB allocated."""
    fake_tcp.expect(play_and_close([bytes(DEFAULT_MAX_FRAME)]))
    client = TimeClient("time-tcp", "127.0.0.1", fake_tcp.port, timeout=WAIT_S)
    try:
        peak = peak_of(expect_error(RemoteProtocolError, client.query))
    finally:
        client.close()
    fake_tcp.wait_done()
    record_property("client's peak allocation", f"{peak / 1024:.0f} KiB")
    assert peak < CLIENT_PEAK_BOUND


ECHO_FLOOD = 200 * 1024 * 1024  # bytes echoed through a server whose output nobody reads
FLOOD_PIECE = 1024 * 1024
FLOOD_TIME_S = 120.0  # the longest the flood (or reading the lagging output) may take
UNREAD_OUTPUT_BOUND_KIB = 64 * MIB  # the events waiting to be printed: 4 MiB of traffic, as text


def read_until(fd: int, found: Callable[[bytes], bool], timeout: float, keep: int | None = 65536) -> bytes:
    """Read the pipe *fd* until *found* is true of what was read (or the pipe ends); returns the last
    *keep* bytes read (None: all). Fails the test after *timeout* s."""
    deadline = time.monotonic() + timeout
    tail = b""
    while not found(tail):
        left = deadline - time.monotonic()
        assert left > 0 and select.select([fd], [], [], left)[0], (
            f"nothing more within {timeout} s: {tail[-300:]!r}"
        )
        piece = os.read(fd, 1024 * 1024)
        if not piece:
            break
        tail += piece
        if keep is not None:
            tail = tail[-keep:]
    return tail


def echo_flood(port: int, total: int) -> None:
    """Send *total* bytes to an echo server while reading back as many."""
    with connect(port) as sock:
        sender = threading.Thread(
            target=send_pieces, args=(sock, [bytes(FLOOD_PIECE)] * (total // FLOOD_PIECE))
        )
        sender.start()
        deadline = time.monotonic() + FLOOD_TIME_S
        received = 0
        try:
            while received < total and time.monotonic() < deadline:
                piece = sock.recv(FLOOD_PIECE)
                assert piece, f"the server closed after echoing {received:,} bytes"
                received += len(piece)
        finally:
            sender.join(FLOOD_TIME_S)
    assert received == total, f"{received:,} of {total:,} bytes echoed within {FLOOD_TIME_S} s"


@reads_proc_status
def test_cli_server_output_lag_is_bounded_when_nobody_reads_it(record_property: Recorder) -> None:
    """200 MiB echoed by ``tcp-echo-server`` whose output goes to a pipe nobody reads: the events
    waiting to be printed stay within their bound (VmHWM grows < 64 MiB; it grew by ~400 MiB), and
    once the pipe is read the output says how many events it skipped."""
    proc = subprocess.Popen(
        [sys.executable, *NETCORE, "tcp-echo-server", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MALLOC_ARENA_MAX": "1"},
    )
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    try:
        first = read_until(fd, lambda text: b"\n" in text, WAIT_S)
        listening = re.search(rb"listening on 127\.0\.0\.1:(\d+)", first)
        assert listening, first
        before = memory_kib(proc.pid)
        echo_flood(int(listening.group(1)), ECHO_FLOOD)
        grew = growth(before, memory_kib(proc.pid))
        record_growth(record_property, grew)
        assert grew["VmHWM"] < UNREAD_OUTPUT_BOUND_KIB, grew
        # The client's close comes last, after the note of what was skipped before it.
        output = read_until(fd, lambda text: b"closed: peer closed" in text, FLOOD_TIME_S, keep=None)
        notes = re.findall(r"… ([\d,]+) events / ([\d,]+) bytes not shown".encode(), output)
        events, data = (sum(int(n[i].replace(b",", b"")) for n in notes) for i in (0, 1))
        record_property("not shown", f"{events:,} events / {data / 2**20:.0f} MiB in {len(notes)} notes")
        assert data > ECHO_FLOOD, "the output did not say what it skipped"
        proc.send_signal(signal.SIGINT)
        read_until(fd, lambda _: False, WAIT_S)  # to the end: it exits
        assert proc.wait(WAIT_S) == 0
    finally:
        proc.kill()
        proc.wait(WAIT_S)
        proc.stdout.close()

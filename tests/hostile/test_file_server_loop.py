"""The file server serves every client on its one loop (issue 17, items 9 and 12): thousands of idle
connections cost it no thread, a thread that cannot be started cannot break it, a large file is
hashed in slices while other clients are answered, hashing stops for a client that has gone, and a
waiting client hears how far the hash has come.

Network rules: 127.0.0.1 only, port 0, every wait bounded, every socket and engine stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from netcore.engines import filefetch
from netcore.engines.filefetch import BUFFER_SIZE, FetchClient, FileServer
from netcore.errors import LoopFull
from netcore.io import loop as loop_module
from netcore.io.platform import MAX_LOOP_SOCKETS, raise_open_files_limit
from netcore.model.events import Closed, CloseReason, Connected, Failed, FetchStatus, Stopped
from netcore.model.fetch import HASHING, WAITING_FOR_HEADER
from tests.faults.support import wait_until
from tests.netcore.support import WAIT_S, EngineThreads

IDLE = 3_000
IDLE_WINDOW_S = 2.0  # how long the server's CPU is measured with its clients idle


def threads_now() -> int:
    """Threads of this process: the kernel's count where /proc has it, else Python's."""
    with contextlib.suppress(OSError):
        return len(os.listdir("/proc/self/task"))
    return threading.active_count()


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        piece = sock.recv(size - len(buf))
        assert piece, f"closed after {len(buf)} of {size} bytes"
        buf += piece
    return bytes(buf)


def fetch_raw(sock: socket.socket, name: str) -> tuple[dict[str, object], bytes]:
    """One request the course's way, without a thread of the test's own: the header and the body
    (Socket Lab's progress headers skipped)."""
    sock.sendall(name.encode() + b"\n")
    header: dict[str, object] = {"hashing": {}}
    while "hashing" in header:
        (length,) = struct.unpack("!I", recv_exactly(sock, 4))
        header = json.loads(recv_exactly(sock, length))
    size = header.get("data_all")
    assert isinstance(size, int), header
    return header, recv_exactly(sock, size)


@pytest.fixture
def served(tmp_path: Path) -> Path:
    root = tmp_path / "served"
    root.mkdir()
    (root / "small.txt").write_bytes(b"small and quick")
    return root


def test_3000_idle_connections_start_no_thread(served: Path, record_property):
    """3,000 clients connect and say nothing: the server's thread count does not grow (it made 3,002
        threads, one per client), its loop takes next to no CPU for them (idle timeouts are one timer for all
    clients), and a new client is answered meanwhile."""
    if MAX_LOOP_SOCKETS is not None:
        pytest.skip(f"this system's select() watches at most {MAX_LOOP_SOCKETS} sockets")
    limit = raise_open_files_limit(2 * IDLE + 256)
    if limit is not None and limit < 2 * IDLE + 256:
        pytest.skip(f"cannot open {2 * IDLE} descriptors here (the hard limit of open files is {limit})")
    server = FileServer(served, idle_timeout=WAIT_S * 6)
    clients: list[socket.socket] = []
    with EngineThreads() as engines:
        addr, log, _ = engines.start(server, "file-server-idle")
        before = threads_now()
        try:
            for _ in range(IDLE):
                clients.append(socket.create_connection((addr.host, addr.port), timeout=WAIT_S))
            wait_until(lambda: len(server._clients) >= IDLE, f"{IDLE} clients accepted", timeout=60)
            during = threads_now()
            samples: list[tuple[float, float]] = []  # (wall, CPU) time of the server's loop thread

            def sample() -> None:
                samples.append((time.monotonic(), time.thread_time()))

            server.call_soon(sample)
            wait_until(lambda: len(samples) == 1, "the loop's first sample")
            time.sleep(IDLE_WINDOW_S)  # the clients stay idle this long: a measuring window
            server.call_soon(sample)
            wait_until(lambda: len(samples) == 2, "the loop's second sample")
            with socket.create_connection((addr.host, addr.port), timeout=WAIT_S) as sock:
                started = time.perf_counter()
                header, body = fetch_raw(sock, "small.txt")
                answer_ms = 1000 * (time.perf_counter() - started)
        finally:
            for sock in clients:
                sock.close()
        assert not log.of(Failed), log.of(Failed)
    (wall0, cpu0), (wall1, cpu1) = samples
    idle_cpu = 100 * (cpu1 - cpu0) / (wall1 - wall0)
    record_property("threads before / with 3,000 idle clients", f"{before} / {during}")
    record_property("the server loop's CPU with 3,000 idle clients (%)", f"{idle_cpu:.1f}")
    record_property("a new client's answer with 3,000 idle (ms)", f"{answer_ms:.1f}")
    assert during <= before, f"{during - before} more threads with {IDLE} idle clients"
    assert idle_cpu < 10, f"{idle_cpu:.1f} % CPU for {IDLE} idle clients"
    assert body == b"small and quick" and header["file_name"] == "small"


def test_a_thread_that_cannot_start_does_not_break_the_server(served: Path, monkeypatch):
    """Once the server runs, no thread can be started (as under an address-space limit): it still
    accepts and serves, reports no failure, and stops with ``Stopped`` (it closed its listener,
    crashed in cleanup and never said ``Stopped``)."""
    server = FileServer(served)
    with EngineThreads() as engines:
        addr, log, thread = engines.start(server, "file-server-no-threads")

        def refuse(self: threading.Thread) -> None:
            raise RuntimeError("can't start new thread")

        monkeypatch.setattr(threading.Thread, "start", refuse)
        for _ in range(3):
            with socket.create_connection((addr.host, addr.port), timeout=WAIT_S) as sock:
                assert fetch_raw(sock, "small.txt")[1] == b"small and quick"
                sock.sendall(b"q\n")
                assert sock.recv(1) == b"", "the server ends the session"
        monkeypatch.undo()
        assert not log.of(Failed), log.of(Failed)
        server.stop()
        log.wait_for(Stopped)
        thread.join(WAIT_S)
        assert not thread.is_alive()
    with pytest.raises(OSError), socket.create_connection((addr.host, addr.port), timeout=WAIT_S):
        pass


class CountingMd5:
    """Stands in for the module's hashlib: counts the blocks the server's md5s hash."""

    def __init__(self) -> None:
        self.blocks = 0

    def before_block(self) -> None:
        """Called before each block is hashed."""

    def md5(self) -> object:
        outer, digest = self, hashlib.md5()

        class Digest:
            def update(self, block: bytes) -> None:
                outer.before_block()
                outer.blocks += 1
                digest.update(block)

            def hexdigest(self) -> str:
                return digest.hexdigest()

        return Digest()


@pytest.fixture
def large(served: Path) -> Iterator[tuple[Path, int]]:
    """A sparse file of 512 MiB: hashing it costs CPU only, hundreds of slices."""
    path = served / "large.bin"
    with path.open("wb") as f:
        f.truncate(512 * BUFFER_SIZE)
    yield path, 512


def test_other_clients_are_answered_while_a_large_file_is_hashed(served, large, monkeypatch, record_property):
    """A client waits for a 512 MiB file to be hashed; another client's small file is answered
    between two slices of that hash, not after it."""
    counting = CountingMd5()
    monkeypatch.setattr(filefetch, "hashlib", counting)
    _, blocks = large
    with EngineThreads() as engines:
        addr, _, _ = engines.start(FileServer(served), "file-server-fair")
        with (
            socket.create_connection((addr.host, addr.port), timeout=WAIT_S) as slow,
            socket.create_connection((addr.host, addr.port), timeout=WAIT_S) as quick,
        ):
            slow.sendall(b"large.bin\n")
            (length,) = struct.unpack("!I", recv_exactly(slow, 4))
            assert "hashing" in json.loads(recv_exactly(slow, length)), "a progress header comes first"
            assert fetch_raw(quick, "small.txt")[1] == b"small and quick"
            hashed_then = counting.blocks
    record_property("blocks hashed of 512 when the other client was answered", hashed_then)
    assert hashed_then < blocks, "the small file waited for the whole hash"


def test_hashing_stops_at_once_for_a_client_that_left(served, large, monkeypatch, record_property):
    """Six clients ask for the large file and close at once: the server stops hashing for each
    within a few slices (threads hashed for > 60 s for clients that had gone) and serves on."""
    counting = CountingMd5()
    monkeypatch.setattr(filefetch, "hashlib", counting)
    _, blocks = large
    with EngineThreads() as engines:
        addr, log, _ = engines.start(FileServer(served), "file-server-left")
        for _ in range(6):
            with socket.create_connection((addr.host, addr.port), timeout=WAIT_S) as sock:
                sock.sendall(b"large.bin\n")
                recv_exactly(sock, 4)  # the server has started on it
        closes = log.wait_for(Closed, count=6)
        hashed = counting.blocks
        with socket.create_connection((addr.host, addr.port), timeout=WAIT_S) as sock:
            assert fetch_raw(sock, "small.txt")[1] == b"small and quick"
    record_property("blocks hashed for 6 clients that left (of 6 × 512)", hashed)
    assert all(c.reason is CloseReason.RESET for c in closes), closes
    assert hashed < 6 * 16, f"hashed {hashed} blocks for clients that had gone"
    assert hashed < blocks


def test_our_client_reports_how_far_the_server_has_hashed(served, monkeypatch, tmp_path):
    """Socket Lab's mode: progress headers before the header; our client reports each as a
    ``FetchStatus`` (a template and its params) and still saves the file verified."""
    monkeypatch.setattr(filefetch, "PROGRESS_S", 0.0)  # a progress header after every slice
    data = os.urandom(8 * BUFFER_SIZE + 5)
    (served / "eight.bin").write_bytes(data)
    dest = tmp_path / "dest"
    dest.mkdir()
    statuses: list[FetchStatus] = []
    with EngineThreads() as engines:
        addr, _, _ = engines.start(FileServer(served), "file-server-progress")
        client = FetchClient(addr.host, addr.port, dest, timeout=WAIT_S)
        client.on_status = statuses.append
        try:
            client.connect()
            result = client.fetch("eight.bin")
        finally:
            client.close()
    assert result.verified and result.path.read_bytes() == data
    assert {s.template for s in statuses} == {HASHING}
    percents = [s.params["percent"] for s in statuses]
    assert percents == sorted(percents) and percents[0] == 0 and any(0 < p < 100 for p in percents)
    assert statuses[-1].text.startswith("the server is hashing 'eight.bin': ")


def test_in_the_course_mode_our_client_says_it_waits_for_the_header(served, monkeypatch, tmp_path):
    """The course's '<i' mode has no progress headers (the course's client reads exactly its
    protocol): after the header's length our client says it waits for the header."""
    seen = threading.Event()

    class WaitsToBeSeen(CountingMd5):
        def before_block(self) -> None:
            seen.wait(WAIT_S)  # the server's hash goes on once the client has said it waits

    monkeypatch.setattr(filefetch, "hashlib", WaitsToBeSeen())
    data = os.urandom(2 * BUFFER_SIZE + 1)
    (served / "two.bin").write_bytes(data)
    dest = tmp_path / "dest"
    dest.mkdir()
    statuses: list[FetchStatus] = []
    with EngineThreads() as engines:
        addr, _, _ = engines.start(FileServer(served, length_format="<i"), "file-server-course")
        client = FetchClient(addr.host, addr.port, dest, timeout=WAIT_S)
        client.on_status = lambda status: (statuses.append(status), seen.set())
        try:
            client.connect()
            result = client.fetch("two.bin")
        finally:
            seen.set()
            client.close()
    assert result.verified and result.length_format == "<i"
    assert [s.template for s in statuses] == [WAITING_FOR_HEADER]


def test_under_windows_select_limit_the_server_refuses_politely_what_it_cannot_watch(served, monkeypatch):
    """On the one loop the file server watches its clients: with Windows' select() limit (made 8
    here: the wake-up socket, the listener and 6 clients) the 7th client is closed at once with a
    ``LoopFull`` notice, and the others are served."""
    monkeypatch.setattr(loop_module, "MAX_LOOP_SOCKETS", 8)
    clients: list[socket.socket] = []
    with EngineThreads() as engines:
        addr, log, _ = engines.start(FileServer(served), "file-server-select-limit")
        try:
            for _ in range(7):
                clients.append(socket.create_connection((addr.host, addr.port), timeout=WAIT_S))
            [refused] = log.wait_for(Failed)
            assert isinstance(refused.error, LoopFull) and len(log.of(Connected)) == 6
            assert clients[-1].recv(10) == b"", "closed at once: EOF, not a hang"
            for sock in clients[:-1]:
                assert fetch_raw(sock, "small.txt")[1] == b"small and quick"
        finally:
            for sock in clients:
                sock.close()

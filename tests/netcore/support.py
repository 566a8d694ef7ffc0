"""Helpers shared by the netcore tests: an event log to wait on, server engines run in threads, plain
client sockets, and ``python -m netcore`` run as a subprocess.

Network rules as in the tests: only loopback, port 0 or a port just found free, every wait bounded in
time, every thread, socket and subprocess released by its owner.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

import pytest

from netcore.engines import filefetch
from netcore.engines.serving import ServerEngine
from netcore.errors import format_endpoint
from netcore.model.events import Connected, Event, Listening, Traffic
from netcore.model.traffic import Direction
from netcore.protocols.address import Address

WAIT_S = 5.0  # the longest any single wait in a test may take before the test fails
ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 15  # the longest one ``python -m netcore`` run may take
NETCORE = ("-m", "netcore")  # how ``cli`` and ``NetcoreProcess`` start the command line

T = TypeVar("T")
E = TypeVar("E", bound=ServerEngine)


# -- events -------------------------------------------------------------------------------------
def matches(event: Event, cls: type, attrs: Mapping[str, object]) -> bool:
    """Whether *event* is a *cls* whose attributes have the values in *attrs*."""
    return isinstance(event, cls) and all(getattr(event, k) == v for k, v in attrs.items())


def lane(events: Sequence[Event], direction: Direction, conn: int | None = None) -> list[Traffic]:
    """The Traffic events of one direction (and one peer), in order."""
    return [
        e
        for e in events
        if isinstance(e, Traffic)
        and e.chunk.direction is direction
        and (conn is None or e.chunk.conn == conn)
    ]


class EventLog:
    """A thread-safe event sink that tests can wait on."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._cond = threading.Condition()

    def sink(self, events: Sequence[Event]) -> None:
        if events:
            with self._cond:
                self._events.extend(events)
                self._cond.notify_all()

    @property
    def events(self) -> list[Event]:
        with self._cond:
            return list(self._events)

    def of(self, cls: type, **attrs: object) -> list[Any]:
        return [e for e in self.events if matches(e, cls, attrs)]

    def wait_until(
        self, done: Callable[[list[Event]], bool], timeout: float = WAIT_S, what: str = "a condition"
    ) -> list[Event]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not done(self._events):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"waited {timeout} s for {what}; last events: {self._events[-8:]}")
                self._cond.wait(left)
            return list(self._events)

    def wait_for(self, cls: type, count: int = 1, timeout: float = WAIT_S, **attrs: object) -> list[Any]:
        """The events of type *cls* (with *attrs*), once there are at least *count* of them."""
        events = self.wait_until(
            lambda evs: sum(matches(e, cls, attrs) for e in evs) >= count,
            timeout,
            f"{count} {cls.__name__}{attrs or ''}",
        )
        return [e for e in events if matches(e, cls, attrs)]

    def chunks(self, conn: int, direction: Direction) -> list[Traffic]:
        return lane(self.events, direction, conn)

    def stream(self, conn: int, direction: Direction) -> bytes:
        return b"".join(t.chunk.data for t in self.chunks(conn, direction))

    def wait_stream(self, conn: int, direction: Direction, n: int) -> bytes:
        self.wait_until(
            lambda evs: sum(len(t.chunk.data) for t in lane(evs, direction, conn)) >= n,
            what=f"{n} bytes {direction} on #{conn}",
        )
        return self.stream(conn, direction)


# -- server engines in threads ------------------------------------------------------------------
@dataclass
class Running(Generic[E]):
    """A server engine running in a thread of the test, with the log of its events."""

    server: E
    addr: Address
    log: EventLog
    thread: threading.Thread

    def conn_of(self, client_local: str) -> int:
        """The server's connection id for the client whose local endpoint is *client_local*."""
        return self.log.wait_for(Connected, peer=client_local)[0].conn

    def traffic(self, conn: int, direction: Direction, wait_bytes: int = 0) -> list[Traffic]:
        """The server's Traffic events of *conn* in *direction*, once at least *wait_bytes* are reported."""
        events = self.log.wait_until(
            lambda evs: sum(len(t.chunk.data) for t in lane(evs, direction, conn)) >= wait_bytes,
            what=f"{wait_bytes} bytes {direction} on #{conn}",
        )
        return lane(events, direction, conn)


class EngineThreads:
    """Server engines started in threads, each with its own EventLog; at the end of the ``with``
    block every one is stopped and joined (the last started first), and must have stopped.

    *what* names a thread in the failure message (by default its engine's class).
    """

    def __init__(self, what: str | None = None) -> None:
        self.what = what
        self._started: list[tuple[ServerEngine, threading.Thread]] = []

    def start(self, engine: ServerEngine, name: str) -> tuple[Address, EventLog, threading.Thread]:
        """Bind *engine*, run it in a thread called *name*, and wait until it listens."""
        log = EventLog()
        addr = engine.bind()
        thread = engine.start_thread(log.sink, name=name)
        self._started.append((engine, thread))
        log.wait_for(Listening)
        return addr, log, thread

    def stop_all(self) -> None:
        for engine, _ in reversed(self._started):
            engine.join(WAIT_S)
        for engine, thread in self._started:
            what = self.what or f"{type(engine).__name__} thread"
            assert not thread.is_alive(), f"{what} did not stop"

    def __enter__(self) -> EngineThreads:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()


# -- clients and sockets ------------------------------------------------------------------------
class Pumped(Protocol):
    def pump(self, timeout: float) -> list[Event]: ...


def pump_until(client: Pumped, done: Callable[[list[Event]], bool], timeout: float = WAIT_S) -> list[Event]:
    """Pump *client* until ``done(events so far)``; fails after *timeout* seconds."""
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    while not done(events):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out after {timeout} s; events: {events[-8:]}")
        events += client.pump(min(left, 0.05))
    return events


@contextlib.contextmanager
def client_sockets() -> Iterator[Callable[..., socket.socket]]:
    """Plain blocking client sockets (the course's client code), all closed when the block ends."""
    with contextlib.ExitStack() as stack:

        def connect(addr: Address, timeout: float = WAIT_S) -> socket.socket:
            sock = socket.create_connection((addr.host, addr.port), timeout=timeout)
            stack.enter_context(sock)
            return sock

        yield connect


def local_of(sock: socket.socket) -> str:
    """The socket's own endpoint as netcore writes it (the server's ``peer`` for this client)."""
    return format_endpoint(*sock.getsockname()[:2])


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    """recv() until *n* bytes came (the socket's timeout bounds each call)."""
    buf = bytearray()
    while len(buf) < n:
        data = sock.recv(min(65536, n - len(buf)))
        if not data:
            raise AssertionError(f"the peer closed after {len(buf)} of {n} bytes")
        buf += data
    return bytes(buf)


def read_header(sock: socket.socket) -> dict[str, Any]:
    """One '!I' + JSON header of the file protocol."""
    (length,) = struct.unpack("!I", recv_exactly(sock, 4))
    header = json.loads(recv_exactly(sock, length))
    assert isinstance(header, dict)
    return header


def key_answer(sock: socket.socket, key: bytes) -> tuple[bytes, bytes]:
    """Read a keyed file server's nonce; returns the 64-byte answer that proves *key* (our nonce and
    proof) and the session key its requests are signed with."""
    server_nonce = bytes.fromhex(read_header(sock)["nonce"])
    client_nonce = os.urandom(32)
    answer = client_nonce + filefetch.key_proof(key, b"client", server_nonce, client_nonce)
    return answer, filefetch.session_key(key, server_nonce, client_nonce)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port of 127.0.0.1 that was free a moment ago (bound, then released)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ipv6_loopback_works() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


# -- python -m netcore --------------------------------------------------------------------------
def cli(
    *args: str,
    timeout: float = RUN_TIMEOUT,
    env: Mapping[str, str] | None = None,
    command: Sequence[str] = NETCORE,
) -> subprocess.CompletedProcess[str]:
    """``python -m netcore *args`` run to its end, its output captured as text. *command* replaces
    ``-m netcore`` (e.g. ``-m tests.no_posix netcore``)."""
    return subprocess.run(
        [sys.executable, *command, *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=timeout,
        check=False,
    )


class NetcoreProcess:
    """``python -m netcore *args`` in a subprocess, its stdout read line by line by a thread.

    *stderr* is where the command's standard error goes (``subprocess.STDOUT``: into the lines read);
    *command* replaces ``-m netcore`` (e.g. ``-m tests.no_posix netcore``).
    """

    def __init__(
        self,
        *args: str,
        stderr: int = subprocess.PIPE,
        env: Mapping[str, str] | None = None,
        command: Sequence[str] = NETCORE,
    ) -> None:
        self.name = args[0]
        self.lines: queue.SimpleQueue[str | None] = queue.SimpleQueue()  # None: the output ended
        self.seen: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, *command, *args],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
            env=env,
        )
        self._reader = threading.Thread(target=self._read, name=f"{self.name}-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _wait(self, found: Callable[[str], T | None], what: str, timeout: float) -> T:
        deadline = time.monotonic() + timeout
        when = f"within {timeout} s"
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:  # the output ended: the command exited, no use waiting on
                self.lines.put(None)
                when = f"before it exited with {self.proc.wait(timeout=5)}"
                break
            self.seen.append(line)
            if (result := found(line)) is not None:
                return result
        raise AssertionError(f"{self.name} did not print {what} {when}: {self.seen[-5:]}")

    def wait_for(self, text: str, timeout: float = 10.0) -> str:
        """The next line that contains *text*."""
        return self._wait(lambda line: line if text in line else None, repr(text), timeout)

    def wait_for_line(self, pattern: str, timeout: float = WAIT_S) -> re.Match[str]:
        """The match of the next line that *pattern* is found in."""
        return self._wait(lambda line: re.search(pattern, line), f"a line matching {pattern!r}", timeout)

    def interrupt(self, timeout: float = 5.0) -> int:
        """Ctrl+C: the command stops its engine and exits; returns the exit code. Skips the test on
        Windows, where Ctrl+C goes to a whole console, not to one child process."""
        if sys.platform == "win32":
            pytest.skip("Ctrl+C cannot be sent to one child process on Windows")
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        while not self.lines.empty():
            if (line := self.lines.get_nowait()) is not None:
                self.seen.append(line)
        return code

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._reader.join(timeout=5)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()

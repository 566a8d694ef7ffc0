"""Helpers of the hostile-input tests: a lean event sink for a server that takes thousands of
connections, a well-behaved client that keeps asking beside the hostile one, scripted fake peers for
the clients, and the memory figures of a process.

The rules of tests/netcore/support.py hold here too: loopback only, port 0, every wait bounded, every
thread, socket and process stopped by its owner.
"""

from __future__ import annotations

import contextlib
import queue
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from netcore.engines.serving import ServerEngine
from netcore.errors import InternalError, SocketLabError
from netcore.model.events import Closed, CloseReason, Connected, Event, Failed
from netcore.protocols.address import Address
from tests.netcore.support import WAIT_S

T = TypeVar("T")
POLL_S = 0.05  # how often a fake peer's accept() looks at its stop flag


# -- a server under attack ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Outcome:
    """How a server ended one connection. The error is kept as its type and text only: the error
    itself holds a traceback, whose frames would keep that connection's buffers alive."""

    reason: CloseReason
    error: type[SocketLabError] | None
    text: str


class Tally:
    """Event sink of a server that takes thousands of hostile connections: it keeps each close (by
    peer) and every error, counts the other events and drops the traffic, so the test stays small."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.counts: Counter[str] = Counter()
        self.errors: list[tuple[type[SocketLabError], str]] = []
        self._closes: dict[str, list[tuple[float, Outcome]]] = {}  # peer → (when reported, outcome)
        self._connected: dict[str, list[tuple[float, None]]] = {}  # peer → when each accept was reported

    def sink(self, events: Sequence[Event]) -> None:
        with self._cond:
            for event in events:
                self.counts[type(event).__name__] += 1
                if isinstance(event, Connected):
                    self._connected.setdefault(event.peer, []).append((time.monotonic(), None))
                elif isinstance(event, Closed):
                    error = type(event.error) if event.error is not None else None
                    text = event.error.describe() if event.error is not None else ""
                    outcome = Outcome(event.reason, error, text)
                    self._closes.setdefault(event.peer, []).append((time.monotonic(), outcome))
                    if error is not None:
                        self.errors.append((error, text))
                elif isinstance(event, Failed):
                    self.errors.append((type(event.error), event.error.describe()))
            self._cond.notify_all()

    def wait_count(self, name: str, count: int = 1, timeout: float = WAIT_S) -> None:
        """Wait until *count* events of the class called *name* have come."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.counts[name] >= count, timeout):
                raise AssertionError(f"waited {timeout} s for {count} {name} event(s): {self.counts}")

    def wait_connected(self, peer: str, since: float, timeout: float = WAIT_S) -> None:
        """Wait until the server has accepted the connection from *peer* opened at *since*."""
        self._wait_for(self._connected, peer, since, timeout, "accept")

    def close_of(self, peer: str, since: float, timeout: float = WAIT_S) -> Outcome:
        """How the server closed the connection from *peer* opened at *since*."""
        return self._wait_for(self._closes, peer, since, timeout, "close")

    def _wait_for(
        self, table: dict[str, list[tuple[float, T]]], peer: str, since: float, timeout: float, what: str
    ) -> T:
        """The first entry of *peer* in *table* reported after *since* (a ``time.monotonic()`` taken
        before connecting); each is handed out once. Older entries are dropped: they belong to an
        earlier connection from the same port."""

        def found() -> bool:
            entries = table.get(peer, [])
            while entries and entries[0][0] < since:
                entries.pop(0)
            return bool(entries)

        with self._cond:
            if not self._cond.wait_for(found, timeout):
                raise AssertionError(
                    f"the server did not {what} the connection from {peer} within {timeout} s"
                )
            entries = table[peer]
            _, value = entries.pop(0)
            if not entries:
                del table[peer]
            return value

    def error_count(self, kind: type[SocketLabError]) -> int:
        with self._cond:
            return sum(issubclass(error, kind) for error, _ in self.errors)


@dataclass
class Served:
    """A server engine running in a thread of the test, with the tally of its events."""

    engine: ServerEngine
    addr: Address
    tally: Tally
    thread: threading.Thread

    def assert_healthy(self) -> None:
        """The engine still runs and has reported no internal error (a bug) and no stop."""
        assert self.thread.is_alive(), f"the {type(self.engine).__name__} thread died"
        assert self.tally.counts["Stopped"] == 0, "the server stopped"
        internal = [text for error, text in self.tally.errors if issubclass(error, InternalError)]
        assert not internal, f"internal errors: {internal[:3]}"


@contextlib.contextmanager
def serving(engine: ServerEngine, name: str) -> Iterator[Served]:
    """Run *engine* in a thread with a Tally; at the end stop it and check that it stopped."""
    tally = Tally()
    addr = engine.bind()
    thread = engine.start_thread(tally.sink, name=name)
    try:
        tally.wait_count("Listening")
        yield Served(engine, addr, tally, thread)
    finally:
        engine.join(WAIT_S)
    assert not thread.is_alive(), f"{name} did not stop"


class Steady:
    """A well-behaved client that calls *ask* over and over in its own thread while a hostile one runs.

    *ask* raises (an AssertionError or a netcore error) when an answer is wrong or missing; the first
    such failure ends the thread and is raised again by ``check``. Between two questions it pauses
    *pause_s* so that it does not starve the server of the two CPUs.
    """

    def __init__(self, ask: Callable[[], None], name: str, pause_s: float = 0.005) -> None:
        self.ask, self.pause_s = ask, pause_s
        self.answered = 0
        self.failure: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.ask()
            except BaseException as exc:  # reported by check() in the test's thread
                self.failure = exc
                return
            self.answered += 1
            self._stop.wait(self.pause_s)

    def __enter__(self) -> Steady:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(WAIT_S)
        assert not self._thread.is_alive(), f"{self._thread.name} did not stop"

    def check(self, at_least: int) -> None:
        """The well-behaved client got at least *at_least* right answers and never a wrong one."""
        if self.failure is not None:
            raise AssertionError(
                f"the well-behaved client failed after {self.answered} answers: {self.failure!r}"
            ) from self.failure
        assert self.answered >= at_least, f"only {self.answered} answers to the well-behaved client"


# -- plain sockets --------------------------------------------------------------------------------
def send_pieces(sock: socket.socket, pieces: Sequence[bytes]) -> bool:
    """sendall() each piece; False when the peer closed or reset before all were sent."""
    try:
        for piece in pieces:
            sock.sendall(piece)
    except OSError:
        return False
    return True


def read_to_end(sock: socket.socket, limit: int = 64 * 1024 * 1024) -> tuple[bytes, bool]:
    """recv() until the peer closes: (the bytes, whether it ended with a reset instead of a FIN).

    The socket's timeout bounds each recv(); a peer that neither closes nor sends fails the test."""
    data = bytearray()
    while len(data) <= limit:
        try:
            piece = sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            return bytes(data), True
        except TimeoutError:
            raise AssertionError(
                f"the peer neither closed nor sent within the timeout ({len(data)} bytes)"
            ) from None
        if not piece:
            return bytes(data), False
        data += piece
    raise AssertionError(f"the peer sent more than {limit:,} bytes")


def abort(sock: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0) instead of a FIN, as a crashing client does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


# -- fake peers for the clients -------------------------------------------------------------------
Handler = Callable[[socket.socket], None]


@dataclass
class FakeTcpServer:
    """A TCP server on 127.0.0.1 that plays one queued handler per accepted connection.

    A handler that raises fails the test at ``close``; so does a connection with no handler queued.
    """

    listener: socket.socket = field(default_factory=lambda: socket.create_server(("127.0.0.1", 0)))
    handlers: queue.SimpleQueue[Handler] = field(default_factory=queue.SimpleQueue)
    failures: list[BaseException] = field(default_factory=list)
    done: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))

    def __post_init__(self) -> None:
        self.listener.settimeout(POLL_S)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-tcp-server", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def expect(self, handler: Handler) -> None:
        """Queue the handler of the next connection."""
        self.handlers.put(handler)

    def wait_done(self) -> None:
        """Wait until the handler of the last connection has finished."""
        assert self.done.acquire(timeout=WAIT_S), "the fake server's handler did not finish"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(WAIT_S)
                try:
                    self.handlers.get_nowait()(conn)
                except BaseException as exc:  # reported by close() in the test's thread
                    self.failures.append(exc)
            self.done.release()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(WAIT_S)
        self.listener.close()
        assert not self._thread.is_alive(), "the fake TCP server did not stop"
        assert not self.failures, f"the fake server failed: {self.failures[0]!r}"


def play_and_close(pieces: Sequence[bytes], read_first: int = 0, reset: bool = False) -> Handler:
    """A handler that reads *read_first* bytes (the client's request), sends *pieces*, then closes:
    with a reset, or with a FIN after which it reads until the client closes too (so that nothing the
    client sends later turns the close into a reset)."""

    def handle(conn: socket.socket) -> None:
        received = bytearray()
        with contextlib.suppress(OSError):
            while len(received) < read_first and (piece := conn.recv(read_first - len(received))):
                received += piece
        if not send_pieces(conn, pieces) or reset:
            abort(conn)
            return
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_WR)
            read_to_end(conn)

    return handle


# -- memory ---------------------------------------------------------------------------------------
def memory_kib(pid: int) -> dict[str, int]:
    """VmPeak (peak virtual size: counts even memory never touched), VmHWM (peak resident size) and
    VmRSS of process *pid*, in KiB, from Linux's /proc/PID/status."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmPeak", "VmHWM", "VmRSS"):
            figures[key] = int(value.split()[0])
    return figures

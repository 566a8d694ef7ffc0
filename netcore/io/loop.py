"""What every I/O engine shares: a stop flag, thread-safe commands, and batched event reporting."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
from collections.abc import Callable, Sequence

from netcore.model.events import Event, EventSink

TICK_S = 0.05  # the longest an engine sleeps in select(): how fast it notices stop() and flushes


def discard_events(_events: Sequence[Event]) -> None:
    """An event sink that keeps nothing (for callers that only want the side effects)."""


class Engine:
    """Base of clients and servers that run a select() loop in one thread.

    Other threads talk to it only through ``call_soon`` (run a function in the loop thread) and
    ``stop``; the loop hands its events to the sink once per round, at least every ``TICK_S``.
    """

    def __init__(self) -> None:
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._stopping = threading.Event()
        self._events: list[Event] = []
        self._events_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def emit(self, event: Event) -> None:
        """Report an event (thread-safe: an engine's helper threads may report too)."""
        with self._events_lock:
            self._events.append(event)

    def take_events(self) -> list[Event]:
        """The events reported since the last call (for callers that drive the engine themselves)."""
        with self._events_lock:
            events, self._events = self._events, []
        return events

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run *fn* in the engine's thread at its next round (thread-safe)."""
        self._commands.put(fn)
        self._wake()

    def stop(self) -> None:
        """Ask the loop to finish; it closes its sockets and reports ``Stopped`` (thread-safe)."""
        self._stopping.set()
        self._wake()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _wake(self) -> None:
        # OSError: the pipe is full (a wake-up is already pending) or the engine is gone.
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _run_commands(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass
        while True:
            try:
                fn = self._commands.get_nowait()
            except queue.Empty:
                return
            fn()

    def _flush(self, sink: EventSink) -> None:
        sink(self.take_events())

    def _close_wake(self) -> None:
        self._wake_r.close()
        self._wake_w.close()

    def run(self, sink: EventSink) -> None:
        raise NotImplementedError

    def start_thread(self, sink: EventSink, name: str = "engine") -> threading.Thread:
        """Run the loop in a daemon thread (for the CLI and tests; the GUI uses a QThread)."""
        self._thread = threading.Thread(target=self.run, args=(sink,), name=name, daemon=True)
        self._thread.start()
        return self._thread

    def join(self, timeout: float = 5.0) -> None:
        """``stop()`` and wait for the thread started by ``start_thread``."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout)

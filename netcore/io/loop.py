"""The one event loop every engine runs on, and the ``Engine`` base that owns one.

A ``Loop`` is a selector with callbacks: register a socket with the events it waits for and a
function to call, schedule timers, run functions sent from other threads (``call_soon``), and
``stop`` from any thread — the loop wakes at once through its own socket pair. Sequential clients
(a time query, a file fetch) wait on the same loop with ``wait``, so a ``stop()`` ends even a
``connect()`` to a host that never answers within one round.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from netcore.errors import LocalProtocolError
from netcore.io.platform import CONNECT_PENDING, MAX_LOOP_SOCKETS, new_selector
from netcore.model.events import Event, EventSink, Stopped

TICK_S = 0.05  # the longest one round sleeps: how often an engine hands its events on
READ = selectors.EVENT_READ
WRITE = selectors.EVENT_WRITE

Callback = Callable[[int], None]  # called with the ready events (READ | WRITE)


def discard_events(_events: Sequence[Event]) -> None:
    """An event sink that keeps nothing (for callers that only want the side effects)."""


class Cancelled(LocalProtocolError):
    """The engine was stopped while it waited."""

    def __init__(self, what: str = "the operation") -> None:
        super().__init__(f"{what} was cancelled")


class Timer:
    """A scheduled call; ``cancel()`` it before it is due and it never runs."""

    __slots__ = ("cancelled", "fn", "loop", "when")

    def __init__(self, when: float, fn: Callable[[], None], loop: Loop) -> None:
        self.when, self.fn, self.loop, self.cancelled = when, fn, loop, False

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self.loop._timer_cancelled()


class Loop:
    """One selector, its callbacks, timers and cross-thread commands. Not thread-safe except for
    ``call_soon`` and ``stop``."""

    def __init__(self) -> None:
        self._sel = new_selector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._sel.register(self._wake_r, READ, None)
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._timers: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._cancelled = 0  # cancelled timers still in the heap
        self._stopping = threading.Event()
        self._dropped: set[int] = set()  # descriptors forgotten during this round
        self.closed = False

    # -- sockets --------------------------------------------------------------------------------
    def watch(self, sock: socket.socket, mask: int, callback: Callback) -> None:
        """Call *callback* when *sock* is ready for *mask*; a mask of 0 stops watching it."""
        key = self._sel.get_map().get(sock)
        if not mask:
            if key is not None:
                self._sel.unregister(sock)
                self._dropped.add(key.fd)
        elif key is None:
            self._sel.register(sock, mask, callback)
        elif key.events != mask or key.data is not callback:
            self._sel.modify(sock, mask, callback)

    def forget(self, sock: socket.socket) -> None:
        """Stop watching *sock* (before closing it)."""
        self.watch(sock, 0, _ignore)

    @property
    def sockets(self) -> int:
        """Sockets watched now, the loop's own wake-up socket included."""
        return len(self._sel.get_map())

    @property
    def room(self) -> int | None:
        """How many more sockets this system's selector can watch (None: no limit)."""
        return None if MAX_LOOP_SOCKETS is None else MAX_LOOP_SOCKETS - self.sockets

    # -- time -----------------------------------------------------------------------------------
    def call_later(self, delay: float, fn: Callable[[], None]) -> Timer:
        """Run *fn* in the loop after *delay* seconds."""
        timer = Timer(time.monotonic() + delay, fn, self)
        heapq.heappush(self._timers, (timer.when, next(self._seq), timer))
        return timer

    def _timer_cancelled(self) -> None:
        """Drop cancelled timers once they are most of the heap: a peer that restarts a timer with
        every message (a frame timeout) must not grow it until the timers fall due."""
        self._cancelled += 1
        if self._cancelled > 1024 and 2 * self._cancelled > len(self._timers):
            self._timers = [entry for entry in self._timers if not entry[2].cancelled]
            heapq.heapify(self._timers)
            self._cancelled = 0

    # -- other threads --------------------------------------------------------------------------
    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run *fn* in the loop's thread at its next round (thread-safe)."""
        self._commands.put(fn)
        self._wake()

    def stop(self) -> None:
        """Ask the loop to finish (thread-safe); a waiting round returns at once."""
        self._stopping.set()
        self._wake()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def stop_event(self) -> threading.Event:
        """Set when the loop is asked to stop: for helper threads that wait on it."""
        return self._stopping

    def sleep(self, seconds: float) -> bool:
        """Sleep up to *seconds* unless stopped; True if stopped (thread-safe)."""
        return self._stopping.wait(seconds)

    def _wake(self) -> None:
        # OSError: the pair is full (a wake-up is already pending) or the loop is closed.
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    # -- running --------------------------------------------------------------------------------
    def run_once(self, timeout: float = TICK_S) -> None:
        """One round: wait up to *timeout* (less if a timer is due sooner), then run the callbacks
        of ready sockets, the commands of other threads and the timers that are due."""
        timers = self._timers
        if timers:
            timeout = max(0.0, min(timeout, timers[0][0] - time.monotonic()))
        dropped = self._dropped
        dropped.clear()
        woken = False
        for key, mask in self._sel.select(timeout):
            callback = key.data
            if callback is None:  # the wake-up socket: commands (or stop) from another thread
                woken = True
            elif key.fd not in dropped:  # an earlier callback of this round may have dropped it
                callback(mask)
        if woken:  # every call_soon() and stop() writes a wake-up byte after queueing
            self._drain_wake()
            self._run_commands()
        if self._timers:
            self._run_timers()

    def wait(self, sock: socket.socket, mask: int, deadline: float, what: str = "the operation") -> bool:
        """Run the loop until *sock* is ready for *mask* (True) or *deadline* passes (False);
        raises ``Cancelled`` when stopped. For sequential clients: other callbacks keep running."""
        ready: list[int] = []
        self.watch(sock, mask, ready.append)
        try:
            while not ready:
                if self.stopping:
                    raise Cancelled(what)
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.run_once(min(left, TICK_S))
        finally:
            if not self.closed and sock.fileno() >= 0:
                self.forget(sock)
        return True

    def _drain_wake(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass

    def _run_commands(self) -> None:
        while True:
            try:
                fn = self._commands.get_nowait()
            except queue.Empty:
                return
            fn()

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                self._cancelled -= 1
            else:
                timer.cancelled = True  # done: a later cancel() is a no-op
                timer.fn()

    def close(self) -> None:
        """Release the selector and the wake-up pair (idempotent). Sockets stay the engines' to close."""
        if self.closed:
            return
        self.closed = True
        self._sel.close()
        self._wake_r.close()
        self._wake_w.close()


def _ignore(_mask: int) -> None:
    """The callback of a socket being forgotten."""


class Engine:
    """Base of clients and servers: one ``Loop`` run in one thread, events reported in batches.

    Other threads talk to it only through ``call_soon`` and ``stop``. ``run`` is the same for every
    engine: ``setup`` (bind or connect; reports its own failure), ``serve`` (rounds of the loop until
    stopped or ``done``), then — always — ``close`` and a final ``Stopped`` event.
    """

    def __init__(self) -> None:
        self.loop = Loop()
        self._events: list[Event] = []
        self._events_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._sink: EventSink = discard_events

    # -- reporting ------------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        """Report an event (thread-safe: an engine's helper threads may report too)."""
        with self._events_lock:
            self._events.append(event)

    def take_events(self) -> list[Event]:
        """The events reported since the last call (for callers that drive the engine themselves)."""
        if not self._events:
            return []
        with self._events_lock:
            events, self._events = self._events, []
        return events

    # -- commands from other threads --------------------------------------------------------------
    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run *fn* in the engine's thread at its next round (thread-safe)."""
        self.loop.call_soon(fn)

    def stop(self) -> None:
        """Ask the loop to finish; it closes its sockets and reports ``Stopped`` (thread-safe)."""
        self.loop.stop()

    @property
    def stopping(self) -> bool:
        return self.loop.stopping

    # -- the run ----------------------------------------------------------------------------------
    def setup(self) -> bool:
        """Bind or connect before the first round; False (having reported why) to end at once."""
        return True

    @property
    def done(self) -> bool:
        """True when the engine has finished its work and the loop should end."""
        return False

    def serve(self) -> None:
        """The engine's work: rounds of the loop until stopped or ``done``, handing the events on
        after each. A sequential engine (a time query, a fetch) does its steps here instead and
        calls ``flush`` when it has something to show."""
        stopped, run_once, flush = self.loop.stop_event.is_set, self.loop.run_once, self.flush
        while not stopped() and not self.done:
            run_once()
            flush()

    def flush(self) -> None:
        """Hand the events reported so far to the sink ``run`` was given."""
        self._sink(self.take_events())

    def close(self) -> None:
        """Close every socket the engine holds and release the loop (idempotent)."""
        self.loop.close()

    def run(self, sink: EventSink) -> None:
        """``setup``, ``serve``, and always ``close`` and a final ``Stopped``: every engine's life."""
        self._sink = sink
        try:
            if self.setup():
                self.flush()
                self.serve()
        finally:
            self.close()
            self.emit(Stopped())
            self.flush()

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


def connect_nonblocking(loop: Loop, infos: list[Any], deadline: float, what: str) -> socket.socket:
    """Connect to the first address of *infos* (``getaddrinfo`` results) that answers before
    *deadline*, waiting on *loop* so that ``stop()`` cancels at once. Raises the last ``OSError``
    (``TimeoutError`` when time ran out) or ``Cancelled``."""
    error: OSError = TimeoutError()
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            code = sock.connect_ex(sockaddr)
            if code not in CONNECT_PENDING:
                raise OSError(code, os.strerror(code))
            if not loop.wait(sock, WRITE, deadline, what):
                raise TimeoutError()
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                raise OSError(code, os.strerror(code))
            return sock
        except OSError as exc:
            sock.close()
            error = exc
        except BaseException:
            sock.close()
            raise
    raise error

"""Run a netcore engine in a QThread and deliver its events to the GUI in batches.

The standard wiring: a QObject worker moved to a QThread; ``started`` runs the engine loop and
the worker's ``finished`` quits the thread. Python owns both objects and releases them only after
``QThread.wait()`` has returned. The worker hands the GUI at most one batch every
``BATCH_MS`` and never more than one batch in flight: while the GUI is busy, events accumulate in the
worker. The engine never waits for the GUI: traffic beyond ``max_pending_bytes`` is dropped oldest
first and counted, so a flood cannot freeze the GUI or grow memory without bound.

``MAX_BATCH_BYTES`` (4 MiB a batch, about 80 MB/s) and ``MAX_BATCH_CHUNKS`` (1,000 calls a batch,
20,000 a second) are far more than anyone reads, and far less than the traffic store keeps: under a
faster flood each batch brings the newest traffic of its interval within both bounds.
That bounds the GUI's work per batch, and it lets the flood's receive buffers be freed and reused
while still in the CPU cache: holding 32 MiB of a 1 GB/s flood until the next batch (the store's
bound, as before) cost about a third of the receive rate on a 2-core machine with a 32 MiB L3.
While batches keep dropping traffic, they come every ``FLOOD_BATCH_MS`` instead: a flood faster than
anyone reads needs fewer repaints, and the GUI thread leaves the CPU and the GIL to the engine.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from netcore.errors import InternalError
from netcore.io.loop import Engine
from netcore.io.platform import keep_freed_heap as platform_keep_freed_heap
from netcore.model.events import Event, Failed, LargeDatagram, ProbeReply, Stopped, Traffic, Truncated
from netcore.model.traffic import Direction

BATCH_MS = 50
FLOOD_BATCH_MS = 200  # after a batch that had to drop traffic: a flood refreshes the views 5 times a second
MAX_BATCH_BYTES = 4 * 1024 * 1024  # beyond this, the oldest traffic of a batch is dropped (and counted)
MAX_BATCH_CHUNKS = 1_000  # likewise beyond this many send()/recv() calls (small datagrams in a flood)
MAX_PENDING_EVENTS = 50_000  # beyond this, the oldest traffic and notices are dropped (and counted)
_NOTICES = (Truncated, ProbeReply, LargeDatagram, Failed)  # repeated notices, droppable in a flood


KEPT_FREE_HEAP = 64 * 1024 * 1024


def keep_freed_heap(limit: int = KEPT_FREE_HEAP) -> bool:
    """Let glibc keep up to *limit* bytes of freed heap at its top instead of handing it back to the
    kernel at once (its default: beyond 128 KiB). Returns whether it applied (glibc only).

    Under a flood each recv() allocates a fresh 64 KiB buffer; the worker keeps the newest ones for
    the views and frees the rest in bulk. With the default, every bulk free shrank the heap and the
    next buffers came back as new, zero-filled pages: 3-5 times as many page faults, and a tenth of
    the engine's time, as the same client with nobody keeping its buffers."""
    return platform_keep_freed_heap(limit)


@dataclass(frozen=True, slots=True)
class Batch:
    """Events for the GUI, and the traffic dropped before them (``dropped_bytes`` includes
    ``dropped_sent_bytes``: the dropped send() calls)."""

    events: tuple[Event, ...]
    dropped_chunks: int = 0
    dropped_bytes: int = 0
    dropped_sent_bytes: int = 0


class EngineWorker(QObject):
    """Lives in a QThread; runs ``engine.run`` and emits ``Batch`` objects."""

    batch = Signal(object)
    finished = Signal()

    def __init__(self, engine: Engine, max_pending_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__()
        self.engine = engine
        self.max_pending_bytes = max_pending_bytes
        self._lock = threading.Lock()
        self._pending: deque[Event] = deque()
        self._pending_bytes = 0
        self._dropped_chunks = 0
        self._dropped_bytes = 0
        self._dropped_sent_bytes = 0
        self._in_flight = False
        self._last_emit = 0.0
        self._flooding = False

    @Slot()
    def run(self) -> None:
        try:
            self.engine.run(self._collect)
        except Exception as exc:  # a bug: report it in the pane instead of stopping silently
            self._collect([Failed(InternalError(f"{type(exc).__name__}: {exc}")), Stopped()])
        finally:
            self._emit(force=True)
            self.finished.emit()

    @property
    def flooding(self) -> bool:
        """The last batch had to drop traffic: the next one comes after ``FLOOD_BATCH_MS``."""
        return self._flooding

    def acknowledge(self) -> None:
        """The GUI has handled the last batch (called from the GUI thread)."""
        with self._lock:
            self._in_flight = False

    def _collect(self, events: Sequence[Event]) -> None:
        """Engine-thread sink: queue events, trim old traffic past the bounds, emit when due.

        It runs once per engine round (under a flood, once per recv()), so it does the least it can:
        the traffic is trimmed in bulk once it is twice over a bound, one pass dropping many events."""
        stopped = False
        with self._lock:
            pending = self._pending
            pending.extend(events)
            for event in events:
                if type(event) is Traffic:
                    self._pending_bytes += len(event.chunk.data)
                elif type(event) is Stopped:
                    stopped = True
            if self._pending_bytes > 2 * self.max_pending_bytes or len(pending) > 2 * MAX_BATCH_CHUNKS:
                self._trim_traffic()
                while len(self._pending) > MAX_PENDING_EVENTS and self._drop_oldest((Traffic, *_NOTICES)):
                    pass
            batch = self._take_batch(force=stopped)
        if batch is not None:
            self.batch.emit(batch)

    def _trim_traffic(self) -> None:
        """Keep the newest traffic within both bounds and every other event; count what is dropped
        (call with the lock held)."""
        if self._pending_bytes <= self.max_pending_bytes and len(self._pending) <= MAX_BATCH_CHUNKS:
            return
        room, calls = self.max_pending_bytes, MAX_BATCH_CHUNKS
        kept: list[Event] = []
        full = False
        for event in reversed(self._pending):
            if type(event) is Traffic:
                chunk = event.chunk
                size = len(chunk.data)
                if full or size > room or not calls:
                    full = True  # and so is everything older
                    self._dropped_chunks += 1
                    self._dropped_bytes += size
                    if chunk.direction is Direction.SENT:
                        self._dropped_sent_bytes += size
                    continue
                room -= size
                calls -= 1
            kept.append(event)
        kept.reverse()
        self._pending = deque(kept)
        self._pending_bytes = self.max_pending_bytes - room

    def _drop_oldest(self, kinds: tuple[type, ...]) -> bool:
        """Drop the oldest pending event of one of *kinds*; False if there is none."""
        kept: list[Event] = []
        pending = self._pending
        while pending:
            event = pending.popleft()
            if isinstance(event, kinds):
                if isinstance(event, Traffic):
                    self._pending_bytes -= len(event.chunk.data)
                    self._dropped_chunks += 1
                    self._dropped_bytes += len(event.chunk.data)
                    if event.chunk.direction is Direction.SENT:
                        self._dropped_sent_bytes += len(event.chunk.data)
                pending.extendleft(reversed(kept))
                return True
            kept.append(event)
        pending.extend(kept)
        return False

    def _emit(self, force: bool) -> None:
        with self._lock:
            batch = self._take_batch(force)
        if batch is not None:
            self.batch.emit(batch)

    def _take_batch(self, force: bool) -> Batch | None:
        """The pending events as a batch if one is due (call with the lock held)."""
        if (self._in_flight and not force) or not (self._pending or self._dropped_chunks):
            return None
        now = time.monotonic()
        interval = FLOOD_BATCH_MS if self._flooding else BATCH_MS
        if not force and now - self._last_emit < interval / 1000:
            return None
        self._trim_traffic()
        batch = Batch(
            tuple(self._pending), self._dropped_chunks, self._dropped_bytes, self._dropped_sent_bytes
        )
        self._flooding = self._dropped_chunks > 0
        self._pending.clear()
        self._pending_bytes = 0
        self._dropped_chunks = self._dropped_bytes = self._dropped_sent_bytes = 0
        self._in_flight = True
        self._last_emit = now
        return batch


_live: weakref.WeakSet[EngineRunner] = weakref.WeakSet()


def running_runners() -> list[EngineRunner]:
    """Runners whose thread is still running (tests fail if any is left behind)."""
    return [r for r in list(_live) if r.is_running()]


class EngineRunner(QObject):
    """Owns one engine's QThread and worker; ``stop_and_wait`` joins it (no terminate())."""

    batch = Signal(object)
    finished = Signal()

    def __init__(
        self,
        engine: Engine,
        on_batch: Callable[[Batch], None],
        parent: QObject | None = None,
        max_pending_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self._thread: QThread | None = QThread()
        self._thread.setObjectName(type(engine).__name__)
        self._worker: EngineWorker | None = EngineWorker(engine, max_pending_bytes)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        # Direct: quit() is thread-safe, and stop_and_wait() blocks the GUI thread's event loop.
        self._worker.finished.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)
        self._worker.batch.connect(self._deliver)
        self._on_batch = on_batch
        _live.add(self)

    def start(self) -> None:
        assert self._thread is not None
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def stop(self) -> None:
        self.engine.stop()

    def stop_and_wait(self, timeout_ms: int = 5000) -> bool:
        """Stop the engine and wait for its thread; True when it has finished."""
        self.engine.stop()
        thread = self._thread
        if thread is None:
            return True
        return thread.wait(timeout_ms)

    def _deliver(self, batch: Batch) -> None:
        try:
            self._on_batch(batch)
        finally:
            if self._worker is not None:
                self._worker.acknowledge()

    def _on_thread_finished(self) -> None:
        # QThread.finished is emitted from the thread just before it ends: wait() until it really has
        # before the last Python references go (Python owns both objects; no deleteLater, which would
        # race with the wrapper's own deletion).
        if self._thread is not None:
            self._thread.wait()
        self._thread = None
        self._worker = None
        self.finished.emit()

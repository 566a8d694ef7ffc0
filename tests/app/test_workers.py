"""EngineRunner and EngineWorker: batches bounded in bytes (oldest traffic dropped and counted,
other events kept), and slower batches while a flood is dropping traffic."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from app.workers import MAX_BATCH_BYTES, MAX_BATCH_CHUNKS, Batch, EngineRunner, EngineWorker
from netcore.errors import InternalError
from netcore.io.loop import Engine
from netcore.model.events import Connected, Event, EventSink, Failed, Stopped, Traffic
from netcore.model.traffic import Direction, make_chunk

PEER = "127.0.0.1:5000"
CHUNK = 64 * 1024


class ScriptedEngine(Engine):
    """Reports fixed events in one round (or in the given rounds), then stops."""

    def __init__(self, events: Sequence[Event], *rounds: Sequence[Event]) -> None:
        super().__init__()
        self.rounds = [list(events), *map(list, rounds)]

    def run(self, sink: EventSink) -> None:
        *rounds, last = self.rounds
        for events in rounds:
            sink(events)
        sink([*last, Stopped()])
        self.loop.close()


def traffic(i: int, size: int = CHUNK, direction: Direction = Direction.RECEIVED) -> Traffic:
    return Traffic(make_chunk(direction, bytes([i % 256]) * size, i * size, 1, PEER))


def test_a_flood_in_one_interval_keeps_the_newest_traffic_and_every_other_event(qtbot):
    flood = [traffic(i) for i in range(3 * MAX_BATCH_BYTES // CHUNK)]  # 12 MiB at once
    notice = Failed(InternalError("a notice amid the flood"))
    connected = Connected(1, "127.0.0.1:40000", PEER)
    half = len(flood) // 2
    batches: list[Batch] = []
    runner = EngineRunner(ScriptedEngine([connected, *flood[:half], notice, *flood[half:]]), batches.append)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start()

    events = [e for b in batches for e in b.events]
    kept = [e for e in events if isinstance(e, Traffic)]
    assert kept == flood[-len(kept) :]  # the newest chunks, in order
    assert sum(len(e.chunk.data) for e in kept) == MAX_BATCH_BYTES
    assert sum(b.dropped_chunks for b in batches) == len(flood) - len(kept)
    assert sum(b.dropped_bytes for b in batches) == (len(flood) - len(kept)) * CHUNK
    # dropping traffic for bytes never drops a notice or a state change
    assert [e for e in events if not isinstance(e, Traffic)] == [connected, notice, Stopped()]


def test_a_flood_of_small_datagrams_keeps_the_newest_calls(qtbot):
    flood = [
        traffic(i, 16, Direction.SENT if i % 4 == 0 else Direction.RECEIVED)
        for i in range(3 * MAX_BATCH_CHUNKS)
    ]
    batches: list[Batch] = []
    runner = EngineRunner(ScriptedEngine(flood), batches.append)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start()
    kept = [e for b in batches for e in b.events if isinstance(e, Traffic)]
    assert kept == flood[-MAX_BATCH_CHUNKS:]
    assert sum(b.dropped_chunks for b in batches) == 2 * MAX_BATCH_CHUNKS
    assert sum(b.dropped_bytes for b in batches) == 2 * MAX_BATCH_CHUNKS * 16
    assert sum(b.dropped_sent_bytes for b in batches) == 2 * MAX_BATCH_CHUNKS * 16 // 4  # for bytes out


def test_traffic_within_the_bound_is_delivered_whole(qtbot):
    flood = [traffic(i) for i in range(MAX_BATCH_BYTES // CHUNK)]
    batches: list[Batch] = []
    runner = EngineRunner(ScriptedEngine(flood), batches.append)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.start()
    assert [e for b in batches for e in b.events if isinstance(e, Traffic)] == flood
    assert not any(b.dropped_chunks or b.dropped_bytes for b in batches)


def test_the_worker_marks_a_flood_while_batches_drop_traffic(qtbot):
    flood = [traffic(i) for i in range(2 * MAX_BATCH_BYTES // CHUNK)]
    trickle = [traffic(len(flood))]
    worker = EngineWorker(ScriptedEngine(flood, trickle))
    seen: list[tuple[Batch, bool]] = []

    def on_batch(batch: Batch) -> None:
        seen.append((batch, worker.flooding))
        worker.acknowledge()

    worker.batch.connect(on_batch)
    worker.run()  # in this thread: each batch is handled as it is emitted
    assert [bool(b.dropped_chunks) for b, _ in seen] == [flooding for _, flooding in seen]
    assert seen[0][1] and seen[0][0].dropped_bytes == len(flood) * CHUNK - MAX_BATCH_BYTES
    assert not seen[-1][1]  # the trickle after it fits: back to the usual rate
    assert [e for b, _ in seen for e in b.events][-2:] == [trickle[0], Stopped()]


HEAP_PROBE = """
import ctypes, sys
libc = ctypes.CDLL(None)
libc.sbrk.restype, libc.sbrk.argtypes = ctypes.c_void_p, [ctypes.c_ssize_t]
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "kept":
    from app.workers import keep_freed_heap
    assert keep_freed_heap()
blocks = [libc.malloc(65536) for _ in range(256)]  # 16 MiB of receive-buffer-sized blocks
top = libc.sbrk(0)
for block in blocks:
    libc.free(block)
print(top - libc.sbrk(0))  # bytes of heap handed back to the kernel
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt() is Linux-only")
def test_keep_freed_heap_stops_glibc_handing_freed_buffers_back():
    """With a fresh process's defaults glibc gives 16 MiB of freed 64 KiB blocks back to the kernel
    at once (to be faulted in again as new pages); after keep_freed_heap() it keeps them for the next
    buffers, whatever thresholds glibc had adjusted itself to before."""

    def given_back(mode: str) -> int:
        result = subprocess.run(
            [sys.executable, "-c", HEAP_PROBE, mode],
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return int(result.stdout)

    assert given_back("default") >= 8 * 1024 * 1024
    assert given_back("kept") == 0

"""What the benchmark scripts share: servers in their own processes, CPU pinning, percentiles."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable


def pin() -> None:
    """Run on CPU 0 only: client and server then share one CPU for both paths, so round-trip figures
    measure the work each path does rather than how fast this VM wakes an idle CPU (which varies
    several-fold from minute to minute here)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})


def start(target: Callable[..., None], *args: str) -> tuple[mp.Process, int]:
    """Run ``target(*args, ready)`` in a process; it sends its port on *ready*. Returns (process, port)."""
    parent, child = mp.Pipe()
    proc = mp.Process(target=target, args=(*args, child), daemon=True)
    proc.start()
    if not parent.poll(10):
        proc.terminate()
        raise RuntimeError(f"{target.__name__} did not start")
    port: int = parent.recv()
    return proc, port


def stop(proc: mp.Process) -> None:
    proc.terminate()
    proc.join(5)


def percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

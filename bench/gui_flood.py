"""A flood into the GUI: heartbeat lateness, GUI-path MB/s beside the same netcore client headless,
and peak RSS. A server process streams --mib MiB as fast as it can.

Usage: python bench/gui_flood.py [--mib 256]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import socket
import time
from multiprocessing.connection import Connection

from benchlib import percentile

from netcore.engine import TICK_S
from netcore.tcp_echo import TcpEchoClient

BLOCK = bytes(range(256)) * 256  # 64 KiB


def flood(total: int, ready: Connection) -> None:
    """Accept clients one after another; send each *total* bytes as fast as it takes them."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        ready.send(listener.getsockname()[1])
        while True:
            conn, _ = listener.accept()
            with conn:
                sent = 0
                while sent < total:
                    conn.sendall(BLOCK)
                    sent += len(BLOCK)


def headless(port: int, total: int) -> float:
    """The same netcore client with a sink that drops the events: seconds to receive *total*."""
    client = TcpEchoClient("127.0.0.1", port)
    client.connect()
    started = time.perf_counter()
    received = 0
    try:
        while received < total:
            for event in client.pump(TICK_S):
                chunk = getattr(event, "chunk", None)
                if chunk is not None:
                    received += len(chunk.data)
    finally:
        client.close()
    return time.perf_counter() - started


def gui(port: int, total: int) -> tuple[float, list[int]]:
    """Through the TCP echo tab: worker thread, batches, traffic store, log and hexdump models."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "SocketLab", "bench")
    window = MainWindow(settings)
    window.show()
    pane = window.tcp_echo.client
    pane.address.set_address("127.0.0.1", port)
    gaps: list[int] = []
    clock = QElapsedTimer()
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: gaps.append(clock.restart()))
    clock.start()
    heartbeat.start(10)
    loop = QEventLoop()
    done = QTimer()  # a real event loop, as in the app: no Python busy-wait competing for the GIL
    done.timeout.connect(lambda: loop.quit() if pane.bytes_in >= total else None)
    done.start(20)
    started = time.perf_counter()
    pane.toggle_connection()
    loop.exec()
    seconds = time.perf_counter() - started
    done.stop()
    heartbeat.stop()
    window.close()
    settings.clear()
    del app
    return seconds, gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256)
    args = parser.parse_args()
    total = args.mib * 1024 * 1024
    parent, child = mp.Pipe()
    proc = mp.Process(target=flood, args=(total, child), daemon=True)
    proc.start()
    port: int = parent.recv()
    try:
        headless_s = headless(port, total)
        gui_s, gaps = gui(port, total)
    finally:
        proc.terminate()
        proc.join(5)
    lateness = [max(0, g - 10) for g in gaps]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.mib} MiB flood into the TCP echo client tab on 127.0.0.1")
    print(f"headless netcore client: {total / headless_s / 1e6:8.1f} MB/s")
    print(
        f"through the GUI:         {total / gui_s / 1e6:8.1f} MB/s  "
        f"({headless_s / gui_s:.2f} × headless; target ≥ 0.8)"
    )
    print(
        f"heartbeat lateness: p50 {percentile(lateness, 0.5)} ms, p99 {percentile(lateness, 0.99)} ms, "
        f"max {max(lateness)} ms (target p99 ≤ 50 ms)"
    )
    print(f"peak RSS: {peak_mib:.0f} MiB (target ≤ 400 MiB)")


if __name__ == "__main__":
    main()

"""A flood into the GUI: heartbeat lateness, GUI-path MB/s beside the same netcore client headless,
and peak RSS. A server process streams --mib MiB per connection as fast as it can; the rounds
alternate headless and GUI runs, so both see the same machine load. Then a process blasts 512-byte
datagrams at the UDP echo server pane for --udp-s seconds, and at the same netcore server headless,
and counts the replies.

The window is shown and painted once before the first round (its first paint is not part of a
flood), and each GUI run is timed from the click on Connect to the batch that completes the bytes.

This VM's loopback throughput swings two-fold from one second to the next, so single rounds say
little: the medians over the rounds are the figures to quote.

Usage: python bench/gui_flood.py [--mib 256] [--rounds 7] [--udp-s 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import socket
import statistics
import time
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

from benchlib import percentile

from netcore.engines.serving import ReplyGuard
from netcore.engines.tcp_echo import TcpEchoClient
from netcore.engines.udp_echo import UdpEchoServer
from netcore.io.loop import TICK_S, discard_events
from netcore.io.platform import peak_memory_mib

BLOCK = bytes(range(256)) * 256  # 64 KiB
HEARTBEAT_MS = 10
DATAGRAM = 512
UNLIMITED = ReplyGuard(rate=1e9, burst=10**9)  # the flood comes from one peer: measure, do not limit


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


def blast(port: int, seconds: float, result: Connection) -> None:
    """Send datagrams to *port* as fast as the socket takes them for *seconds*; send back how many
    went out and how many echoed replies came back."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        payload, sent, replies = b"x" * DATAGRAM, 0, 0
        end = time.monotonic() + seconds
        while time.monotonic() < end + 0.2:  # and 0.2 s for the replies still on their way
            if time.monotonic() < end:
                try:
                    sock.sendto(payload, ("127.0.0.1", port))
                    sent += 1
                except BlockingIOError:
                    pass
            try:
                while sock.recv(65536):
                    replies += 1
            except BlockingIOError:
                pass
        result.send((sent, replies))


def blast_from_process(
    port: int, seconds: float, wait: Callable[[Callable[[], bool], float], None]
) -> tuple[int, int]:
    """Run ``blast`` in its own process (its own GIL); *wait* runs until a condition holds."""
    parent, child = mp.Pipe()
    proc = mp.Process(target=blast, args=(port, seconds, child), daemon=True)
    proc.start()
    wait(parent.poll, seconds + 10)
    counts: tuple[int, int] = parent.recv()
    proc.join(5)
    return counts


def headless_udp(seconds: float) -> tuple[int, int]:
    """The same netcore UDP echo server in a thread, its events dropped: datagrams sent, replies."""
    server = UdpEchoServer("127.0.0.1", 0, guard=UNLIMITED)
    port = server.bind().port
    server.start_thread(discard_events)
    try:
        return blast_from_process(port, seconds, lambda done, limit: _poll(done, limit))
    finally:
        server.join()


def _poll(done: Callable[[], bool], limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)


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


class GuiRunner:
    """The main window with its TCP echo client tab, reused for every GUI round."""

    def __init__(self, port: int) -> None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication

        from app.main_window import MainWindow
        from app.workers import keep_freed_heap

        keep_freed_heap()  # as the app does at start
        self.app = QApplication.instance() or QApplication([])
        self.settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "SocketLab", "bench")
        self.window = MainWindow(self.settings)
        self.window.show()
        self.pane = self.window.tcp_echo.client
        self.pane.address.set_address("127.0.0.1", port)
        self._wait_until(lambda: False, 0.3)  # first show and paint

    def run(self, total: int) -> tuple[float, list[int]]:
        """Seconds from Connect to *total* bytes through the tab, and the heartbeat gaps (ms)."""
        from PySide6.QtCore import QElapsedTimer, QTimer

        pane = self.pane
        start = pane.bytes_in
        gaps: list[int] = []
        clock = QElapsedTimer()
        heartbeat = QTimer()
        heartbeat.timeout.connect(lambda: gaps.append(clock.restart()))
        clock.start()
        heartbeat.start(HEARTBEAT_MS)
        finished: list[float] = []

        def complete() -> bool:  # checked after each batch reaches the log, so timed to the batch
            if not finished and pane.bytes_in - start >= total:
                finished.append(time.perf_counter())
            return bool(finished)

        started = time.perf_counter()
        pane.toggle_connection()
        self._wait_until(complete, 120, pane.view.log_model.rowsInserted)
        seconds = finished[0] - started
        heartbeat.stop()
        self._wait_until(lambda: pane.runner is None, 10)  # the server closes after *total* bytes
        pane.view.clear()
        return seconds, gaps

    def run_udp(self, seconds: float) -> tuple[int, int, list[int]]:
        """Blast the UDP echo server pane: datagrams sent, replies, heartbeat gaps (ms)."""
        from PySide6.QtCore import QElapsedTimer, QTimer

        pane = self.window.udp_echo.server
        pane.address.set_address("127.0.0.1", 0)
        pane.toggle_server()
        self._wait_until(lambda: pane.server is not None and pane.server.address is not None, 10)
        assert pane.server is not None and pane.server.address is not None
        port = pane.server.address.port
        pane.server.call_soon(partial(setattr, pane.server, "guard", UNLIMITED))
        gaps: list[int] = []
        clock = QElapsedTimer()
        heartbeat = QTimer()
        heartbeat.timeout.connect(lambda: gaps.append(clock.restart()))
        clock.start()
        heartbeat.start(HEARTBEAT_MS)
        sent, replies = blast_from_process(port, seconds, self._wait_until)
        heartbeat.stop()
        pane.toggle_server()
        self._wait_until(lambda: pane.server is None, 10)
        pane.view.clear()
        return sent, replies, gaps

    def _wait_until(self, done: Callable[[], bool], limit_s: float, signal: Any = None) -> None:
        """Run a real event loop, as the app does (no Python busy-wait competing for the GIL), until
        *done* or *limit_s* seconds; checks every 20 ms, and whenever *signal* fires."""
        from PySide6.QtCore import QEventLoop, QTimer

        loop = QEventLoop()
        deadline = time.monotonic() + limit_s

        def check(*_args: object) -> None:
            if done() or time.monotonic() > deadline:
                loop.quit()

        timer = QTimer()
        timer.timeout.connect(check)
        timer.start(20)
        if signal is not None:
            signal.connect(check)
        loop.exec()
        timer.stop()
        if signal is not None:
            signal.disconnect(check)

    def close(self) -> None:
        self.window.close()
        self.settings.clear()


def summary(label: str, values: list[float], unit: str) -> str:
    return f"{label}: {min(values):.0f}–{max(values):.0f} {unit} ({', '.join(f'{v:.0f}' for v in values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--udp-s", type=float, default=3.0)
    args = parser.parse_args()
    total = args.mib * 1024 * 1024
    parent, child = mp.Pipe()
    proc = mp.Process(target=flood, args=(total, child), daemon=True)
    proc.start()
    port: int = parent.recv()
    rows: list[dict[str, Any]] = []
    try:
        gui = GuiRunner(port)
        for _ in range(args.rounds):
            headless_s = headless(port, total)
            gui_s, gaps = gui.run(total)
            late = [max(0, g - HEARTBEAT_MS) for g in gaps]
            rows.append(
                {
                    "headless": total / headless_s / 1e6,
                    "gui": total / gui_s / 1e6,
                    "ratio": headless_s / gui_s,
                    "p50": percentile(late, 0.5),
                    "p99": percentile(late, 0.99),
                    "max": max(late),
                }
            )
        udp_headless = headless_udp(args.udp_s)
        udp_gui = gui.run_udp(args.udp_s)
        gui.close()
    finally:
        proc.terminate()
        proc.join(5)
    peak_mib = peak_memory_mib() or 0.0
    print(f"{args.mib} MiB flood into the TCP echo client tab on 127.0.0.1, {args.rounds} rounds")
    for i, r in enumerate(rows, 1):
        print(
            f"round {i}: headless {r['headless']:6.0f} MB/s, GUI {r['gui']:6.0f} MB/s ({r['ratio']:.2f} ×), "
            f"lateness p50 {r['p50']} ms, p99 {r['p99']} ms, max {r['max']} ms"
        )
    print(summary("headless netcore client", [r["headless"] for r in rows], "MB/s"))
    print(summary("through the GUI", [r["gui"] for r in rows], "MB/s"))
    ratios = ", ".join(f"{r['ratio']:.2f}" for r in rows)
    print(f"GUI / headless: {ratios} (target ≥ 0.8)")
    headless_median = statistics.median(r["headless"] for r in rows)
    gui_median = statistics.median(r["gui"] for r in rows)
    print(
        f"medians: headless {headless_median:.0f} MB/s, GUI {gui_median:.0f} MB/s "
        f"({gui_median / headless_median:.2f} ×); median of the round ratios "
        f"{statistics.median(r['ratio'] for r in rows):.2f} ×"
    )
    print(summary("heartbeat lateness p99", [r["p99"] for r in rows], "ms") + " (target ≤ 50 ms)")
    sent, replies, gaps = udp_gui
    late = [max(0, g - HEARTBEAT_MS) for g in gaps]
    per_s = args.udp_s
    print(f"UDP echo server, {DATAGRAM}-byte datagrams blasted for {per_s:g} s:")
    print(f"  headless: {udp_headless[1] / per_s:9,.0f} replies/s ({udp_headless[0] / per_s:,.0f} sent/s)")
    print(
        f"  GUI pane: {replies / per_s:9,.0f} replies/s ({sent / per_s:,.0f} sent/s), lateness p50 "
        f"{percentile(late, 0.5)} ms, p99 {percentile(late, 0.99)} ms, max {max(late)} ms"
    )
    print(f"peak RSS: {peak_mib:.0f} MiB (target ≤ 400 MiB)")


if __name__ == "__main__":
    main()

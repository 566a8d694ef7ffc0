"""A flood into the GUI: the window keeps answering, memory stays within the store's bound, and the
app stops cleanly. Correctness only (no timing thresholds but the 1 s freeze limit)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from PySide6.QtCore import QElapsedTimer, Qt, QTimer

from app.main_window import MainWindow
from netcore.errors import OverReplyRate

FLOOD_BYTES = 96 * 1024 * 1024
STORE_BYTES = 4 * 1024 * 1024


class Heartbeat:
    """A QTimer in the GUI thread that records how late each tick fires."""

    def __init__(self, interval_ms: int = 10) -> None:
        self.interval_ms = interval_ms
        self.gaps_ms: list[int] = []
        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._clock.start()
        self._timer.start(self.interval_ms)

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        self.gaps_ms.append(self._clock.restart())


def flood_server(total: int) -> tuple[socket.socket, threading.Thread, dict[str, int]]:
    """Accept one client and send *total* bytes as fast as the socket takes them."""
    listener = socket.create_server(("127.0.0.1", 0))
    sent = {"bytes": 0}

    def run() -> None:
        conn, _ = listener.accept()
        block = bytes(range(256)) * 256  # 64 KiB
        with conn:
            try:
                while sent["bytes"] < total:
                    conn.sendall(block)
                    sent["bytes"] += len(block)
            except OSError:
                pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener, thread, sent


@pytest.mark.slow
def test_tcp_client_tab_survives_a_flood(qtbot, settings, record_property):
    """96 MiB streamed as fast as loopback goes into the TCP echo client tab: a 10 ms heartbeat never
    waits 1 s, a click mid-flood is handled, every byte is counted, the view's store stays within its
    4 MiB bound and says how much it dropped, and the window closes cleanly."""
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    pane = win.tcp_echo.client
    pane.view.store.max_bytes = STORE_BYTES
    listener, thread, _sent = flood_server(FLOOD_BYTES)
    heartbeat = Heartbeat()
    widths = (pane.width(), win.tcp_echo.server.width())
    try:
        pane.address.set_address("127.0.0.1", listener.getsockname()[1])
        heartbeat.start()
        qtbot.mouseClick(pane.connect_button, Qt.MouseButton.LeftButton)
        deadline = time.monotonic() + 60
        clicked = []
        escapes = pane.payload.escapes
        escapes.toggled.connect(lambda _on: clicked.append(time.monotonic()))
        while pane.bytes_in < FLOOD_BYTES and time.monotonic() < deadline:
            qtbot.wait(50)
            if not clicked and pane.bytes_in > 0:
                qtbot.mouseClick(escapes, Qt.MouseButton.LeftButton)  # the window answers a click mid-flood
        heartbeat.stop()
        assert pane.bytes_in == FLOOD_BYTES, f"only {pane.bytes_in:,} of {FLOOD_BYTES:,} bytes arrived"
        assert clicked, "the click during the flood was not handled"
        store = pane.view.store
        assert store.byte_count <= STORE_BYTES + 65536
        assert store.dropped_bytes > 0 and "dropped" in pane.view.status.text()
        # the growing summary ("… older chunks dropped …") never widened its pane
        assert (pane.width(), win.tcp_echo.server.width()) == widths
        worst = max(heartbeat.gaps_ms)
        assert worst < 1000, f"the GUI froze for {worst} ms"
        record_property("flood", f"{FLOOD_BYTES / 2**20:.0f} MiB")
        record_property("heartbeat gap p50", f"{sorted(heartbeat.gaps_ms)[len(heartbeat.gaps_ms) // 2]} ms")
        record_property("heartbeat gap max", f"{worst} ms")
        record_property("dropped from the view", f"{store.dropped_bytes / 2**20:.1f} MiB (said so)")
    finally:
        win.close()  # stops and joins the worker: the fixture fails the test if a QThread is left
        listener.close()
        thread.join(10)
    assert not thread.is_alive()


@pytest.mark.slow
def test_udp_server_pane_survives_a_datagram_flood(qtbot, settings, record_property):
    """4 s of 512-byte datagrams blasted at the UDP echo server pane: the heartbeat never waits 1 s,
    the store stays within its bound, and every datagram received is echoed (or, over the reply
    rate, withheld) and counted once each way (whether or not the view kept it)."""
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    pane = win.udp_echo.server
    pane.view.store.max_bytes = STORE_BYTES
    pane.address.set_address("127.0.0.1", 0)
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening on" in pane.state.text(), timeout=5000)
    port = pane.server.address.port
    heartbeat = Heartbeat()
    heartbeat.start()
    stop = threading.Event()
    count = {"sent": 0}

    def blast() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            payload = b"x" * 512
            end = time.monotonic() + 4
            while not stop.is_set() and time.monotonic() < end:
                try:
                    sock.sendto(payload, ("127.0.0.1", port))
                    count["sent"] += 1
                except OSError:
                    time.sleep(0.001)

    sender = threading.Thread(target=blast, daemon=True)
    sender.start()
    try:
        while sender.is_alive():
            qtbot.wait(50)
        qtbot.wait(300)
        heartbeat.stop()
        worst = max(heartbeat.gaps_ms)
        assert worst < 1000, f"the GUI froze for {worst} ms"
        assert pane.bytes_in > 0 and pane.view.store.byte_count <= STORE_BYTES + 65536
        # every datagram echoed or withheld (one peer gets 1,000 replies a second): dropped from the
        # view or not, each counts once in its direction
        assert pane.server is not None
        withheld = pane.server.withheld
        qtbot.waitUntil(lambda: pane.bytes_out + 512 * withheld.total() == pane.bytes_in, timeout=3000)
        assert withheld.keys() <= {OverReplyRate}
        assert pane.bytes_in % 512 == 0 and pane.bytes_in <= count["sent"] * 512
        record_property("datagrams sent", f"{count['sent']:,}")
        record_property("bytes received by the pane", f"{pane.bytes_in:,}")
        record_property("datagrams over the reply rate, not answered", f"{withheld.total():,}")
        record_property("heartbeat gap max", f"{worst} ms")
    finally:
        stop.set()
        sender.join(5)
        win.close()

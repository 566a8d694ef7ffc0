"""Issue 15: the window never shows a wrong figure or a stale line, and a language switch leaves no
text in the other language. pytest-qt through the real window and real loopback sockets."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from netcore.model.traffic import Direction
from tests.app.test_tcp_echo_page import connect_client, received_bytes, start_server, type_and_send
from widgets.hexdump_view import FRAME_START_ROLE, HEX0


@pytest.fixture
def window(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def disconnect_client(qtbot, page):
    qtbot.mouseClick(page.client.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.client.runner is None, timeout=10000)


# -- wrong figures ----------------------------------------------------------------------------------
def test_frames_of_a_new_connection_are_not_drawn_on_the_old_connections_bytes(qtbot, window):
    """Raw exchange, disconnect, reconnect with length4: the first connection's 10 bytes (row 0,
    columns 0–9) get no frame bracket and no frame tooltip; the new connection's frame does."""
    page = window.tcp_echo
    start_server(qtbot, page)
    connect_client(qtbot, page)
    type_and_send(qtbot, page, "hello")
    qtbot.waitUntil(lambda: received_bytes(page.client.view) == b"hello", timeout=10000)
    disconnect_client(qtbot, page)
    connect_client(qtbot, page, framing="length4")
    type_and_send(qtbot, page, "hi")
    qtbot.waitUntil(lambda: received_bytes(page.client.view) == b"hello\x00\x00\x00\x02hi", timeout=10000)
    hexm = page.client.view.hex_model
    for column in range(10):
        cell = hexm.index(0, HEX0 + column)
        assert cell.data(FRAME_START_ROLE) is False, column
        assert "frame #" not in cell.data(Qt.ItemDataRole.ToolTipRole), column
    new_sent = hexm.index(0, HEX0 + 10)  # the new connection's first sent byte: its frame's header
    assert new_sent.data(FRAME_START_ROLE) is True
    assert "frame #1" in new_sent.data(Qt.ItemDataRole.ToolTipRole)
    store = page.client.view.store
    assert [store.chunk(i).direction for i in range(len(store))] == [Direction.SENT, Direction.RECEIVED] * 2

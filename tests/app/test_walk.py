"""Found on a teacher's walk through every tab at 1024×768: fields as wide as the screen, a log
that hid the port that tells two clients apart."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication

from app.main_window import FRAME_ALLOWANCE, MainWindow

ROOM = QSize(1024, 768) - FRAME_ALLOWANCE


@pytest.fixture
def window(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    win.resize(ROOM)
    qtbot.waitUntil(lambda: win.size() == ROOM)
    yield win
    win.close()


def test_relay_address_fields_stay_address_sized(qtbot, window):
    window.tabs.setCurrentWidget(window.relay)
    QApplication.processEvents()
    pane = window.relay.server
    char = pane.fontMetrics().horizontalAdvance("0")
    assert pane.width() > 900  # the tab is wide: the fields could grow
    assert pane.target.width() <= 45 * char
    assert pane.address.host.width() <= 45 * char
    assert pane.target.width() >= pane.fontMetrics().horizontalAdvance("[2001:db8::1]:65535")

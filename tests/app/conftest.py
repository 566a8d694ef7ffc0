"""The main window, shown, for the GUI tests (a test file that needs it otherwise defines its own)."""

from __future__ import annotations

import pytest

from app.main_window import MainWindow


@pytest.fixture
def window(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()

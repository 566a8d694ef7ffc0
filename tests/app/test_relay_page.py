"""pytest-qt: the Relay is a tab of its own, keeps the settings it had as a sub-tab, and the Python
panel shows the code of the tab on screen."""

from __future__ import annotations

import re

import pytest
from PySide6.QtWidgets import QTabWidget

from app.main_window import MainWindow

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def window(qtbot, settings):
    settings.setValue("sticking/relay/target", "127.0.0.1:9123")  # saved when it was a sub-tab
    settings.setValue("sticking/relay/chunks", "random")
    settings.setValue("sticking/relay/port", 9111)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()


def test_relay_is_a_top_level_tab_with_its_old_settings(window):
    tabs = window.tabs
    assert tabs.tabText(tabs.indexOf(window.relay)) == "Relay"
    assert tabs.indexOf(window.sticking) == 4  # a remembered tab index still means the same tab
    assert not window.sticking.findChildren(QTabWidget)  # no tab hidden inside Packet sticking
    relay = window.relay.server
    assert relay.target.text() == "127.0.0.1:9123"
    assert relay.chunks.currentText() == "random"
    assert relay.address.port.value() == 9111


def test_python_panel_follows_the_tab_on_screen(qtbot, window):
    window.code_dock.show()
    code = window.code_panel.code
    window.tabs.setCurrentWidget(window.relay)
    window.update_python_code()
    relay_code = code.toPlainText()
    compile(relay_code, "relay.py", "exec")
    assert "TARGET = ('127.0.0.1', 9123)" in relay_code and "LISTEN = ('127.0.0.1', 9111)" in relay_code
    assert "rng.randint(1, 64)" in relay_code
    assert "messages =" not in relay_code  # not the scenario's script
    window.relay.server.chunks.setCurrentText("8")
    window.update_python_code()
    assert "lambda: 8" in code.toPlainText()
    window.tabs.setCurrentWidget(window.sticking)
    window.update_python_code()
    assert "messages = [b'Hello', b'World']" in code.toPlainText()
    window.tabs.setCurrentWidget(window.relay)
    window.relay.server.target.setText("nowhere:port")
    window.update_python_code()
    assert code.toPlainText().startswith("# Complete the settings first")


def test_chunk_error_and_python_panel_note_are_said_in_chinese(qtbot, window):
    """The relay's "chunks must be a size" and the Python panel's "no Python equivalent" reach the
    Chinese window in Chinese, with what was typed."""
    window.set_language("zh_CN")
    pane = window.relay.server
    pane.chunks.setCurrentText("abc")
    pane.toggle_server()
    assert pane.runner is None
    assert CJK.search(pane.state.text()) and "abc" in pane.state.text(), pane.state.text()
    assert "chunks must be" not in pane.state.text()
    window.code_dock.show()
    window.tabs.setCurrentWidget(window.tcp_echo)
    window.tcp_echo.client.framing.setCurrentText("crlf")
    window.update_python_code()
    note = window.code_panel.code.toPlainText()
    assert note.startswith("# ") and "crlf" in note and "no Python equivalent" not in note, note
    window.set_language("en")

"""pytest-qt through real widgets and real loopback sockets: the TCP echo tab end to end."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from app.main_window import MainWindow
from netcore.model.traffic import Direction
from tests.app.support import port_is_free
from widgets.hexdump_view import CHUNK_START_ROLE, FRAME_START_ROLE, HEX0
from widgets.style import RECEIVED_BG, RECEIVED_HEADER_BG

ROOT = Path(__file__).resolve().parents[2]


def start_server(qtbot, page, mode_index=0, framing="raw"):
    page.server.address.set_address("127.0.0.1", 0)
    page.server.mode.setCurrentIndex(mode_index)
    page.server.framing.setCurrentText(framing)
    qtbot.mouseClick(page.server.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening on" in page.server.state.text(), timeout=5000)
    return page.server.server.address


def connect_client(qtbot, page, framing="raw"):
    page.client.framing.setCurrentText(framing)
    qtbot.mouseClick(page.client.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.client.send_button.isEnabled(), timeout=5000)


def received_bytes(view) -> bytes:
    store = view.store
    return b"".join(
        store.chunk(i).data for i in range(len(store)) if store.chunk(i).direction is Direction.RECEIVED
    )


def type_and_send(qtbot, page, text):
    page.client.payload.edit.clear()
    qtbot.keyClicks(page.client.payload.edit, text)
    qtbot.mouseClick(page.client.send_button, Qt.MouseButton.LeftButton)


def test_type_send_reply_appears_in_log_and_hexdump(qtbot, window):
    page = window.tcp_echo
    addr = start_server(qtbot, page, mode_index=1)  # UPPER case
    assert page.client.address.address().port == addr.port  # the idle client is aimed at our server
    connect_client(qtbot, page)
    type_and_send(qtbot, page, "hello")
    qtbot.waitUntil(lambda: received_bytes(page.client.view) == b"HELLO", timeout=5000)
    log = page.client.view.log_model
    assert log.rowCount() == 3  # the connection, then the calls
    assert "connect()" in log.index(0, 2).data() and log.index(0, 4).data() == ""
    assert "send()" in log.index(1, 2).data() and "recv()" in log.index(2, 2).data()
    assert log.index(2, 5).data() == "HELLO"
    hexm = page.client.view.hex_model
    # sent bytes 0..4 then received 5..9: the received chunk starts at column 5 of row 0 with a boundary
    first_received = hexm.index(0, HEX0 + 5)
    assert first_received.data() == "48"
    assert first_received.data(CHUNK_START_ROLE) is True
    assert hexm.index(0, HEX0 + 6).data(CHUNK_START_ROLE) is False
    assert first_received.data(Qt.ItemDataRole.BackgroundRole) == RECEIVED_BG
    assert "RTT" in page.client.rtt.text() or "Replies: 1" in page.client.rtt.text()
    # the server pane logged the same exchange from its side
    qtbot.waitUntil(lambda: page.server.view.log_model.rowCount() == 3, timeout=5000)
    assert "accept()" in page.server.view.log_model.index(0, 2).data()


def test_ctrl_enter_sends(qtbot, window):
    page = window.tcp_echo
    start_server(qtbot, page)
    connect_client(qtbot, page)
    page.client.payload.edit.clear()
    qtbot.keyClicks(page.client.payload.edit, "abc")
    qtbot.keyClick(page.client.payload.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: received_bytes(page.client.view) == b"abc", timeout=5000)


def test_length_prefix_framing_marks_header_and_payload(qtbot, window):
    page = window.tcp_echo
    start_server(qtbot, page, framing="length4")
    connect_client(qtbot, page, framing="length4")
    type_and_send(qtbot, page, "hi")
    qtbot.waitUntil(lambda: received_bytes(page.client.view) == b"\x00\x00\x00\x02hi", timeout=5000)
    hexm = page.client.view.hex_model
    header = hexm.index(0, HEX0 + 6)  # sent frame is bytes 0..5, the received frame starts at 6
    assert header.data(FRAME_START_ROLE) is True
    assert header.data(Qt.ItemDataRole.BackgroundRole) == RECEIVED_HEADER_BG
    payload = hexm.index(0, HEX0 + 10)
    assert payload.data(Qt.ItemDataRole.BackgroundRole) == RECEIVED_BG
    assert "frame #1" in payload.data(Qt.ItemDataRole.ToolTipRole)


def test_bad_hex_is_refused_with_its_position(qtbot, window):
    page = window.tcp_echo
    start_server(qtbot, page)
    connect_client(qtbot, page)
    page.client.payload.set_mode("hex")
    page.client.payload.edit.setPlainText("48 6g")
    assert "column 5" in page.client.payload.status.text()
    qtbot.mouseClick(page.client.send_button, Qt.MouseButton.LeftButton)
    assert "column 5" in page.client.state.text()
    # nothing was sent: the next good send is the first call after the connection, then its echo
    page.client.payload.edit.setPlainText("48 69")
    qtbot.mouseClick(page.client.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: received_bytes(page.client.view) == b"Hi", timeout=5000)
    log = page.client.view.log_model
    assert log.rowCount() == 3
    assert "send()" in log.index(1, 2).data() and log.index(1, 5).data() == "Hi"


def test_connection_refused_shows_hint(qtbot, window):
    page = window.tcp_echo
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    page.client.address.set_address("127.0.0.1", port)
    qtbot.mouseClick(page.client.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Nothing is listening" in page.client.state.text(), timeout=5000)
    qtbot.waitUntil(lambda: page.client.runner is None, timeout=5000)
    assert page.client.connect_button.text().replace("&", "") == "Connect"
    assert "Nothing is listening" in window.statusBar().currentMessage()
    window.tabs.setCurrentWidget(window.sticking)  # another tab does not show this tab's message
    assert window.statusBar().currentMessage() == ""


def test_address_in_use_shows_hint(qtbot, window):
    page = window.tcp_echo
    with socket.create_server(("127.0.0.1", 0)) as holder:
        page.server.address.set_address("127.0.0.1", holder.getsockname()[1])
        qtbot.mouseClick(page.server.start_button, Qt.MouseButton.LeftButton)
        assert "already in use" in page.server.state.text()
        assert "SO_REUSEADDR" in page.server.state.text()
        assert page.server.runner is None


def test_manual_reply_goes_to_the_chosen_client(qtbot, window):
    page = window.tcp_echo
    start_server(qtbot, page, mode_index=3)  # manual
    connect_client(qtbot, page)
    qtbot.waitUntil(lambda: page.server.clients.count() == 1, timeout=5000)
    type_and_send(qtbot, page, "question")
    qtbot.waitUntil(lambda: page.server.view.log_model.rowCount() == 2, timeout=5000)  # accept, recv
    page.server.reply.edit.setPlainText("answer\\r\\n")
    qtbot.mouseClick(page.server.reply_button, Qt.MouseButton.LeftButton)
    # an automatic reply would have reached the client first: exactly the answer means there was none
    qtbot.waitUntil(lambda: received_bytes(page.client.view) == b"answer\r\n", timeout=5000)


def test_half_close_then_server_closes(qtbot, window):
    page = window.tcp_echo
    start_server(qtbot, page)
    connect_client(qtbot, page)
    type_and_send(qtbot, page, "bye")
    qtbot.mouseClick(page.client.half_close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: 'recv() returned b""' in page.client.state.text(), timeout=5000)
    assert received_bytes(page.client.view) == b"bye"
    qtbot.waitUntil(lambda: page.client.runner is None, timeout=5000)
    # the connection's events are rows of both logs, each with its reason
    client_log = page.client.view.log_model
    calls = [client_log.row_texts(row)[2] for row in range(client_log.rowCount())]
    # (the echo may come before or after our FIN went out)
    assert calls[0] == "→ connect()" and calls[-1] == "← FIN"
    assert sorted(calls[1:4]) == sorted(["→ send()", "← recv()", "→ shutdown()"])
    fin_sent = client_log.row_texts(calls.index("→ shutdown()"))[5]
    assert "FIN sent" in fin_sent and "closed by the peer" in client_log.row_texts(4)[5]
    server_log = page.server.view.log_model
    qtbot.waitUntil(lambda: server_log.rowCount() == 4, timeout=5000)
    calls = [server_log.row_texts(row)[2] for row in range(server_log.rowCount())]
    assert calls == ["← accept()", "← recv()", "→ send()", "← FIN"]


def test_stop_server_releases_port_and_disconnects_clients(qtbot, window):
    page = window.tcp_echo
    addr = start_server(qtbot, page)
    connect_client(qtbot, page)
    assert not port_is_free(addr.port)
    qtbot.mouseClick(page.server.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.server.runner is None, timeout=5000)
    qtbot.waitUntil(lambda: page.client.runner is None, timeout=5000)
    assert port_is_free(addr.port)
    # and the same server can start again on that port at once (SO_REUSEADDR is on by default)
    page.server.address.set_address("127.0.0.1", addr.port)
    qtbot.mouseClick(page.server.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening on" in page.server.state.text(), timeout=5000)


def test_closing_window_stops_workers(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    page = win.tcp_echo
    addr = start_server(qtbot, page)
    connect_client(qtbot, page)
    win.close()
    assert page.server.runner is None or not page.server.runner.is_running()
    assert page.client.runner is None or not page.client.runner.is_running()
    assert port_is_free(addr.port)


def test_settings_are_remembered(qtbot, settings):
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.tcp_echo.client.address.set_address("::1", 8123)
    first.tcp_echo.server.framing.setCurrentText("line")
    first.close()
    second = MainWindow(settings)
    qtbot.addWidget(second)
    assert second.tcp_echo.client.address.address().port == 8123
    assert second.tcp_echo.client.address.host.text() == "::1"
    assert second.tcp_echo.server.framing.currentText() == "line"


def run_app(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m app ARGS`` offscreen, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


def test_self_test_command():
    result = run_app("--self-test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test ok" in result.stdout
    assert "QThread" not in result.stderr


def test_startup_time_is_measured_from_the_process_start():
    """--startup-time prints a time no longer than the process can have lived (seen from outside),
    and not shorter than Python and Qt need to show a window at all."""
    started = time.monotonic()
    result = run_app("--startup-time")
    lived = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(r"first window after (\d+\.\d{3}) s\n", result.stdout)
    assert match, result.stdout
    reported = float(match.group(1))
    assert 0.05 < reported <= lived + 0.02  # /proc's start time counts in 10 ms ticks


def test_repeat_send_counts_in_the_payload(qtbot, window):
    page = window.tcp_echo
    start_server(qtbot, page, framing="line")
    connect_client(qtbot, page, framing="line")
    page.client.payload.edit.setPlainText("msg {n}")
    page.client.repeat.interval.setValue(10)
    page.client.repeat.count.setValue(3)
    qtbot.mouseClick(page.client.repeat.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: received_bytes(page.client.view) == b"msg 1\nmsg 2\nmsg 3\n", timeout=5000)
    assert not page.client.repeat.button.isChecked()  # it stopped after the count
    assert "sent 3" in page.client.repeat.progress.text()


def test_zoom_and_high_contrast_are_remembered(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    hexdump = win.tcp_echo.client.view.hexdump
    label = win.tcp_echo.client.state
    before_hex, before_label = hexdump.font().pointSizeF(), label.font().pointSizeF()
    actions = {a.shortcut().toString(): a for a in win.findChildren(QAction) if not a.shortcut().isEmpty()}
    assert {"Ctrl+=", "Ctrl+-", "Ctrl+0", "F11"} <= set(actions)
    actions["Ctrl+="].trigger()
    actions["Ctrl+="].trigger()
    assert hexdump.font().pointSizeF() > before_hex * 1.2
    assert label.font().pointSizeF() > before_label * 1.2
    assert hexdump.columnWidth(1) > 0
    win.contrast_action.setChecked(True)
    win.close()
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.presentation.zoom == pytest.approx(1.3)
    assert again.presentation.high_contrast
    next(a for a in again.findChildren(QAction) if a.shortcut().toString() == "Ctrl+0").trigger()
    assert again.presentation.zoom == 1.0
    again.contrast_action.setChecked(False)
    again.close()


def test_a_window_opened_at_zoom_2_scales_every_font_once(qtbot, settings):
    plain = MainWindow(settings)
    qtbot.addWidget(plain)
    label_pt = plain.tcp_echo.client.state.font().pointSizeF()
    plain_width = plain.minimumSizeHint().width()
    plain.close()
    settings.setValue("window/zoom", 2.0)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    assert win.tcp_echo.client.state.font().pointSizeF() == pytest.approx(2 * label_pt)
    assert win.minimumSizeHint().width() < 3 * plain_width  # not ×2 per level of nesting
    win.presentation.set_zoom(1.0)
    assert win.tcp_echo.client.state.font().pointSizeF() == pytest.approx(label_pt)


def test_status_bar_shows_the_connection_and_byte_counts(qtbot, window):
    page = window.tcp_echo
    start_server(qtbot, page)
    connect_client(qtbot, page)
    type_and_send(qtbot, page, "hello")
    qtbot.waitUntil(lambda: received_bytes(page.client.view) == b"hello", timeout=5000)
    window._update_traffic_label()
    text = window.traffic_label.text()
    assert f"⇄ 127.0.0.1:{page.server.server.address.port}" in text
    assert "↓ 5 B" in text and "↑ 5 B" in text
    window.tabs.setCurrentWidget(window.sticking)  # at once: the new tab's figures (none yet)
    assert window.traffic_label.text() == ""
    window.tabs.setCurrentWidget(page)
    assert "↓ 5 B" in window.traffic_label.text()


def test_python_equivalent_follows_the_settings_and_runs(qtbot, window):
    import subprocess
    import sys

    page = window.tcp_echo
    addr = start_server(qtbot, page, mode_index=1, framing="length4")
    page.client.framing.setCurrentText("length4")
    page.client.payload.edit.setPlainText("from the panel")
    window.code_dock.show()
    window.update_python_code()
    code = window.code_panel.code.toPlainText()
    assert 'struct.pack("!I"' in code and f"{addr.port}" in code
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "b'FROM THE PANEL'", result.stderr
    page.client.payload.set_mode("hex")
    page.client.payload.edit.setPlainText("zz")
    window.update_python_code()
    assert "Complete the settings first" in window.code_panel.code.toPlainText()


@pytest.mark.parametrize("windows", [False, True])
def test_so_reuseaddr_box_explains_what_it_does_on_this_system(qtbot, settings, monkeypatch, windows):
    """On Windows SO_REUSEADDR would let another program take the port: the box is off and says why."""
    from netcore.io import platform

    monkeypatch.setattr(platform, "WINDOWS", windows)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    reuse = win.tcp_echo.server.reuse
    assert reuse.isEnabled() is not windows
    assert ("SO_EXCLUSIVEADDRUSE" in reuse.toolTip()) is windows
    assert ("TIME_WAIT" in reuse.toolTip()) is True
    win.close()


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -c CODE`` offscreen with *env* added, its output captured (read as UTF-8)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env},
        check=False,
    )


def test_self_test_fails_when_an_exception_escapes_an_engine_thread():
    """The packet-sticking sender is a helper thread no worker watches: an exception there (here a
    measurement that breaks) must fail the self-test, not only print a traceback."""
    code = (
        "import sys\n"
        "from netcore.io import platform\n"
        "def broken(_sock):\n"
        "    raise RuntimeError('measurement broke')\n"
        "platform.data_segments_out = broken\n"
        "import netcore.engines.sticking as sticking\n"
        "sticking.data_segments_out = broken\n"
        "from app.main import main\n"
        "sys.exit(main(['--self-test']))\n"
    )
    result = run_python(code)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "self-test FAILED" in result.stdout
    assert "RuntimeError in thread sticking-sender: measurement broke" in result.stdout


def test_self_test_failure_is_printed_whatever_the_output_encoding():
    """Windows hands a pipe its ANSI code page (cp1252 on CI): a reason in Chinese or with a ✓ must
    still be printed, in UTF-8, not end in a UnicodeEncodeError."""
    code = (
        "import sys\n"
        "import app.selftest\n"
        "app.selftest.run_self_test = lambda: (False, 'tcp: 连接被拒绝, expected self-test ✓')\n"
        "from app.main import main\n"
        "sys.exit(main(['--self-test']))\n"
    )
    result = run_python(code, PYTHONIOENCODING="cp1252")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "self-test FAILED: tcp: 连接被拒绝, expected self-test ✓" in result.stdout, result.stderr


def test_paused_log_keeps_still_while_real_traffic_is_recorded_then_catches_up(qtbot, window):
    page = window.tcp_echo
    start_server(qtbot, page, mode_index=1)  # UPPER case
    connect_client(qtbot, page)
    type_and_send(qtbot, page, "one")
    view = page.client.view
    qtbot.waitUntil(lambda: received_bytes(view) == b"ONE", timeout=10000)
    rows = view.log_model.rowCount()
    view.log.setFocus()
    qtbot.waitUntil(view.log.hasFocus, timeout=5000)
    qtbot.keyClick(view.log, Qt.Key.Key_Pause)
    assert view.paused
    for word, echoed in (("two", b"ONETWO"), ("three", b"ONETWOTHREE")):  # one reply at a time
        type_and_send(qtbot, page, word)
        qtbot.waitUntil(lambda e=echoed: received_bytes(view) == e, timeout=10000)  # recorded...
    assert view.log_model.rowCount() == rows  # ... not shown
    assert view.hex_model.store.end == 6
    qtbot.waitUntil(lambda: view.status.text().startswith("Paused — 4 new chunks"), timeout=10000)
    qtbot.mouseClick(view.tools.pause_button, Qt.MouseButton.LeftButton)
    assert not view.paused and view.log_model.rowCount() == rows + 4
    assert [view.log_model.index(r, 5).data() for r in range(rows, rows + 4)] == [
        "two",
        "TWO",
        "three",
        "THREE",
    ]
    assert view.hex_model.store.end == 22

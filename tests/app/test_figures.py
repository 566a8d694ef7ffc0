"""Issue 15: the window never shows a wrong figure or a stale line, and a language switch leaves no
text in the other language. pytest-qt through the real window and real loopback sockets."""

from __future__ import annotations

import re
import time

import pytest
from PySide6.QtCore import QCoreApplication, Qt

from app import i18n
from app.main_window import MainWindow
from netcore.model.events import Answered
from netcore.model.traffic import Direction
from tests.app.test_i18n import catalogue  # noqa: F401 (a fixture)
from tests.app.test_tcp_echo_page import connect_client, received_bytes, start_server, type_and_send
from widgets.hexdump_view import FRAME_START_ROLE, HEX0


def settle_layouts() -> None:
    """Run every pending layout now, a few rounds deep (a layout that changes posts to its parent's)."""
    for _ in range(5):
        QCoreApplication.sendPostedEvents()
        QCoreApplication.processEvents()


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
    data = [store.chunk(i) for i in range(len(store)) if not store.chunk(i).mark]  # not the event rows
    assert [chunk.direction for chunk in data] == [Direction.SENT, Direction.RECEIVED] * 2


def test_reply_times_match_each_reply_to_its_own_message(qtbot, window):
    """Server in Manual reply, the client sends once (no reply), the server switches to Echo, the
    client repeats every 100 ms ×10: the first message is given up as unanswered after the timeout and
    every echo is timed against its own message (before: each against the one before it — a round
    trip of one repeat interval, and the first one as long as the wait)."""
    page = window.tcp_echo
    start_server(qtbot, page, mode_index=3)  # Manual reply
    page.client.timeout.setValue(0.5)
    connect_client(qtbot, page)
    type_and_send(qtbot, page, "anyone there?")
    qtbot.waitUntil(lambda: "1 unanswered after 0.5 s" in page.client.rtt.text(), timeout=10000)
    assert len(page.client.rtts) == 0
    page.server.mode.setCurrentIndex(0)  # Echo
    qtbot.waitUntil(lambda: page.server.server.mode.value == "echo", timeout=10000)
    page.client.repeat.interval.setValue(100)
    page.client.repeat.count.setValue(10)
    qtbot.mouseClick(page.client.repeat.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(page.client.rtts) == 10, timeout=20000)
    assert page.client.rtts.max < 400, page.client.rtts.max  # before: 100 ms each, the first ≥ 500 ms
    assert page.client.unanswered == 1
    assert page.client.rtt.text().startswith("Replies: 10 · 1 unanswered after 0.5 s · last ")


def test_repeat_refuses_an_invalid_payload_before_it_starts(qtbot, window):
    page = window.tcp_echo
    start_server(qtbot, page)
    connect_client(qtbot, page)
    page.client.payload.set_mode("hex")
    page.client.payload.edit.setPlainText("48 zz")
    qtbot.mouseClick(page.client.repeat.button, Qt.MouseButton.LeftButton)
    repeat = page.client.repeat
    assert not repeat.button.isChecked()
    assert repeat.button.text() == "Repeat"  # not "Stop repeat"
    assert "sent" not in repeat.progress.text()  # not "sent 1": nothing was
    assert "column 4" in page.client.state.text()
    assert page.client.view.store.data_chunk_count == 0


def test_an_out_of_range_port_is_an_error_not_a_clamp(qtbot, window):
    """Typing 99999 keeps 99999 (it became 9999), says why it cannot be used, and starts nothing."""
    pane = window.tcp_echo.server
    pane.address.port.clear()
    qtbot.keyClicks(pane.address.port, "99999")
    assert pane.address.port.value() == 99999
    assert "99999" in pane.address.error.text() and "out of range" in pane.address.error.text()
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    assert pane.runner is None
    assert "99999" in pane.state.text() and "out of range" in pane.state.text()
    pane.address.port.clear()
    qtbot.keyClicks(pane.address.port, "0")
    assert pane.address.error.text() == ""


# -- stale lines and a steady layout ----------------------------------------------------------------
def test_an_error_line_clears_when_the_next_send_succeeds(qtbot, window):
    page = window.tcp_echo
    start_server(qtbot, page)
    connect_client(qtbot, page)
    connected = page.client.state.text()
    assert connected.startswith("Connected: ")
    page.client.payload.set_mode("hex")
    page.client.payload.edit.setPlainText("48 6z")
    qtbot.mouseClick(page.client.send_button, Qt.MouseButton.LeftButton)
    assert "not a hex digit" in page.client.state.text()
    page.client.payload.edit.setPlainText("48 69")
    qtbot.mouseClick(page.client.send_button, Qt.MouseButton.LeftButton)
    assert page.client.state.text() == connected
    qtbot.waitUntil(lambda: received_bytes(page.client.view) == b"Hi", timeout=10000)


def test_a_server_error_line_clears_when_the_next_client_connects(qtbot, window):
    page = window.tcp_echo
    start_server(qtbot, page)
    listening = page.server.state.text()
    page.server.send_reply()  # no peer yet: an error
    assert page.server.state.text() != listening
    connect_client(qtbot, page)
    qtbot.waitUntil(lambda: page.server.state.text() == listening, timeout=10000)


def test_text_appearing_or_going_never_moves_the_controls_below(qtbot, window):
    """An address error, a payload error and a three-line state line appear and go: the Probe button
    and the message box below them stay where they were, to the pixel."""
    window.resize(1024, 740)
    window.tabs.setCurrentWidget(window.udp_echo)
    pane = window.udp_echo.client
    qtbot.waitUntil(lambda: pane.probe_button.isVisible(), timeout=10000)

    def places():
        return [
            w.mapTo(window, w.rect().topLeft()) for w in (pane.payload.edit, pane.probe_button, pane.view)
        ]

    before = places()
    pane.address.host.setText("1.2.3.999")  # the address error line fills
    assert "1.2.3.999" in pane.address.error.text()
    pane.payload.edit.setPlainText("\\q and a long message " * 5)  # the payload status: an error
    assert "unknown escape" in pane.payload.status.text()
    pane.set_state("a long state line that wraps " * 20, error=True)
    settle_layouts()  # any move would show now
    assert places() == before
    assert pane.state.toolTip() != "" and "…" in pane.state.displayed()
    pane.address.host.setText("127.0.0.1")
    pane.payload.edit.setPlainText("ok")
    pane.set_state("short")
    settle_layouts()
    assert places() == before
    assert pane.state.toolTip() == ""


# -- small --------------------------------------------------------------------------------------------
def test_one_chunk_is_said_in_the_singular(qtbot, window):
    page = window.tcp_echo
    start_server(qtbot, page, mode_index=3)  # Manual reply: the server logs one chunk
    connect_client(qtbot, page)
    type_and_send(qtbot, page, "x")
    qtbot.waitUntil(lambda: page.server.view.store.data_chunk_count == 1, timeout=10000)
    qtbot.waitUntil(lambda: "1 chunk · 1 byte" in page.server.view.status.text(), timeout=10000)


def test_disconnect_client_is_enabled_only_with_a_client(qtbot, window):
    page = window.tcp_echo
    kick = page.server.kick_button
    start_server(qtbot, page)
    assert not kick.isEnabled()
    connect_client(qtbot, page)
    qtbot.waitUntil(lambda: page.server.clients.count() == 1, timeout=10000)
    assert kick.isEnabled()
    qtbot.mouseClick(kick, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.server.clients.count() == 0, timeout=10000)
    assert not kick.isEnabled()


# -- one language at a time -----------------------------------------------------------------------------
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture
def english(settings, request):
    """Settings for a window that opens in English, with the Chinese catalogue built."""
    request.getfixturevalue("catalogue")
    settings.setValue("window/language", i18n.ENGLISH)
    return settings


def test_results_already_shown_follow_a_language_switch_both_ways(qtbot, english):
    """TCP reply times and the UDP probe's figures turn Chinese and back to the same English; the
    plot captions and the payload's input error turn Chinese too."""
    window = MainWindow(english)
    qtbot.addWidget(window)
    window.show()
    tcp, udp = window.tcp_echo, window.udp_echo
    start_server(qtbot, tcp)
    connect_client(qtbot, tcp)
    type_and_send(qtbot, tcp, "hello")
    qtbot.waitUntil(lambda: tcp.client.rtt.text().startswith("Replies: 1 "), timeout=10000)
    udp.server.address.set_address("127.0.0.1", 0)
    qtbot.mouseClick(udp.server.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: udp.server.server is not None and udp.client.address.address().port != 0, timeout=10000
    )
    udp.client.probe_count.setValue(5)
    udp.client.probe_interval.setValue(1)
    qtbot.mouseClick(udp.client.probe_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "5 sent" in udp.client.stats.text(), timeout=10000)
    udp.client.payload.set_mode("hex")
    udp.client.payload.edit.setPlainText("48 6z")
    english_texts = [tcp.client.rtt.text(), udp.client.stats.text(), udp.client.state.text()]
    assert "'z' at column 5 is not a hex digit" in udp.client.payload.status.text()

    window.set_language(i18n.CHINESE)
    for text in (tcp.client.rtt.text(), udp.client.stats.text(), udp.client.state.text()):
        assert CJK.search(text), text
    assert not LATIN_WORD.search(tcp.client.rtt.text().replace(" ms", "")), tcp.client.rtt.text()
    status = udp.client.payload.status.text()
    assert CJK.search(status) and "z" in status and "5" in status and "hex digit" not in status
    assert CJK.search(udp.client.plot.caption()) and CJK.search(window.time.client.plot.caption())

    window.set_language(i18n.ENGLISH)
    assert [tcp.client.rtt.text(), udp.client.stats.text(), udp.client.state.text()] == english_texts
    assert "'z' at column 5 is not a hex digit" in udp.client.payload.status.text()
    assert udp.client.plot.caption().startswith("round trip")
    window.shutdown()


@pytest.mark.parametrize(("offset", "word"), [(3.5, "偏快"), (-3.5, "偏慢")])
def test_the_time_offset_is_said_wholly_in_chinese(qtbot, english, offset, word):
    """English → Chinese: the offset reads "（服务器时钟偏快）", not "（服务器时钟ahead）"."""
    window = MainWindow(english)
    qtbot.addWidget(window)
    window.show()
    page = window.time
    page.server.address.set_address("127.0.0.1", 0)
    page.server.clock_offset.setValue(offset)
    qtbot.mouseClick(page.server.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening on" in page.server.state.text(), timeout=10000)
    page.client.count.setValue(1)
    qtbot.mouseClick(page.client.query_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.client.runner is None and "ms" in page.client.offset.text(), timeout=10000)
    english_offset = page.client.offset.text()
    window.set_language(i18n.CHINESE)
    assert word in page.client.offset.text() and not LATIN_WORD.search(page.client.offset.text())
    window.set_language(i18n.ENGLISH)
    assert page.client.offset.text() == english_offset
    window.shutdown()


def test_an_input_error_on_the_state_line_is_translated(qtbot, english):
    window = MainWindow(english)
    qtbot.addWidget(window)
    pane = window.tcp_echo.server
    pane.address.port.clear()
    qtbot.keyClicks(pane.address.port, "70000")
    pane.toggle_server()
    assert pane.state.text() == "port 70000 is out of range: ports go from 0 to 65535"
    window.set_language(i18n.CHINESE)
    assert CJK.search(pane.state.text()) and "70000" in pane.state.text()
    assert CJK.search(pane.address.error.text()) and "70000" in pane.address.error.text()


def test_reply_times_stay_cheap_after_a_long_repeat(qtbot, window):
    """A repeat every 1 ms runs up hundreds of thousands of replies: each new reply's figures must
    not cost time in proportion to all of them (a sorted copy per reply froze the window: with
    500,000 replies so far, 500 more took ~20 s of the GUI thread; now a few milliseconds)."""
    client = window.tcp_echo.client
    for i in range(500_000):
        client.rtts.add(0.2 + (i % 1000) / 1000)
    started = time.perf_counter()
    for i in range(500):
        client.handle_event(Answered(1, i, 0.0005))
    assert time.perf_counter() - started < 5.0
    assert len(client.rtts) == 500_500 and client.rtts.min == 0.2 and client.rtts.max == 1.199
    assert client.rtt.text().startswith("Replies: 500500 · last 0.500 ms · min 0.200 / median ")
    assert "median of the last 10,000 " in client.rtt.text()  # bounded: the newest replies only

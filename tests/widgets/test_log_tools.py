"""The log as a tool: Data column as hex, filters by direction and peer (the hexdump too) in a bar
that takes a row only while filtering, auto-scroll off keeps the rows still, connection events as
rows, and the context menu's copies and saves (and the same controls)."""

from __future__ import annotations

import csv
import io

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMenu

from netcore.model.traffic import Direction, Mark, make_chunk, make_mark
from netcore.present.export import parse_text2pcap
from widgets.traffic_log import TrafficView

A, B = "127.0.0.1:5000", "[::1]:6000"


@pytest.fixture
def view(qtbot) -> TrafficView:
    widget = TrafficView()
    widget.resize(600, 500)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def fill(view: TrafficView) -> None:
    view.add(
        [
            (make_mark(Mark.ACCEPT, Direction.RECEIVED, 1, A), ()),
            (make_chunk(Direction.RECEIVED, b"hi", 0, 1, A), ()),
            (make_chunk(Direction.SENT, b"HI", 0, 1, A), ()),
            (make_chunk(Direction.RECEIVED, b"yo", 0, 2, B), ()),
            (make_mark(Mark.RESET, Direction.RECEIVED, 2, B), ()),
        ]
    )


def texts(view: TrafficView, col: int) -> list[str]:
    return [view.log_model.row_texts(row)[col] for row in range(view.log_model.rowCount())]


def test_connection_events_are_rows_without_bytes(view):
    fill(view)
    assert texts(view, 2) == ["← accept()", "← recv()", "→ send()", "← recv()", "← RST"]
    assert texts(view, 4) == ["", "2", "2", "2", ""]
    assert "reset" in texts(view, 5)[4]
    assert view.store.byte_count == 6 and view.hex_model.store.read(0, 10) == b"hiHIyo"


def test_data_column_as_hex(view):
    fill(view)
    view.tools.data_format.setCurrentIndex(1)
    assert texts(view, 5)[1:4] == ["68 69", "48 49", "79 6f"]
    view.tools.data_format.setCurrentIndex(0)
    assert texts(view, 5)[1:4] == ["hi", "HI", "yo"]


def test_filters_by_direction_and_peer_in_the_log_and_the_hexdump(view):
    fill(view)
    view.tools.direction.setCurrentIndex(1)  # → Sent
    assert texts(view, 5) == ["HI"]
    assert view.hex_model.store.read(view.hex_model.store.base, 100) == b"HI"
    assert "Filtered" in view.status.text()
    view.tools.direction.setCurrentIndex(2)  # ← Received
    view.tools.peer.setText("::1")
    assert texts(view, 3) == [B, B]
    # new traffic that passes the filter shows; the rest is stored but not shown
    view.add(
        [
            (make_chunk(Direction.RECEIVED, b"more", 2, 2, B), ()),
            (make_chunk(Direction.RECEIVED, b"x", 2, 1, A), ()),
        ]
    )
    assert texts(view, 5)[-1] == "more" and view.log_model.rowCount() == 3
    assert view.hex_model.store.read(view.hex_model.store.base, 100) == b"yomore"
    view.tools.peer.clear()
    view.tools.direction.setCurrentIndex(0)
    assert view.log_model.rowCount() == 7 and view.hex_model.store is view.store


def test_auto_scroll_off_keeps_the_rows_on_screen_still(view, qtbot):
    view.add([(make_chunk(Direction.RECEIVED, b"x", i, 1, A), ()) for i in range(300)])
    bar = view.log.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0  # following the tail
    view.tools.auto_scroll.setChecked(False)
    place = bar.value()
    view.add([(make_chunk(Direction.RECEIVED, b"y", 300 + i, 1, A), ()) for i in range(50)])
    qtbot.waitUntil(lambda: bar.maximum() > place, timeout=5000)
    assert bar.value() == place
    view.tools.auto_scroll.setChecked(True)
    view.log.scrollToBottom()
    view.add([(make_chunk(Direction.RECEIVED, b"z", 350, 1, A), ())])
    assert bar.value() == bar.maximum()


def open_menu(view: TrafficView, qtbot) -> QMenu:
    view._log_menu(QPoint(5, 5))
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu), timeout=5000)
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    return menu


def trigger(menu: QMenu, label: str) -> None:
    action = next(a for a in menu.actions() if a.text() == label)
    assert action.isEnabled(), label
    action.trigger()
    menu.close()


def test_context_menu_copies_the_selected_rows(view, qtbot):
    fill(view)
    selection = view.log.selectionModel()
    for row in (0, 1, 2):
        selection.select(
            view.log_model.index(row, 0),
            selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
        )
    clipboard = QGuiApplication.clipboard()
    trigger(open_menu(view, qtbot), "Copy rows as text")
    lines = clipboard.text().splitlines()
    assert len(lines) == 3 and lines[1].split("\t")[2:] == ["← recv()", A, "2", "hi"]
    trigger(open_menu(view, qtbot), "Copy rows as hex dump")
    assert parse_text2pcap(clipboard.text()) == [(Direction.RECEIVED, b"hi"), (Direction.SENT, b"HI")]
    trigger(open_menu(view, qtbot), "Copy rows as CSV")
    rows = list(csv.DictReader(io.StringIO(clipboard.text())))
    assert [(r["event"], r["direction"], r["hex"], r["text"]) for r in rows] == [
        ("accept", "received", "", ""),
        ("", "received", "68 69", "hi"),
        ("", "sent", "48 49", "HI"),
    ]
    trigger(open_menu(view, qtbot), "Copy bytes (hex)")
    assert clipboard.text() == "68 69 48 49"
    menu = open_menu(view, qtbot)
    assert next(a for a in menu.actions() if a.text() == "Save selection…").isEnabled()
    menu.close()


def test_context_menu_without_a_selection_offers_nothing_to_copy(view, qtbot):
    fill(view)
    menu = open_menu(view, qtbot)
    assert not any(a.isEnabled() for a in menu.actions() if a.text() and not a.isCheckable())
    menu.close()


def test_save_selection_writes_only_the_chosen_chunks(view, tmp_path):
    fill(view)
    path = tmp_path / "picked.txt"
    view.save(str(path), json_lines=False, chunks=[view.store.chunk(row) for row in (0, 3, 4)])
    assert parse_text2pcap(path.read_text()) == [(Direction.RECEIVED, b"yo")]  # events have no bytes


def test_the_controls_share_the_status_row_and_the_filter_bar_shows_only_while_filtering(view, qtbot):
    fill(view)
    tools = view.tools
    row = view.status.geometry()
    for widget in tools.row_widgets():  # no row of their own above the log
        assert widget.isVisible() and widget.geometry().intersects(row.adjusted(-1000, 0, 1000, 0))

    def log_top() -> int:
        return view.log.mapTo(view, QPoint(0, 0)).y()

    assert tools.isHidden() and log_top() == 0
    tools.direction.setCurrentIndex(1)  # a filter set in any way shows the bar that says so
    assert tools.isVisible() and tools.filter_button.isChecked()
    qtbot.waitUntil(lambda: log_top() > tools.geometry().bottom(), timeout=5000)
    assert view.log_model.rowCount() == 1
    tools.filter_button.click()  # closing the bar shows everything again
    assert tools.isHidden() and tools.direction.currentIndex() == 0 and not tools.peer.text()
    assert view.log_model.rowCount() == 5 and "Filtered" not in view.status.text()
    view.log.setFocus()
    qtbot.waitUntil(view.log.hasFocus, timeout=5000)
    qtbot.keyClick(view.log, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert tools.isVisible() and tools.peer.hasFocus()
    qtbot.keyClicks(tools.peer, "::1")
    assert view.log_model.rowCount() == 2


def test_context_menu_holds_the_log_controls(view, qtbot):
    fill(view)
    menu = open_menu(view, qtbot)
    trigger(menu, "Auto-scroll")
    assert not view.tools.auto_scroll.isChecked()
    trigger(open_menu(view, qtbot), "Data as hex")
    assert texts(view, 5)[1] == "68 69"
    trigger(open_menu(view, qtbot), "Filter")
    assert view.tools.isVisible()


def shown_texts(view: TrafficView) -> list[str]:
    """The Data column as the log shows it, and what the hexdump shows."""
    hexm = view.hex_model.store
    return [*texts(view, 5), hexm.read(hexm.base, hexm.end - hexm.base).decode()]


def test_pause_freezes_the_log_and_the_hexdump_and_catches_up_on_resume(view, qtbot):
    fill(view)
    before = shown_texts(view)
    view.tools.pause_action.trigger()
    assert view.paused and view.tools.pause_button.isChecked()
    view.add([(make_chunk(Direction.RECEIVED, b"new%d" % i, 2 + 4 * i, 1, A), ()) for i in range(3)])
    assert shown_texts(view) == before  # nothing moves while paused
    assert view.status.text().startswith("Paused — 3 new chunks")
    assert view.store.data_chunk_count == 6  # ... but it is recorded
    view.tools.pause_action.trigger()
    assert not view.paused and "Paused" not in view.status.text()
    assert texts(view, 5)[-3:] == ["new0", "new1", "new2"]
    assert view.hex_model.store.read(0, 100) == b"hiHIyonew0new1new2"
    bar = view.log.verticalScrollBar()
    assert bar.value() == bar.maximum()  # caught up at the end (auto-scroll is on)


def test_paused_beyond_the_stores_bound_says_what_was_dropped(qtbot):
    view = TrafficView(max_bytes=100)
    qtbot.addWidget(view)
    view.add([(make_chunk(Direction.RECEIVED, b"a" * 10, 0, 1, A), ())])
    view.set_paused(True)
    view.add(
        [(make_chunk(Direction.RECEIVED, bytes([65 + i]) * 10, 10 + 10 * i, 1, A), ()) for i in range(15)]
    )
    assert texts(view, 5) == ["a" * 10]  # the frozen view keeps what it showed
    status = view.status.text()
    assert status.startswith("Paused — 15 new chunks")
    assert "(5 chunks recorded since already dropped to stay within 100 bytes)" in status
    view.set_paused(False)
    assert view.log_model.rowCount() == 10 and view.log_model.first_seq == 6  # the store's last 100 bytes
    assert view.hex_model.store.read(view.hex_model.store.base, 100) == b"".join(
        bytes([65 + i]) * 10 for i in range(5, 15)
    )


def test_pause_from_the_menu_and_the_keyboard_and_filtering_while_paused(view, qtbot):
    fill(view)
    trigger(open_menu(view, qtbot), "Pause")
    assert view.paused
    view.add(
        [
            (make_chunk(Direction.SENT, b"out", 4, 1, A), ()),
            (make_chunk(Direction.RECEIVED, b"in", 4, 2, B), ()),
        ]
    )
    view.tools.direction.setCurrentIndex(1)  # → Sent: the frozen rows are filtered, the count too
    assert texts(view, 5) == ["HI"] and view.status.text().startswith("Paused — 1 new chunk ·")
    view.log.setFocus()
    qtbot.waitUntil(view.log.hasFocus, timeout=5000)
    qtbot.keyClick(
        view.log, Qt.Key.Key_Space, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert not view.paused and texts(view, 5) == ["HI", "out"]
    qtbot.keyClick(view.log, Qt.Key.Key_Pause)
    assert view.paused
    view.clear()  # clearing while paused empties the frozen view too
    assert view.paused and view.log_model.rowCount() == 0 and view.status.text().startswith("Paused — 0 new")

"""TrafficLogModel / TrafficView: batched rows, columns, previews, dropping, and log → hexdump highlight."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt

from netcore.model.traffic import Direction, make_chunk
from netcore.protocols.framing import Frame, make_codec
from widgets import style
from widgets.hexdump_view import HEX0
from widgets.traffic_log import PREVIEW_BYTES, TrafficLogModel, TrafficView, preview_text

BACKGROUND = Qt.ItemDataRole.BackgroundRole
PEER = "127.0.0.1:5000"
NUM, TIME, CALL, PEER_COL, LENGTH, PREVIEW = range(6)


def cell(model: TrafficLogModel, row: int, col: int):
    return model.data(model.index(row, col))


@pytest.fixture
def view(qtbot) -> TrafficView:
    widget = TrafficView()
    qtbot.addWidget(widget)
    return widget


def test_preview_text_escapes_control_characters():
    assert preview_text(b"a\r\n\x00") == "a\\r\\n\\0"
    assert preview_text(b"tab\there") == "tab\\there"
    assert preview_text(b"\x01\x1f\x7f") == "\\x01\\x1f\\x7f"
    assert preview_text("你好".encode()) == "你好"
    assert preview_text("你好".encode("gbk"), "gbk") == "你好"
    assert "\ufffd" in preview_text("你好".encode("gbk"))  # GBK bytes are not UTF-8
    long = b"x" * (PREVIEW_BYTES + 10)
    assert preview_text(long) == "x" * PREVIEW_BYTES + "…"
    assert preview_text(b"x" * PREVIEW_BYTES) == "x" * PREVIEW_BYTES


def test_rows_arrive_in_batches(view, qtbot):
    model = view.log_model
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    view.add(
        [
            (make_chunk(Direction.SENT, b"hello\r\n", 0, 1, PEER), ()),
            (make_chunk(Direction.RECEIVED, b"HELLO\r\n", 0, 1, PEER), ()),
            (make_chunk(Direction.RECEIVED, b"x" * 1234, 7, 1, "[::1]:80"), ()),
        ]
    )
    assert inserted == [(0, 2)]  # one insertion for the whole batch
    assert model.rowCount() == 3
    view.add([(make_chunk(Direction.SENT, b"bye", 7, 1, PEER), ())])
    assert inserted == [(0, 2), (3, 3)]
    assert view.hex_model.rowCount() == -(-(7 + 7 + 1234 + 3) // 16)

    assert [cell(model, r, NUM) for r in range(4)] == ["1", "2", "3", "4"]
    assert cell(model, 0, CALL) == "→ send()"
    assert cell(model, 1, CALL) == "← recv()"
    assert cell(model, 0, PEER_COL) == PEER
    assert cell(model, 2, PEER_COL) == "[::1]:80"
    assert cell(model, 0, LENGTH) == "7"
    assert cell(model, 2, LENGTH) == "1,234"
    assert cell(model, 0, PREVIEW) == "hello\\r\\n"
    assert cell(model, 1, PREVIEW) == "HELLO\\r\\n"
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{6}", cell(model, 0, TIME))
    fg = Qt.ItemDataRole.ForegroundRole
    assert model.data(model.index(0, CALL), fg) == style.SENT_FG
    assert model.data(model.index(1, CALL), fg) == style.RECEIVED_FG
    tip = model.data(model.index(2, PREVIEW), Qt.ItemDataRole.ToolTipRole)
    assert "7–1241" in tip and "#1" in tip
    assert model.headerData(CALL, Qt.Orientation.Horizontal) == "Call"
    assert model.data(model.index(4, 0)) is None
    assert "4 chunks" in view.status.text()
    assert f"{7 + 7 + 1234 + 3:,} bytes" in view.status.text()
    assert "dropped" not in view.status.text()


def test_frames_in_a_batch_reach_the_hexdump(view):
    tx, rx = make_codec("length4"), make_codec("length4")
    wire = tx.encode(b"abc")
    frames = [f for f in rx.feed(wire) if isinstance(f, Frame)]
    view.add([(make_chunk(Direction.RECEIVED, wire, 0, 1, PEER), frames)])
    hex_model = view.hex_model
    assert hex_model.data(hex_model.index(0, HEX0), BACKGROUND) == style.RECEIVED_HEADER_BG
    assert hex_model.data(hex_model.index(0, HEX0 + 4), BACKGROUND) == style.RECEIVED_BG


def test_gbk_preview(view):
    data = "你好，世界\r\n".encode("gbk")
    view.add([(make_chunk(Direction.RECEIVED, data, 0, 1, PEER), ())])
    model = view.log_model
    assert cell(model, 0, PREVIEW) != "你好，世界\\r\\n"  # read as UTF-8 it is garbled
    view.set_encoding("gbk")
    assert cell(model, 0, PREVIEW) == "你好，世界\\r\\n"
    view.set_encoding("utf-8")
    assert "\ufffd" in cell(model, 0, PREVIEW)


def test_dropping_old_chunks_removes_rows_and_keeps_numbering(qtbot):
    view = TrafficView(max_bytes=100)
    qtbot.addWidget(view)
    model = view.log_model
    removed: list[tuple[int, int]] = []
    model.rowsRemoved.connect(lambda _parent, first, last: removed.append((first, last)))
    view.add([(make_chunk(Direction.SENT, bytes([0x41 + i]) * 30, 30 * i, 1, PEER), ()) for i in range(3)])
    assert model.rowCount() == 3 and not removed

    # two more 30-byte chunks: 150 bytes > 100, so the two oldest go
    view.add(
        [(make_chunk(Direction.SENT, bytes([0x44 + i]) * 30, 90 + 30 * i, 1, PEER), ()) for i in range(2)]
    )
    assert removed == [(0, 1)]
    assert model.rowCount() == 3
    assert [cell(model, r, NUM) for r in range(3)] == ["3", "4", "5"]  # absolute numbers
    assert [cell(model, r, PREVIEW) for r in range(3)] == ["C" * 30, "D" * 30, "E" * 30]
    status = view.status.text()
    assert "3 chunks · 90 bytes" in status
    assert "2 older chunks (60 bytes) dropped" in status
    # the hexdump starts at the row of the oldest byte still stored, in its usual column
    hex_model = view.hex_model
    assert hex_model.data(hex_model.index(0, 0)) == f"{48:08x}"
    assert hex_model.data(hex_model.index(0, HEX0 + 11)) is None
    assert hex_model.data(hex_model.index(0, HEX0 + 12)) == "43"

    # a chunk bigger than the whole bound replaces everything before it
    view.add([(make_chunk(Direction.RECEIVED, b"Z" * 150, 0, 1, PEER), ())])
    assert model.rowCount() == 1
    assert cell(model, 0, NUM) == "6"
    assert "5 older chunks (150 bytes) dropped" in view.status.text()


def test_dropped_counts_reported_by_a_worker_show_in_the_status(view):
    view.add([(make_chunk(Direction.SENT, b"abc", 0, 1, PEER), ())], dropped_chunks=7, dropped_bytes=700)
    assert "7 older chunks (700 bytes) dropped" in view.status.text()


def test_selecting_a_row_highlights_that_chunk_in_the_hexdump(view, qtbot):
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    view.add(
        [
            (make_chunk(Direction.SENT, b"s" * 10, 0, 1, PEER), ()),
            (make_chunk(Direction.RECEIVED, b"r" * 25, 0, 1, PEER), ()),  # positions 10..34
            (make_chunk(Direction.SENT, b"t" * 5, 10, 1, PEER), ()),
        ]
    )
    hex_model = view.hex_model

    def background(pos: int):
        return hex_model.data(hex_model.index(pos // 16, HEX0 + pos % 16), BACKGROUND)

    assert all(background(p) != style.HIGHLIGHT_BG for p in range(40))
    view.log.selectRow(1)
    highlighted = [p for p in range(40) if background(p) == style.HIGHLIGHT_BG]
    assert highlighted == list(range(10, 35))
    assert background(9) == style.SENT_BG
    assert background(35) == style.SENT_BG

    view.log.selectRow(2)
    assert [p for p in range(40) if background(p) == style.HIGHLIGHT_BG] == list(range(35, 40))
    assert background(20) == style.RECEIVED_BG


def test_selection_after_a_drop_highlights_the_right_chunk(qtbot):
    view = TrafficView(max_bytes=64)
    qtbot.addWidget(view)
    view.add([(make_chunk(Direction.SENT, bytes([0x61 + i]) * 20, 20 * i, 1, PEER), ()) for i in range(5)])
    assert view.store.dropped_chunks == 2  # 100 bytes, bound 64: rows hold chunks 3..5
    hex_model = view.hex_model
    view.log.selectRow(1)  # chunk #4: display positions 60..80, hexdump rows start at position 40
    highlighted = []
    for row in range(hex_model.rowCount()):
        for col in range(16):
            index = hex_model.index(row, HEX0 + col)
            if hex_model.data(index, BACKGROUND) == style.HIGHLIGHT_BG:
                highlighted.append(hex_model.byte_at(index).value)
    assert highlighted == [0x64] * 20


def test_clear_empties_both_views(view, qtbot):
    view.resize(600, 400)
    view.show()
    qtbot.waitExposed(view)
    view.add([(make_chunk(Direction.SENT, b"abc" * 20, 0, 1, PEER), ()) for _ in range(3)])
    view.log.selectRow(0)
    view.clear()  # the "Clear log" button: nothing was dropped before it
    view.grab()  # painting must not ask the empty store for the old rows
    assert view.log_model.rowCount() == 0
    assert view.hex_model.rowCount() == 0
    assert "0 chunks" in view.status.text()
    view.add([(make_chunk(Direction.SENT, b"new", 0, 1, PEER), ())])
    assert view.log_model.rowCount() == 1
    assert cell(view.log_model, 0, PREVIEW) == "new"
    assert view.hex_model.data(view.hex_model.index(0, HEX0), BACKGROUND) == style.SENT_BG


def test_save_and_copy_selected_bytes(qtbot, tmp_path):
    from PySide6.QtCore import QItemSelection, QItemSelectionModel

    from netcore.present.export import parse_text2pcap
    from widgets.hexdump_view import ASCII0, HEX0

    view = TrafficView()
    qtbot.addWidget(view)
    sent = make_chunk(Direction.SENT, b"Hello", 0, 1, "127.0.0.1:1")
    got = make_chunk(Direction.RECEIVED, b"HELLO!", 0, 1, "127.0.0.1:1")
    view.add([(sent, ()), (got, ())])
    view.save(str(tmp_path / "t.txt"), json_lines=False)
    assert parse_text2pcap((tmp_path / "t.txt").read_text()) == [
        (Direction.SENT, b"Hello"),
        (Direction.RECEIVED, b"HELLO!"),
    ]
    view.save(str(tmp_path / "t.jsonl"), json_lines=True)
    assert len((tmp_path / "t.jsonl").read_text().splitlines()) == 2
    # select bytes 3..6 in the hex columns and byte 7 in the ASCII column: "loHEL"
    model = view.hex_model
    selection = QItemSelection(model.index(0, HEX0 + 3), model.index(0, HEX0 + 6))
    selection.select(model.index(0, ASCII0 + 7), model.index(0, ASCII0 + 7))
    view.hexdump.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.Select)
    assert view.hexdump.selected_bytes() == b"loHEL"


class Feeder:
    """Feeds a TrafficView batches of 4,000-byte received chunks whose byte values follow their
    stream position (so equal bytes on screen mean the same bytes)."""

    def __init__(self, view: TrafficView) -> None:
        self.view, self.offset = view, 0

    def batch(self, chunks: int = 3) -> None:
        items = []
        for _ in range(chunks):
            data = bytes((self.offset + i) % 251 for i in range(4000))
            items.append((make_chunk(Direction.RECEIVED, data, self.offset, 1, PEER), ()))
            self.offset += 4000
        self.view.add(items)


def shown_at_top(view: TrafficView) -> tuple[str, list[str]]:
    """The offset and hex cells of the hexdump row at the top of the viewport."""
    model, row = view.hex_model, view.hexdump.rowAt(0)
    return model.data(model.index(row, 0)), [model.data(model.index(row, HEX0 + i)) for i in range(16)]


@pytest.fixture
def full_view(qtbot) -> tuple[TrafficView, Feeder]:
    """A shown view whose 64 KiB store is full and dropping its oldest chunks."""
    view = TrafficView(max_bytes=64 * 1024)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    feeder = Feeder(view)
    for _ in range(7):
        feeder.batch()
    assert view.store.dropped_chunks and view.store.byte_count == 64_000
    return view, feeder


def test_scrolled_up_hexdump_keeps_showing_its_bytes_while_old_ones_are_dropped(full_view, qtbot):
    view, feeder = full_view
    resets: list[int] = []
    view.hex_model.modelReset.connect(lambda: resets.append(1))
    bar = view.hexdump.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)  # about 30,000 bytes past the oldest stored byte
    offset, cells = place = shown_at_top(view)
    assert int(offset, 16) - view.store.base > 24_000

    for _ in range(2):  # each batch drops 12,000 older bytes: those above the place, not the place
        feeder.batch()
        qtbot.wait(1)
        assert shown_at_top(view) == place
        assert int(offset, 16) >= view.store.base
    assert not resets
    assert cells == [f"{(int(offset, 16) + i) % 251:02x}" for i in range(16)]

    feeder.batch()  # now the place itself is dropped: the view shows the oldest bytes kept
    assert view.hexdump.rowAt(0) == 0
    assert int(shown_at_top(view)[0], 16) == view.store.base - view.store.base % 16


def test_hexdump_at_the_bottom_follows_new_data(full_view):
    view, feeder = full_view
    view.hexdump.scrollToBottom()
    feeder.batch()
    assert view.hexdump.at_bottom()
    last = view.hex_model.rowCount() - 1
    assert view.hexdump.rowAt(view.hexdump.viewport().height() - 1) == last


def test_scrolled_up_log_keeps_its_rows_and_selection_moves_nothing(full_view, qtbot):
    view, feeder = full_view
    view.resize(800, 300)
    qtbot.wait(1)
    log = view.log
    log.selectRow(8)
    highlighted = view.hex_model._highlight
    bar = log.verticalScrollBar()
    bar.setValue(6)
    assert bar.value() == 6 < bar.maximum() - 2  # scrolled up, not following the tail
    top = cell(view.log_model, log.rowAt(0), NUM)
    hex_place = shown_at_top(view)

    feeder.batch()  # 3 rows leave the log, the selected one among the rest
    assert cell(view.log_model, log.rowAt(0), NUM) == top
    assert view.hex_model._highlight == highlighted  # the hexdump did not jump to another chunk
    assert shown_at_top(view) == hex_place


@pytest.mark.parametrize("width", [300, 450, 700, 1000])
def test_data_column_takes_the_width_left(view, qtbot, width):
    """The Data column is inside the log at any width, with at least 20 characters; the columns it
    pushed aside (elided or hidden) are whole in its tooltip, as plain text."""
    from widgets.plain_text import plain_tooltip
    from widgets.traffic_log import DATA_MIN_CHARS

    view.add([(make_chunk(Direction.RECEIVED, b"<b>bold</b> " * 8, 0, 1, PEER), ())])
    view.resize(width, 400)
    view.show()
    qtbot.waitExposed(view)
    log = view.log
    left, data = log.columnViewportPosition(PREVIEW), log.columnWidth(PREVIEW)
    assert left >= 0 and left + data <= log.viewport().width() + 1
    assert data >= DATA_MIN_CHARS * log.fontMetrics().horizontalAdvance("0")
    assert not log.horizontalScrollBar().isVisible()
    tip = view.log_model.data(view.log_model.index(0, PREVIEW), Qt.ItemDataRole.ToolTipRole)
    texts = view.log_model.row_texts(0)
    assert tip == plain_tooltip(
        "  ".join(texts[:5]) + "\n" + texts[5] + "\nstream offset 0–96 of connection #1"
    )

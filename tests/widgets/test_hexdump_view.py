"""HexdumpModel / HexdumpView over a TrafficStore: cells, colours, boundaries, tooltips, updates, laziness."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QAbstractItemModelTester

from netcore.model.traffic import Direction, TrafficStore, make_chunk
from netcore.protocols.framing import Frame, make_codec
from widgets import style
from widgets.hexdump_view import (
    ASCII0,
    CHUNK_START_ROLE,
    COLUMNS,
    FRAME_START_ROLE,
    HEX0,
    POSITION_ROLE,
    ByteInfo,
    HexdumpModel,
    HexdumpView,
    describe_byte,
)

DISPLAY = Qt.ItemDataRole.DisplayRole
BACKGROUND = Qt.ItemDataRole.BackgroundRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole
PEER = "127.0.0.1:5000"


def hex_cell(model: HexdumpModel, pos: int) -> QModelIndex:
    """The hex cell of display position *pos* (relative to the model's first row)."""
    return model.index(pos // 16, HEX0 + pos % 16)


def ascii_cell(model: HexdumpModel, pos: int) -> QModelIndex:
    return model.index(pos // 16, ASCII0 + pos % 16)


def frames_of(codec_frames: list) -> list[Frame]:
    return [f for f in codec_frames if isinstance(f, Frame)]


@pytest.fixture
def store() -> TrafficStore:
    return TrafficStore()


def test_columns_and_row_count(qtbot, store):
    model = HexdumpModel(store)
    assert model.rowCount() == 0
    assert model.columnCount() == COLUMNS == 33
    for size, rows in ((1, 1), (16, 1), (17, 2), (40, 3), (48, 3)):
        store.clear()
        store.append(make_chunk(Direction.SENT, bytes(size), 0, 1, PEER))
        model.sync()
        assert model.rowCount() == rows, size
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Offset"
    assert model.headerData(HEX0 + 10, Qt.Orientation.Horizontal) == "a"
    assert model.rowCount(model.index(0, 0)) == 0  # a table: no children


def test_display_of_hex_ascii_and_offset(qtbot, store):
    data = b"Hello, world!\r\n\x00" + bytes(range(0x7D, 0x85)) + b"AB"
    store.append(make_chunk(Direction.SENT, data, 0, 1, PEER))
    model = HexdumpModel(store)
    model.sync()
    assert model.rowCount() == 2
    assert model.data(model.index(0, 0)) == "00000000"
    assert model.data(model.index(1, 0)) == "00000010"
    assert model.data(hex_cell(model, 0)) == "48"
    assert model.data(ascii_cell(model, 0)) == "H"
    assert model.data(hex_cell(model, 13)) == "0d"
    assert model.data(ascii_cell(model, 13)) == "."  # \r is not printable
    assert model.data(hex_cell(model, 15)) == "00"
    assert model.data(ascii_cell(model, 15)) == "."
    # 0x7d '}' and 0x7e '~' print, 0x7f and above do not
    assert [model.data(ascii_cell(model, p)) for p in range(16, 20)] == ["}", "~", ".", "."]
    assert model.data(hex_cell(model, 18)) == "7f"
    assert model.data(hex_cell(model, 19)) == "80"
    assert model.data(ascii_cell(model, 25)) == "B"
    # past the end of the data: empty cells
    assert model.data(hex_cell(model, 26)) is None
    assert model.data(ascii_cell(model, 31)) is None
    assert model.data(model.index(1, 0), POSITION_ROLE) is None
    assert model.data(hex_cell(model, 20), POSITION_ROLE) == 20
    assert model.data(ascii_cell(model, 20), POSITION_ROLE) == 20


def test_byte_values_across_chunks_match_the_concatenation(qtbot, store):
    pieces = [b"abc", bytes(range(256)), b"\xff" * 5, b"z"]
    offset = 0
    for i, piece in enumerate(pieces):
        direction = Direction.SENT if i % 2 == 0 else Direction.RECEIVED
        store.append(make_chunk(direction, piece, offset, 1, PEER))
        offset += len(piece) if i % 2 else 0
    model = HexdumpModel(store)
    model.sync()
    whole = b"".join(pieces)
    assert model.rowCount() == -(-len(whole) // 16)
    shown = bytes(int(model.data(hex_cell(model, p)), 16) for p in range(len(whole)))
    assert shown == whole


def test_background_differs_by_direction(qtbot, store):
    store.append(make_chunk(Direction.SENT, b"ping", 0, 1, PEER))
    store.append(make_chunk(Direction.RECEIVED, b"pong", 0, 1, PEER))
    model = HexdumpModel(store)
    model.sync()
    sent = model.data(hex_cell(model, 0), BACKGROUND)
    received = model.data(hex_cell(model, 4), BACKGROUND)
    assert sent == style.SENT_BG
    assert received == style.RECEIVED_BG
    assert sent != received
    # the ASCII half is coloured like the hex half, and the text colour follows the direction too
    assert model.data(ascii_cell(model, 0), BACKGROUND) == sent
    assert model.data(ascii_cell(model, 7), BACKGROUND) == received
    fg = Qt.ItemDataRole.ForegroundRole
    assert model.data(hex_cell(model, 0), fg) != model.data(hex_cell(model, 4), fg)
    # the offset column has no byte colour
    assert model.data(model.index(0, 0), BACKGROUND) is None


def test_length_prefix_header_bytes_are_coloured_apart_from_payload(qtbot, store):
    codec = make_codec("length4")
    wire = codec.encode(b"hello") + codec.encode(b"world!")
    frames = frames_of(make_codec("length4").feed(wire))
    assert [f.payload for f in frames] == [b"hello", b"world!"]
    store.append(make_chunk(Direction.RECEIVED, wire, 0, 1, PEER), frames)
    model = HexdumpModel(store)
    model.sync()
    header = [model.data(hex_cell(model, p), BACKGROUND) for p in (0, 1, 2, 3, 9, 10, 11, 12)]
    payload = [model.data(hex_cell(model, p), BACKGROUND) for p in (*range(4, 9), *range(13, 19))]
    assert header == [style.RECEIVED_HEADER_BG] * 8
    assert payload == [style.RECEIVED_BG] * 11
    assert style.RECEIVED_HEADER_BG != style.RECEIVED_BG
    # sent frames use the sent colours
    store.clear()
    model.sync()  # as TrafficView.clear() does: sync right after clearing
    store.append(make_chunk(Direction.SENT, wire, 0, 1, PEER), frames)
    model.sync()
    assert model.data(hex_cell(model, 0), BACKGROUND) == style.SENT_HEADER_BG
    assert model.data(hex_cell(model, 4), BACKGROUND) == style.SENT_BG


def test_delimiter_bytes_get_the_trailer_colour(qtbot, store):
    wire = b"hi\nyo\n"
    frames = frames_of(make_codec("line").feed(wire))
    assert len(frames) == 2
    store.append(make_chunk(Direction.RECEIVED, wire, 0, 1, PEER), frames)
    model = HexdumpModel(store)
    model.sync()
    assert model.data(hex_cell(model, 2), BACKGROUND) == style.TRAILER_BG
    assert model.data(hex_cell(model, 0), BACKGROUND) == style.RECEIVED_BG
    assert model.byte_at(hex_cell(model, 2)).role_in_frame == "delimiter"


def test_chunk_start_role_marks_the_first_byte_of_each_chunk(qtbot, store):
    sizes = [5, 11, 20, 1, 3]  # chunk starts at 0, 5, 16, 36, 37
    offset = 0
    for size in sizes:
        store.append(make_chunk(Direction.RECEIVED, b"x" * size, offset, 1, PEER))
        offset += size
    model = HexdumpModel(store)
    model.sync()
    total = sum(sizes)
    starts = {p for p in range(total) if model.data(hex_cell(model, p), CHUNK_START_ROLE)}
    assert starts == {0, 5, 16, 36, 37}
    ascii_starts = {p for p in range(total) if model.data(ascii_cell(model, p), CHUNK_START_ROLE)}
    assert ascii_starts == starts
    assert model.data(model.index(0, 0), CHUNK_START_ROLE) is None  # not on the offset column


def test_frame_start_role_marks_each_frame_start(qtbot, store):
    tx = make_codec("length4")
    wire = tx.encode(b"abc") + tx.encode(b"") + tx.encode(b"0123456789")
    rx = make_codec("length4")
    # the stream arrives in two recv() chunks that do not line up with the frames
    first, second = wire[:5], wire[5:]
    store.append(make_chunk(Direction.RECEIVED, first, 0, 1, PEER), frames_of(rx.feed(first)))
    store.append(make_chunk(Direction.RECEIVED, second, len(first), 1, PEER), frames_of(rx.feed(second)))
    model = HexdumpModel(store)
    model.sync()
    starts = {p for p in range(len(wire)) if model.data(hex_cell(model, p), FRAME_START_ROLE)}
    assert starts == {0, 7, 11}
    chunk_starts = {p for p in range(len(wire)) if model.data(hex_cell(model, p), CHUNK_START_ROLE)}
    assert chunk_starts == {0, 5}


def test_tooltip_names_offset_chunk_and_frame(qtbot, store):
    store.append(make_chunk(Direction.SENT, b"0123456789", 0, 1, PEER))
    wire = make_codec("length4").encode(b"hello")
    frames = frames_of(make_codec("length4").feed(wire))
    store.append(make_chunk(Direction.RECEIVED, wire, 0, 1, "10.0.0.2:7"), frames)
    model = HexdumpModel(store)
    model.sync()

    sent_tip = model.data(hex_cell(model, 3), TOOLTIP)
    assert "offset 3" in sent_tip
    assert "0x33" in sent_tip
    assert "send() #1" in sent_tip
    assert PEER in sent_tip
    assert "frame" not in sent_tip

    header_tip = model.data(hex_cell(model, 11), TOOLTIP)  # 2nd header byte of the received frame
    assert "offset 11" in header_tip
    assert "recv() #2" in header_tip
    assert "byte 1 of" in header_tip
    assert "10.0.0.2:7" in header_tip
    assert "frame #1 header" in header_tip
    assert "header 0–4, payload 4–9" in header_tip

    payload_tip = model.data(ascii_cell(model, 16), TOOLTIP)  # stream offset 6 of the received frame
    assert "offset 16" in payload_tip
    assert "frame #1 payload" in payload_tip
    assert model.data(model.index(0, 0), TOOLTIP) is None


def test_describe_byte_and_byte_info(qtbot, store):
    store.append(make_chunk(Direction.RECEIVED, b"ab", 100, 3, PEER))
    model = HexdumpModel(store)
    model.sync()
    info = model.byte_at(hex_cell(model, 1))
    assert isinstance(info, ByteInfo)
    assert (info.position, info.value, info.row, info.stream_offset) == (1, ord("b"), 0, 101)
    assert info.frame is None and info.role_in_frame == ""
    text = describe_byte(info)
    assert "0x62" in text and "offset 1" in text and "recv() #1" in text
    assert "stream 100–102" in text
    assert model.byte_at(model.index(0, 0)) is None


def test_sync_after_append_inserts_rows(qtbot, store, qtlog):
    model = HexdumpModel(store)
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    inserted: list[tuple[int, int]] = []
    changed: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    model.dataChanged.connect(lambda tl, br, _roles=(): changed.append((tl.row(), br.row())))

    store.append(make_chunk(Direction.SENT, b"a" * 10, 0, 1, PEER))
    model.sync()
    assert inserted == [(0, 0)]
    assert model.data(hex_cell(model, 9)) == "61"
    assert model.data(hex_cell(model, 10)) is None  # row 0 is partial (and now cached)

    store.append(make_chunk(Direction.RECEIVED, b"b" * 30, 0, 1, PEER))
    model.sync()
    assert inserted == [(0, 0), (1, 2)]
    assert (0, 0) in changed  # the partial last row was refreshed...
    assert model.data(hex_cell(model, 10)) == "62"  # ...and not served from a stale cache
    assert model.rowCount() == 3

    model.sync()  # nothing new: nothing inserted
    assert inserted == [(0, 0), (1, 2)]
    assert not [r for r in qtlog.records if "FAIL" in r.message]


def test_dropping_old_chunks_removes_whole_rows_from_the_top_without_a_reset(qtbot, qtlog):
    store = TrafficStore(max_bytes=100)
    model = HexdumpModel(store)
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    resets: list[int] = []
    removed: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsRemoved.connect(lambda _parent, first, last: removed.append((first, last)))
    for i in range(3):  # 90 bytes: all kept
        store.append(make_chunk(Direction.SENT, bytes([0x41 + i]) * 30, 30 * i, 1, PEER))
    model.sync()
    assert model.rowCount() == 6 and not resets
    model.data(hex_cell(model, 16))  # fill the cache with the row about to lose some bytes

    store.append(make_chunk(Direction.SENT, b"D" * 30, 90, 1, PEER))  # 120 > 100: drops "A"*30
    assert store.base == 30
    model.sync()
    assert not resets
    assert removed == [(0, 0)]  # only the row of positions 0-15 has gone entirely
    assert model.rowCount() == 7  # rows from position 16 to 119
    assert model.data(model.index(0, 0)) == "00000010"  # rows stay on multiples of 16
    assert [model.byte_at(model.index(0, HEX0 + i)) for i in range(14)] == [None] * 14  # dropped
    assert model.data(model.index(0, HEX0 + 13)) is None
    first = model.byte_at(model.index(0, HEX0 + 14))
    assert first.position == 30 and first.value == ord("B")
    assert model.data(model.index(0, HEX0 + 14), CHUNK_START_ROLE) is True
    last = model.byte_at(model.index(6, HEX0 + 7))
    assert last.position == 119 and last.value == ord("D")
    assert model.data(model.index(6, HEX0 + 8)) is None
    assert not [r for r in qtlog.records if "FAIL" in r.message]


def test_sync_resets_after_clear(qtbot, store):
    model = HexdumpModel(store)
    store.append(make_chunk(Direction.SENT, b"x" * 40, 0, 1, PEER))
    model.sync()
    assert model.rowCount() == 3
    store.clear()
    model.sync()
    assert model.rowCount() == 0


def test_frame_completed_by_a_later_chunk_recolours_earlier_rows(qtbot, store):
    """A frame split over two recv() chunks is only decoded with the second: rows of the first chunk
    that were already formatted (cached) must show the header colour and frame start afterwards."""
    tx, rx = make_codec("length4"), make_codec("length4")
    wire = tx.encode(bytes(range(0x41, 0x41 + 40)))
    first, second = wire[:24], wire[24:]
    store.append(make_chunk(Direction.RECEIVED, first, 0, 1, PEER), frames_of(rx.feed(first)))
    model = HexdumpModel(store)
    model.sync()
    assert store.frame_count() == 0
    assert model.data(hex_cell(model, 0), BACKGROUND) == style.RECEIVED_BG  # not a frame yet
    assert not model.data(hex_cell(model, 0), FRAME_START_ROLE)

    store.append(make_chunk(Direction.RECEIVED, second, len(first), 1, PEER), frames_of(rx.feed(second)))
    model.sync()
    assert store.frame_count() == 1
    assert model.data(hex_cell(model, 0), BACKGROUND) == style.RECEIVED_HEADER_BG
    assert model.data(hex_cell(model, 0), FRAME_START_ROLE) is True
    assert "frame #1 header" in model.data(hex_cell(model, 2), TOOLTIP)
    assert model.data(hex_cell(model, 30), BACKGROUND) == style.RECEIVED_BG


def test_set_highlight_colours_exactly_the_highlighted_bytes(qtbot, store):
    store.append(make_chunk(Direction.SENT, b"s" * 20, 0, 1, PEER))
    store.append(make_chunk(Direction.RECEIVED, b"r" * 20, 0, 1, PEER))
    model = HexdumpModel(store)
    model.sync()
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda tl, br, _roles=(): changed.append((tl.row(), br.row())))

    model.set_highlight(20, 40)  # the received chunk
    highlighted = {p for p in range(40) if model.data(hex_cell(model, p), BACKGROUND) == style.HIGHLIGHT_BG}
    assert highlighted == set(range(20, 40))
    assert model.data(ascii_cell(model, 25), BACKGROUND) == style.HIGHLIGHT_BG
    assert model.data(hex_cell(model, 19), BACKGROUND) == style.SENT_BG
    assert changed and min(r for r, _ in changed) <= 1 and max(r for _, r in changed) >= 2

    model.set_highlight(0, 20)  # move it: the old bytes lose it
    highlighted = {p for p in range(40) if model.data(hex_cell(model, p), BACKGROUND) == style.HIGHLIGHT_BG}
    assert highlighted == set(range(20))
    assert model.data(hex_cell(model, 20), BACKGROUND) == style.RECEIVED_BG
    assert min(r for r, _ in changed[1:]) == 0  # the repaint covers old and new rows
    assert max(r for _, r in changed[1:]) >= 2

    model.set_highlight(0, 0)
    assert model.data(hex_cell(model, 5), BACKGROUND) == style.SENT_BG


class RecordingModel(HexdumpModel):
    """Records which rows were formatted and which offsets were asked for display."""

    def __init__(self, store: TrafficStore) -> None:
        super().__init__(store)
        self.formatted: set[int] = set()
        self.offsets: set[str] = set()

    def row_bytes(self, row):
        self.formatted.add(row)
        return super().row_bytes(row)

    def data(self, index, role=DISPLAY):
        value = super().data(index, role)
        if role == DISPLAY and index.isValid() and index.column() == 0:
            self.offsets.add(value)
        return value


def test_view_formats_only_visible_rows_of_64_mib(qtbot):
    chunk_size, chunks = 64 * 1024, 1024
    store = TrafficStore(max_bytes=128 * 1024 * 1024)
    data = bytes(range(256)) * (chunk_size // 256)  # one object shared by every chunk
    for i in range(chunks):
        direction = Direction.SENT if i % 2 == 0 else Direction.RECEIVED
        store.append(make_chunk(direction, data, (i // 2) * chunk_size, 1, PEER))
    assert store.dropped_chunks == 0 and store.byte_count == 64 * 1024 * 1024
    model = RecordingModel(store)
    model.sync()
    rows = model.rowCount()
    assert rows == 64 * 1024 * 1024 // 16

    view = HexdumpView(model)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    view.grab()
    assert model.formatted, "nothing was painted"
    assert len(model.formatted) < 200
    assert max(model.formatted) < 200  # the top of the dump
    assert "00000000" in model.offsets

    model.formatted.clear()
    model.offsets.clear()
    view.scrollToBottom()
    view.grab()
    assert model.formatted
    assert len(model.formatted) < 200
    assert rows - 1 in model.formatted
    last_offset = f"{(rows - 1) * 16:08x}"
    assert last_offset == "03fffff0"
    assert last_offset in model.offsets
    assert view.rowAt(view.viewport().height() - 1) == rows - 1
    assert view.at_bottom()


def test_view_hover_describes_the_byte(qtbot, store):
    store.append(make_chunk(Direction.SENT, b"hello", 0, 1, PEER))
    model = HexdumpModel(store)
    model.sync()
    view = HexdumpView(model)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.hovered, timeout=1000) as blocker:
        view.entered.emit(hex_cell(model, 1))
    assert "0x65" in blocker.args[0] and "offset 1" in blocker.args[0]
    with qtbot.assertNotEmitted(view.hovered):
        view.entered.emit(model.index(0, 0))  # the offset column describes no byte


def test_the_ascii_columns_share_one_header_section(qtbot, store):
    """The sixteen narrow ASCII sections are drawn as one ("ASCII"), not sixteen empty boxes."""
    view = HexdumpView(HexdumpModel(store))
    qtbot.addWidget(view)
    view.resize(800, 300)
    view.show()
    qtbot.waitExposed(view)
    header = view.horizontalHeader()
    image = header.grab().toImage()
    y_range = range(2, image.height() - 2)

    def column(x: int) -> list[int]:
        return [image.pixel(x, y) for y in y_range]

    def separator_at(section: int) -> bool:
        """Whether the pixels at the section's right edge differ from those in its middle."""
        right = header.sectionViewportPosition(section) + header.sectionSize(section) - 1
        middle = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
        return column(right) != column(middle)

    assert separator_at(HEX0 + 3)  # the hex sections keep their own boxes (the check can fail)
    assert not any(separator_at(section) for section in range(ASCII0 + 8, COLUMNS - 1))

"""HexdumpModel/HexdumpView: a model/view hexdump over a TrafficStore that formats only visible rows.

Columns: offset, 16 hex bytes, 16 ASCII characters. Bytes are coloured by direction; with framing,
header bytes are darker than payload bytes and delimiters grey. A line is drawn before the first
byte of every send()/recv() chunk (black) and every decoded frame (orange). Hovering a byte tells
its offset, its chunk and its frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QGuiApplication,
    QHelpEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionHeader,
    QStyleOptionViewItem,
    QTableView,
    QToolTip,
    QWidget,
)

from netcore.model.traffic import Chunk, Direction, FrameSpan, TrafficStore
from netcore.present.export import python_literal
from netcore.protocols.hexdump import ASCII_CHAR, HEX_BYTE, WIDTH
from widgets import style
from widgets.plain_text import plain_tooltip

HEX0 = 1  # first hex column
ASCII0 = HEX0 + WIDTH  # first ASCII column
COLUMNS = ASCII0 + WIDTH

MIN_ROWS = 2  # a hexdump is never shorter

CHUNK_START_ROLE = Qt.ItemDataRole.UserRole + 1
FRAME_START_ROLE = Qt.ItemDataRole.UserRole + 2
POSITION_ROLE = Qt.ItemDataRole.UserRole + 3

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class ByteInfo:
    """Everything a view needs to draw or describe one byte."""

    position: int  # display position (across all chunks)
    value: int
    row: int  # chunk row in the store
    chunk: Chunk
    stream_offset: int
    frame: FrameSpan | None

    @property
    def role_in_frame(self) -> str:
        f = self.frame
        if f is None:
            return ""
        if self.stream_offset < f.payload_start:
            return "header"
        return "payload" if self.stream_offset < f.payload_end else "delimiter"


def describe_byte(info: ByteInfo) -> str:
    """Translated plain-text description used for tooltips and the hover line."""
    c = info.chunk
    call = "send()" if c.direction is Direction.SENT else "recv()"
    clock = time.strftime("%H:%M:%S", time.localtime(c.wall)) + f".{int(c.wall * 1000) % 1000:03d}"
    text = QCoreApplication.translate(
        "HexdumpView",
        "byte 0x{value:02x} at offset {pos} · byte {within} of {call} #{row} "
        "({size} B, stream {start}–{end}, {clock}, {peer})",
    ).format(
        value=info.value,
        pos=info.position,
        within=info.stream_offset - c.offset,
        call=call,
        row=info.row + 1,
        size=len(c.data),
        start=c.offset,
        end=c.end,
        clock=clock,
        peer=c.peer,
    )
    f = info.frame
    if f is not None:
        role = {
            "header": QCoreApplication.translate("HexdumpView", "header"),
            "payload": QCoreApplication.translate("HexdumpView", "payload"),
            "delimiter": QCoreApplication.translate("HexdumpView", "delimiter"),
        }
        text += QCoreApplication.translate(
            "HexdumpView", " · frame #{n} {role} (header {h0}–{h1}, payload {p0}–{p1})"
        ).format(
            n=f.index + 1,
            role=role[info.role_in_frame],
            h0=f.start,
            h1=f.payload_start,
            p0=f.payload_start,
            p1=f.payload_end,
        )
    return text


class HexdumpModel(QAbstractTableModel):
    """Rows of 16 bytes over the store's display positions.

    Row 0 starts at ``store.base`` rounded down to a multiple of 16, so a byte keeps its column while
    older bytes are dropped: whole rows leave from the top (between ``top_rows_dropping`` and
    ``top_rows_dropped``), and the dropped bytes of a row still partly stored show as blank cells.
    """

    top_rows_dropping = Signal()
    top_rows_dropped = Signal()

    def __init__(self, store: TrafficStore, parent: Any = None) -> None:
        super().__init__(parent)
        self.store = store
        self._rows = 0
        self._origin = self._first_row_start()
        self._base = store.base
        self._epoch = store.epoch
        self._cache: dict[int, list[ByteInfo | None]] = {}  # display position of a row -> its bytes
        self._frames = store.frame_count()
        self._highlight = (0, 0)

    def _first_row_start(self) -> int:
        return self.store.base - self.store.base % WIDTH

    # -- updates --------------------------------------------------------------------------------
    def sync(self) -> None:
        """Call after the store changed: removes the rows dropped at the top, appends new rows."""
        store = self.store
        origin = self._first_row_start()
        rows = -(-(store.end - origin) // WIDTH)
        frames, frames_changed = store.frame_count(), False
        if frames != self._frames or frames >= store.max_chunks:  # at the bound the count stays put
            self._frames, frames_changed = frames, True
        if store.epoch != self._epoch or origin < self._origin:  # cleared
            self.beginResetModel()
            self._origin, self._base, self._epoch, self._rows = origin, store.base, store.epoch, rows
            self._cache.clear()
            self.endResetModel()
            return
        gone = min((origin - self._origin) // WIDTH, self._rows)
        if gone:
            self.top_rows_dropping.emit()
            self.beginRemoveRows(QModelIndex(), 0, gone - 1)
            self._rows -= gone
            self._origin += gone * WIDTH
            self.endRemoveRows()
            self.top_rows_dropped.emit()
        self._origin = origin  # rows beyond those shown may have gone too
        if store.base != self._base:
            self._base = store.base
            self._cache.pop(origin, None)  # the first row lost some of its bytes
            if self._rows and not frames_changed:
                self.dataChanged.emit(self.index(0, 0), self.index(0, COLUMNS - 1))
        old = self._rows
        if old:
            # The last row may have been partial; a frame completed by the new bytes may start in
            # rows formatted earlier (a frame split over several recv() chunks): recolour those too.
            first = 0 if frames_changed else old - 1
            if frames_changed:
                self._cache.clear()
            else:
                self._cache.pop(origin + (old - 1) * WIDTH, None)
            self.dataChanged.emit(self.index(first, 0), self.index(old - 1, COLUMNS - 1))
        if rows > old:
            self.beginInsertRows(QModelIndex(), old, rows - 1)
            self._rows = rows
            self.endInsertRows()

    def set_highlight(self, start: int, end: int) -> None:
        """Highlight display positions [start, end) (the chunk selected in the traffic log)."""
        rows = {self.row_of(p) for p in (*self._highlight, start, end)}
        self._highlight = (start, end)
        lo, hi = max(0, min(rows)), min(self._rows - 1, max(rows))
        if self._rows and lo <= hi:
            self.dataChanged.emit(
                self.index(lo, 0), self.index(hi, COLUMNS - 1), [Qt.ItemDataRole.BackgroundRole]
            )

    def set_store(self, store: TrafficStore) -> None:
        """Show another store (one connection's traffic, or all of it again)."""
        self.beginResetModel()
        self.store = store
        self._origin, self._base, self._epoch = self._first_row_start(), store.base, store.epoch
        self._rows = -(-(store.end - self._origin) // WIDTH)
        self._frames = store.frame_count()
        self._cache.clear()
        self._highlight = (0, 0)
        self.endResetModel()

    def starts_connection(self, info: ByteInfo) -> bool:
        """Whether *info* is the first byte of a chunk whose connection differs from the byte before's."""
        before = info.position - 1
        if info.stream_offset != info.chunk.offset or before < self.store.base:
            return False
        return self.store.chunk(self.store.row_at(before)).conn != info.chunk.conn

    def row_of(self, position: int) -> int:
        return (position - self._origin) // WIDTH

    def position_of(self, row: int) -> int:
        """Display position of the first byte of *row*."""
        return self._origin + row * WIDTH

    # -- Qt model -------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else COLUMNS

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if section == 0:
            return self.tr("Offset")
        if section < ASCII0:
            return f"{section - HEX0:x}"
        return ""

    def row_bytes(self, row: int) -> list[ByteInfo | None]:
        """The bytes of one row with their chunk and frame, None where dropped (cached until the
        next sync)."""
        store = self.store
        pos = self._origin + row * WIDTH
        cached = self._cache.get(pos)
        if cached is not None:
            return cached
        end = min(pos + WIDTH, store.end)
        out: list[ByteInfo | None] = [None] * max(0, min(store.base, end) - pos)
        pos = max(pos, store.base)
        crow = store.row_at(pos)
        while pos < end and 0 <= crow < len(store):
            chunk, start = store.chunk(crow), store.chunk_start(crow)
            while pos < end and pos < start + len(chunk.data):
                stream_offset = chunk.offset + pos - start
                frame = store.frame_of(crow, stream_offset)
                out.append(ByteInfo(pos, chunk.data[pos - start], crow, chunk, stream_offset, frame))
                pos += 1
            crow += 1
        if len(self._cache) > 512:
            self._cache.clear()
        self._cache[self._origin + row * WIDTH] = out
        return out

    def byte_at(self, index: _Index) -> ByteInfo | None:
        col = index.column()
        if col < HEX0:
            return None
        i = col - HEX0 if col < ASCII0 else col - ASCII0
        row = self.row_bytes(index.row())
        return row[i] if i < len(row) else None

    def colours(self, info: ByteInfo) -> tuple[QColor, QColor]:
        """(background, text colour) of a byte: highlight, or by direction and place in its frame."""
        bg, header_bg, fg = style.direction_colours(info.chunk.direction)
        lo, hi = self._highlight
        if lo <= info.position < hi:
            return style.colours().highlight_bg, fg
        kind = info.role_in_frame
        trailer_bg = style.colours().trailer_bg
        return (header_bg if kind == "header" else trailer_bg if kind == "delimiter" else bg), fg

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.column() == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{self._origin + index.row() * WIDTH:08x}"
            if role == Qt.ItemDataRole.ForegroundRole:
                return style.colours().offset_fg
            return None
        info = self.byte_at(index)
        if info is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEX_BYTE[info.value] if index.column() < ASCII0 else ASCII_CHAR[info.value]
        if role == Qt.ItemDataRole.BackgroundRole:
            return self.colours(info)[0]
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.colours(info)[1]
        if role == Qt.ItemDataRole.ToolTipRole:
            return describe_byte(info)
        if role == CHUNK_START_ROLE:
            return info.stream_offset == info.chunk.offset
        if role == FRAME_START_ROLE:
            return info.frame is not None and info.stream_offset == info.frame.start
        if role == POSITION_ROLE:
            return info.position
        return None


class _BoundaryDelegate(QStyledItemDelegate):
    """Paints a cell, then a bar at its left edge where a chunk or a frame begins (for models
    other than HexdumpModel, whose rows the view paints itself); shows tooltips as plain text."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        super().paint(painter, option, index)
        chunk_start, frame_start = bool(index.data(CHUNK_START_ROLE)), bool(index.data(FRAME_START_ROLE))
        _draw_boundaries(painter, option.rect, chunk_start, frame_start)

    def helpEvent(
        self, event: QHelpEvent, view: QAbstractItemView, option: QStyleOptionViewItem, index: _Index
    ) -> bool:
        """Tooltips show their text literally: a field's value can be the peer's text."""
        text = index.data(Qt.ItemDataRole.ToolTipRole) if index.isValid() else None
        if event.type() != QEvent.Type.ToolTip or not text:
            return super().helpEvent(event, view, option, index)
        QToolTip.showText(event.globalPos(), plain_tooltip(str(text)), view)
        return True


_TEXT_MARGIN = 3  # as QStyledItemDelegate: PM_FocusFrameHMargin + 1


def _draw_boundaries(painter: QPainter, rect: QRect, chunk_start: bool, frame_start: bool) -> None:
    """A black bar at the left edge where a chunk begins, an orange hook where a frame begins."""
    if chunk_start:
        painter.setPen(QPen(style.colours().chunk_line, 2))
        painter.drawLine(rect.left() + 1, rect.top(), rect.left() + 1, rect.bottom())
    if frame_start:
        painter.setPen(QPen(style.colours().frame_line, 2))
        x = rect.left() + (4 if chunk_start else 1)
        painter.drawLine(x, rect.top() + 2, x, rect.bottom() - 2)
        painter.drawLine(x, rect.top() + 2, x + 4, rect.top() + 2)


def rows_in(table: QTableView, area: QRect) -> tuple[int, int] | None:
    """The first and last row a repaint of *area* (viewport coordinates) covers; None if none."""
    first = table.rowAt(area.top())
    if first < 0:
        return None
    last = table.rowAt(area.bottom())
    return first, last if last >= 0 else table.model().rowCount() - 1


class FixedHeader(QHeaderView):
    """A table's header for fixed columns: its size hint is worked out once per font and language,
    not after every batch of rows (each time costs a ``headerData`` call per section and role, and
    under a flood every call from Qt into Python waits for the GIL)."""

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self.setSectionsClickable(True)  # as QTableView's own header
        self.setHighlightSections(True)
        self._size_hint: QSize | None = None

    def sizeHint(self) -> QSize:
        if self._size_hint is None:
            self._size_hint = super().sizeHint()
        return self._size_hint

    def event(self, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange, QEvent.Type.LanguageChange):
            self._size_hint = None
            self.viewport().update()  # texts painted by the header itself
            table = self.parentWidget()
            if table is not None:  # its minimum height counts the header's
                table.updateGeometry()
        return super().event(event)


class HexdumpHeader(FixedHeader):
    """A hexdump's header: the sixteen narrow ASCII columns share one section, "ASCII"."""

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self._ascii_painted = False  # in the current paint event

    def paintEvent(self, event: QPaintEvent) -> None:
        self._ascii_painted = False
        super().paintEvent(event)

    def paintSection(self, painter: QPainter, rect: QRect, section: int) -> None:
        if section < ASCII0:
            super().paintSection(painter, rect, section)
            return
        if self._ascii_painted:  # the first ASCII section to be repainted drew all of them
            return
        self._ascii_painted = True
        left = self.sectionViewportPosition(ASCII0)
        last = COLUMNS - 1
        right = self.sectionViewportPosition(last) + self.sectionSize(last)
        option = QStyleOptionHeader()
        self.initStyleOption(option)
        option.rect = QRect(left, rect.top(), right - left, rect.height())
        option.section = ASCII0
        option.text = self.tr("ASCII")
        option.position = QStyleOptionHeader.SectionPosition.End
        painter.save()
        self.style().drawControl(QStyle.ControlElement.CE_Header, option, painter, self)
        painter.restore()


class HexdumpView(QTableView):
    """The hexdump table: fixed-size cells in a monospace font, following new data at the bottom."""

    hovered = Signal(str)  # description of the byte under the mouse

    def __init__(self, model: QAbstractTableModel, parent: Any = None) -> None:
        """*model*: a HexdumpModel, or any model with the same columns (offset, 16 hex, 16 ASCII)."""
        super().__init__(parent)
        self.setHorizontalHeader(HexdumpHeader(Qt.Orientation.Horizontal, self))
        self.setModel(model)
        self.setItemDelegate(_BoundaryDelegate(self))
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setMouseTracking(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ContiguousSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().hide()
        self.entered.connect(self._on_entered)
        self.apply_font(style.mono_font())
        self._scrolled_to: int | None = None  # the user's place in pixels from position 0, during a drop
        if isinstance(model, HexdumpModel):
            model.top_rows_dropping.connect(self._before_top_rows_dropped)
            model.top_rows_dropped.connect(self._after_top_rows_dropped)

    def apply_font(self, font: Any) -> None:
        """Size every column and row from the font (used for presentation zoom too)."""
        self.setFont(font)
        metrics = self.fontMetrics()
        char = metrics.horizontalAdvance("0")
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setMinimumSectionSize(1)
        header.setFont(font)
        self.setColumnWidth(0, char * 10)
        for col in range(HEX0, ASCII0):
            self.setColumnWidth(col, char * 3 + (char if col == HEX0 + 7 else 0))
        for col in range(ASCII0, COLUMNS):
            self.setColumnWidth(col, char + 2)
        vheader = self.verticalHeader()
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setMinimumSectionSize(1)
        vheader.setDefaultSectionSize(metrics.height() + 2)

    def minimumSizeHint(self) -> QSize:
        """Room for the header, MIN_ROWS rows and the horizontal scroll bar that reaches the ASCII
        column when the view is narrower than its columns."""
        hint = super().minimumSizeHint()
        rows = MIN_ROWS * self.verticalHeader().defaultSectionSize()
        bar = self.horizontalScrollBar().sizeHint().height()
        height = self.horizontalHeader().sizeHint().height() + rows + bar + 2 * self.frameWidth()
        return QSize(hint.width(), height)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint a HexdumpModel's visible rows in one pass (other models: cell by cell).

        While an engine thread runs Python, each call from Qt into Python waits for the GIL; painting
        the rows here, rather than through a delegate and ``data()`` for every cell and role, makes a
        repaint one such call instead of thousands.
        """
        model = self.model()
        if not isinstance(model, HexdumpModel):
            super().paintEvent(event)
            return
        rows = rows_in(self, event.rect())
        if rows is None:
            return
        first, last = rows
        height = self.verticalHeader().defaultSectionSize()
        metrics = self.fontMetrics()
        baseline = (height - metrics.height()) // 2 + metrics.ascent()
        xs = [self.columnViewportPosition(col) for col in range(COLUMNS)]
        widths = [self.columnWidth(col) for col in range(COLUMNS)]
        selection = self.selectionModel().selection()
        ranges = [
            (r.top(), r.bottom(), r.left(), r.right())
            for r in (selection.at(i) for i in range(selection.size()))
            if r.bottom() >= first and r.top() <= last
        ]
        group = QPalette.ColorGroup.Active if self.isActiveWindow() else QPalette.ColorGroup.Inactive
        palette = self.palette()
        selected_bg = palette.color(group, QPalette.ColorRole.Highlight)
        selected_fg = palette.color(group, QPalette.ColorRole.HighlightedText)
        painter = QPainter(self.viewport())
        for row in range(first, last + 1):
            y = self.rowViewportPosition(row)
            painter.setPen(style.colours().offset_fg)
            painter.drawText(xs[0] + _TEXT_MARGIN, y + baseline, str(model.data(model.index(row, 0))))
            picked = [(left, right) for top, bottom, left, right in ranges if top <= row <= bottom]
            for i, info in enumerate(model.row_bytes(row)):
                if info is None:
                    continue
                bg, fg = model.colours(info)
                chunk_start = info.stream_offset == info.chunk.offset
                frame_start = info.frame is not None and info.stream_offset == info.frame.start
                for col, text in ((HEX0 + i, HEX_BYTE[info.value]), (ASCII0 + i, ASCII_CHAR[info.value])):
                    x, width = xs[col], widths[col]
                    if picked and any(left <= col <= right for left, right in picked):
                        painter.fillRect(x, y, width, height, selected_bg)
                        painter.setPen(selected_fg)
                    else:
                        painter.fillRect(x, y, width, height, bg)
                        painter.setPen(fg)
                    painter.drawText(x + _TEXT_MARGIN, y + baseline, text)
                    if chunk_start or frame_start:
                        _draw_boundaries(painter, QRect(x, y, width, height), chunk_start, frame_start)
                    if chunk_start and model.starts_connection(info):  # another client's bytes
                        painter.fillRect(x, y, 3, height, style.CONN_LINE)
        current = self.currentIndex()
        if self.hasFocus() and current.isValid() and first <= current.row() <= last:
            col = current.column()
            painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Text), 1, Qt.PenStyle.DotLine))
            painter.drawRect(xs[col], self.rowViewportPosition(current.row()), widths[col] - 1, height - 1)
        painter.end()

    def _first_row_y(self) -> int:
        """Pixels from display position 0 to the model's first row."""
        model = self.model()
        assert isinstance(model, HexdumpModel)
        return model.position_of(0) // WIDTH * self.verticalHeader().defaultSectionSize()

    def _before_top_rows_dropped(self) -> None:
        scrolled = not self.at_bottom()
        self._scrolled_to = self.verticalScrollBar().value() + self._first_row_y() if scrolled else None

    def _after_top_rows_dropped(self) -> None:
        """Old rows went from the top: scroll up as far, so the bytes on screen stay where they are."""
        if self._scrolled_to is not None:
            self.verticalScrollBar().setValue(max(0, self._scrolled_to - self._first_row_y()))
            self._scrolled_to = None

    def _on_entered(self, index: QModelIndex) -> None:
        text = index.data(Qt.ItemDataRole.ToolTipRole)
        if text:
            self.hovered.emit(str(text))

    def follow_tail(self, was_at_bottom: bool) -> None:
        if was_at_bottom:
            self.scrollToBottom()

    def selected_bytes(self) -> bytes:
        """The selected bytes in stream order (a byte selected in both columns counts once)."""
        picked: dict[tuple[int, int], int] = {}
        model = self.model()
        for index in self.selectedIndexes():
            col = index.column()
            if col < HEX0:
                continue
            i = col - HEX0 if col < ASCII0 else col - ASCII0
            text = model.index(index.row(), HEX0 + i).data()
            if text:
                picked[(index.row(), i)] = int(str(text), 16)
        return bytes(value for _, value in sorted(picked.items()))

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        data = self.selected_bytes()
        menu = QMenu(self)
        for label, make in (
            (self.tr("Copy as hex"), lambda d: d.hex(" ")),
            (self.tr("Copy as text"), lambda d: d.decode("utf-8", errors="replace")),
            (self.tr("Copy as Python bytes"), python_literal),
        ):
            action = menu.addAction(label)
            action.setEnabled(bool(data))
            action.triggered.connect(
                lambda _=False, make=make: QGuiApplication.clipboard().setText(make(data))
            )
        menu.exec(event.globalPos())

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 2


class FieldHexModel(QAbstractTableModel):
    """A hexdump of one packet whose fields are labelled: each field in its own shade, an orange
    bar where it starts, and its name and decoded value on hover (same columns as HexdumpModel)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.data_bytes = b""
        self.fields: list[tuple[int, int, str, str]] = []
        self._field_of: list[int] = []

    def set_packet(self, data: bytes, fields: list[tuple[int, int, str, str]]) -> None:
        """*fields*: (start, end, name, decoded value) spans covering the packet."""
        self.beginResetModel()
        self.data_bytes, self.fields = data, fields
        self._field_of = [-1] * len(data)
        for i, (start, end, _, _) in enumerate(fields):
            for pos in range(start, min(end, len(data))):
                self._field_of[pos] = i
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else -(-len(self.data_bytes) // WIDTH)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else COLUMNS

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 < section < ASCII0
        ):
            return f"{section - HEX0:x}"
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        col = index.column()
        if col == 0:
            return f"{index.row() * WIDTH:08x}" if role == Qt.ItemDataRole.DisplayRole else None
        pos = index.row() * WIDTH + (col - HEX0 if col < ASCII0 else col - ASCII0)
        if pos >= len(self.data_bytes):
            return None
        value, field = self.data_bytes[pos], self._field_of[pos]
        if role == Qt.ItemDataRole.DisplayRole:
            return HEX_BYTE[value] if col < ASCII0 else ASCII_CHAR[value]
        if field < 0:
            return None
        start, end, name, decoded = self.fields[field]
        if role == Qt.ItemDataRole.BackgroundRole:
            shades = style.colours().field_shades
            return shades[field % len(shades)]
        if role == Qt.ItemDataRole.ToolTipRole:
            return QCoreApplication.translate("HexdumpView", "bytes {start}–{end}: {name} = {value}").format(
                start=start, end=end - 1, name=name, value=decoded
            )
        if role == FRAME_START_ROLE:
            return pos == start
        return None

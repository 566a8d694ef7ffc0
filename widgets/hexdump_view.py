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
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QContextMenuEvent, QGuiApplication, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
)

from netcore.export import python_literal
from netcore.hexdump import ASCII_CHAR, HEX_BYTE, WIDTH
from netcore.traffic import Chunk, Direction, FrameSpan, TrafficStore
from widgets import style

HEX0 = 1  # first hex column
ASCII0 = HEX0 + WIDTH  # first ASCII column
COLUMNS = ASCII0 + WIDTH

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
    """Rows of 16 bytes over the store's display positions, starting at ``store.base``."""

    def __init__(self, store: TrafficStore, parent: Any = None) -> None:
        super().__init__(parent)
        self.store = store
        self._rows = 0
        self._base = store.base
        self._cache: dict[int, list[ByteInfo]] = {}
        self._frames = store.frame_count()
        self._highlight = (0, 0)

    # -- updates --------------------------------------------------------------------------------
    def sync(self) -> None:
        """Call after the store changed: resets if old bytes were dropped, else appends rows."""
        rows = -(-(self.store.end - self.store.base) // WIDTH)
        frames, frames_changed = self.store.frame_count(), False
        if frames != self._frames or frames >= self.store.max_chunks:  # at the bound the count stays put
            self._frames, frames_changed = frames, True
        if self.store.base != self._base or rows < self._rows:
            self.beginResetModel()
            self._base, self._rows = self.store.base, rows
            self._cache.clear()
            self.endResetModel()
            return
        old = self._rows
        if old:
            # The last row may have been partial; a frame completed by the new bytes may start in
            # rows formatted earlier (a frame split over several recv() chunks): recolour those too.
            first = 0 if frames_changed else old - 1
            if frames_changed:
                self._cache.clear()
            else:
                self._cache.pop(old - 1, None)
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

    def row_of(self, position: int) -> int:
        return (position - self._base) // WIDTH

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

    def row_bytes(self, row: int) -> list[ByteInfo]:
        """The bytes of one row with their chunk and frame (cached until the next sync)."""
        cached = self._cache.get(row)
        if cached is not None:
            return cached
        store = self.store
        pos = self._base + row * WIDTH
        end = min(pos + WIDTH, store.end)
        out: list[ByteInfo] = []
        if pos < store.base:
            return out
        crow = store.row_at(pos)
        while pos < end and 0 <= crow < len(store):
            chunk, start = store.chunk(crow), store.chunk_start(crow)
            while pos < end and pos < start + len(chunk.data):
                stream_offset = chunk.offset + pos - start
                frame = store.frame_at(chunk.conn, chunk.direction, stream_offset)
                out.append(ByteInfo(pos, chunk.data[pos - start], crow, chunk, stream_offset, frame))
                pos += 1
            crow += 1
        if len(self._cache) > 512:
            self._cache.clear()
        self._cache[row] = out
        return out

    def byte_at(self, index: _Index) -> ByteInfo | None:
        col = index.column()
        if col < HEX0:
            return None
        i = col - HEX0 if col < ASCII0 else col - ASCII0
        row = self.row_bytes(index.row())
        return row[i] if i < len(row) else None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.column() == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{self._base + index.row() * WIDTH:08x}"
            if role == Qt.ItemDataRole.ForegroundRole:
                return style.OFFSET_FG
            return None
        info = self.byte_at(index)
        if info is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEX_BYTE[info.value] if index.column() < ASCII0 else ASCII_CHAR[info.value]
        if role == Qt.ItemDataRole.BackgroundRole:
            lo, hi = self._highlight
            if lo <= info.position < hi:
                return style.HIGHLIGHT_BG
            bg, header_bg, _ = style.direction_colours(info.chunk.direction)
            kind = info.role_in_frame
            return header_bg if kind == "header" else style.TRAILER_BG if kind == "delimiter" else bg
        if role == Qt.ItemDataRole.ForegroundRole:
            return style.direction_colours(info.chunk.direction)[2]
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
    """Paints the cell, then a bar at its left edge where a chunk or a frame begins."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        super().paint(painter, option, index)
        chunk_start = bool(index.data(CHUNK_START_ROLE))
        frame_start = bool(index.data(FRAME_START_ROLE))
        if not (chunk_start or frame_start):
            return
        rect = option.rect
        painter.save()
        if chunk_start:
            painter.setPen(QPen(style.CHUNK_LINE, 2))
            painter.drawLine(rect.left() + 1, rect.top(), rect.left() + 1, rect.bottom())
        if frame_start:
            painter.setPen(QPen(style.FRAME_LINE, 2))
            x = rect.left() + (4 if chunk_start else 1)
            painter.drawLine(x, rect.top() + 2, x, rect.bottom() - 2)
            painter.drawLine(x, rect.top() + 2, x + 4, rect.top() + 2)
        painter.restore()


class HexdumpView(QTableView):
    """The hexdump table: fixed-size cells in a monospace font, following new data at the bottom."""

    hovered = Signal(str)  # description of the byte under the mouse

    def __init__(self, model: QAbstractTableModel, parent: Any = None) -> None:
        """*model*: a HexdumpModel, or any model with the same columns (offset, 16 hex, 16 ASCII)."""
        super().__init__(parent)
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
            return style.FIELD_SHADES[field % len(style.FIELD_SHADES)]
        if role == Qt.ItemDataRole.ToolTipRole:
            return QCoreApplication.translate("HexdumpView", "bytes {start}–{end}: {name} = {value}").format(
                start=start, end=end - 1, name=name, value=decoded
            )
        if role == FRAME_START_ROLE:
            return pos == start
        return None

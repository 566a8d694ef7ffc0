"""TrafficLogModel (one row per send()/recv() chunk over a bounded TrafficStore) and TrafficView,
the log + hexdump pair every tab shows."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStyle,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from netcore.model.traffic import Chunk, Direction, Mark, TrafficStore
from netcore.present.export import to_json_lines, to_text2pcap
from netcore.protocols.framing import Frame
from widgets import style
from widgets.elided_label import ElidedLabel
from widgets.hexdump_view import FixedHeader, HexdumpModel, HexdumpView, rows_in
from widgets.log_tools import LogToolbar, copy_texts
from widgets.plain_text import PlainLabel, plain_tooltip
from widgets.units import plural

PREVIEW_BYTES = 64
MIN_LOG_ROWS = 6  # the log never shows fewer rows (its minimum height)
# Widths in characters of #, time, call, peer and bytes (the Data column takes what is left): as
# wide as their text when there is room, else as narrow as the second figure (elided), so that Data
# keeps at least DATA_MIN_CHARS.
COLUMN_CHARS = ((6, 3), (15, 8), (9, 7), (16, 9), (7, 5))
DATA_MIN_CHARS = 20
PEER_COLUMN = 3
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x00": "\\0"}

_Index = QModelIndex | QPersistentModelIndex


def preview_hex(data: bytes) -> str:
    """The first bytes as hex pairs."""
    return data[: PREVIEW_BYTES // 2].hex(" ") + (" …" if len(data) > PREVIEW_BYTES // 2 else "")


def preview_text(data: bytes, encoding: str = "utf-8") -> str:
    """The first bytes as text, with control characters shown as escapes (``\\r\\n`` stays visible)."""
    text = data[:PREVIEW_BYTES].decode(encoding, errors="replace")
    text = _CONTROL.sub(lambda m: _ESCAPES.get(m.group(), f"\\x{ord(m.group()):02x}"), text)
    return text + ("…" if len(data) > PREVIEW_BYTES else "")


class TrafficLogModel(QAbstractTableModel):
    """Columns: #, time, direction, peer, length, preview. Rows follow the store, oldest first."""

    COLUMNS = 6

    def __init__(self, store: TrafficStore, parent: Any = None) -> None:
        super().__init__(parent)
        self.store = store
        self.encoding = "utf-8"
        self.hex_data = False  # the Data column as hex bytes rather than text
        self._rows = 0
        self._first_seq = store.first_seq
        self._epoch = store.epoch

    @property
    def first_seq(self) -> int:
        """Sequence number (from 0) of the chunk in row 0."""
        return self._first_seq

    def set_store(self, store: TrafficStore) -> None:
        """Show another store (one connection's traffic, or all of it again)."""
        self.beginResetModel()
        self.store = store
        self._rows, self._first_seq, self._epoch = len(store), store.first_seq, store.epoch
        self.endResetModel()

    def starts_connection(self, row: int) -> bool:
        """Whether *row* is another connection's than the row before it (a boundary in the log)."""
        return row > 0 and self.store.chunk(row).conn != self.store.chunk(row - 1).conn

    def sync(self) -> None:
        """Call after the store changed: removes dropped rows and inserts new ones, in batches."""
        dropped = self.store.first_seq - self._first_seq
        if self.store.epoch != self._epoch or dropped > self._rows:  # cleared, or every row went
            self.beginResetModel()
            self._rows, self._first_seq, self._epoch = len(self.store), self.store.first_seq, self.store.epoch
            self.endResetModel()
            return
        if dropped:
            self.beginRemoveRows(QModelIndex(), 0, dropped - 1)
            self._rows -= dropped
            self._first_seq = self.store.first_seq
            self.endRemoveRows()
        rows = len(self.store)
        if rows > self._rows:
            self.beginInsertRows(QModelIndex(), self._rows, rows - 1)
            self._rows = rows
            self.endInsertRows()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.COLUMNS

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return [
            self.tr("#"),
            self.tr("Time"),
            self.tr("Call"),
            self.tr("Peer"),
            self.tr("Bytes"),
            self.tr("Data"),
        ][section]

    def row_texts(self, row: int) -> tuple[str, str, str, str, str, str]:
        """The text of each column of *row*."""
        chunk = self.store.chunk(row)
        stamp = (
            time.strftime("%H:%M:%S", time.localtime(chunk.wall)) + f".{int(chunk.wall * 1e6) % 1000000:06d}"
        )
        if chunk.mark:
            call, what = self.mark_texts(chunk.mark)
            return (
                str(self._first_seq + row + 1),
                stamp,
                f"{chunk.direction.arrow} {call}",
                chunk.peer,
                "",
                what,
            )
        call = "send()" if chunk.direction is Direction.SENT else "recv()"
        return (
            str(self._first_seq + row + 1),
            stamp,
            f"{chunk.direction.arrow} {call}",
            chunk.peer,
            f"{len(chunk.data):,}",
            preview_hex(chunk.data) if self.hex_data else preview_text(chunk.data, self.encoding),
        )

    def mark_texts(self, mark: Mark) -> tuple[str, str]:
        """A connection event's Call and Data texts."""
        return {
            Mark.CONNECT: ("connect()", self.tr("── connected ──")),
            Mark.ACCEPT: ("accept()", self.tr("── client connected ──")),
            Mark.FIN_SENT: ("shutdown()", self.tr("── FIN sent: our side is closed for sending ──")),
            Mark.FIN_RECEIVED: ("FIN", self.tr("── FIN received: the peer has finished sending ──")),
            Mark.CLOSED_BY_PEER: ("FIN", self.tr('── closed by the peer (recv() returned b"") ──')),
            Mark.CLOSED_HERE: ("close()", self.tr("── closed here ──")),
            Mark.RESET: ("RST", self.tr("── reset by the peer ──")),
            Mark.ERROR: ("close()", self.tr("── closed on an error ──")),
        }.get(mark, ("", mark.value))

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self._rows:
            return None
        chunk = self.store.chunk(index.row())
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.row_texts(index.row())[col]
        if role == Qt.ItemDataRole.ForegroundRole:
            return style.direction_colours(chunk.direction)[2]
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (0, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:  # the whole text of a cell that may be elided
            texts = self.row_texts(index.row())
            text = texts[col]
            if col == 5:  # and the whole row: a narrow log hides the time and peer columns
                text = "  ".join(texts[:5]) + "\n" + text
                if not chunk.mark:
                    text += "\n" + self.tr("stream offset {0}–{1} of connection #{2}").format(
                        chunk.offset, chunk.end, chunk.conn
                    )
            return plain_tooltip(text)  # the data and the peer's name are the peer's text
        return None


class TrafficLogTable(QTableView):
    """The log's table. It paints a TrafficLogModel's visible rows in one pass, as QTableView would
    (grid, right-aligned numbers, elided text, selected rows), rather than through a delegate and a
    ``data()`` call for every cell and role: under a flood each call from Qt into Python waits for
    the GIL.

    The bytes come first: the Data column takes the width the other columns leave, and they
    narrow (their text elided, whole in the tooltip) before it goes below ``DATA_MIN_CHARS``. The
    table is never shorter than ``MIN_LOG_ROWS`` rows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # columns fit

    def fit_columns(self) -> None:
        """Size the columns to the viewport: natural widths when Data keeps its minimum, else each
        column narrows in turn (peer, then time, then the others) down to its least width, and
        then columns go, time and peer first (the Data tooltip has the whole row)."""
        char = self.fontMetrics().horizontalAdvance("0")
        natural = [chars * char + 12 for chars, _ in COLUMN_CHARS]
        least = [chars * char + 12 for _, chars in COLUMN_CHARS]
        widths = list(natural)
        excess = sum(widths) + DATA_MIN_CHARS * char - self.viewport().width()
        for col in (3, 1, 2, 4, 0):
            if excess <= 0:
                break
            cut = min(excess, widths[col] - least[col])
            widths[col] -= cut
            excess -= cut
        hidden = set()
        for col in (1, 3, 0, 2, 4):  # Data alone, in a very narrow log
            if excess > 0:
                hidden.add(col)
                excess -= widths[col]
        for col, width in enumerate(widths):
            self.setColumnHidden(col, col in hidden)
            if col not in hidden:
                self.setColumnWidth(col, width)

    def minimumSizeHint(self) -> QSize:
        """Room for the header and MIN_LOG_ROWS rows, and for DATA_MIN_CHARS of data."""
        frame = 2 * self.frameWidth()
        header = self.horizontalHeader().sizeHint().height()
        rows = MIN_LOG_ROWS * self.verticalHeader().defaultSectionSize()
        data = DATA_MIN_CHARS * self.fontMetrics().horizontalAdvance("0") + _TEXT_MARGIN * 2
        return QSize(data + self.verticalScrollBar().sizeHint().width() + frame, header + rows + frame)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:  # the table's, or a vertical scroll bar came or went
            self.fit_columns()
        return super().viewportEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # zoom: rows and columns follow the font
            self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
            self.fit_columns()
            self.updateGeometry()

    def cell_text(self, col: int, text: str, width: int) -> str:
        """*text* as column *col* shows it in *width* pixels. A narrow Peer column keeps the end of
        the address: ``…0.1:51234`` tells two loopback clients apart, ``127.0.0.1:…`` did not."""
        mode = Qt.TextElideMode.ElideLeft if col == PEER_COLUMN else Qt.TextElideMode.ElideRight
        return self.fontMetrics().elidedText(text, mode, width)

    def paintEvent(self, event: QPaintEvent) -> None:
        model = self.model()
        if not isinstance(model, TrafficLogModel):
            super().paintEvent(event)
            return
        area = event.rect()
        rows = rows_in(self, area)
        if rows is None:
            return
        first, last = rows
        columns = range(model.COLUMNS)
        xs = [self.columnViewportPosition(col) for col in columns]
        widths = [self.columnWidth(col) for col in columns]
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        grid = QColor.fromRgba(
            self.style().styleHint(QStyle.StyleHint.SH_Table_GridLineColor, option, self) & 0xFFFFFFFF
        )
        group = QPalette.ColorGroup.Active if self.isActiveWindow() else QPalette.ColorGroup.Inactive
        palette = self.palette()
        selected_bg = palette.color(group, QPalette.ColorRole.Highlight)
        selected_fg = palette.color(group, QPalette.ColorRole.HighlightedText)
        selection = self.selectionModel()
        painter = QPainter(self.viewport())
        bottom = right = 0
        for row in range(first, last + 1):
            y, height = self.rowViewportPosition(row), self.rowHeight(row)
            bottom = y + height - 1
            selected = selection.isRowSelected(row, QModelIndex())
            fg = selected_fg if selected else style.direction_colours(model.store.chunk(row).direction)[2]
            for col, text in enumerate(model.row_texts(row)):
                if self.isColumnHidden(col):
                    continue
                cell = QRect(xs[col], y, widths[col] - 1, height - 1)
                if selected:
                    painter.fillRect(cell, selected_bg)
                painter.setPen(fg)
                box = cell.adjusted(_TEXT_MARGIN, 0, -_TEXT_MARGIN, 0)
                align = _RIGHT if col in (0, 4) else _LEFT
                painter.drawText(box, align, self.cell_text(col, text, box.width()))
            painter.setPen(grid)
            painter.drawLine(area.left(), bottom, area.right(), bottom)
            if model.starts_connection(row):  # another client's traffic begins: a marked line
                painter.setPen(QPen(style.CONN_LINE, 2))
                painter.drawLine(area.left(), y, area.right(), y)
        for col in columns:
            if self.isColumnHidden(col):
                continue
            right = xs[col] + widths[col] - 1
            painter.drawLine(right, area.top(), right, min(area.bottom(), bottom))
        painter.end()


_TEXT_MARGIN = 3  # as QStyledItemDelegate: PM_FocusFrameHMargin + 1
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class TrafficView(QWidget):
    """Traffic log above a hexdump, both over one bounded store; says how much was dropped.

    Paused (``tools.pause_action``), the log and the hexdump show a snapshot of what they showed
    while traffic is still recorded in the store (within its bounds, which may drop the oldest, and
    the status says so); resuming shows the store again, caught up."""

    def __init__(self, parent: QWidget | None = None, max_bytes: int | None = None) -> None:
        super().__init__(parent)
        self.store = TrafficStore() if max_bytes is None else TrafficStore(max_bytes)
        self.only_conn: int | None = None  # show only this connection's traffic (show_only)
        self.shown = self.store  # the store the log and the hexdump show: all, or the filtered chunks
        self._keep: Callable[[Chunk], bool] | None = None  # the filter that made ``shown``
        self.tools = LogToolbar(self)
        self.tools.changed.connect(self._apply_tools)
        self.tools.pause_action.toggled.connect(self.set_paused)
        self.addAction(self.tools.find_action)
        self.addAction(self.tools.pause_action)
        self._frozen: TrafficStore | None = None  # while paused: a snapshot of the whole store
        self._paused_at = 0  # while paused: the count of chunks ever stored when the pause began
        self.new_while_paused = 0  # chunks shown on resume that came in during the pause
        self.log_model = TrafficLogModel(self.store, self)
        self.hex_model = HexdumpModel(self.store, self)
        self._syncing = False

        self.log = TrafficLogTable(self)
        self.log.setHorizontalHeader(FixedHeader(Qt.Orientation.Horizontal, self.log))
        self.log.setModel(self.log_model)
        self.log.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.log.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.log.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.log.customContextMenuRequested.connect(self._log_menu)
        self.log.verticalHeader().hide()
        self.log.verticalHeader().setDefaultSectionSize(self.log.fontMetrics().height() + 4)
        self.log.setWordWrap(False)
        self.log.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        header = self.log.horizontalHeader()
        header.setStretchLastSection(True)
        for col in range(len(COLUMN_CHARS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        self.log.fit_columns()
        self.log.selectionModel().selectionChanged.connect(self._on_log_selection)

        self.hexdump = HexdumpView(self.hex_model, self)
        self.status = ElidedLabel(self)
        self.hover = PlainLabel(self)
        self.hover.setWordWrap(True)
        self.hover.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hexdump.hovered.connect(self.hover.setText)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.log)
        splitter.addWidget(self.hexdump)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tools)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.hover)
        bottom = QHBoxLayout()  # the log's own controls share the status row: the log keeps its rows
        for widget in self.tools.row_widgets():
            bottom.addWidget(widget)
        bottom.addWidget(self.status, 1)
        self.save_button = QPushButton(self.tr("Save traffic…"), self)
        self.save_button.setToolTip(
            self.tr("Save as a hex dump for Wireshark's Import from Hex Dump, or as JSON lines")
        )
        self.save_button.clicked.connect(lambda: self._ask_save())
        bottom.addWidget(self.save_button)
        layout.addLayout(bottom)
        self._update_status()

    def add(
        self, items: Iterable[tuple[Chunk, Iterable[Frame]]], dropped_chunks: int = 0, dropped_bytes: int = 0
    ) -> None:
        """Append a batch of chunks (each with the frames it completed) and refresh both views once.

        A view scrolled to the bottom follows the new data; one scrolled up keeps showing the same
        chunks and bytes while older ones are dropped (until those go too).
        """
        keep, shown = self._keep, self.shown
        if self._frozen is not None:  # paused: record, count, show nothing new
            for chunk, frames in items:
                self.store.append(chunk, frames)
                if keep is None or keep(chunk):
                    self.new_while_paused += 1
                    if keep is not None:
                        shown.append(chunk, frames)
            self.store.dropped_chunks += dropped_chunks
            self.store.dropped_bytes += dropped_bytes
            self._update_status()
            return
        follow = self.tools.auto_scroll.isChecked()
        log_bottom, hex_bottom = follow and self._at_bottom(self.log), follow and self.hexdump.at_bottom()
        log_first, log_place = self.log_model.first_seq, self.log.verticalScrollBar().value()
        for chunk, frames in items:
            self.store.append(chunk, frames)
            if keep is not None and keep(chunk):
                shown.append(chunk, frames)
        self.store.dropped_chunks += dropped_chunks
        self.store.dropped_bytes += dropped_bytes
        self._syncing = True  # rows leaving the log may move its selection: not the user's choice
        try:
            self.log_model.sync()
        finally:
            self._syncing = False
        self.hex_model.sync()
        if log_bottom:
            self.log.scrollToBottom()
        else:  # rows that left from the top: scroll up as many (the log scrolls per row)
            gone = self.log_model.first_seq - log_first
            self.log.verticalScrollBar().setValue(max(0, log_place - gone))
        self.hexdump.follow_tail(hex_bottom)
        self._update_status()

    def add_frames(self, conn: int, direction: Direction, frames: Iterable[Frame]) -> None:
        """Frames decoded apart from a chunk: redraw the bytes they cover."""
        frames = tuple(frames)
        self.store.add_frames(conn, direction, frames)
        if self.shown is not self.store:
            self.shown.add_frames(conn, direction, frames)
        if self._frozen is None:
            self.hex_model.sync()

    def show_only(self, conn: int | None) -> None:
        """Show only connection *conn*'s traffic in the log and the hexdump (None: everyone's)."""
        if conn != self.only_conn:
            self.only_conn = conn
            self._refilter()

    def _apply_tools(self) -> None:
        self.log_model.hex_data = self.tools.hex_data()
        self.log.viewport().update()
        self._refilter()

    def _refilter(self) -> None:
        """Rebuild what the log and the hexdump show from the connection chosen and the filters."""
        conn, tools_keep = self.only_conn, self.tools.keep()
        keep: Callable[[Chunk], bool] | None
        if conn is None:
            keep = tools_keep
        elif tools_keep is None:
            keep = lambda c: c.conn == conn  # noqa: E731
        else:
            keep = lambda c: c.conn == conn and tools_keep(c)  # noqa: E731
        if keep is None and self._keep is None:
            return
        self._keep = keep
        self.shown = self.store if keep is None else self.store.only(keep)
        if self._frozen is not None:  # paused: filter what the pause froze, count what waits
            self._show(self._frozen if keep is None else self._frozen.only(keep))
            new = range(max(0, self._paused_at - self.store.first_seq), len(self.store))
            self.new_while_paused = sum(1 for row in new if keep is None or keep(self.store.chunk(row)))
        else:
            self._show(self.shown)
        self.hex_model.set_highlight(0, 0)
        self.log.scrollToBottom()
        self.hexdump.scrollToBottom()
        self._update_status()

    @property
    def paused(self) -> bool:
        return self._frozen is not None

    def set_paused(self, on: bool) -> None:
        """Pause: freeze what the log and the hexdump show (the store keeps recording). Resume:
        show the store again, at its end when auto-scroll is on."""
        if on == self.paused:
            return
        self.tools.pause_action.setChecked(on)
        if on:
            self._frozen = self.store.snapshot()
            self._paused_at = self.store.first_seq + len(self.store)
            self.new_while_paused = 0
            self._show(self._frozen if self.shown is self.store else self.shown.snapshot())
            self._update_status()
            return
        top_seq = self.log_model.first_seq + max(0, self.log.rowAt(0))  # the chunk on top, paused
        self._frozen = None
        self.new_while_paused = 0
        self._show(self.shown)
        row = top_seq - self.store.first_seq
        if self.tools.auto_scroll.isChecked() or self.shown is not self.store or row < 0:
            self.log.scrollToBottom()  # catch up: the newest traffic
            self.hexdump.scrollToBottom()
        else:  # the same chunk on top as when paused (it is still stored), the new ones below
            self.log.scrollTo(self.log_model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)
            self.hexdump.scrollTo(
                self.hex_model.index(self.hex_model.row_of(self.store.chunk_start(row)), 1),
                QAbstractItemView.ScrollHint.PositionAtTop,
            )
        self._update_status()

    def _show(self, store: TrafficStore) -> None:
        """Show *store* in the log and the hexdump."""
        self.log_model.set_store(store)
        self.hex_model.set_store(store)

    def chunks(self) -> list[Chunk]:
        """Every stored chunk, connection events included."""
        return [self.store.chunk(i) for i in range(len(self.store))]

    def selected_rows(self) -> list[int]:
        """The rows selected in the log, top to bottom."""
        return sorted({index.row() for index in self.log.selectionModel().selectedRows()})

    def save(self, path: str, json_lines: bool, chunks: list[Chunk] | None = None) -> None:
        """Write the stored traffic (or *chunks*) to *path*: text2pcap hex dump, or JSON lines.
        Connection events have no bytes: they are left out."""
        chunks = [c for c in (self.chunks() if chunks is None else chunks) if not c.mark]
        with open(path, "w", encoding="utf-8") as out:
            if json_lines:
                out.writelines(line + "\n" for line in to_json_lines(chunks))
            else:
                out.write(to_text2pcap(chunks))

    def _log_menu(self, pos: QPoint) -> None:
        rows = self.selected_rows()
        chunks = [self.log_model.store.chunk(row) for row in rows]  # what the log shows (paused: frozen)
        texts = copy_texts(chunks, [self.log_model.row_texts(row) for row in rows], self.log_model.encoding)
        menu = QMenu(self)
        for key, label in (
            ("text", self.tr("Copy rows as text")),
            ("hex", self.tr("Copy rows as hex dump")),
            ("csv", self.tr("Copy rows as CSV")),
            ("bytes", self.tr("Copy bytes (hex)")),
        ):
            action = menu.addAction(label)
            action.setEnabled(bool(rows) and bool(texts[key]))
            action.triggered.connect(lambda _=False, t=texts[key]: QGuiApplication.clipboard().setText(t))
        menu.addSeparator()
        save = menu.addAction(self.tr("Save selection…"))
        save.setEnabled(any(not c.mark for c in chunks))
        save.triggered.connect(lambda: self._ask_save(chunks))
        menu.addSeparator()
        self.tools.add_to_menu(menu)
        menu.popup(self.log.viewport().mapToGlobal(pos))

    def _ask_save(self, chunks: list[Chunk] | None = None) -> None:
        hex_filter, json_filter = self.tr("Wireshark hex dump (*.txt)"), self.tr("JSON lines (*.jsonl)")
        path, chosen = QFileDialog.getSaveFileName(
            self, self.tr("Save traffic"), "traffic.txt", f"{hex_filter};;{json_filter}"
        )
        if not path:
            return
        try:
            self.save(path, json_lines=chosen == json_filter or path.endswith(".jsonl"), chunks=chunks)
        except OSError as exc:
            QMessageBox.warning(
                self, self.tr("Save traffic"), self.tr("Cannot save {0}: {1}").format(path, exc.strerror)
            )

    def clear(self) -> None:
        self.store.clear()
        if self.shown is not self.store:
            self.shown.clear()
        if self._frozen is not None:  # paused: the frozen view empties too, and stays paused
            self._frozen, self._paused_at, self.new_while_paused = self.store.snapshot(), 0, 0
            self._show(self._frozen if self.shown is self.store else self.shown.snapshot())
        self.log_model.sync()
        self.hex_model.sync()
        self.hex_model.set_highlight(0, 0)
        self.hover.clear()
        self._update_status()

    def set_encoding(self, encoding: str) -> None:
        self.log_model.encoding = encoding
        self.log.viewport().update()

    @staticmethod
    def _at_bottom(view: QTableView) -> bool:
        bar = view.verticalScrollBar()
        return bar.value() >= bar.maximum() - 2

    def _on_log_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = selected.indexes()
        if not rows or self._syncing:
            return
        current = self.log.currentIndex()
        row = current.row() if current.isValid() and current.row() >= 0 else rows[0].row()
        shown = self.log_model.store  # paused: the frozen snapshot
        start = shown.chunk_start(row)
        end = start + len(shown.chunk(row).data)
        self.hex_model.set_highlight(start, end)
        self.hexdump.scrollTo(
            self.hex_model.index(self.hex_model.row_of(start), 1),
            QAbstractItemView.ScrollHint.PositionAtCenter,
        )

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._update_status()
        super().changeEvent(event)

    def _update_status(self) -> None:
        s = self.store
        chunks, size = s.data_chunk_count, s.byte_count
        text = (
            plural(self.tr("{0:,} chunk(s)", "", chunks), chunks).format(chunks)
            + " · "
            + plural(self.tr("{0:,} byte(s)", "", size), size).format(size)
        )
        if s.dropped_chunks:
            text += self.tr(" · {0:,} older chunks ({1:,} bytes) dropped to stay within {2:,} bytes").format(
                s.dropped_chunks, s.dropped_bytes, s.max_bytes
            )
        if self.only_conn is not None:
            text = self.tr("Connection #{0} only: {1:,} chunks · {2:,} bytes of {3}").format(
                self.only_conn, self.shown.data_chunk_count, self.shown.byte_count, text
            )
        elif self.shown is not self.store:
            text = self.tr("Filtered: {0:,} chunks · {1:,} bytes of {2}").format(
                len(self.shown), self.shown.byte_count, text
            )
        if self._frozen is not None:  # first: what the frozen view does not show yet
            new = self.new_while_paused
            paused = plural(self.tr("Paused — {0:,} new chunk(s)", "", new), new).format(new)
            lost = s.first_seq - self._paused_at
            if lost > 0:  # recorded during the pause, then dropped by the store's bounds
                paused += self.tr(
                    " ({0:,} chunks recorded since already dropped to stay within {1:,} bytes)"
                ).format(lost, s.max_bytes)
            text = paused + " · " + text
        self.status.setText(text)

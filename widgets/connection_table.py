"""A server's connections as a table: peer, connected since, bytes in/out, state.

``ConnectionBook`` is the bookkeeping (no Qt): it follows the engine's events and stays bounded, the
oldest closed rows age out beyond ``MAX_CLOSED`` and are counted. ``ConnectionTableModel`` shows a
book; ``ConnectionTable`` is the table with a summary line, and says which connection is selected.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from netcore.model.events import Closed, CloseReason, Connected, Event, PeerShutdown, Traffic
from netcore.model.traffic import Direction
from widgets.elided_label import ElidedLabel

MAX_CLOSED = 100  # closed rows kept; older ones age out (counted)

_Index = QModelIndex | QPersistentModelIndex


class ConnState(StrEnum):
    OPEN = "open"
    HALF_CLOSED = "half-closed by peer"  # the peer's FIN came; our last bytes are still going out
    CLOSED = "closed"
    RESET = "reset"


@dataclass(slots=True)
class ConnRow:
    """One connection (a UDP server: one peer address)."""

    conn: int
    peer: str
    since: float  # wall-clock time it connected
    bytes_in: int = 0
    bytes_out: int = 0
    state: ConnState = ConnState.OPEN
    reason: CloseReason | None = None  # why it closed


class ConnectionBook:
    """Connections in the order they came, each with its byte counts and state; bounded."""

    def __init__(self, max_closed: int = MAX_CLOSED) -> None:
        self.max_closed = max_closed
        self.rows: list[ConnRow] = []
        self.aged_out = 0  # closed rows removed to stay within max_closed
        self._closed = 0

    def clear(self) -> None:
        self.rows.clear()
        self.aged_out = self._closed = 0

    def row_of(self, conn: int) -> int:
        """The row of connection *conn*, or -1."""
        return next((i for i, row in enumerate(self.rows) if row.conn == conn), -1)

    def find(self, conn: int) -> ConnRow | None:
        i = self.row_of(conn)
        return self.rows[i] if i >= 0 else None

    @property
    def open_count(self) -> int:
        return len(self.rows) - self._closed

    @property
    def closed_count(self) -> int:
        return self._closed

    def apply(self, events: Iterable[Event]) -> bool:
        """Follow a batch of events (new connections are appended); returns whether anything changed.
        Call ``next_aged`` and ``drop`` afterwards to stay within the bound."""
        changed = False
        index: dict[int, ConnRow] = {row.conn: row for row in self.rows}
        for event in events:
            if isinstance(event, Traffic):
                chunk = event.chunk
                row = index.get(chunk.conn)
                if row is None:
                    continue
                # The stream offset after this chunk: exact even when a flood dropped earlier chunks.
                if chunk.direction is Direction.SENT:
                    row.bytes_out = max(row.bytes_out, chunk.end)
                else:
                    row.bytes_in = max(row.bytes_in, chunk.end)
                changed = True
            elif isinstance(event, Connected):
                row = ConnRow(event.conn, event.peer, time.time())
                self.rows.append(row)
                index[event.conn] = row
                changed = True
            elif isinstance(event, PeerShutdown):
                row = index.get(event.conn)
                if row is not None and row.state is ConnState.OPEN:
                    row.state = ConnState.HALF_CLOSED
                    changed = True
            elif isinstance(event, Closed):
                row = index.get(event.conn)
                if row is not None and row.reason is None:
                    row.state = ConnState.RESET if event.reason is CloseReason.RESET else ConnState.CLOSED
                    row.reason = event.reason
                    self._closed += 1
                    changed = True
        return changed

    def next_aged(self) -> int | None:
        """The row of the oldest closed connection while more than ``max_closed`` are kept."""
        if self._closed <= self.max_closed:
            return None
        return next(i for i, row in enumerate(self.rows) if row.reason is not None)

    def drop(self, i: int) -> None:
        """Remove closed row *i* (from ``next_aged``) and count it."""
        del self.rows[i]
        self._closed -= 1
        self.aged_out += 1

    def age_out(self) -> int:
        """Drop every closed row beyond the bound; returns how many went."""
        gone = 0
        while (i := self.next_aged()) is not None:
            self.drop(i)
            gone += 1
        return gone


class ConnectionTableModel(QAbstractTableModel):
    """Columns: #, peer, connected since, bytes in, bytes out, state."""

    COLUMNS = 6

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.book = ConnectionBook()
        self._shown = 0  # rows the views know of (the book is ahead between begin and end calls)

    def apply(self, events: Iterable[Event]) -> None:
        """Follow a batch of engine events: new rows, counts, states, aged-out rows."""
        book = self.book
        if not book.apply(events):
            return
        if len(book.rows) > self._shown:
            self.beginInsertRows(QModelIndex(), self._shown, len(book.rows) - 1)
            self._shown = len(book.rows)
            self.endInsertRows()
        while (i := book.next_aged()) is not None:
            self.beginRemoveRows(QModelIndex(), i, i)
            book.drop(i)
            self._shown -= 1
            self.endRemoveRows()
        if book.rows:
            self.dataChanged.emit(self.index(0, 3), self.index(len(book.rows) - 1, self.COLUMNS - 1))

    def clear(self) -> None:
        self.beginResetModel()
        self.book.clear()
        self._shown = 0
        self.endResetModel()

    def conn_at(self, row: int) -> int | None:
        return self.book.rows[row].conn if 0 <= row < len(self.book.rows) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._shown

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.COLUMNS

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return [
            self.tr("#"),
            self.tr("Peer"),
            self.tr("Since"),
            self.tr("In"),
            self.tr("Out"),
            self.tr("State"),
        ][section]

    def state_text(self, row: ConnRow) -> str:
        if row.state is ConnState.OPEN:
            return self.tr("open")
        if row.state is ConnState.HALF_CLOSED:
            return self.tr("half-closed by peer")
        if row.state is ConnState.RESET:
            return self.tr("reset")
        return {
            CloseReason.PEER_CLOSED: self.tr("closed by peer"),
            CloseReason.LOCAL: self.tr("closed here"),
            CloseReason.ERROR: self.tr("closed on error"),
            CloseReason.FORGOTTEN: self.tr("forgotten"),
        }.get(row.reason or CloseReason.LOCAL, self.tr("closed"))

    def row_texts(self, index: int) -> tuple[str, str, str, str, str, str]:
        row = self.book.rows[index]
        return (
            str(row.conn),
            row.peer,
            time.strftime("%H:%M:%S", time.localtime(row.since)),
            f"{row.bytes_in:,}",
            f"{row.bytes_out:,}",
            self.state_text(row),
        )

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= min(self._shown, len(self.book.rows)):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.row_texts(index.row())[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (0, 3, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ConnectionTable(QWidget):
    """The table, a summary line (open, closed, aged out) and "Show all"; ``selected`` carries the
    chosen connection's id, or -1 when none is chosen (all traffic). Double-click a row to see its
    traffic (the pane shows the log)."""

    selected = Signal(int)
    counted = Signal()  # the open or closed counts changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ConnectionTableModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 4)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        digit = self.table.fontMetrics().horizontalAdvance("0")
        for col, chars in enumerate((3, 15, 8, 7, 7)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(col, digit * chars + 12)
        self.summary = ElidedLabel(self)
        self.show_all = QPushButton(self.tr("Show all"), self)
        self.show_all.setToolTip(self.tr("Show every connection's traffic in the log and the hexdump"))
        self.show_all.clicked.connect(self.table.clearSelection)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.summary, 1)
        top.addWidget(self.show_all)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self._update_summary()

    def apply(self, events: Iterable[Event]) -> None:
        book = self.model.book
        before = (book.open_count, book.closed_count, book.aged_out)
        self.model.apply(events)
        if (book.open_count, book.closed_count, book.aged_out) != before:
            self._update_summary()
            self.counted.emit()

    def clear(self) -> None:
        self.model.clear()
        self._update_summary()
        self.counted.emit()
        self.selected.emit(-1)

    def current(self) -> int | None:
        """The selected connection's id, if one is selected."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.conn_at(rows[0].row()) if rows else None

    def select(self, conn: int) -> None:
        row = self.model.book.row_of(conn)
        if row >= 0:
            self.table.selectRow(row)

    def _on_selection(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        conn = self.current()
        self.show_all.setEnabled(conn is not None)
        self.selected.emit(-1 if conn is None else conn)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.show_all.setText(self.tr("Show all"))
            self._update_summary()
        super().changeEvent(event)

    def _update_summary(self) -> None:
        book = self.model.book
        text = self.tr("Connections: {0:,} open · {1:,} closed").format(book.open_count, book.closed_count)
        if book.aged_out:
            text += self.tr(" · {0:,} older closed rows removed (the table keeps {1:,})").format(
                book.aged_out, book.max_closed
            )
        self.summary.setText(text)

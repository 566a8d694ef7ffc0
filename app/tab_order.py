"""Tab moves through a tab's controls in reading order: each pane row by row, left to right, then
the next pane. Qt's default is the order the widgets were created in, which on the TCP echo tab
went Port → Timeout → TCP_NODELAY → back left to Framing, and from the client's Repeat straight into
the server's log, leaving the client's own log and "Clear log" for later."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QSplitter, QWidget

ROW_TOLERANCE = 8
"""Pixels: controls whose top edges are this close share a row (labels centre them differently)."""


def follow_reading_order(panes: list[QWidget]) -> None:
    """Chain the visible controls of *panes*, one pane after the other, in reading order."""
    chain = [widget for pane in panes for widget in reading_order(pane, pane)]
    for before, after in itertools.pairwise(chain):
        QWidget.setTabOrder(before, after)


def reading_order(container: QWidget, top: QWidget) -> list[QWidget]:
    """The Tab-focusable visible controls in *container*, row by row and left to right; a splitter's
    panes each keep their controls together, in the splitter's order (a column is read down)."""
    items: list[tuple[QPoint, list[QWidget]]] = []
    _collect(container, top, items)
    items.sort(key=lambda item: item[0].y())
    rows: list[list[tuple[QPoint, list[QWidget]]]] = []
    for item in items:
        if rows and item[0].y() - rows[-1][0][0].y() <= ROW_TOLERANCE:
            rows[-1].append(item)
        else:
            rows.append([item])
    return [w for row in rows for _, group in sorted(row, key=lambda item: item[0].x()) for w in group]


def _collect(parent: QWidget, top: QWidget, items: list[tuple[QPoint, list[QWidget]]]) -> None:
    for child in parent.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
        if not child.isVisible():
            continue
        where = child.mapTo(top, QPoint(0, 0))
        if isinstance(child, QSplitter):
            for index in range(child.count()):
                side = child.widget(index)
                if side is not None and side.isVisible():
                    block = [side] if _takes_tab(side) else []  # e.g. the log itself
                    items.append((side.mapTo(top, QPoint(0, 0)), block + reading_order(side, top)))
            continue
        if _takes_tab(child):
            items.append((where, [child]))
        if not isinstance(child, QAbstractSpinBox | QComboBox):  # their line edits are theirs
            _collect(child, top, items)


def _takes_tab(widget: QWidget) -> bool:
    return bool(widget.focusPolicy() & Qt.FocusPolicy.TabFocus) and widget.focusProxy() is None

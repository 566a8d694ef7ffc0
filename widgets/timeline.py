"""Lanes of byte ranges aligned by stream offset (send calls, recv chunks, decoded frames), so a
merge or a split is visible at a glance; hovering a box shows its details."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from widgets import style


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    label: str  # drawn inside the box when it fits
    tooltip: str
    colour: QColor
    header_end: int | None = None  # frames: where the header stops and the payload starts


def header_shade(colour: QColor) -> QColor:
    """A frame's header part: a darker shade of its box."""
    return colour.darker(130)


class LaneTimeline(QWidget):
    """Named lanes of spans over 0..total bytes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.total = 0
        self.lanes: list[tuple[str, list[Span]]] = []
        self.marker: int | None = None  # e.g. how far the receiver has read
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self._lane_height() * 3 + self.fontMetrics().height() + 12)

    def sizeHint(self) -> QSize:
        return QSize(500, self.minimumHeight())

    def _lane_height(self) -> int:
        return self.fontMetrics().height() * 2

    def set_lanes(self, total: int, lanes: list[tuple[str, list[Span]]], marker: int | None = None) -> None:
        self.total, self.lanes, self.marker = total, lanes, marker
        self.setMinimumHeight(self._lane_height() * max(3, len(lanes)) + self.fontMetrics().height() + 12)
        self.update()

    def _geometry(self) -> tuple[float, float]:
        left = max((self.fontMetrics().horizontalAdvance(name) for name, _ in self.lanes), default=60) + 12
        return left, max(1.0, self.width() - left - 8)

    def _rect(self, lane: int, span: Span) -> QRectF:
        left, width = self._geometry()
        scale = width / max(self.total, 1)
        top = 4 + lane * self._lane_height()
        return QRectF(
            left + span.start * scale, top, max(2.0, (span.end - span.start) * scale), self._lane_height() - 6
        )

    def span_at(self, point: QPointF) -> Span | None:
        for lane, (_, spans) in enumerate(self.lanes):
            for span in spans:
                if self._rect(lane, span).contains(point):
                    return span
        return None

    def event(self, event: object) -> bool:
        if isinstance(event, QHelpEvent) and event.type() == QHelpEvent.Type.ToolTip:
            span = self.span_at(QPointF(event.pos()))
            if span is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), span.tooltip, self)
            return True
        return super().event(event)  # type: ignore[arg-type]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        left, width = self._geometry()
        text_pen = QPen(self.palette().text().color())
        colours = style.colours()
        for lane, (name, spans) in enumerate(self.lanes):
            top = 4 + lane * self._lane_height()
            painter.setPen(text_pen)
            painter.drawText(
                QRectF(0, top, left - 6, self._lane_height() - 6),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                name,
            )
            for span in spans:
                rect = self._rect(lane, span)
                painter.fillRect(rect, span.colour)
                if span.header_end is not None and span.header_end > span.start:
                    header = QRectF(rect)
                    header.setRight(
                        self._rect(lane, Span(span.start, span.header_end, "", "", span.colour)).right()
                    )
                    painter.fillRect(header, header_shade(span.colour))
                painter.setPen(QPen(colours.box_edge, colours.box_edge_width))
                painter.drawRect(rect)
                painter.setPen(QPen(colours.box_fg))  # boxes are light in every theme
                if metrics.horizontalAdvance(span.label) + 4 < rect.width():
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, span.label)
        bottom = 4 + len(self.lanes) * self._lane_height()
        painter.setPen(text_pen)
        painter.drawText(QRectF(left, bottom, width, metrics.height()), Qt.AlignmentFlag.AlignLeft, "0")
        painter.drawText(
            QRectF(left, bottom, width, metrics.height()),
            Qt.AlignmentFlag.AlignRight,
            self.tr("{0:,} bytes").format(self.total),
        )
        if self.marker is not None and self.total:
            x = left + width * self.marker / self.total
            painter.setPen(QPen(colours.frame_line, 2, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(x, 2), QPointF(x, bottom))
        painter.end()

"""A small live plot of round-trip times, drawn with QPainter (no plotting dependency for one line)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from widgets import style


class RttPlot(QWidget):
    """Round trips (ms) by sequence number; lost probes are marked as red ticks at the bottom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: list[tuple[int, float]] = []  # (seq, rtt ms)
        self.lost: list[int] = []
        self.expected = 0  # how many probes the x axis spans
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(90)

    def sizeHint(self) -> QSize:
        return QSize(300, 110)

    def reset(self, expected: int) -> None:
        self.points.clear()
        self.lost.clear()
        self.expected = expected
        self.update()

    def add(self, seq: int, rtt_ms: float) -> None:
        self.points.append((seq, rtt_ms))
        self.update()

    def mark_lost(self, seqs: list[int]) -> None:
        self.lost = list(seqs)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = painter.fontMetrics()
        left, bottom = metrics.horizontalAdvance("00000.0") + 6, metrics.height() + 4
        area = QRectF(left, 4, max(1, self.width() - left - 6), max(1, self.height() - bottom - 8))
        painter.fillRect(area, self.palette().base())
        painter.setPen(QPen(self.palette().mid().color(), 1))
        painter.drawRect(area)
        top = max((rtt for _, rtt in self.points), default=1.0) * 1.1 or 1.0
        span = max(self.expected - 1, max((seq for seq, _ in self.points), default=1), 1)
        text_pen = QPen(self.palette().text().color())
        painter.setPen(text_pen)
        painter.drawText(
            QRectF(0, area.top(), left - 4, metrics.height()), Qt.AlignmentFlag.AlignRight, f"{top:.1f}"
        )
        painter.drawText(
            QRectF(0, area.bottom() - metrics.height(), left - 4, metrics.height()),
            Qt.AlignmentFlag.AlignRight,
            "0",
        )
        painter.drawText(
            QRectF(area.left(), area.bottom() + 2, area.width(), metrics.height()),
            Qt.AlignmentFlag.AlignCenter,
            self.tr("round trip (ms) by sequence number"),
        )

        def x_of(seq: int) -> float:
            return area.left() + area.width() * seq / span

        if self.points:
            line = QPolygonF(
                [
                    QPointF(x_of(seq), area.bottom() - area.height() * rtt / top)
                    for seq, rtt in sorted(self.points)
                ]
            )
            painter.setPen(QPen(style.RECEIVED_FG, 1.5))
            painter.drawPolyline(line)
        painter.setPen(QPen(style.ERROR_FG, 2))
        for seq in self.lost:
            x = x_of(seq)
            painter.drawLine(QPointF(x, area.bottom()), QPointF(x, area.bottom() - 8))
        painter.end()

"""A small live line plot drawn with QPainter (no plotting dependency for a line or two)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from widgets import style


class LinePlot(QWidget):
    """Named series of (x, y) points on shared axes, plus optional red tick marks on the x axis.
    The caption is a function that says it in the current language, asked at each paint."""

    def __init__(self, caption: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = caption
        self.series: dict[str, tuple[QColor, list[tuple[float, float]]]] = {}
        self.marks: list[float] = []
        self.x_span = 0.0  # the x axis spans at least 0..x_span
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(90)

    def sizeHint(self) -> QSize:
        return QSize(300, 110)

    def reset(self, x_span: float = 0.0) -> None:
        for _, points in self.series.values():
            points.clear()
        self.marks.clear()
        self.x_span = x_span
        self.update()

    def add(self, name: str, x: float, y: float, colour: QColor = style.RECEIVED_FG) -> None:
        self.series.setdefault(name, (colour, []))[1].append((x, y))
        self.update()

    def points(self, name: str) -> list[tuple[float, float]]:
        return self.series.get(name, (style.RECEIVED_FG, []))[1]

    def set_marks(self, xs: list[float]) -> None:
        self.marks = list(xs)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = painter.fontMetrics()
        left, bottom = metrics.horizontalAdvance("-00000.0") + 6, metrics.height() + 4
        area = QRectF(left, 4, max(1, self.width() - left - 6), max(1, self.height() - bottom - 8))
        painter.fillRect(area, self.palette().base())
        painter.setPen(QPen(self.palette().mid().color(), 1))
        painter.drawRect(area)
        all_points = [p for _, points in self.series.values() for p in points]
        y_low = min((y for _, y in all_points), default=0.0)
        y_low = min(y_low * 1.1, 0.0)
        y_high = max((y for _, y in all_points), default=1.0)
        y_high = max(y_high * 1.1, 0.0) if y_high > 0 else 0.0
        if y_high - y_low < 1e-9:
            y_high = y_low + 1.0
        x_high = max(self.x_span, max((x for x, _ in all_points), default=1.0), 1.0)

        def at(x: float, y: float) -> QPointF:
            return QPointF(
                area.left() + area.width() * x / x_high,
                area.bottom() - area.height() * (y - y_low) / (y_high - y_low),
            )

        painter.setPen(QPen(self.palette().text().color()))
        height = metrics.height()
        painter.drawText(
            QRectF(0, area.top(), left - 4, height), Qt.AlignmentFlag.AlignRight, f"{y_high:.1f}"
        )
        painter.drawText(
            QRectF(0, area.bottom() - height, left - 4, height), Qt.AlignmentFlag.AlignRight, f"{y_low:.1f}"
        )
        painter.drawText(
            QRectF(area.left(), area.bottom() + 2, area.width(), height),
            Qt.AlignmentFlag.AlignCenter,
            self.caption(),
        )
        if y_low < 0 < y_high:
            painter.setPen(QPen(self.palette().mid().color(), 1, Qt.PenStyle.DashLine))
            painter.drawLine(at(0, 0), at(x_high, 0))
        for colour, points in self.series.values():
            if points:
                painter.setPen(QPen(colour, 1.5))
                painter.drawPolyline(QPolygonF([at(x, y) for x, y in sorted(points)]))
        painter.setPen(QPen(style.colours().error_fg, 2))
        for x in self.marks:
            point = at(x, y_low)
            painter.drawLine(point, QPointF(point.x(), point.y() - 8))
        painter.end()

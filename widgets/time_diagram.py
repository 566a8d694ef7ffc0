"""The SNTP exchange drawn as a two-clock diagram: T1 → T2, T3 → T4, with the formulas filled in."""

from __future__ import annotations

import time

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from widgets import style


def clock_text(unix_seconds: float) -> str:
    """HH:MM:SS.mmm in local time."""
    return time.strftime("%H:%M:%S", time.localtime(unix_seconds)) + f".{int(unix_seconds * 1000) % 1000:03d}"


class ExchangeDiagram(QWidget):
    """Client and server time lines with the request and reply arrows and the offset/delay maths."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.times: tuple[float, float, float, float] | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self.fontMetrics().height() * 11)

    def sizeHint(self) -> QSize:
        return QSize(420, self.fontMetrics().height() * 11)

    def set_times(self, t1: float, t2: float, t3: float, t4: float) -> None:
        self.times = (t1, t2, t3, t4)
        self.update()

    def clear(self) -> None:
        self.times = None
        self.update()

    def formulas(self) -> list[str]:
        """The two formulas with the measured numbers (empty before the first SNTP reply)."""
        if self.times is None:
            return []
        t1, t2, t3, t4 = self.times
        ms = 1000.0
        offset = ((t2 - t1) + (t3 - t4)) / 2
        delay = (t4 - t1) - (t3 - t2)
        return [
            self.tr(
                "offset = ((T2 − T1) + (T3 − T4)) / 2 = (({0:+.3f}) + ({1:+.3f})) / 2 = {2:+.3f} ms"
            ).format((t2 - t1) * ms, (t3 - t4) * ms, offset * ms),
            self.tr("delay = (T4 − T1) − (T3 − T2) = {0:.3f} − {1:.3f} = {2:.3f} ms").format(
                (t4 - t1) * ms, (t3 - t2) * ms, delay * ms
            ),
        ]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        line_height = painter.fontMetrics().height()
        text_pen = QPen(self.palette().text().color())
        left, right = self.width() * 0.22, self.width() * 0.78
        top, bottom = line_height * 1.5, line_height * 7.5
        painter.setPen(text_pen)
        painter.drawText(QRectF(0, 0, left * 2, line_height), Qt.AlignmentFlag.AlignCenter, self.tr("client"))
        painter.drawText(
            QRectF(right - left, 0, left * 2, line_height), Qt.AlignmentFlag.AlignCenter, self.tr("server")
        )
        painter.setPen(QPen(self.palette().mid().color(), 2))
        painter.drawLine(QPointF(left, top), QPointF(left, bottom))
        painter.drawLine(QPointF(right, top), QPointF(right, bottom))
        if self.times is None:
            painter.setPen(text_pen)
            painter.drawText(
                QRectF(0, top, self.width(), bottom - top),
                Qt.AlignmentFlag.AlignCenter,
                self.tr("Query an SNTP server to see T1–T4"),
            )
            painter.end()
            return
        t1, t2, t3, t4 = self.times
        ys = [
            top + line_height * 0.5,
            top + line_height * 2.3,
            top + line_height * 3.7,
            top + line_height * 5.5,
        ]
        self._arrow(painter, QPointF(left, ys[0]), QPointF(right, ys[1]), style.colours().sent_fg)
        self._arrow(painter, QPointF(right, ys[2]), QPointF(left, ys[3]), style.colours().received_fg)
        painter.setPen(text_pen)
        for name, value, x, y, align in (
            ("T1", t1, 0, ys[0], Qt.AlignmentFlag.AlignRight),
            ("T2", t2, right + 6, ys[1], Qt.AlignmentFlag.AlignLeft),
            ("T3", t3, right + 6, ys[2], Qt.AlignmentFlag.AlignLeft),
            ("T4", t4, 0, ys[3], Qt.AlignmentFlag.AlignRight),
        ):
            width = left - 6 if align == Qt.AlignmentFlag.AlignRight else self.width() - right - 6
            painter.drawText(
                QRectF(x, y - line_height / 2, width, line_height),
                align | Qt.AlignmentFlag.AlignVCenter,
                f"{name} {clock_text(value)}",
            )
        for i, text in enumerate(self.formulas()):
            painter.drawText(
                QRectF(4, bottom + line_height * (0.5 + i * 1.2), self.width() - 8, line_height),
                Qt.AlignmentFlag.AlignLeft,
                text,
            )
        painter.end()

    @staticmethod
    def _arrow(painter: QPainter, start: QPointF, end: QPointF, colour: QColor) -> None:
        painter.setPen(QPen(colour, 2))
        painter.drawLine(start, end)
        direction = 1 if end.x() > start.x() else -1
        head = QPolygonF(
            [
                end,
                QPointF(end.x() - 10 * direction, end.y() - 5),
                QPointF(end.x() - 10 * direction, end.y() + 5),
            ]
        )
        painter.setBrush(painter.pen().color())
        painter.drawPolygon(head)

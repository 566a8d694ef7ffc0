"""Lanes of byte ranges aligned by stream offset (send calls, recv chunks, decoded frames), so a
merge or a split is visible at a glance; hovering a box shows its details.

The lanes share one byte axis. A box too narrow to read at the byte scale (a 5-byte "Hello" beside
3,000 bytes) is drawn at a minimum width; the room comes out of the large boxes, which are drawn
shorter than their bytes and marked with a broken-axis zigzag, so the scale stays honest."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from widgets import style

SHORTENED = 0.8  # bytes drawn at less than this share of the plain byte scale get a broken-axis mark


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    label: str  # drawn inside the box when it fits
    tooltip: str
    colour: QColor
    header_end: int | None = None  # frames: where the header stops and the payload starts


@dataclass(frozen=True, slots=True)
class Box:
    """Where a span is drawn, and the x of each broken-axis mark across it (drawn shorter than its
    bytes: ``shortened``)."""

    lane: int
    span: Span
    rect: QRectF
    breaks: tuple[float, ...]

    @property
    def shortened(self) -> bool:
        return bool(self.breaks)


class ByteAxis:
    """Byte offset → x: linear between the offsets where boxes start or end, each piece at least
    ``least`` pixels wide; the rest of *width* shared by the larger pieces at one scale. Where those
    are drawn much shorter than at the plain scale, ``breaks`` holds the x of a broken-axis mark (one
    for each run of such pieces)."""

    def __init__(self, cuts: list[int], left: float, width: float, least: float) -> None:
        self.cuts = sorted(set(cuts)) or [0, 1]
        pieces = [b - a for a, b in zip(self.cuts, self.cuts[1:], strict=False)]
        self.least = min(least, 0.75 * width / max(len(pieces), 1))  # too many boxes: a smaller minimum
        self.plain_scale = width / max(sum(pieces), 1)  # pixels per byte without any minimum
        scale = _scale(pieces, width, self.least)
        cut_short = scale < SHORTENED * self.plain_scale
        self.xs = [left]
        self.breaks: list[float] = []
        run_start: float | None = None  # where the current run of shortened pieces began
        for piece in pieces:
            x = self.xs[-1]
            self.xs.append(x + max(self.least, scale * piece))
            if cut_short and scale * piece >= self.least:
                run_start = x if run_start is None else run_start
            elif run_start is not None:
                self.breaks.append((run_start + x) / 2)
                run_start = None
        if run_start is not None:
            self.breaks.append((run_start + self.xs[-1]) / 2)

    def x(self, offset: float) -> float:
        """The x of *offset* (clamped to the axis)."""
        cuts, xs = self.cuts, self.xs
        if offset <= cuts[0] or len(cuts) < 2:
            return xs[0]
        if offset >= cuts[-1]:
            return xs[-1]
        i = bisect.bisect_right(cuts, offset) - 1
        return xs[i] + (xs[i + 1] - xs[i]) * (offset - cuts[i]) / (cuts[i + 1] - cuts[i])


def _scale(pieces: list[int], width: float, least: float) -> float:
    """Pixels per byte such that the pieces, each at least *least* wide, fill *width*: the largest
    pieces take the scale, the smaller ones the minimum."""
    ordered = sorted(pieces, reverse=True)
    scaled = sum(ordered)
    for k in range(len(ordered), 0, -1):  # the k largest pieces are at the scale, the rest at least
        scale = (width - (len(ordered) - k) * least) / max(scaled, 1)
        if ordered[k - 1] * scale >= least or k == 1:
            return max(scale, 0.0)
        scaled -= ordered[k - 1]
    return 0.0


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
        self._axis: tuple[tuple[float, float], ByteAxis] | None = None  # and the geometry it fits
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self._lane_height() * 3 + self.fontMetrics().height() + 12)

    def sizeHint(self) -> QSize:
        return QSize(500, self.minimumHeight())

    def _lane_height(self) -> int:
        return self.fontMetrics().height() * 2

    def least_width(self) -> float:
        """The narrowest a box is drawn (room for a five-digit size), when there is room for all."""
        return float(self.fontMetrics().horizontalAdvance("00000") + 6)

    def set_lanes(self, total: int, lanes: list[tuple[str, list[Span]]], marker: int | None = None) -> None:
        self.total, self.lanes, self.marker = total, lanes, marker
        self._axis = None
        self.setMinimumHeight(self._lane_height() * max(3, len(lanes)) + self.fontMetrics().height() + 12)
        self.update()

    def _geometry(self) -> tuple[float, float]:
        left = max((self.fontMetrics().horizontalAdvance(name) for name, _ in self.lanes), default=60) + 12
        return left, max(1.0, self.width() - left - 8)

    def axis(self) -> ByteAxis:
        """The byte axis for the current lanes and width."""
        left, width = self._geometry()
        if self._axis is None or self._axis[0] != (left, width):
            cuts = [0, self.total]
            for _, spans in self.lanes:
                for span in spans:
                    cuts += [span.start, span.end]
                    if span.header_end is not None:
                        cuts.append(span.header_end)
            axis = ByteAxis(cuts, left, width, self.least_width())
            self._axis = ((left, width), axis)
            return axis
        return self._axis[1]

    def boxes(self) -> list[Box]:
        """Every span where it is drawn."""
        axis = self.axis()
        boxes = []
        for lane, (_, spans) in enumerate(self.lanes):
            top = 4 + lane * self._lane_height()
            for span in spans:
                x0, x1 = axis.x(span.start), axis.x(span.end)
                rect = QRectF(x0, top, max(2.0, x1 - x0), self._lane_height() - 6)
                breaks = tuple(x for x in axis.breaks if rect.left() + 4 < x < rect.right() - 4)
                boxes.append(Box(lane, span, rect, breaks))
        return boxes

    def span_at(self, point: QPointF) -> Span | None:
        return next((box.span for box in self.boxes() if box.rect.contains(point)), None)

    def event(self, event: object) -> bool:
        if isinstance(event, QHelpEvent) and event.type() == QHelpEvent.Type.ToolTip:
            span = self.span_at(QPointF(event.pos()))
            if span is not None:
                QToolTip.showText(event.globalPos(), span.tooltip, self)
            elif self.axis().breaks:
                QToolTip.showText(event.globalPos(), self.legend(), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)  # type: ignore[arg-type]

    def legend(self) -> str:
        """What the broken-axis marks mean."""
        return self.tr(
            "Boxes marked // are drawn shorter than their bytes, so that the small ones can be read; "
            "hover a box for its exact offsets"
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        metrics = painter.fontMetrics()
        left, width = self._geometry()
        text_pen = QPen(self.palette().text().color())
        colours = style.colours()
        painter.setPen(text_pen)
        for lane, (name, _) in enumerate(self.lanes):
            top = 4 + lane * self._lane_height()
            painter.drawText(
                QRectF(0, top, left - 6, self._lane_height() - 6),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                name,
            )
        axis = self.axis()
        shortened = False
        for box in self.boxes():
            span, rect = box.span, box.rect
            painter.fillRect(rect, span.colour)
            if span.header_end is not None and span.header_end > span.start:
                header = QRectF(rect)
                header.setRight(axis.x(span.header_end))
                painter.fillRect(header, header_shade(span.colour))
            painter.setPen(QPen(colours.box_edge, colours.box_edge_width))
            painter.drawRect(rect)
            for x in box.breaks:
                shortened = True
                self._draw_break(painter, x, rect)
            painter.setPen(QPen(colours.box_fg))  # boxes are light in every theme
            label = QRectF(rect)
            if box.breaks:  # the label on the wider side of the marks, not across one
                if box.breaks[0] - rect.left() >= rect.right() - box.breaks[-1]:
                    label.setRight(box.breaks[0] - 8)
                else:
                    label.setLeft(box.breaks[-1] + 8)
            if metrics.horizontalAdvance(span.label) + 4 < label.width():
                painter.drawText(label, Qt.AlignmentFlag.AlignCenter, span.label)
        bottom = 4 + len(self.lanes) * self._lane_height()
        painter.setPen(text_pen)
        row = QRectF(left, bottom, width, metrics.height())
        painter.drawText(row, Qt.AlignmentFlag.AlignLeft, "0")
        end = self.tr("{0:,} bytes").format(self.total)
        painter.drawText(row, Qt.AlignmentFlag.AlignRight, end)
        if shortened:  # the legend between the two ends of the axis, shortened to fit
            legend = QRectF(row)
            legend.setLeft(row.left() + metrics.horizontalAdvance("0") + 16)
            legend.setRight(row.right() - metrics.horizontalAdvance(end) - 16)
            text = self.tr("// = cut short, not to scale")
            elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, round(legend.width()))
            painter.drawText(legend, Qt.AlignmentFlag.AlignLeft, elided)
        if self.marker is not None and self.total:
            x = axis.x(self.marker)
            painter.setPen(QPen(colours.frame_line, 2, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(x, 2), QPointF(x, bottom))
        painter.end()

    def _draw_break(self, painter: QPainter, x: float, rect: QRectF) -> None:
        """A broken-axis mark across *rect* at *x*: a gap of the background between two slanted
        lines, as a chart marks an axis with a piece cut out."""
        top, bottom, slant = rect.top() - 2, rect.bottom() + 2, 4.0
        gap = QPolygonF(
            [
                QPointF(x - 3 + slant, top),
                QPointF(x + 3 + slant, top),
                QPointF(x + 3 - slant, bottom),
                QPointF(x - 3 - slant, bottom),
            ]
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.palette().window())
        painter.drawPolygon(gap)
        painter.setPen(QPen(self.palette().text().color(), 1.5))
        for dx in (-3, 3):
            painter.drawLine(QPointF(x + dx + slant, top), QPointF(x + dx - slant, bottom))

"""A status or error line of a fixed height, so that text appearing, growing or going never moves the
controls below it."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QResizeEvent, QTextLayout, QTextOption
from PySide6.QtWidgets import QSizePolicy, QWidget

from widgets.plain_text import PlainLabel, plain_tooltip

_SAMPLE = "Ag 中文"  # a line's height: Latin ascenders and descenders, and Chinese


class StateLine(PlainLabel):
    """Plain text wrapped over at most *lines* lines, always that tall; a longer text ends in "…"
    and is whole in the tooltip. ``text()`` is the whole text."""

    def __init__(self, lines: int = 2, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines = lines
        self._text = ""
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fit_height()

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        self._text = text
        self._show()

    def clear(self) -> None:
        self.setText("")

    def displayed(self) -> str:
        """What is on screen: the text, or as much of it as fits followed by "…"."""
        return super().text()

    def _fit_height(self) -> None:
        margins = self.contentsMargins()
        self.setFixedHeight(self._line_height() * self.lines + margins.top() + margins.bottom() + 2)

    def _line_height(self) -> int:
        """The height of a line in Latin or Chinese (a fallback font may be taller): the same in
        every language, so switching language moves nothing either."""
        return max(self.fontMetrics().lineSpacing(), self._layout(_SAMPLE, 1_000_000)[1])

    def _layout(self, text: str, width: int) -> tuple[int, int]:
        """(lines, tallest line's height) of *text* wrapped as the label wraps it at *width*."""
        layout = QTextLayout(text.replace("\n", "\u2028"), self.font())
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        layout.setTextOption(option)
        layout.beginLayout()
        lines, height = 0, 0.0
        while (line := layout.createLine()).isValid():
            line.setLineWidth(width)
            lines += 1
            height = max(height, line.height())
        layout.endLayout()
        return lines, math.ceil(height)

    def _show(self) -> None:
        """Show as much of the text as the lines hold at the current width."""
        text, width = self._text, max(1, self.contentsRect().width())
        shown = text
        if self._layout(text, width)[0] > self.lines:
            low, high = 0, len(text)  # the longest prefix that fits with "…"
            while low < high:
                mid = (low + high + 1) // 2
                if self._layout(text[:mid].rstrip() + "…", width)[0] <= self.lines:
                    low = mid
                else:
                    high = mid - 1
            shown = text[:low].rstrip() + "…"
        super().setText(shown)
        self.setToolTip(plain_tooltip(text) if shown != text else "")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._show()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # presentation zoom: taller lines
            self._fit_height()
            self._show()

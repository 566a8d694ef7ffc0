"""A status or error line of a fixed height, so that text appearing, growing or going never moves the
controls below it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from widgets.plain_text import PlainLabel, plain_tooltip

_FLAGS = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap)


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
        spacing = self.fontMetrics().lineSpacing()
        self.setFixedHeight(spacing * self.lines + margins.top() + margins.bottom() + 2)

    def _fits(self, text: str, width: int) -> bool:
        bound = self.fontMetrics().boundingRect(QRect(0, 0, width, 1_000_000), _FLAGS, text)
        return bound.height() <= self.fontMetrics().lineSpacing() * self.lines

    def _show(self) -> None:
        """Show as much of the text as the lines hold at the current width."""
        text, width = self._text, max(1, self.contentsRect().width())
        shown = text
        if not self._fits(text, width):
            low, high = 0, len(text)  # the longest prefix that fits with "…"
            while low < high:
                mid = (low + high + 1) // 2
                if self._fits(text[:mid].rstrip() + "…", width):
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

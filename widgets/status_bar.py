"""A status bar whose message ends in "…" where its permanent widgets begin."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QStatusBar, QStyle, QStyleOption, QWidget

from widgets.plain_text import plain_tooltip

GAP = 12
"""Pixels between the message and the first permanent widget."""


class StatusBar(QStatusBar):
    """QStatusBar cuts a long message at its permanent widgets without a mark: at zoom ×2 "Listening
    on 0.0.0.0:42531" ran into the traffic counters as "0.0.0.0:425127.0.0.1:…", a wrong port.
    This one elides the message before them, with a gap, and puts the whole message in the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.permanent: list[QWidget] = []
        self.messageChanged.connect(lambda text: self.setToolTip(plain_tooltip(text)))

    def addPermanentWidget(self, widget: QWidget, stretch: int | None = 0) -> None:
        super().addPermanentWidget(widget, stretch or 0)
        self.permanent.append(widget)

    def message_rect(self) -> QRect:
        """Where the message is drawn: from the left edge to the first visible permanent widget."""
        right = self.width() - GAP
        for widget in self.permanent:
            if widget.isVisible():
                right = min(right, widget.x() - GAP)
        return QRect(6, 0, max(0, right - 6), self.height())

    def shown_message(self) -> str:
        """The message as it is drawn: elided to ``message_rect``."""
        return self.fontMetrics().elidedText(
            self.currentMessage(), Qt.TextElideMode.ElideRight, self.message_rect().width()
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self.currentMessage():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelStatusBar, option, painter, self)
        painter.setPen(self.palette().windowText().color())
        painter.drawText(
            self.message_rect(),
            int(Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine),
            self.shown_message(),
        )

"""Text from the network shown as text: never rendered as HTML (a DAYTIME reply of ``<img
src="file:///...">`` would otherwise load a local file into the window)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel, QWidget


class PlainLabel(QLabel):
    """A QLabel that shows its text literally (``Qt.TextFormat.PlainText``), whatever it looks like."""

    def __init__(self, text: str | QWidget | None = "", parent: QWidget | None = None) -> None:
        if isinstance(text, str):
            super().__init__(text, parent)
        else:  # PlainLabel(parent), as QLabel(parent)
            super().__init__(text)
        self.setTextFormat(Qt.TextFormat.PlainText)


def plain_tooltip(text: str) -> str:
    """*text* as a tooltip that shows it literally: Qt renders a tooltip that looks like HTML."""
    if not GuiQt.mightBeRichText(text):
        return text
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"

"""A read-only code box with a Copy button (the "Python equivalent" of a tab)."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from widgets import style
from widgets.plain_text import PlainLabel


class CodePanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code = QPlainTextEdit(self)
        self.code.setReadOnly(True)
        self.code.setFont(style.mono_font())
        self.code.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.note = PlainLabel(self.tr("What the current settings do, in standard-library Python"), self)
        self.note.setWordWrap(True)  # the panel stays narrow enough for a 1024-pixel screen
        self.copy_button = QPushButton(self.tr("Copy"), self)
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.code.toPlainText()))
        row = QHBoxLayout()
        row.addWidget(self.note, 1)
        row.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.code, 1)

    def set_code(self, text: str) -> None:
        """Replace the code, keeping the scroll position when it did not change."""
        if text != self.code.toPlainText():
            self.code.setPlainText(text)

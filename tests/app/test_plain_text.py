"""pytest-qt: no label of any tab renders text as HTML, except the form rows' own titles."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel

from app.main_window import MainWindow


def test_every_label_but_the_form_titles_is_plain_text(qtbot, settings):
    """Peer text reaches labels on every tab (states, errors, verdicts, replies): all are plain text."""
    win = MainWindow(settings)
    qtbot.addWidget(win)
    titles = set()
    for form in win.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if item is not None and item.widget() is not None:
                titles.add(id(item.widget()))
    labels = [label for label in win.findChildren(QLabel) if id(label) not in titles]
    assert len(labels) > 20
    rich = [label.text() for label in labels if label.textFormat() != Qt.TextFormat.PlainText]
    assert rich == []
    win.close()

"""Peer text in tooltips and labels is shown literally, never rendered as HTML."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtGui import QTextDocument

from widgets.plain_text import PlainLabel, plain_tooltip

MARKUP = '<h1 style="color:red">X</h1> & <img src="file:///etc/hostname">\n  two  spaces'


@pytest.mark.parametrize("text", [MARKUP, "a < b", "plain", "<b>bold</b>"])
def test_a_tooltip_reads_as_its_text(qapp, text):
    """What Qt shows of the tooltip (rich text when it looks like HTML) is the text itself."""
    tip = plain_tooltip(text)
    if not GuiQt.mightBeRichText(tip):
        assert tip == text
        return
    doc = QTextDocument()
    doc.setHtml(tip)
    assert doc.toPlainText() == text


def test_plain_label_takes_text_or_parent(qtbot):
    label = PlainLabel(MARKUP)
    qtbot.addWidget(label)
    child = PlainLabel(label)
    assert (label.textFormat(), label.text()) == (Qt.TextFormat.PlainText, MARKUP)
    assert (child.textFormat(), child.parent(), child.text()) == (Qt.TextFormat.PlainText, label, "")

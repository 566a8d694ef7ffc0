"""Peer text in tooltips and labels is shown literally, never rendered as HTML."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent, QTextDocument
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QApplication, QToolTip

from widgets.hexdump_view import HEX0, FieldHexModel, HexdumpView
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


def test_a_hexdump_fields_tooltip_shows_the_peers_text_literally(qtbot):
    """A field whose value is the peer's text (an SNTP reference ID, say) of markup: the tooltip
    shown reads as that text, not as a headline."""
    model = FieldHexModel()
    view = HexdumpView(model)
    qtbot.addWidget(view)
    view.resize(800, 200)
    view.show()
    model.set_packet(b"<h1>", [(0, 4, "reference ID", "<h1>X</h1>")])
    centre = view.visualRect(model.index(0, HEX0)).center()
    QApplication.sendEvent(
        view.viewport(), QHelpEvent(QEvent.Type.ToolTip, centre, view.viewport().mapToGlobal(centre))
    )
    assert QToolTip.isVisible()
    doc = QTextDocument()
    doc.setHtml(QToolTip.text())
    assert doc.toPlainText() == "bytes 0–3: reference ID = <h1>X</h1>"
    QToolTip.hideText()

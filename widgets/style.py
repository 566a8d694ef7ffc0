"""Colours and fonts shared by the traffic views (Wireshark's Follow Stream convention:
what we sent is red, what we received is blue)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QFontDatabase

from netcore.model.traffic import Direction

SENT_BG = QColor("#fde3e3")
SENT_HEADER_BG = QColor("#f4a8a8")
SENT_FG = QColor("#8f1010")
RECEIVED_BG = QColor("#dfe9fc")
RECEIVED_HEADER_BG = QColor("#a3c0f2")
RECEIVED_FG = QColor("#0e3a8c")
TRAILER_BG = QColor("#e6e6e6")
HIGHLIGHT_BG = QColor("#ffe36e")
CHUNK_LINE = QColor("#202020")
FRAME_LINE = QColor("#e07000")
CONN_LINE = QColor("#7b1fa2")  # where another connection's traffic begins (a server's combined view)
ERROR_FG = QColor("#b00020")
OK_FG = QColor("#1b6e20")


def direction_colours(direction: Direction) -> tuple[QColor, QColor, QColor]:
    """(payload background, header background, text colour) for a direction."""
    if direction is Direction.SENT:
        return SENT_BG, SENT_HEADER_BG, SENT_FG
    return RECEIVED_BG, RECEIVED_HEADER_BG, RECEIVED_FG


def mono_font(point_size: float = 0) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if point_size:
        font.setPointSizeF(point_size)
    return font


OFFSET_FG = QColor("#707070")
FIELD_SHADES = (QColor("#dfe9fc"), QColor("#fde3e3"), QColor("#e2f4dc"), QColor("#fbf0d0"), QColor("#ece0f8"))

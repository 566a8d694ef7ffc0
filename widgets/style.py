"""Colours and fonts shared by the traffic views (Wireshark's Follow Stream convention:
what we sent is red, what we received is blue).

Each theme is one ``Colours`` table; the views read the current one (``colours()``) when they
paint, so View ▸ High contrast switches every view at once and a test can check every pair."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QFontDatabase

from netcore.model.traffic import Direction


@dataclass(frozen=True, slots=True)
class Colours:
    """Every colour the views draw with (texts, backgrounds and boundary marks), for one theme."""

    sent_bg: QColor
    sent_header_bg: QColor
    sent_fg: QColor
    received_bg: QColor
    received_header_bg: QColor
    received_fg: QColor
    trailer_bg: QColor  # a frame's delimiter bytes
    highlight_bg: QColor  # the bytes of the frame or field under the mouse
    chunk_line: QColor  # the bar where a recv()/send() chunk begins
    frame_line: QColor  # the hook where a frame begins; the timeline's "read so far" marker
    error_fg: QColor
    ok_fg: QColor
    offset_fg: QColor  # the hexdump's offset column
    field_shades: tuple[QColor, ...]  # the fields of one decoded message, in turn
    box_fg: QColor  # labels inside the timeline's (always light) boxes
    box_edge: QColor  # the outline of each timeline box: where one send() ends and the next begins
    box_edge_width: float


NORMAL = Colours(
    sent_bg=QColor("#fde3e3"),
    sent_header_bg=QColor("#f4a8a8"),
    sent_fg=QColor("#8f1010"),
    received_bg=QColor("#dfe9fc"),
    received_header_bg=QColor("#a3c0f2"),
    received_fg=QColor("#0e3a8c"),
    trailer_bg=QColor("#e6e6e6"),
    highlight_bg=QColor("#ffe36e"),
    chunk_line=QColor("#202020"),
    frame_line=QColor("#e07000"),
    error_fg=QColor("#a00018"),
    ok_fg=QColor("#145a18"),
    offset_fg=QColor("#707070"),
    field_shades=tuple(QColor(c) for c in ("#dfe9fc", "#fde3e3", "#e2f4dc", "#fbf0d0", "#ece0f8")),
    box_fg=QColor("#000000"),
    box_edge=QColor("#202020"),
    box_edge_width=1.0,
)
"""The usual look, on the system's (light) palette."""

HIGH_CONTRAST = Colours(
    sent_bg=NORMAL.sent_bg,
    sent_header_bg=QColor("#f6c6c6"),
    sent_fg=QColor("#7a0c0c"),
    received_bg=NORMAL.received_bg,
    received_header_bg=QColor("#bcd3f8"),
    received_fg=QColor("#0a2f78"),
    trailer_bg=NORMAL.trailer_bg,
    highlight_bg=NORMAL.highlight_bg,
    chunk_line=QColor("#000000"),
    frame_line=QColor("#8a4400"),
    error_fg=NORMAL.error_fg,
    ok_fg=NORMAL.ok_fg,
    offset_fg=QColor("#404040"),
    field_shades=NORMAL.field_shades,
    box_fg=QColor("#000000"),
    box_edge=QColor("#000000"),
    box_edge_width=2.0,
)
"""Black on white for the projector: every text at least 7:1 and every mark at least 3:1 against
what it is drawn on (WCAG contrast; tests/widgets/test_contrast.py). The colours a page keeps after
drawing (error lines, timeline boxes, plot lines) are the same as in NORMAL or pass on white too, so
switching the theme never leaves an unreadable colour behind."""

_current = NORMAL


def colours() -> Colours:
    """The current theme's table."""
    return _current


def use(table: Colours) -> None:
    """Make *table* the current theme (the caller repaints)."""
    global _current
    _current = table


# The usual theme's colours by name, for pages that set a colour once (style sheets, boxes).
SENT_BG = NORMAL.sent_bg
SENT_HEADER_BG = NORMAL.sent_header_bg
SENT_FG = NORMAL.sent_fg
RECEIVED_BG = NORMAL.received_bg
RECEIVED_HEADER_BG = NORMAL.received_header_bg
RECEIVED_FG = NORMAL.received_fg
TRAILER_BG = NORMAL.trailer_bg
HIGHLIGHT_BG = NORMAL.highlight_bg
ERROR_FG = NORMAL.error_fg
OK_FG = NORMAL.ok_fg
FIELD_SHADES = NORMAL.field_shades
CONN_LINE = QColor("#7b1fa2")  # where another connection's traffic begins (a server's combined view)


def direction_colours(direction: Direction) -> tuple[QColor, QColor, QColor]:
    """(payload background, header background, text colour) of a direction in the current theme."""
    c = _current
    if direction is Direction.SENT:
        return c.sent_bg, c.sent_header_bg, c.sent_fg
    return c.received_bg, c.received_header_bg, c.received_fg


def mono_font(point_size: float = 0) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    if point_size:
        font.setPointSizeF(point_size)
    return font


def relative_luminance(colour: QColor) -> float:
    """WCAG 2 relative luminance of an opaque colour, 0 (black) … 1 (white)."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(colour.redF()) + 0.7152 * linear(colour.greenF()) + 0.0722 * linear(colour.blueF())


def contrast(fg: QColor, bg: QColor) -> float:
    """WCAG contrast ratio of *fg* drawn on the opaque *bg*, 1 … 21 (a translucent *fg* is
    blended over *bg* first, as it is painted)."""
    alpha = fg.alphaF()
    seen = QColor.fromRgbF(
        alpha * fg.redF() + (1 - alpha) * bg.redF(),
        alpha * fg.greenF() + (1 - alpha) * bg.greenF(),
        alpha * fg.blueF() + (1 - alpha) * bg.blueF(),
    )
    high, low = sorted((relative_luminance(seen), relative_luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)

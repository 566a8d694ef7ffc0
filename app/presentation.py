"""Presentation mode for the projector: zoom every text and hexdump, full screen, high contrast."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QTableView, QWidget

from widgets import style
from widgets.hexdump_view import HexdumpView

ZOOM_STEPS = (0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.5, 3.0)


class Presentation:
    """Holds the zoom level and theme and applies them to a window and everything in it."""

    def __init__(self, window: QWidget) -> None:
        self.window = window
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        self.app = app
        self.base_font = QFont(app.font())
        self.base_mono = style.mono_font()
        self.base_palette = QPalette(app.palette())
        self.step = ZOOM_STEPS.index(1.0)
        self.high_contrast = False

    @property
    def zoom(self) -> float:
        return ZOOM_STEPS[self.step]

    def set_zoom(self, zoom: float) -> None:
        """Apply the nearest zoom step to every font: labels, tables, and the hexdumps' fixed cells."""
        self.step = min(range(len(ZOOM_STEPS)), key=lambda i: abs(ZOOM_STEPS[i] - zoom))
        widgets = [w for w in self.window.findChildren(QWidget) if not isinstance(w, HexdumpView)]
        for widget in widgets:  # each widget's own size, once, before any font is scaled: a child
            if widget.property("zoom_base_pt") is None:  # inherits its parent's (a big verdict stays bigger)
                widget.setProperty("zoom_base_pt", widget.font().pointSizeF())
        font = QFont(self.base_font)
        font.setPointSizeF(max(1.0, self.base_font.pointSizeF() * self.zoom))
        self.app.setFont(font)
        for widget in widgets:
            base = widget.property("zoom_base_pt")
            scaled = QFont(widget.font())
            scaled.setPointSizeF(max(1.0, float(base) * self.zoom))
            widget.setFont(scaled)
        mono = QFont(self.base_mono)
        mono.setPointSizeF(max(1.0, self.base_mono.pointSizeF() * self.zoom))
        for view in self.window.findChildren(HexdumpView):
            view.apply_font(mono)
        for table in self.window.findChildren(QTableView):
            if not isinstance(table, HexdumpView):
                table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 4)

    def zoom_in(self) -> None:
        self.set_zoom(ZOOM_STEPS[min(self.step + 1, len(ZOOM_STEPS) - 1)])

    def zoom_out(self) -> None:
        self.set_zoom(ZOOM_STEPS[max(self.step - 1, 0)])

    def set_high_contrast(self, on: bool) -> None:
        """White on black with yellow selection: readable on a washed-out projector."""
        self.high_contrast = on
        if not on:
            self.app.setPalette(self.base_palette)
            return
        palette = QPalette()
        black, white, yellow = QColor("#000000"), QColor("#ffffff"), QColor("#ffd400")
        for role, colour in (
            (QPalette.ColorRole.Window, black),
            (QPalette.ColorRole.WindowText, white),
            (QPalette.ColorRole.Base, black),
            (QPalette.ColorRole.AlternateBase, QColor("#202020")),
            (QPalette.ColorRole.Text, white),
            (QPalette.ColorRole.Button, QColor("#202020")),
            (QPalette.ColorRole.ButtonText, white),
            (QPalette.ColorRole.Highlight, yellow),
            (QPalette.ColorRole.HighlightedText, black),
            (QPalette.ColorRole.ToolTipBase, black),
            (QPalette.ColorRole.ToolTipText, white),
            (QPalette.ColorRole.PlaceholderText, QColor("#bbbbbb")),
        ):
            palette.setColor(role, colour)
        self.app.setPalette(palette)

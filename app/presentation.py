"""Presentation mode for the projector: zoom every text and hexdump, full screen, high contrast."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleHintReturn,
    QStyleOption,
    QStyleOptionComplex,
    QStyleOptionTab,
    QTableView,
    QWidget,
)

from widgets import style
from widgets.hexdump_view import HexdumpView

ZOOM_STEPS = (0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.5, 3.0)


_system_theme: tuple[QPalette, str] | None = None


def system_theme(app: QApplication) -> tuple[QPalette, str]:
    """The palette and style the application started with, taken once: a window opened while
    another is in high contrast must not take that for the usual theme."""
    global _system_theme
    if _system_theme is None:
        _system_theme = QPalette(app.palette()), app.style().name() or "Fusion"
    return _system_theme


class Presentation:
    """Holds the zoom level and theme and applies them to a window and everything in it."""

    def __init__(self, window: QWidget) -> None:
        self.window = window
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        self.app = app
        self.base_font = QFont(app.font())
        self.base_mono = style.mono_font()
        self.base_palette, self.base_style = system_theme(app)
        self.step = ZOOM_STEPS.index(1.0)
        self.applied = 1.0  # the zoom the window's fonts are at now
        self.high_contrast = False

    @property
    def zoom(self) -> float:
        return ZOOM_STEPS[self.step]

    def set_zoom(self, zoom: float) -> None:
        """Apply the nearest zoom step to every font: labels, tables, and the hexdumps' fixed cells."""
        self.step = min(range(len(ZOOM_STEPS)), key=lambda i: abs(ZOOM_STEPS[i] - zoom))
        widgets = [w for w in self.window.findChildren(QWidget) if not isinstance(w, HexdumpView)]
        for widget in widgets:  # each widget's own size at zoom 1, taken once (a big verdict stays
            # bigger) and before any font changes: a child inherits its parent's font, so sizes read
            # while applying would multiply down the tree (×2 per level at zoom 2)
            if widget.property("zoom_base_pt") is None:
                widget.setProperty("zoom_base_pt", widget.font().pointSizeF() / self.applied)
        font = QFont(self.base_font)
        font.setPointSizeF(max(1.0, self.base_font.pointSizeF() * self.zoom))
        self.app.setFont(font)
        for widget in widgets:
            scaled = QFont(widget.font())
            scaled.setPointSizeF(max(1.0, float(widget.property("zoom_base_pt")) * self.zoom))
            widget.setFont(scaled)
        self.applied = self.zoom
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
        """Black on white (``high_contrast_palette``) in the Fusion style, which draws every control
        from the palette, with dark outlines (``HighContrastStyle``), and the views' high-contrast
        colours (``style.HIGH_CONTRAST``)."""
        self.high_contrast = on
        style.use(style.HIGH_CONTRAST if on else style.NORMAL)
        if on:
            self.app.setStyle(HighContrastStyle())
            self.app.setPalette(high_contrast_palette())
        else:
            self.app.setStyle(self.base_style)
            self.app.setPalette(self.base_palette)
        for widget in self.window.findChildren(QWidget):
            if sheet := widget.styleSheet():  # its palette(...) colours were read when it was set
                widget.setStyleSheet(sheet)
            widget.update()  # views that paint from style.colours() rather than the palette


def high_contrast_palette() -> QPalette:
    """Black text on white, a navy selection with white text, and disabled text a mid grey on a
    light grey, so a disabled control looks disabled; every text at least 7:1 and every
    outline at least 3:1 (WCAG contrast; tests/app/test_contrast.py)."""
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#ffffff"),
        (QPalette.ColorRole.WindowText, "#000000"),
        (QPalette.ColorRole.Base, "#ffffff"),
        (QPalette.ColorRole.AlternateBase, "#eeeeee"),
        (QPalette.ColorRole.Text, "#000000"),
        (QPalette.ColorRole.Button, "#f0f0f0"),
        (QPalette.ColorRole.ButtonText, "#000000"),
        (QPalette.ColorRole.BrightText, "#ffffff"),
        (QPalette.ColorRole.Light, "#ffffff"),
        (QPalette.ColorRole.Midlight, "#e0e0e0"),
        (QPalette.ColorRole.Mid, "#6e6e6e"),
        (QPalette.ColorRole.Dark, "#505050"),
        (QPalette.ColorRole.Shadow, "#000000"),
        (QPalette.ColorRole.Highlight, "#003a8c"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.Link, "#0000c0"),
        (QPalette.ColorRole.LinkVisited, "#5a1a8b"),
        (QPalette.ColorRole.ToolTipBase, "#ffffe0"),
        (QPalette.ColorRole.ToolTipText, "#000000"),
        (QPalette.ColorRole.PlaceholderText, "#474747"),
    ):
        palette.setColor(role, QColor(colour))  # every colour group
    for role, colour in (
        (QPalette.ColorRole.WindowText, "#6e6e6e"),
        (QPalette.ColorRole.Text, "#6e6e6e"),
        (QPalette.ColorRole.ButtonText, "#6e6e6e"),
        (QPalette.ColorRole.PlaceholderText, "#6e6e6e"),
        (QPalette.ColorRole.Base, "#f4f4f4"),
        (QPalette.ColorRole.Button, "#f4f4f4"),
        (QPalette.ColorRole.Highlight, "#8c8c8c"),
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    return palette


OUTLINE = QColor("#5a5a5a")
"""Every control's edge in high contrast: 7:1 on white (Fusion's own, the window colour darker
by 40 %, is 2:1 and vanishes on a projector)."""
DISABLED_OUTLINE = QColor("#8c8c8c")
"""A disabled control's edge: 3.4:1, visibly fainter."""

_OUTLINED_PRIMITIVES = frozenset(
    {
        QStyle.PrimitiveElement.PE_PanelButtonCommand,
        QStyle.PrimitiveElement.PE_FrameLineEdit,
        QStyle.PrimitiveElement.PE_FrameGroupBox,
        QStyle.PrimitiveElement.PE_FrameTabWidget,
        QStyle.PrimitiveElement.PE_Frame,
        QStyle.PrimitiveElement.PE_IndicatorCheckBox,
    }
)
_OUTLINED_CONTROLS = frozenset(
    {QStyle.ControlElement.CE_TabBarTabShape, QStyle.ControlElement.CE_ProgressBarGroove}
)
_OUTLINED_COMPLEX = frozenset({QStyle.ComplexControl.CC_ComboBox, QStyle.ComplexControl.CC_SpinBox})


class HighContrastStyle(QProxyStyle):
    """Fusion with a dark outline around every button, field, box, frame and tab, and a dark
    table grid: each control's boundary at least 3:1 against the window."""

    def __init__(self) -> None:
        super().__init__(QStyleFactory.create("Fusion"))

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element in _OUTLINED_PRIMITIVES:
            _outline(option, painter)

    def drawControl(
        self,
        element: QStyle.ControlElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawControl(element, option, painter, widget)
        if element in _OUTLINED_CONTROLS:
            _outline(option, painter)

    def drawComplexControl(
        self,
        control: QStyle.ComplexControl,
        option: QStyleOptionComplex,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawComplexControl(control, option, painter, widget)
        if control in _OUTLINED_COMPLEX:
            _outline(option, painter)
        elif control == QStyle.ComplexControl.CC_ScrollBar and widget is not None:  # handle vs groove
            handle = self.subControlRect(control, option, QStyle.SubControl.SC_ScrollBarSlider, widget)
            _outline(option, painter, handle)

    def styleHint(
        self,
        hint: QStyle.StyleHint,
        option: QStyleOption | None = None,
        widget: QWidget | None = None,
        returnData: QStyleHintReturn | None = None,  # noqa: N803 (Qt's name)
    ) -> int:
        if hint == QStyle.StyleHint.SH_Table_GridLineColor:
            return OUTLINE.rgba() - (1 << 32)  # Qt's signed int holds the 0xAARRGGBB bits
        return super().styleHint(hint, option, widget, returnData)


def _outline(option: QStyleOption, painter: QPainter, rect: QRect | None = None) -> None:
    """A 1 px line just inside *rect* (by default *option*'s), over the style's faint one."""
    rect = rect or option.rect
    if rect.width() < 3 or rect.height() < 3:
        return
    enabled = bool(option.state & QStyle.StateFlag.State_Enabled)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setPen(QPen(OUTLINE if enabled else DISABLED_OUTLINE, 1))
    painter.setBrush(QColor(0, 0, 0, 0))
    box = QRectF(rect).adjusted(0, 0, -1, -1)
    if isinstance(option, QStyleOptionTab) and option.state & QStyle.StateFlag.State_Selected:
        # the current tab opens into its page below: no line under it
        painter.drawPolyline([box.bottomLeft(), box.topLeft(), box.topRight(), box.bottomRight()])
    else:
        painter.drawRect(box)
    painter.restore()

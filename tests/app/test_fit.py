"""The window on a 1024×768 projector: it fits, in every tab, in both languages, with the Python panel
open and at zoom ×2; the log and the hexdump keep their bytes in sight (geometry, not pixels)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QByteArray, QPoint, QRect, QSize
from PySide6.QtGui import QTextLayout
from PySide6.QtWidgets import QApplication, QScrollArea, QSplitter, QTabBar, QWidget

from app import fit
from app.main_window import FRAME_ALLOWANCE, MainWindow
from netcore.model.traffic import Direction, make_chunk
from widgets.hexdump_view import COLUMNS
from widgets.traffic_log import MIN_LOG_ROWS, TrafficView

SCREEN = QSize(1024, 768)
ROOM = SCREEN - FRAME_ALLOWANCE  # what a window manager leaves of the screen
TABS = range(5)
LANGUAGES = ("en", "zh_CN")
DATA_COLUMN = 5


def open_window(qtbot, settings, language: str, zoom: float, dock: bool, tab: int) -> MainWindow:
    """A window as the teacher has it: its language and zoom from the settings, the Python panel
    open (Ctrl+Shift+P) or not, the tab chosen, resized to a 1024×768 screen."""
    settings.setValue("window/language", language)
    settings.setValue("window/zoom", zoom)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    win.code_dock.setVisible(dock)
    win.tabs.setCurrentIndex(tab)
    win.resize(ROOM)
    qtbot.waitUntil(lambda: win.size() == ROOM or win.size() == win.minimumSize().expandedTo(ROOM))
    QApplication.processEvents()
    return win


@pytest.fixture
def reset_zoom():
    """Zoom sets the application's font: put the size back after the test."""
    windows: list[MainWindow] = []
    yield windows
    for win in windows:
        win.presentation.set_zoom(1.0)


def seen(widget: QWidget, top: QWidget) -> QRect:
    """The part of *widget* that is on screen: clipped by every parent (scroll areas) and *top*."""
    rect = QRect(widget.mapTo(top, QPoint(0, 0)), widget.size())
    node = widget.parentWidget()
    while node is not None and node is not top:
        rect = rect.intersected(QRect(node.mapTo(top, QPoint(0, 0)), node.size()))
        node = node.parentWidget()
    return rect.intersected(top.rect())


def shown_views(win: MainWindow) -> list[TrafficView]:
    views = [v for v in win.tabs.currentWidget().findChildren(TrafficView) if v.isVisible()]
    assert views
    return views


def fill(view: TrafficView) -> None:
    """Enough traffic for every hexdump column and a screenful of log rows."""
    chunk = make_chunk(Direction.RECEIVED, b"0123456789abcdef" * 4, 0, 1, "[2001:db8::1]:54321")
    view.add([(chunk, ())] * 12)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("tab", TABS)
@pytest.mark.parametrize(("zoom", "dock"), [(1.0, False), (1.0, True), (2.0, True)])
def test_window_fits_1024x768(qtbot, settings, reset_zoom, language, tab, zoom, dock):
    win = open_window(qtbot, settings, language, zoom, dock, tab)
    reset_zoom.append(win)
    for hint in (win.minimumSizeHint(), win.minimumSize()):
        assert hint.width() <= ROOM.width() and hint.height() <= ROOM.height(), hint
    assert win.size() == ROOM
    assert win.statusBar().geometry().bottom() < win.height()  # the first-step hint is on screen
    if dock:  # the Python panel and its Copy button are in the window
        assert win.code_dock.isVisible()
        copy = win.code_panel.copy_button
        assert win.rect().contains(QRect(copy.mapTo(win, QPoint(0, 0)), copy.size()))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("zoom", "dock", "tab"), [(1.0, False, t) for t in TABS] + [(2.0, True, t) for t in TABS]
)
def test_log_and_hexdump_show_the_bytes(qtbot, settings, reset_zoom, language, tab, zoom, dock):
    win = open_window(qtbot, settings, language, zoom, dock, tab)
    reset_zoom.append(win)
    for view in shown_views(win):
        fill(view)
        QApplication.processEvents()
        log, hexdump = view.log, view.hexdump
        # The log's Data column is shown, inside the log's viewport, at least 10 characters wide.
        assert not log.isColumnHidden(DATA_COLUMN)
        left, width = log.columnViewportPosition(DATA_COLUMN), log.columnWidth(DATA_COLUMN)
        assert left >= 0 and left + width <= log.viewport().width() + 1
        assert width >= 10 * log.fontMetrics().horizontalAdvance("0")
        # The hexdump's ASCII column is inside its viewport, or a scroll bar reaches it.
        right = hexdump.columnViewportPosition(COLUMNS - 1) + hexdump.columnWidth(COLUMNS - 1)
        assert right <= hexdump.viewport().width() or hexdump.horizontalScrollBar().isVisible()
        # The log has room for six rows (when its pane is scrolled to it, at zoom ×2).
        row = log.verticalHeader().defaultSectionSize()
        assert log.viewport().height() >= MIN_LOG_ROWS * row
        assert view.log_model.rowCount() == 12


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("tab", TABS)
def test_every_log_shows_six_rows_without_scrolling(qtbot, settings, language, tab):
    win = open_window(qtbot, settings, language, 1.0, False, tab)
    for view in shown_views(win):
        row = view.log.verticalHeader().defaultSectionSize()
        assert seen(view.log.viewport(), win).height() >= MIN_LOG_ROWS * row


def test_window_opens_inside_the_screen(qtbot, settings):
    settings.setValue("window/geometry", QByteArray())
    win = MainWindow(settings)
    qtbot.addWidget(win)
    available = win.screen().availableGeometry()
    assert available.contains(win.geometry())
    # A geometry saved on a larger screen does not open beyond this one.
    win.setGeometry(QRect(available.topLeft(), available.size() * 2))
    settings.setValue("window/geometry", win.saveGeometry())
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert available.contains(again.geometry())


def test_fitted_geometry():
    screen = QRect(0, 0, 1024, 768)
    assert fit.fitted_geometry(QRect(0, 0, 1280, 800), screen) == screen
    assert fit.fitted_geometry(QRect(900, 700, 400, 300), screen) == QRect(624, 468, 400, 300)
    assert fit.fitted_geometry(QRect(-50, -20, 400, 300), screen) == QRect(0, 0, 400, 300)
    assert fit.fitted_geometry(QRect(10, 20, 400, 300), screen) == QRect(10, 20, 400, 300)


def test_client_and_server_stack_when_narrow(qtbot, settings):
    win = open_window(qtbot, settings, "en", 1.0, False, 0)
    splitter = win.tcp_echo.splitter
    assert splitter.orientation().name == "Horizontal"  # side by side at 1024
    win.code_dock.show()
    win.resizeDocks([win.code_dock], [600], win.tcp_echo.splitter.orientation())
    qtbot.waitUntil(lambda: splitter.orientation().name == "Vertical")


def test_splitter_positions_are_remembered(qtbot, settings):
    win = open_window(qtbot, settings, "en", 1.0, False, 2)
    splitters = [s for s in win.time.findChildren(QSplitter) if s.isVisible()]
    assert len(splitters) >= 3  # client | server, and each pane's own
    for splitter in splitters:
        total = sum(splitter.sizes())
        splitter.moveSplitter(total // 3, 1)
    moved = [s.sizes() for s in splitters]
    win.close()
    again = open_window(qtbot, settings, "en", 1.0, False, 2)
    assert [s.sizes() for s in again.time.findChildren(QSplitter) if s.isVisible()] == moved


def test_saved_zoom_scales_each_font_once(qtbot, settings, reset_zoom):
    base = QApplication.font().pointSizeF()
    win = open_window(qtbot, settings, "en", 2.0, False, 0)
    reset_zoom.append(win)
    for widget in (win.tcp_echo.client.state, win.tcp_echo.client.connect_button, win.tabs.tabBar()):
        assert widget.font().pointSizeF() == pytest.approx(2 * base)


def line_height(text: str, bar: QTabBar) -> float:
    layout = QTextLayout(text, bar.font())
    layout.beginLayout()
    line = layout.createLine()
    layout.endLayout()
    return line.height()


def test_chinese_in_a_tab_label_is_not_clipped(qtbot, settings):
    win = open_window(qtbot, settings, "en", 1.0, False, 4)
    bar = win.tabs.tabBar()
    plain = QTabBar()  # the room a Latin label has above and below its text
    qtbot.addWidget(plain)
    plain.setFont(bar.font())
    plain.addTab("TCP echo")
    padding = plain.tabSizeHint(0).height() - line_height("TCP echo", plain)
    label = win.tabs.tabText(4)
    assert "粘" in label
    assert bar.tabRect(4).height() >= line_height(label, bar) + padding


@pytest.mark.parametrize(("width", "where"), [(ROOM.width(), "on the right"), (560, "below")])
def test_first_step_hint_points_at_the_server_pane(qtbot, settings, width, where):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(width, ROOM.height())
    win.show()
    qtbot.waitUntil(lambda: "Ready" in win.statusBar().currentMessage(), timeout=10000)
    assert where in win.statusBar().currentMessage()
    assert win.statusBar().geometry().bottom() < win.height()


def test_packet_sticking_stacks_at_zoom_2_and_gives_the_results_the_room(qtbot, settings, reset_zoom):
    win = open_window(qtbot, settings, "en", 1.0, False, 4)
    reset_zoom.append(win)
    splitter = next(s for s in win.sticking.findChildren(fit.FlexSplitter) if s.isVisible())
    controls, results = splitter.widget(0), splitter.widget(1)
    assert splitter.orientation().name == "Horizontal"
    assert controls.width() == fit.content_width(controls)  # no sideways scrolling
    assert results.width() == splitter.width() - controls.width() - splitter.handleWidth()  # the rest
    win.code_dock.show()
    win.presentation.set_zoom(2.0)
    qtbot.waitUntil(lambda: splitter.orientation().name == "Vertical", timeout=10000)


def test_a_pane_gets_the_room_there_is_or_its_minimum_not_its_preferred_height(qtbot, settings):
    """A scroll area sized its pane by the preferred height for its width (word-wrapped labels), so
    a pane taller than needed scrolled, or scrolled where it fitted; it gets max(room, minimum)."""
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    for page in (win.udp_echo, win.time, win.tcp_echo):
        win.tabs.setCurrentWidget(page)
        pane = page.client
        area = pane.parentWidget()
        while not isinstance(area, QScrollArea):
            area = area.parentWidget()
        qtbot.waitUntil(pane.isVisible, timeout=5000)
        QApplication.processEvents()
        room, least = area.viewport().height(), pane.minimumSizeHint().height()
        assert pane.height() == max(room, least), type(page).__name__

"""The main window: one tab per tool, a status bar, remembered geometry and settings."""

from __future__ import annotations

import time

from PySide6.QtCore import QByteArray, QRect, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QMessageBox, QTabWidget, QWidget

from app import fit, i18n, tab_order
from app.errors_text import error_summary
from app.file_page import FilePage
from app.panes import ClientServerPage, Page
from app.presentation import Presentation
from app.relay_page import RelayPage
from app.settings import bool_value, float_value, int_value, str_value
from app.sticking_page import StickingPage
from app.tcp_echo_page import TcpEchoPage
from app.time_page import TimePage
from app.udp_echo_page import UdpEchoPage
from netcore import __version__
from netcore.errors import SocketLabError
from widgets import units
from widgets.code_panel import CodePanel
from widgets.plain_text import PlainLabel
from widgets.status_bar import StatusBar

DEFAULT_SIZE = QSize(1280, 800)
FRAME_ALLOWANCE = QSize(16, 40)  # a window manager's borders and title bar, outside the geometry


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self.language = str_value(self.settings, "window/language", i18n.SYSTEM)
        self.translator = i18n.install(self.language)
        self.setWindowTitle(self.tr("Socket Lab"))
        self.setStatusBar(StatusBar(self))
        self.tabs = QTabWidget(self)
        self.tabs.setTabBar(fit.TabBar(self.tabs))
        self.tcp_echo = TcpEchoPage(self)
        self.udp_echo = UdpEchoPage(self)
        self.tabs.addTab(self.tcp_echo, self.tr("TCP echo"))
        self.time = TimePage(self)
        self.tabs.addTab(self.udp_echo, self.tr("UDP echo"))
        self.files = FilePage(self)
        self.sticking = StickingPage(self)
        self.tabs.addTab(self.time, self.tr("Time"))
        self.tabs.addTab(self.files, self.tr("File fetch"))
        self.tabs.addTab(self.sticking, self.tr("Packet sticking 粘包"))
        self.relay = RelayPage(self)
        self.tabs.addTab(self.relay, self.tr("Relay"))
        self.setCentralWidget(self.tabs)
        for page in self.pages():
            fit.scroll_contents(page)  # a page larger than the screen scrolls (e.g. at zoom ×3)
            page.status_message.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self.tabs.currentChanged.connect(self._on_tab_changed)

        file_menu = self.menuBar().addMenu(self.tr("&File"))
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.presentation = Presentation(self)
        view_menu = self.menuBar().addMenu(self.tr("&View"))
        for text, keys, slot in (
            (
                self.tr("Zoom &in"),
                [QKeySequence("Ctrl+="), QKeySequence("Ctrl++")],
                self.presentation.zoom_in,
            ),
            (self.tr("Zoom &out"), [QKeySequence("Ctrl+-")], self.presentation.zoom_out),
            (self.tr("&Reset zoom"), [QKeySequence("Ctrl+0")], lambda: self.presentation.set_zoom(1.0)),
            (self.tr("&Full screen"), [QKeySequence("F11")], self._toggle_full_screen),
        ):
            action = QAction(text, self)
            action.setShortcuts(keys)
            action.triggered.connect(slot)
            view_menu.addAction(action)
        self.code_panel = CodePanel(self)
        self.code_dock = QDockWidget(self.tr("Python equivalent"), self)
        self.code_dock.setObjectName("python-equivalent")
        self.code_dock.setWidget(self.code_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.code_dock)
        self.code_dock.hide()
        self.code_dock.visibilityChanged.connect(self._size_code_dock)
        self._code_dock_sized = False
        code_action = self.code_dock.toggleViewAction()
        code_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        view_menu.addAction(code_action)
        self._code_timer = QTimer(self)
        self._code_timer.timeout.connect(self.update_python_code)
        self._code_timer.start(500)
        self.contrast_action = QAction(self.tr("&High contrast (projector)"), self)
        self.contrast_action.setCheckable(True)
        self.contrast_action.toggled.connect(self.presentation.set_high_contrast)
        view_menu.addAction(self.contrast_action)
        self.language_actions = self._language_menu(view_menu.addMenu(self.tr("&Language")))
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        about = QAction(self.tr("&About Socket Lab"), self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

        self.traffic_label = PlainLabel(self)
        self.statusBar().addPermanentWidget(self.traffic_label)
        self._last_counts: tuple[int, int, float] | None = None
        self._stats_timer = QTimer(self)
        self._stats_timer.timeout.connect(self._update_traffic_label)
        self._stats_timer.start(1000)

        self._load_settings()
        self._hint_shown = False
        self._tab_ordered: list[Page] = []  # pages whose Tab order follows their layout

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._hint_shown:  # once laid out: where the server pane is depends on the room
            self._hint_shown = True
            QTimer.singleShot(0, self._show_first_step)
            QTimer.singleShot(0, self._order_tab_keys)

    def _order_tab_keys(self) -> None:
        """Tab in reading order on the current page, set once it is laid out (the first time shown)."""
        page = self.tabs.currentWidget()
        if isinstance(page, Page) and page not in self._tab_ordered:
            self._tab_ordered.append(page)
            tab_order.follow_reading_order(list(page.panes()))

    def _show_first_step(self) -> None:
        """The first step, pointing at the server pane: on the right, or below when stacked."""
        page = self.tabs.currentWidget()
        if self.statusBar().currentMessage():
            return
        if isinstance(page, ClientServerPage) and page.splitter.orientation() == Qt.Orientation.Vertical:
            text = self.tr("Ready. Start the server below, then connect the client.")
        else:
            text = self.tr("Ready. Start the server on the right, then connect the client.")
        self.statusBar().showMessage(text)

    def _size_code_dock(self, visible: bool) -> None:
        """The Python panel opens at a third of the window (then as the user leaves it), not at
        the width of its longest line."""
        if visible and not self._code_dock_sized:
            self._code_dock_sized = True
            width = max(self.code_dock.minimumSizeHint().width(), self.width() // 3)
            self.resizeDocks([self.code_dock], [width], Qt.Orientation.Horizontal)

    def _language_menu(self, menu: QMenu) -> dict[str, QAction]:
        """Follow the system, or one of the languages (each named in itself); one is checked."""
        group = QActionGroup(self)
        actions: dict[str, QAction] = {}
        for choice, name in ((i18n.SYSTEM, self.tr("Follow the &system")), *i18n.LANGUAGES.items()):
            action = QAction(name, group)
            action.setCheckable(True)
            action.setChecked(choice == self.language)
            action.triggered.connect(lambda _checked=False, choice=choice: self.set_language(choice))
            menu.addAction(action)
            actions[choice] = action
        menu.insertSeparator(actions[i18n.ENGLISH])
        return actions

    def set_language(self, choice: str) -> None:
        """Show every text in *choice* ("system", "en" or "zh_CN") from now on, and remember it."""
        self.language = choice
        i18n.switch(self.translator, choice, [self])
        message = self.translator.again(self.statusBar().currentMessage())
        if message is not None:
            self.statusBar().showMessage(message, 15000)
        self.language_actions[choice].setChecked(True)
        self.settings.setValue("window/language", choice)

    def update_python_code(self) -> None:
        """Show the current tab's Python equivalent (while the panel is open)."""
        if not self.code_dock.isVisible():
            return
        page = self.tabs.currentWidget()
        if not isinstance(page, Page):
            return
        try:
            code = page.python_code()
        except SocketLabError as exc:
            code = "# " + self.tr("Complete the settings first: {0}").format(error_summary(exc)) + "\n"
        self.code_panel.set_code(code)

    def _on_tab_changed(self, _index: int) -> None:
        """A message belongs to the tab that showed it; the traffic figures are the new tab's."""
        self.statusBar().clearMessage()
        if self.isVisible():
            QTimer.singleShot(0, self._order_tab_keys)
        self._last_counts = None
        self._update_traffic_label()

    def _update_traffic_label(self) -> None:
        """Local and peer address, bytes in/out and rate of the current tab's running connection."""
        page = self.tabs.currentWidget()
        pane = page.active_pane() if isinstance(page, Page) else None
        total = 0 if pane is None else pane.bytes_in + pane.bytes_out
        if pane is None or not (pane.endpoints or total):
            self.traffic_label.clear()
            self._last_counts = None
            return
        now = time.monotonic()
        rate = 0.0
        if self._last_counts is not None and self._last_counts[2] < now:
            rate = max(0, total - self._last_counts[0] - self._last_counts[1]) / (now - self._last_counts[2])
        self._last_counts = (pane.bytes_in, pane.bytes_out, now)
        self.traffic_label.setText(
            self.tr("{0}  ↓ {1}  ↑ {2}  {3}").format(
                pane.endpoints, units.size(pane.bytes_in), units.size(pane.bytes_out), units.rate(rate)
            )
        )

    def _toggle_full_screen(self) -> None:
        self.setWindowState(self.windowState() ^ Qt.WindowState.WindowFullScreen)

    def pages(self) -> list[Page]:
        return [self.tcp_echo, self.udp_echo, self.time, self.files, self.sticking, self.relay]

    def _about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About Socket Lab"),
            self.tr(
                "Socket Lab {0}\nSee every byte, every send()/recv() chunk and every message boundary."
            ).format(__version__),
        )

    def _place(self) -> None:
        """Open where the window was, if that fits the screen now; else as large as the screen's
        free area allows, up to the default size (a 1024×768 projector gets all of it)."""
        room = self.screen().availableGeometry()
        room.adjust(0, 0, -FRAME_ALLOWANCE.width(), -FRAME_ALLOWANCE.height())
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and self.restoreGeometry(geometry):
            if room.contains(self.geometry()) or self.isMaximized() or self.isFullScreen():
                return
            self.setWindowState(Qt.WindowState.WindowNoState)
        self.setGeometry(fit.fitted_geometry(QRect(room.topLeft(), DEFAULT_SIZE), room))

    def _load_settings(self) -> None:
        self._place()
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray) and self.restoreState(state):
            self._code_dock_sized = True  # where the user left it
        self.tabs.setCurrentIndex(int_value(self.settings, "window/tab", 0))
        self.presentation.set_zoom(float_value(self.settings, "window/zoom", 1.0))
        self.contrast_action.setChecked(bool_value(self.settings, "window/high_contrast", False))
        for page in self.pages():
            page.load_settings(self.settings)
        fit.restore_splitters(self, self.settings)

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/tab", self.tabs.currentIndex())
        self.settings.setValue("window/zoom", self.presentation.zoom)
        self.settings.setValue("window/high_contrast", self.presentation.high_contrast)
        for page in self.pages():
            page.save_settings(self.settings)
        fit.save_splitters(self, self.settings)
        self.settings.sync()

    def shutdown(self) -> None:
        """Stop every worker and wait for it (no QThread is left running): all are asked first, so
        they stop side by side."""
        for page in self.pages():
            page.stop()
        for page in self.pages():
            page.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)

"""What every tab's panes share: running one engine in a worker, its state line, its traffic view,
and the built-in echo server pane used by the TCP and UDP tabs."""

from __future__ import annotations

import socket
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import i18n
from app.connect_to_me import ConnectToMe
from app.errors_text import error_text
from app.fit import FlexSplitter, scroll_area
from app.settings import bool_value, int_value, str_value
from app.workers import Batch, EngineRunner
from netcore.engines import serving
from netcore.engines.serving import ReplyMode, ServerEngine
from netcore.engines.tcp_echo import TcpEchoServer
from netcore.engines.udp_echo import UdpEchoServer
from netcore.errors import SocketLabError
from netcore.io import platform
from netcore.io.loop import Engine
from netcore.model.events import (
    Closed,
    CloseReason,
    Connected,
    Event,
    Failed,
    FramesDecoded,
    Listening,
    PeerShutdown,
    Stopped,
    Traffic,
    WriteShutdown,
)
from netcore.model.traffic import Chunk, Direction, Mark, make_mark
from netcore.present import pycode
from netcore.protocols.address import Address
from netcore.protocols.framing import Frame
from netcore.protocols.payload import parse_payload
from widgets import style
from widgets.connection_table import ConnectionTable
from widgets.inputs import AddressEdit, PayloadEdit
from widgets.plain_text import PlainLabel
from widgets.saved_messages import SavedMessagesButton
from widgets.state_line import StateLine
from widgets.traffic_log import TrafficView

DEFAULT_PORT = 9000

# Shared panes translate with one fixed context ("Panes"): ``self.tr`` in a base class would look
# the text up under each subclass's name, where the translation file does not have it.


def labelled_row(parent: QWidget, *items: str | QWidget, stretch: bool = True) -> QHBoxLayout:
    """A row of widgets in which each (already translated) string becomes a QLabel before the next."""
    row = QHBoxLayout()
    for item in items:
        row.addWidget(PlainLabel(item, parent) if isinstance(item, str) else item)
    if stretch:
        row.addStretch(1)
    return row


class EnginePane(QGroupBox):
    """A pane that runs one engine at a time in a QThread and shows its traffic and state."""

    status_message = Signal(str)
    translation_context = "Panes"  # the texts of these shared base classes (see above)
    connection_rows = False  # connection events (connect, FIN, reset, close) as rows of the log

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.runner: EngineRunner | None = None
        self.state = StateLine(2, self)  # two lines, always: a longer error never moves the controls
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view = TrafficView(self)
        self.clear_button = QPushButton(QCoreApplication.translate("Panes", "Clear log"), self)
        self.clear_button.setToolTip(
            QCoreApplication.translate("Panes", "Forget the traffic shown in this pane")
        )
        self.clear_button.clicked.connect(self.view.clear)
        self.bytes_in = self.bytes_out = 0  # this pane's traffic since it started (for the status bar)
        self.endpoints = ""
        self._peers: dict[int, str] = {}  # conn → peer, for the log rows of connection events
        self.shut_down = False  # the window has closed: start nothing more (e.g. on a late event)
        self._error: SocketLabError | None = None  # the error on show, to translate again
        self._showing_error = False
        self._base: str | Callable[[], str] = ""  # the state an error covers, back when it is over

    def start_engine(self, engine: Engine) -> None:
        self.view.store.begin_session()  # its connection ids start again: frames stay with their bytes
        self.runner = EngineRunner(engine, self._on_batch, self)
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.start()

    def stop(self) -> None:
        """Ask the engine to stop (returns at once)."""
        if self.runner is not None:
            self.runner.stop()

    def shutdown(self) -> None:
        """Stop the engine and wait for its thread (the window is closing)."""
        self.shut_down = True
        if self.runner is not None:
            self.runner.stop_and_wait()

    def set_state(self, text: str | Callable[[], str], error: bool = False) -> None:
        """Show *text* (or what *text()* renders, again at each language change) on the state line;
        a state that is not an error is the one ``clear_error`` comes back to."""
        if error != self.state.property("error"):  # restyling is slow: only when it changes
            self.state.setProperty("error", error)
            self.state.setStyleSheet(f"color: {style.ERROR_FG.name()};" if error else "")
        self.state.setText(text if isinstance(text, str) else text())
        self._error = None
        self._showing_error = error
        if not error:
            self._base = text

    def show_error(self, error: SocketLabError) -> None:
        text = error_text(error)
        self.set_state(text, error=True)
        self._error = error
        self.status_message.emit(text)

    def clear_error(self) -> None:
        """An action has succeeded: an error still on show is over; show the state it covered."""
        if self._showing_error:
            base = self._base
            self.set_state(base if callable(base) else i18n.in_current_language(base))

    def changeEvent(self, event: QEvent) -> None:
        """Show the current error, or a rendered state, in the new language when it changes."""
        if event.type() == QEvent.Type.LanguageChange:
            if self._error is not None:
                error = self._error
                self.set_state(error_text(error), error=True)
                self._error = error
            elif not self._showing_error and callable(self._base):
                self.set_state(self._base)
        super().changeEvent(event)

    def connection_mark(self, event: Event) -> Chunk | None:
        """The log row for a connection event, for panes with ``connection_rows`` (TCP)."""
        if isinstance(event, Connected):
            self._peers[event.conn] = event.peer
            return make_mark(Mark.CONNECT, Direction.SENT, event.conn, event.peer)
        if isinstance(event, WriteShutdown):
            return make_mark(Mark.FIN_SENT, Direction.SENT, event.conn, self._peers.get(event.conn, ""))
        if isinstance(event, PeerShutdown):
            return make_mark(
                Mark.FIN_RECEIVED, Direction.RECEIVED, event.conn, self._peers.get(event.conn, "")
            )
        if isinstance(event, Closed) and event.reason in _CLOSE_MARKS:
            self._peers.pop(event.conn, None)
            mark, direction = _CLOSE_MARKS[event.reason]
            return make_mark(mark, direction, event.conn, event.peer)
        return None

    def _on_batch(self, batch: Batch) -> None:
        items: list[tuple[Chunk, tuple[Frame, ...]]] = []
        for e in batch.events:
            if isinstance(e, Traffic):
                items.append((e.chunk, e.frames))
            elif self.connection_rows and (mark := self.connection_mark(e)) is not None:
                items.append((mark, ()))
        for chunk, _ in items:
            if chunk.direction is Direction.SENT:
                self.bytes_out += len(chunk.data)
            else:
                self.bytes_in += len(chunk.data)
        # Dropped from the view, but they did cross the socket.
        self.bytes_out += batch.dropped_sent_bytes
        self.bytes_in += batch.dropped_bytes - batch.dropped_sent_bytes
        self.view.add(items, batch.dropped_chunks, batch.dropped_bytes)
        for event in batch.events:
            if isinstance(event, FramesDecoded):
                self.view.add_frames(event.conn, event.direction, event.frames)
            elif isinstance(event, Connected):
                self.endpoints = f"{event.local} ⇄ {event.peer}"
            self.handle_event(event)

    def handle_event(self, event: Event) -> None:
        """React to one engine event (the traffic itself is already in the view)."""
        if isinstance(event, Failed):
            self.show_error(event.error)

    def _on_runner_finished(self) -> None:
        if self.runner is not None:
            self.runner.deleteLater()  # its thread has been waited for
        self.runner = None
        self.engine_finished()

    def engine_finished(self) -> None:
        """The engine's thread has ended; reset the controls."""


_CLOSE_MARKS = {
    CloseReason.PEER_CLOSED: (Mark.CLOSED_BY_PEER, Direction.RECEIVED),
    CloseReason.LOCAL: (Mark.CLOSED_HERE, Direction.SENT),
    CloseReason.RESET: (Mark.RESET, Direction.RECEIVED),
    CloseReason.ERROR: (Mark.ERROR, Direction.RECEIVED),
}


class ServerPane(EnginePane):
    """A built-in server: where to listen, Start/Stop, its state and traffic.

    Subclasses add option rows (``form``, ``options``), widgets under the state line (``extras``),
    and build the engine in ``make_server``.
    """

    listening = Signal(str, int)
    settings_group = ""
    default_port = DEFAULT_PORT

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(QCoreApplication.translate("Panes", "Server"), parent)
        self.server: ServerEngine | None = None
        self.address = AddressEdit("127.0.0.1", self.default_port, self)
        self.address.host.setToolTip(
            QCoreApplication.translate(
                "Panes",
                "127.0.0.1 = this machine only; 0.0.0.0 = every IPv4 interface; "
                ":: = every interface, IPv6 and IPv4",
            )
        )
        self.reuse = QCheckBox(QCoreApplication.translate("Panes", "SO_REUSEADDR"), self)
        self.reuse.setChecked(True)
        if platform.WINDOWS:  # SO_REUSEADDR would let another program take the port there
            self.reuse.setEnabled(False)
            self.reuse.setToolTip(
                QCoreApplication.translate(
                    "Panes",
                    "Not used on Windows: there a new listener is never blocked by old connections in "
                    "TIME_WAIT, and SO_REUSEADDR would let another program take the port. Socket Lab "
                    "sets SO_EXCLUSIVEADDRUSE instead, so no other program can.",
                )
            )
        else:
            self.reuse.setToolTip(
                QCoreApplication.translate(
                    "Panes",
                    "Allow listening again at once while old connections are in TIME_WAIT "
                    "(untick it to see the 'address already in use' lesson)",
                )
            )
        self.start_button = QPushButton(QCoreApplication.translate("Panes", "S&tart server"), self)
        self.connect_to_me = ConnectToMe(self)  # shown while listening on 0.0.0.0 or ::
        self.form = QFormLayout()
        self.form.addRow(QCoreApplication.translate("Panes", "Listen on"), self.address)
        self.options = QHBoxLayout()
        self.extras = QVBoxLayout()
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addLayout(buttons)
        layout.addWidget(self.state)
        layout.addWidget(self.connect_to_me)
        layout.addLayout(self.extras)
        # The connections in a tab beside the log: they never widen the pane nor take the log's height.
        self.connections = ConnectionTable(self)
        self.connections.selected.connect(self._on_connection_chosen)
        self.body = QTabWidget(self)
        self.body.addTab(self.view, "")
        self.body.addTab(self.connections, "")
        self.connections.table.doubleClicked.connect(lambda: self.body.setCurrentWidget(self.view))
        self.connections.counted.connect(self._name_tabs)
        self._name_tabs()
        layout.addWidget(self.body, 1)
        self.build()
        self.form.addRow(self.options)
        self.options.addWidget(self.reuse)
        self.start_button.clicked.connect(self.toggle_server)
        self.set_state(QCoreApplication.translate("Panes", "Stopped"))
        self._set_running(False)

    # -- for subclasses -------------------------------------------------------------------------
    def build(self) -> None:
        """Add this server's option widgets to ``self.form`` / ``self.options`` / ``self.extras``."""

    def make_server(self, addr: Address) -> ServerEngine:
        raise NotImplementedError

    def option_widgets(self) -> list[QWidget]:
        """Widgets that cannot change while the server runs."""
        return [self.address] if platform.WINDOWS else [self.address, self.reuse]

    def one_liner(self, host: str, port: int) -> str:
        """The command a student types to ask this server at host:port ("connect to me"): an echo
        server's by default."""
        udp = self.server is not None and self.server.socket_kind == socket.SOCK_DGRAM
        return pycode.connect_one_liner(host, port, udp)

    # -- actions --------------------------------------------------------------------------------
    def toggle_server(self) -> None:
        if self.runner is not None:
            self.start_button.setEnabled(False)
            self.runner.stop()
            return
        server: ServerEngine | None = None
        try:
            server = self.make_server(self.address.address())
            server.bind()  # in the GUI thread: errors such as address-in-use show at once
        except SocketLabError as exc:
            if server is not None:
                server.discard()
            self.show_error(exc)
            return
        self.server = server
        self.start_engine(server)
        self._set_running(True)

    # -- events ---------------------------------------------------------------------------------
    def connection_mark(self, event: Event) -> Chunk | None:
        mark = super().connection_mark(event)
        if isinstance(event, Connected) and mark is not None:  # a client came: accept(), not connect()
            return mark._replace(mark=Mark.ACCEPT, direction=Direction.RECEIVED)
        return mark

    def handle_event(self, event: Event) -> None:
        if isinstance(event, Listening):
            self.set_state(QCoreApplication.translate("Panes", "Listening on {0}").format(event.address))
            self.status_message.emit(self.state.text())
            self.listening.emit(event.host, event.port)
            udp = self.server is not None and self.server.socket_kind == socket.SOCK_DGRAM
            self.connect_to_me.show_listening(event.host, event.port, udp, self.one_liner)
        elif isinstance(event, Stopped):
            self.set_state(QCoreApplication.translate("Panes", "Stopped"))
        else:
            super().handle_event(event)

    def engine_finished(self) -> None:
        self.server = None
        self.connect_to_me.stopped()
        self._set_running(False)

    def _name_tabs(self) -> None:
        book = self.connections.model.book
        self.body.setTabText(0, QCoreApplication.translate("Panes", "Traffic"))
        self.body.setTabText(
            1, QCoreApplication.translate("Panes", "Connections ({0:,} open)").format(book.open_count)
        )

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._name_tabs()
        super().changeEvent(event)

    def _on_connection_chosen(self, conn: int) -> None:
        """A row of the table was chosen (-1: none): show its traffic alone."""
        self.view.show_only(None if conn < 0 else conn)

    def _on_batch(self, batch: Batch) -> None:
        self.connections.apply(batch.events)
        super()._on_batch(batch)

    def _set_running(self, running: bool) -> None:
        if running:
            self.connections.clear()
        self.start_button.setEnabled(True)
        self.start_button.setText(
            QCoreApplication.translate("Panes", "S&top server")
            if running
            else QCoreApplication.translate("Panes", "S&tart server")
        )
        for widget in self.option_widgets():
            widget.setEnabled(not running)

    # -- settings -------------------------------------------------------------------------------
    def save_settings(self, settings: QSettings) -> None:
        group = self.settings_group
        settings.setValue(f"{group}/host", self.address.host.text())
        settings.setValue(f"{group}/port", self.address.port.value())
        settings.setValue(f"{group}/reuse", self.reuse.isChecked())

    def load_settings(self, settings: QSettings) -> None:
        group = self.settings_group
        self.connect_to_me.settings = settings  # remembers that its warning was shown
        self.address.set_address(
            str_value(settings, f"{group}/host", "127.0.0.1"),
            int_value(settings, f"{group}/port", self.default_port),
        )
        self.reuse.setChecked(bool_value(settings, f"{group}/reuse", True))


class EchoServerPane(ServerPane):
    """A built-in echo server: echo / UPPER / prefix / manual reply (chat) to a chosen peer.

    Subclasses add their transport's options (``add_options``) and build the engine (``make_echo_server``).
    """

    server: TcpEchoServer | UdpEchoServer | None

    def build(self) -> None:
        self.mode = QComboBox(self)
        for mode, label in (
            (ReplyMode.ECHO, QCoreApplication.translate("Panes", "Echo")),
            (ReplyMode.UPPER, QCoreApplication.translate("Panes", "UPPER case")),
            (ReplyMode.PREFIX, QCoreApplication.translate("Panes", "Prefix")),
            (ReplyMode.MANUAL, QCoreApplication.translate("Panes", "Manual reply (chat)")),
        ):
            self.mode.addItem(label, mode.value)
        self.prefix = QLineEdit("echo: ", self)
        self.prefix.setToolTip(
            QCoreApplication.translate("Panes", "Text put before each reply in Prefix mode")
        )
        self.clients = QComboBox(self)
        self.forgotten = 0  # peers the server forgot to stay within its bound (UDP)
        self._show_forgotten()
        self.reply = PayloadEdit("", self)
        self.reply_button = QPushButton(QCoreApplication.translate("Panes", "Send &reply"), self)
        self.reply_button.setToolTip(
            QCoreApplication.translate("Panes", "Send the message to the peer chosen above or in the table")
        )
        self.send_all_button = QPushButton(QCoreApplication.translate("Panes", "Send to &all"), self)
        self.send_all_button.setToolTip(
            QCoreApplication.translate("Panes", "Send the message to every connected peer")
        )
        self.saved = SavedMessagesButton(self.reply, f"{self.settings_group}/reply", self)
        reply_options = QHBoxLayout()
        reply_options.addWidget(PlainLabel(QCoreApplication.translate("Panes", "Reply"), self))
        reply_options.addWidget(self.mode)
        reply_options.addWidget(self.prefix, 1)
        self.form.addRow(reply_options)
        self.manual_row = QHBoxLayout()
        self.manual_row.addWidget(PlainLabel(QCoreApplication.translate("Panes", "Peer"), self))
        self.manual_row.addWidget(self.clients, 1)
        reply_row = QHBoxLayout()
        reply_row.addWidget(self.reply, 1)
        reply_buttons = self.saved.column_with(self.reply_button)
        reply_buttons.insertWidget(1, self.send_all_button)
        reply_row.addLayout(reply_buttons)
        self.extras.addLayout(self.manual_row)
        self.extras.addLayout(reply_row)
        self.add_options()
        self.reply_button.clicked.connect(self.send_reply)
        self.send_all_button.clicked.connect(self.send_to_all)
        self.clients.activated.connect(self._on_peer_chosen)
        self.reply.submitted.connect(self.send_reply)
        self.saved.send_requested.connect(self.send_reply)
        self.mode.currentIndexChanged.connect(self._apply_live_options)
        self.prefix.textChanged.connect(self._apply_live_options)

    # -- for subclasses -------------------------------------------------------------------------
    def add_options(self) -> None:
        """Add transport-specific option widgets to ``self.options``."""

    def make_echo_server(self, addr: Address, prefix: bytes) -> TcpEchoServer | UdpEchoServer:
        raise NotImplementedError

    def check_reply(self, data: bytes) -> None:
        """Raise ``SocketLabError`` if *data* cannot be sent as a reply (e.g. framing)."""

    def make_server(self, addr: Address) -> ServerEngine:
        return self.make_echo_server(addr, self._prefix_bytes())

    # -- actions --------------------------------------------------------------------------------
    def current_mode(self) -> ReplyMode:
        return ReplyMode(self.mode.currentData())

    def send_reply(self) -> None:
        conn = self.clients.currentData()
        data = self._reply_to_send(conn is not None)
        if data is not None and self.server is not None:
            self.server.send_to(int(conn), data)

    def send_to_all(self) -> None:
        """Send the reply box's message to every peer the server has now."""
        data = self._reply_to_send(bool(self.connections.model.book.open_count))
        if data is not None and self.server is not None:
            self.server.send_to_all(data)

    def _reply_to_send(self, have_peer: bool) -> bytes | None:
        """The reply box's message, checked, or None with the reason on show. A message that goes
        out clears an error on show and is kept in the box's history."""
        if self.server is None or not have_peer:
            self.set_state(QCoreApplication.translate("Panes", "No peer to reply to yet."), error=True)
            return None
        try:
            data = self.reply.payload()
            self.check_reply(data)
        except SocketLabError as exc:
            self.show_error(exc)
            return None
        self.clear_error()
        self.saved.record()
        return data

    def _on_connection_chosen(self, conn: int) -> None:
        """A row of the table was chosen (-1: none): its traffic alone, and the peer to reply to."""
        super()._on_connection_chosen(conn)
        index = self.clients.findData(conn)
        if index >= 0:
            self.clients.setCurrentIndex(index)

    def _on_peer_chosen(self, index: int) -> None:
        """The user chose a peer in the combo: the table follows when a row is already chosen there."""
        conn = self.clients.itemData(index)
        if conn is not None and self.connections.current() not in (None, conn):
            self.connections.select(int(conn))

    def _prefix_bytes(self) -> bytes:
        return parse_payload(self.prefix.text(), "text")

    def _apply_live_options(self) -> None:
        """Mode and prefix may change while the server runs (the engine reads them per message)."""
        self._update_mode_widgets()
        server = self.server
        if server is None:
            return
        try:
            prefix = self._prefix_bytes()
        except SocketLabError as exc:
            self.show_error(exc)
            return
        self.clear_error()
        server.call_soon(partial(setattr, server, "mode", self.current_mode()))
        server.call_soon(partial(setattr, server, "prefix", prefix))

    def _update_mode_widgets(self) -> None:
        manual = self.current_mode() is ReplyMode.MANUAL
        self.prefix.setEnabled(self.current_mode() is ReplyMode.PREFIX)
        self.reply.setEnabled(manual)
        self.reply_button.setEnabled(manual and self.runner is not None)
        self.send_all_button.setEnabled(manual and self.runner is not None)

    # -- events ---------------------------------------------------------------------------------
    def handle_event(self, event: Event) -> None:
        if isinstance(event, Connected):
            self.clients.addItem(f"#{event.conn} {event.peer}", event.conn)
            self.clients.setCurrentIndex(self.clients.count() - 1)
            self.clear_error()  # e.g. an earlier client's reset: the server is fine
        elif isinstance(event, Closed):
            index = self.clients.findData(event.conn)
            if index >= 0:
                self.clients.removeItem(index)
            if event.reason is CloseReason.FORGOTTEN:
                self.forgotten += 1
                self._show_forgotten()
            if event.error is not None:
                self.show_error(event.error)
        else:
            super().handle_event(event)

    def engine_finished(self) -> None:
        self.clients.clear()
        super().engine_finished()

    def _show_forgotten(self) -> None:
        tip = QCoreApplication.translate("Panes", "Peers seen so far: manual replies go to the chosen one")
        if self.forgotten:
            tip += "\n" + QCoreApplication.translate(
                "Panes", "{0:,} peers forgotten: the server keeps the {1:,} it heard from most recently"
            ).format(self.forgotten, serving.MAX_PEERS)
        self.clients.setToolTip(tip)

    def _set_running(self, running: bool) -> None:
        super()._set_running(running)
        if running and self.forgotten:
            self.forgotten = 0
            self._show_forgotten()
        self._update_mode_widgets()

    # -- settings -------------------------------------------------------------------------------
    def save_settings(self, settings: QSettings) -> None:
        super().save_settings(settings)
        settings.setValue(f"{self.settings_group}/mode", self.mode.currentData())
        settings.setValue(f"{self.settings_group}/prefix", self.prefix.text())

    def load_settings(self, settings: QSettings) -> None:
        super().load_settings(settings)
        group = self.settings_group
        self.mode.setCurrentIndex(max(0, self.mode.findData(str_value(settings, f"{group}/mode", "echo"))))
        self.prefix.setText(str_value(settings, f"{group}/prefix", "echo: "))


class ClientPane(EnginePane):
    """A client pane: ``self.address`` says where to go; subclasses build the rest."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(QCoreApplication.translate("Panes", "Client"), parent)
        self.address = AddressEdit("127.0.0.1", DEFAULT_PORT, self)

    def save_settings(self, settings: QSettings) -> None:
        raise NotImplementedError

    def load_settings(self, settings: QSettings) -> None:
        raise NotImplementedError


class Page(QWidget):
    """One tab of the main window: it can be stopped, joined, and remembers its settings."""

    status_message = Signal(str)

    def python_code(self) -> str:
        """The standard-library script that does what this tab's settings do."""
        return "# no Python equivalent for this tab\n"

    def active_pane(self) -> EnginePane | None:
        """The pane the status bar reports on: the first one that is running."""
        return next((p for p in self.panes() if p.runner is not None), None)

    def panes(self) -> list[EnginePane]:
        raise NotImplementedError

    def stop(self) -> None:
        for pane in self.panes():
            pane.stop()

    def shutdown(self) -> None:
        for pane in self.panes():
            pane.shutdown()

    def save_settings(self, settings: QSettings) -> None:
        """Remember this tab's choices."""

    def load_settings(self, settings: QSettings) -> None:
        """Restore this tab's choices."""


class ClientServerPage(Page):
    """A tab with a client pane on the left and its built-in server pane on the right."""

    def __init__(self, client: ClientPane, server: ServerPane, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client, self.server = client, server
        client.setParent(self)
        server.setParent(self)
        # Side by side when both fit, else one above the other; each pane scrolls when it must.
        self.splitter = FlexSplitter(self)
        self.splitter.addWidget(scroll_area(client, self.splitter))
        self.splitter.addWidget(scroll_area(server, self.splitter))
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        client.status_message.connect(self.status_message)
        server.status_message.connect(self.status_message)
        server.listening.connect(self._point_client_at_server)

    def _point_client_at_server(self, host: str, port: int) -> None:
        """When our server starts, aim the idle client at it (port 0 becomes the real port)."""
        if self.client.runner is None:
            wildcard = {"0.0.0.0": "127.0.0.1", "::": "::1"}
            self.client.address.set_address(wildcard.get(host, host), port)

    def panes(self) -> list[EnginePane]:
        return [self.client, self.server]

    def save_settings(self, settings: QSettings) -> None:
        self.client.save_settings(settings)
        self.server.save_settings(settings)

    def load_settings(self, settings: QSettings) -> None:
        self.client.load_settings(settings)
        self.server.load_settings(settings)

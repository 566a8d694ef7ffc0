"""The TCP echo tab: a client pane and a built-in multi-client echo server pane."""

from __future__ import annotations

import statistics
from functools import partial

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.errors_text import error_text
from app.settings import bool_value, int_value, str_value
from app.workers import Batch, EngineRunner
from netcore.errors import SocketLabError
from netcore.events import (
    Answered,
    Closed,
    CloseReason,
    Connected,
    Failed,
    Listening,
    Stopped,
    Traffic,
    WriteShutdown,
)
from netcore.framing import FRAMING_CHOICES, make_codec
from netcore.payload import parse_payload
from netcore.serving import ReplyMode
from netcore.tcp_echo import TcpEchoClient, TcpEchoServer
from widgets import style
from widgets.inputs import AddressEdit, PayloadEdit
from widgets.traffic_log import TrafficView

DEFAULT_PORT = 9000


def framing_combo(parent: QWidget) -> QComboBox:
    """Editable framing chooser: the common specs, or type delim:HEX / fixed:N / length2le ..."""
    combo = QComboBox(parent)
    combo.setEditable(True)
    combo.addItems(list(FRAMING_CHOICES))
    combo.setToolTip(
        parent.tr(
            "How messages are delimited on the byte stream: raw (none), line (\\n), crlf, "
            "length1/2/4/8[le][s] (length prefix), json (4-byte length + JSON header + "
            "body), fixed:N, delim:HEX"
        )
    )
    return combo


def set_status(label: QLabel, text: str, error: bool = False) -> None:
    label.setStyleSheet(f"color: {style.ERROR_FG.name()};" if error else "")
    label.setText(text)


def traffic_items(batch: Batch) -> list[tuple[object, tuple[object, ...]]]:
    return [(e.chunk, e.frames) for e in batch.events if isinstance(e, Traffic)]


class ClientPane(QGroupBox):
    """Connect, send text/hex with optional framing, see replies and their round-trip times."""

    status_message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Client"))
        self.runner: EngineRunner | None = None
        self.client: TcpEchoClient | None = None
        self.rtts: list[float] = []

        self.address = AddressEdit("127.0.0.1", DEFAULT_PORT, self)
        self.timeout = QDoubleSpinBox(self)
        self.timeout.setRange(0.1, 120)
        self.timeout.setValue(5)
        self.timeout.setSuffix(self.tr(" s"))
        self.timeout.setToolTip(self.tr("Connect timeout"))
        self.nodelay = QCheckBox(self.tr("TCP_NODELAY"), self)
        self.nodelay.setToolTip(self.tr("Turn off Nagle's algorithm: small sends go out at once"))
        self.framing = framing_combo(self)
        self.connect_button = QPushButton(self.tr("&Connect"), self)
        self.half_close_button = QPushButton(self.tr("&Half close"), self)
        self.half_close_button.setToolTip(
            self.tr(
                'shutdown(SHUT_WR): send FIN, keep receiving until the server closes (its recv() returns b"")'
            )
        )
        self.payload = PayloadEdit("Hello, Socket Lab!", self)
        self.send_button = QPushButton(self.tr("&Send"), self)
        self.send_button.setToolTip(self.tr("Send the message (Ctrl+Enter in the message box)"))
        self.clear_button = QPushButton(self.tr("Clear log"), self)
        self.state = QLabel(self.tr("Not connected"), self)
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.rtt = QLabel(self)
        self.view = TrafficView(self)

        form = QFormLayout()
        form.addRow(self.tr("Server"), self.address)
        options = QHBoxLayout()
        options.addWidget(QLabel(self.tr("Framing"), self))
        options.addWidget(self.framing, 1)
        options.addWidget(QLabel(self.tr("Timeout"), self))
        options.addWidget(self.timeout)
        options.addWidget(self.nodelay)
        form.addRow(options)
        buttons = QHBoxLayout()
        buttons.addWidget(self.connect_button)
        buttons.addWidget(self.half_close_button)
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        send_row = QHBoxLayout()
        send_row.addWidget(self.payload, 1)
        send_row.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.state)
        layout.addLayout(send_row)
        layout.addWidget(self.rtt)
        layout.addWidget(self.view, 1)

        self.connect_button.clicked.connect(self.toggle_connection)
        self.half_close_button.clicked.connect(self.half_close)
        self.send_button.clicked.connect(self.send)
        self.payload.submitted.connect(self.send)
        self.payload.encoding.currentIndexChanged.connect(
            lambda: self.view.set_encoding(self.payload.current_encoding())
        )
        self.clear_button.clicked.connect(self.view.clear)
        self._set_connected(False)

    # -- actions --------------------------------------------------------------------------------
    def toggle_connection(self) -> None:
        if self.runner is not None:
            self.runner.stop()
            return
        try:
            addr = self.address.address()
            client = TcpEchoClient(
                addr.host,
                addr.port,
                self.framing.currentText(),
                self.timeout.value(),
                self.nodelay.isChecked(),
            )
        except SocketLabError as exc:
            self._error(exc)
            return
        self.client = client
        self.rtts.clear()
        self.rtt.clear()
        self.runner = EngineRunner(client, self._on_batch, self)
        self.runner.finished.connect(self._on_finished)
        self.connect_button.setText(self.tr("Cancel"))
        set_status(self.state, self.tr("Connecting to {0}…").format(addr))
        self._set_inputs_enabled(False)
        self.runner.start()

    def send(self) -> None:
        if self.client is None or not self.send_button.isEnabled():
            return
        try:
            data = self.payload.payload()
            make_codec(self.framing.currentText()).encode(data)
        except SocketLabError as exc:
            self._error(exc)
            return
        self.client.submit(data)

    def half_close(self) -> None:
        if self.client is not None:
            self.client.submit_shutdown_write()

    def shutdown(self) -> None:
        """Stop the connection and wait for its thread (window closing)."""
        if self.runner is not None:
            self.runner.stop_and_wait()

    # -- events ---------------------------------------------------------------------------------
    def _on_batch(self, batch: Batch) -> None:
        self.view.add(traffic_items(batch), batch.dropped_chunks, batch.dropped_bytes)  # type: ignore[arg-type]
        for event in batch.events:
            if isinstance(event, Connected):
                self._set_connected(True)
                set_status(self.state, self.tr("Connected: {0} ⇄ {1}").format(event.local, event.peer))
                self.status_message.emit(self.state.text())
            elif isinstance(event, Answered):
                self.rtts.append(event.rtt_s * 1000)
                self.rtt.setText(
                    self.tr(
                        "Replies: {0} · last {1:.3f} ms · min {2:.3f} / median {3:.3f} / max {4:.3f} ms"
                    ).format(
                        len(self.rtts),
                        self.rtts[-1],
                        min(self.rtts),
                        statistics.median(self.rtts),
                        max(self.rtts),
                    )
                )
            elif isinstance(event, WriteShutdown):
                self.half_close_button.setEnabled(False)
                self.send_button.setEnabled(False)
                set_status(
                    self.state, self.tr("Write side shut down (FIN sent): waiting for the server to close…")
                )
            elif isinstance(event, Closed):
                self._on_closed(event)
            elif isinstance(event, Failed):
                self._error(event.error)

    def _on_closed(self, event: Closed) -> None:
        if event.error is not None:
            self._error(event.error)
            return
        text = {
            CloseReason.PEER_CLOSED: self.tr('The server closed the connection (recv() returned b"").'),
            CloseReason.LOCAL: self.tr("Disconnected."),
        }.get(event.reason, event.reason.value)
        set_status(self.state, text)
        self.status_message.emit(text)

    def _on_finished(self) -> None:
        self.runner = None
        self.client = None
        self._set_connected(False)

    def _error(self, error: SocketLabError) -> None:
        text = error_text(error)
        set_status(self.state, text, error=True)
        self.status_message.emit(text)

    def _set_connected(self, connected: bool) -> None:
        self.connect_button.setText(self.tr("Dis&connect") if connected else self.tr("&Connect"))
        self.send_button.setEnabled(connected)
        self.half_close_button.setEnabled(connected)
        self._set_inputs_enabled(not connected and self.runner is None)

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for widget in (self.address, self.framing, self.timeout, self.nodelay):
            widget.setEnabled(enabled)

    # -- settings -------------------------------------------------------------------------------
    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("tcp/client/host", self.address.host.text())
        settings.setValue("tcp/client/port", self.address.port.value())
        settings.setValue("tcp/client/framing", self.framing.currentText())
        settings.setValue("tcp/client/nodelay", self.nodelay.isChecked())

    def load_settings(self, settings: QSettings) -> None:
        self.address.set_address(
            str_value(settings, "tcp/client/host", "127.0.0.1"),
            int_value(settings, "tcp/client/port", DEFAULT_PORT),
        )
        self.framing.setCurrentText(str_value(settings, "tcp/client/framing", "raw"))
        self.nodelay.setChecked(bool_value(settings, "tcp/client/nodelay", False))


class ServerPane(QGroupBox):
    """A built-in multi-client echo server: echo / UPPER / prefix / manual reply (chat)."""

    status_message = Signal(str)
    listening = Signal(str, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Server"))
        self.runner: EngineRunner | None = None
        self.server: TcpEchoServer | None = None

        self.address = AddressEdit("127.0.0.1", DEFAULT_PORT, self)
        self.address.host.setToolTip(
            self.tr(
                "127.0.0.1 = this machine only; 0.0.0.0 = every IPv4 interface; "
                ":: = every interface, IPv6 and IPv4"
            )
        )
        self.mode = QComboBox(self)
        for mode, label in (
            (ReplyMode.ECHO, self.tr("Echo")),
            (ReplyMode.UPPER, self.tr("UPPER case")),
            (ReplyMode.PREFIX, self.tr("Prefix")),
            (ReplyMode.MANUAL, self.tr("Manual reply (chat)")),
        ):
            self.mode.addItem(label, mode.value)
        self.prefix = QLineEdit("echo: ", self)
        self.prefix.setToolTip(self.tr("Text put before each reply in Prefix mode"))
        self.framing = framing_combo(self)
        self.framing.setToolTip(self.tr("With framing, the server replies once per decoded message"))
        self.reuse = QCheckBox(self.tr("SO_REUSEADDR"), self)
        self.reuse.setChecked(True)
        self.reuse.setToolTip(
            self.tr(
                "Allow listening again at once while old connections are in TIME_WAIT "
                "(untick it to see the 'address already in use' lesson)"
            )
        )
        self.start_button = QPushButton(self.tr("S&tart server"), self)
        self.clear_button = QPushButton(self.tr("Clear log"), self)
        self.state = QLabel(self.tr("Stopped"), self)
        self.state.setWordWrap(True)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.clients = QComboBox(self)
        self.clients.setToolTip(self.tr("Connected clients: manual replies go to the chosen one"))
        self.reply = PayloadEdit("", self)
        self.reply_button = QPushButton(self.tr("Send &reply"), self)
        self.kick_button = QPushButton(self.tr("Disconnect client"), self)
        self.view = TrafficView(self)

        form = QFormLayout()
        form.addRow(self.tr("Listen on"), self.address)
        options = QHBoxLayout()
        options.addWidget(QLabel(self.tr("Reply"), self))
        options.addWidget(self.mode)
        options.addWidget(self.prefix, 1)
        form.addRow(options)
        options2 = QHBoxLayout()
        options2.addWidget(QLabel(self.tr("Framing"), self))
        options2.addWidget(self.framing, 1)
        options2.addWidget(self.reuse)
        form.addRow(options2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        manual = QHBoxLayout()
        manual.addWidget(QLabel(self.tr("Client"), self))
        manual.addWidget(self.clients, 1)
        manual.addWidget(self.kick_button)
        reply_row = QHBoxLayout()
        reply_row.addWidget(self.reply, 1)
        reply_row.addWidget(self.reply_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.state)
        layout.addLayout(manual)
        layout.addLayout(reply_row)
        layout.addWidget(self.view, 1)

        self.start_button.clicked.connect(self.toggle_server)
        self.reply_button.clicked.connect(self.send_reply)
        self.reply.submitted.connect(self.send_reply)
        self.kick_button.clicked.connect(self.disconnect_client)
        self.mode.currentIndexChanged.connect(self._apply_live_options)
        self.prefix.textChanged.connect(self._apply_live_options)
        self.clear_button.clicked.connect(self.view.clear)
        self._set_running(False)
        self._update_mode_widgets()

    # -- actions --------------------------------------------------------------------------------
    def toggle_server(self) -> None:
        if self.runner is not None:
            self.start_button.setEnabled(False)
            self.runner.stop()
            return
        try:
            addr = self.address.address()
            server = TcpEchoServer(
                addr.host,
                addr.port,
                self.current_mode(),
                self.framing.currentText(),
                self._prefix_bytes(),
                self.reuse.isChecked(),
            )
            server.bind()  # in the GUI thread: fast, and errors such as address-in-use show at once
        except SocketLabError as exc:
            self._error(exc)
            return
        self.server = server
        self.runner = EngineRunner(server, self._on_batch, self)
        self.runner.finished.connect(self._on_finished)
        self._set_running(True)
        self.runner.start()

    def current_mode(self) -> ReplyMode:
        return ReplyMode(self.mode.currentData())

    def send_reply(self) -> None:
        conn = self.clients.currentData()
        if self.server is None or conn is None:
            set_status(self.state, self.tr("No client is connected to reply to."), error=True)
            return
        try:
            data = self.reply.payload()
            make_codec(self.framing.currentText()).encode(data)
        except SocketLabError as exc:
            self._error(exc)
            return
        self.server.send_to(int(conn), data)

    def disconnect_client(self) -> None:
        conn = self.clients.currentData()
        if self.server is not None and conn is not None:
            self.server.disconnect(int(conn))

    def shutdown(self) -> None:
        if self.runner is not None:
            self.runner.stop_and_wait()

    def _prefix_bytes(self) -> bytes:
        return parse_payload(self.prefix.text(), "text")

    def _apply_live_options(self) -> None:
        """Mode and prefix can change while the server runs (the engine reads them per message)."""
        self._update_mode_widgets()
        server = self.server
        if server is None:
            return
        try:
            prefix = self._prefix_bytes()
        except SocketLabError as exc:
            self._error(exc)
            return
        mode = self.current_mode()
        server.call_soon(partial(server.__setattr__, "mode", mode))
        server.call_soon(partial(server.__setattr__, "prefix", prefix))

    def _update_mode_widgets(self) -> None:
        manual = self.current_mode() is ReplyMode.MANUAL
        self.prefix.setEnabled(self.current_mode() is ReplyMode.PREFIX)
        self.reply.setEnabled(manual)
        self.reply_button.setEnabled(manual and self.runner is not None)

    # -- events ---------------------------------------------------------------------------------
    def _on_batch(self, batch: Batch) -> None:
        self.view.add(traffic_items(batch), batch.dropped_chunks, batch.dropped_bytes)  # type: ignore[arg-type]
        for event in batch.events:
            if isinstance(event, Listening):
                set_status(self.state, self.tr("Listening on {0}").format(event.address))
                self.status_message.emit(self.state.text())
                self.listening.emit(event.host, event.port)
            elif isinstance(event, Connected):
                self.clients.addItem(f"#{event.conn} {event.peer}", event.conn)
                self.clients.setCurrentIndex(self.clients.count() - 1)
            elif isinstance(event, Closed):
                index = self.clients.findData(event.conn)
                if index >= 0:
                    self.clients.removeItem(index)
                if event.error is not None:
                    self._error(event.error)
            elif isinstance(event, Failed):
                self._error(event.error)
            elif isinstance(event, Stopped):
                set_status(self.state, self.tr("Stopped"))
        if self.server is not None and self.runner is not None:
            self.clients.setToolTip(self.tr("%n client(s) connected", "", self.clients.count()))

    def _on_finished(self) -> None:
        self.runner = None
        self.server = None
        self.clients.clear()
        self._set_running(False)

    def _error(self, error: SocketLabError) -> None:
        text = error_text(error)
        set_status(self.state, text, error=True)
        self.status_message.emit(text)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(True)
        self.start_button.setText(self.tr("S&top server") if running else self.tr("S&tart server"))
        for widget in (self.address, self.framing, self.reuse):
            widget.setEnabled(not running)
        self.kick_button.setEnabled(running)
        self._update_mode_widgets()

    # -- settings -------------------------------------------------------------------------------
    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("tcp/server/host", self.address.host.text())
        settings.setValue("tcp/server/port", self.address.port.value())
        settings.setValue("tcp/server/mode", self.mode.currentData())
        settings.setValue("tcp/server/framing", self.framing.currentText())
        settings.setValue("tcp/server/prefix", self.prefix.text())
        settings.setValue("tcp/server/reuse", self.reuse.isChecked())

    def load_settings(self, settings: QSettings) -> None:
        self.address.set_address(
            str_value(settings, "tcp/server/host", "127.0.0.1"),
            int_value(settings, "tcp/server/port", DEFAULT_PORT),
        )
        index = self.mode.findData(settings.value("tcp/server/mode", ReplyMode.ECHO.value))
        self.mode.setCurrentIndex(max(0, index))
        self.framing.setCurrentText(str_value(settings, "tcp/server/framing", "raw"))
        self.prefix.setText(str_value(settings, "tcp/server/prefix", "echo: "))
        self.reuse.setChecked(bool_value(settings, "tcp/server/reuse", True))


class TcpEchoPage(QWidget):
    """Client on the left, server on the right; 'Use server address' points the client at it."""

    status_message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = ClientPane(self)
        self.server = ServerPane(self)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.client)
        splitter.addWidget(self.server)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.client.status_message.connect(self.status_message)
        self.server.status_message.connect(self.status_message)
        self.server.listening.connect(self._point_client_at_server)

    def _point_client_at_server(self, host: str, port: int) -> None:
        """When our server starts, aim an idle client at it (port 0 becomes the real port)."""
        if self.client.runner is None:
            self.client.address.set_address(
                "::1" if ":" in host and host != "::" else "127.0.0.1" if host in ("0.0.0.0", "::") else host,
                port,
            )

    def shutdown(self) -> None:
        self.client.shutdown()
        self.server.shutdown()

    def save_settings(self, settings: QSettings) -> None:
        self.client.save_settings(settings)
        self.server.save_settings(settings)

    def load_settings(self, settings: QSettings) -> None:
        self.client.load_settings(settings)
        self.server.load_settings(settings)

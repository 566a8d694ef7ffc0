"""The TCP echo tab: a client pane and a built-in multi-client echo server pane."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.panes import DEFAULT_PORT, ClientPane, ClientServerPage, EchoServerPane
from app.settings import bool_value, float_value, int_value, str_value
from netcore.engines.tcp_echo import TcpEchoClient, TcpEchoServer, check_message
from netcore.errors import SocketLabError
from netcore.model.events import (
    Answered,
    Closed,
    CloseReason,
    Connected,
    Event,
    Unanswered,
    WriteShutdown,
)
from netcore.model.roundtrips import RoundTrips
from netcore.present import pycode
from netcore.protocols.address import Address
from netcore.protocols.framing import FRAMING_CHOICES, make_codec
from widgets.elided_label import ElidedLabel
from widgets.inputs import PayloadEdit, RepeatControl
from widgets.plain_text import PlainLabel
from widgets.saved_messages import SavedMessagesButton


def framing_combo(parent: QWidget) -> QComboBox:
    """Editable framing chooser: the common specs, or type delim:HEX / fixed:N / length2le ..."""
    combo = QComboBox(parent)
    combo.setEditable(True)
    combo.addItems(list(FRAMING_CHOICES))
    combo.setToolTip(
        QCoreApplication.translate(
            "TcpEchoPage",
            "How messages are delimited on the byte stream: raw (none), line (\\n), crlf, "
            "length1/2/4/8[le][s] (length prefix), json (4-byte length + JSON header + "
            "body), fixed:N, delim:HEX",
        )
    )
    return combo


class TcpClientPane(ClientPane):
    """Connect, send text/hex with optional framing, see replies and their round-trip times."""

    connection_rows = True

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client: TcpEchoClient | None = None
        self.rtts = RoundTrips()  # round trips of the replies so far, ms
        self.unanswered = 0  # messages given up: no reply within the timeout
        self.reply_timeout = 5.0  # that timeout, s (the box may change after the connection)
        self.timeout = QDoubleSpinBox(self)
        self.timeout.setRange(0.1, 120)
        self.timeout.setValue(5)
        self.timeout.setSuffix(self.tr(" s"))
        self.timeout.setToolTip(
            self.tr(
                "Connect timeout, and how long a message waits for its reply before it counts as unanswered"
            )
        )
        self.nodelay = QCheckBox(self.tr("TCP_NODELAY"), self)
        self.nodelay.setToolTip(self.tr("Turn off Nagle's algorithm: small sends go out at once"))
        self.framing = framing_combo(self)
        self.connect_button = QPushButton(self.tr("&Connect"), self)
        self.half_close_button = QPushButton(self.tr("Half cl&ose"), self)
        self.half_close_button.setToolTip(
            self.tr(
                'shutdown(SHUT_WR): send FIN, keep receiving until the server closes (its recv() returns b"")'
            )
        )
        self.payload = PayloadEdit("Hello, Socket Lab!", self)
        self.send_button = QPushButton(self.tr("&Send"), self)
        self.send_button.setToolTip(self.tr("Send the message (Ctrl+Enter in the message box)"))
        self.saved = SavedMessagesButton(self.payload, "tcp_client", self, self.address)
        self.rtt = ElidedLabel(self)
        self.repeat = RepeatControl(self)
        self.set_state(self.tr("Not connected"))

        form = QFormLayout()
        form.addRow(self.tr("Server"), self.address)
        options = QHBoxLayout()
        options.addWidget(PlainLabel(self.tr("Framing"), self))
        options.addWidget(self.framing, 1)
        options.addWidget(PlainLabel(self.tr("Timeout"), self))
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
        send_row.addLayout(self.saved.column_with(self.send_button))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.state)
        layout.addLayout(send_row)
        layout.addWidget(self.repeat)
        layout.addWidget(self.rtt)
        layout.addWidget(self.view, 1)

        self.connect_button.clicked.connect(self.toggle_connection)
        self.half_close_button.clicked.connect(self.half_close)
        self.send_button.clicked.connect(lambda: self.send())
        self.payload.submitted.connect(lambda: self.send())
        self.saved.send_requested.connect(lambda: self.send())
        self.repeat.fire.connect(self.send)
        self.payload.encoding.currentIndexChanged.connect(
            lambda: self.view.set_encoding(self.payload.current_encoding())
        )
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
            self.show_error(exc)
            return
        self.client = client
        self.rtts.clear()
        self.unanswered = 0
        self.reply_timeout = self.timeout.value()
        self.rtt.clear()
        self.connect_button.setText(self.tr("Cancel"))
        self.set_state(self.tr("Connecting to {0}…").format(addr))
        self._set_inputs_enabled(False)
        self.start_engine(client)

    def send(self, counter: int | None = None) -> None:
        if self.client is None or not self.send_button.isEnabled():
            self.repeat.refuse()
            return
        try:
            data = self.payload.payload(counter)
            check_message(data, self.framing.currentText())
        except SocketLabError as exc:
            self.repeat.refuse()
            self.show_error(exc)
            return
        self.clear_error()
        self.client.submit(data)
        self.saved.record()

    def half_close(self) -> None:
        if self.client is not None:
            self.client.submit_shutdown_write()

    # -- events ---------------------------------------------------------------------------------
    def handle_event(self, event: Event) -> None:
        if isinstance(event, Connected):
            self._set_connected(True)
            self.set_state(self.tr("Connected: {0} ⇄ {1}").format(event.local, event.peer))
            self.status_message.emit(self.state.text())
        elif isinstance(event, Answered):
            self.rtts.add(event.rtt_s * 1000)
            self._show_rtts()
        elif isinstance(event, Unanswered):
            self.unanswered += 1
            self._show_rtts()
        elif isinstance(event, WriteShutdown):
            self.half_close_button.setEnabled(False)
            self.send_button.setEnabled(False)
            self.set_state(self.tr("Write side shut down (FIN sent): waiting for the server to close…"))
        elif isinstance(event, Closed):
            self._on_closed(event)
        else:
            super().handle_event(event)

    def _show_rtts(self) -> None:
        """The round trips so far, in the current language (shown again when it changes); how many
        went unanswered comes early, where a narrow pane does not cut it off."""
        parts = []
        if self.rtts:
            parts.append(self.tr("Replies: {0}").format(len(self.rtts)))
        if self.unanswered:
            parts.append(self.tr("{0} unanswered after {1:g} s").format(self.unanswered, self.reply_timeout))
        if self.rtts and self.rtts.median_of < len(self.rtts):  # the median of the newest only
            parts.append(
                self.tr(
                    "last {0:.3f} ms · min {1:.3f} / median of the last {4:,} {2:.3f} / max {3:.3f} ms"
                ).format(self.rtts.last, self.rtts.min, self.rtts.median, self.rtts.max, self.rtts.median_of)
            )
        elif self.rtts:
            parts.append(
                self.tr("last {0:.3f} ms · min {1:.3f} / median {2:.3f} / max {3:.3f} ms").format(
                    self.rtts.last, self.rtts.min, self.rtts.median, self.rtts.max
                )
            )
        self.rtt.setText(" · ".join(parts))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._show_rtts()
        super().changeEvent(event)

    def _on_closed(self, event: Closed) -> None:
        if event.error is not None:
            self.show_error(event.error)
            return
        text = {
            CloseReason.PEER_CLOSED: self.tr('The server closed the connection (recv() returned b"").'),
            CloseReason.LOCAL: self.tr("Disconnected."),
        }.get(event.reason, event.reason.value)
        self.set_state(text)
        self.status_message.emit(text)

    def engine_finished(self) -> None:
        self.client = None
        self.repeat.stop()
        self._set_connected(False)

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
        settings.setValue("tcp/client/timeout", self.timeout.value())

    def load_settings(self, settings: QSettings) -> None:
        self.address.set_address(
            str_value(settings, "tcp/client/host", "127.0.0.1"),
            int_value(settings, "tcp/client/port", DEFAULT_PORT),
        )
        self.framing.setCurrentText(str_value(settings, "tcp/client/framing", "raw"))
        self.nodelay.setChecked(bool_value(settings, "tcp/client/nodelay", False))
        self.timeout.setValue(float_value(settings, "tcp/client/timeout", 5.0))


class TcpServerPane(EchoServerPane):
    """The multi-client TCP echo server; with framing it replies once per decoded message."""

    settings_group = "tcp/server"
    connection_rows = True

    def add_options(self) -> None:
        self.framing = framing_combo(self)
        self.framing.setToolTip(self.tr("With framing, the server replies once per decoded message"))
        self.options.addWidget(PlainLabel(self.tr("Framing"), self))
        self.options.addWidget(self.framing, 1)
        self.kick_button = QPushButton(self.tr("Disconnect client"), self)
        self.kick_button.clicked.connect(self.disconnect_client)
        self.manual_row.addWidget(self.kick_button)
        self.clients.model().rowsInserted.connect(self._update_kick_button)
        self.clients.model().rowsRemoved.connect(self._update_kick_button)
        self.clients.model().modelReset.connect(self._update_kick_button)

    def option_widgets(self) -> list[QWidget]:
        return [*super().option_widgets(), self.framing]

    def make_echo_server(self, addr: Address, prefix: bytes) -> TcpEchoServer:
        return TcpEchoServer(
            addr.host,
            addr.port,
            self.current_mode(),
            self.framing.currentText(),
            prefix,
            self.reuse.isChecked(),
        )

    def check_reply(self, data: bytes) -> None:
        make_codec(self.framing.currentText()).encode(data)

    def disconnect_client(self) -> None:
        conn = self.clients.currentData()
        if isinstance(self.server, TcpEchoServer) and conn is not None:
            self.server.disconnect(int(conn))

    def _set_running(self, running: bool) -> None:
        super()._set_running(running)
        self._update_kick_button()

    def _update_kick_button(self) -> None:
        """Enabled only while there is a client to disconnect."""
        self.kick_button.setEnabled(self.runner is not None and self.clients.count() > 0)

    def save_settings(self, settings: QSettings) -> None:
        super().save_settings(settings)
        settings.setValue("tcp/server/framing", self.framing.currentText())

    def load_settings(self, settings: QSettings) -> None:
        super().load_settings(settings)
        self.framing.setCurrentText(str_value(settings, "tcp/server/framing", "raw"))


class TcpEchoPage(ClientServerPage):
    """Client on the left, server on the right."""

    client: TcpClientPane
    server: TcpServerPane

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(TcpClientPane(), TcpServerPane(), parent)

    def python_code(self) -> str:
        c = self.client
        addr = c.address.address()
        return pycode.tcp_client(addr.host, addr.port, c.payload.payload(), c.framing.currentText())

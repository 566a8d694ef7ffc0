"""The UDP echo tab: datagrams keep their boundaries, may be lost, and have a size limit."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.panes import DEFAULT_PORT, ClientPane, ClientServerPage, EchoServerPane, labelled_row
from app.settings import bool_value, float_value, int_value, str_value
from netcore.engines.udp_echo import (
    MAX_PAYLOAD_IPV4,
    MTU_PAYLOAD,
    RECV_SIZE,
    UdpEchoClient,
    UdpEchoServer,
    check_datagram_size,
)
from netcore.errors import NoUdpReply, SocketLabError
from netcore.model.events import (
    Connected,
    Event,
    Failed,
    LargeDatagram,
    ProbeFinished,
    ProbeReply,
    Traffic,
    Truncated,
)
from netcore.model.traffic import Direction
from netcore.present import pycode
from netcore.protocols.address import Address
from netcore.protocols.probe import MIN_PROBE_SIZE, ProbeStats, ReplyStatus
from widgets.inputs import PayloadEdit, RepeatControl
from widgets.line_plot import LinePlot
from widgets.plain_text import PlainLabel
from widgets.saved_messages import SavedMessagesButton
from widgets.state_line import StateLine


def recv_size_box(parent: QWidget) -> QSpinBox:
    box = QSpinBox(parent)
    box.setRange(1, RECV_SIZE)
    box.setValue(RECV_SIZE)
    box.setSuffix(QCoreApplication.translate("UdpEchoPage", " B"))
    box.setToolTip(
        QCoreApplication.translate(
            "UdpEchoPage",
            "Receive buffer per datagram (recvfrom size). A smaller buffer truncates larger datagrams: "
            "the rest is discarded, unlike TCP.",
        )
    )
    return box


class UdpClientPane(ClientPane):
    """Send one datagram (text, hex or empty) or probe loss and round trips like ping."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client: UdpEchoClient | None = None
        self.timeout = QDoubleSpinBox(self)
        self.timeout.setRange(0.05, 60)
        self.timeout.setValue(2)
        self.timeout.setSuffix(self.tr(" s"))
        self.timeout.setToolTip(self.tr("How long to wait for a reply before calling it lost"))
        self.connected = QCheckBox(self.tr("Connected UDP"), self)
        self.connected.setToolTip(
            self.tr(
                "connect() the socket: the kernel then reports ICMP 'port unreachable' instead of a timeout"
            )
        )
        self.recv_size = recv_size_box(self)
        self.close_button = QPushButton(self.tr("&Close socket"), self)
        self.payload = PayloadEdit("Hello, UDP!", self)
        self.send_button = QPushButton(self.tr("&Send"), self)
        self.send_button.setToolTip(self.tr("Send one datagram (Ctrl+Enter in the message box)"))
        self.saved = SavedMessagesButton(self.payload, "udp_client", self, self.address)
        self.probe_count = QSpinBox(self)
        self.probe_count.setRange(1, 100_000)
        self.probe_count.setValue(50)
        self.probe_interval = QSpinBox(self)
        self.probe_interval.setRange(0, 60_000)
        self.probe_interval.setValue(20)
        self.probe_interval.setSuffix(self.tr(" ms"))
        self.probe_size = QSpinBox(self)
        self.probe_size.setRange(MIN_PROBE_SIZE, MAX_PAYLOAD_IPV4)
        self.probe_size.setValue(64)
        self.probe_size.setSuffix(self.tr(" B"))
        self.probe_button = QPushButton(self.tr("&Probe"), self)
        self.probe_button.setToolTip(
            self.tr(
                "Send numbered datagrams at an interval; count lost, late, duplicated and reordered replies"
            )
        )
        self.stats = StateLine(2, self)  # 2 lines even empty: never moves the plot
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.repeat = RepeatControl(self)
        self.plot = LinePlot(lambda: self.tr("round trip (ms) by sequence number; red: lost"), self)
        self.probe_result: ProbeStats | None = None  # the last probe's figures, shown by _show_stats
        self._reply_timer = QTimer(self)
        self._reply_timer.setSingleShot(True)
        self._reply_timer.timeout.connect(self._no_reply)
        self.set_state(self.tr("No socket open yet: Send or Probe opens one"))

        form = QFormLayout()
        form.addRow(self.tr("Server"), self.address)
        options = labelled_row(
            self,
            self.tr("Timeout"),
            self.timeout,
            self.tr("Receive buffer"),
            self.recv_size,
            self.connected,
            stretch=False,
        )
        form.addRow(options)
        buttons = QHBoxLayout()
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        send_row = QHBoxLayout()
        send_row.addWidget(self.payload, 1)
        send_row.addLayout(self.saved.column_with(self.send_button))
        probe_row = labelled_row(
            self,
            self.tr("Probe"),
            self.probe_count,
            self.tr("every"),
            self.probe_interval,
            self.tr("size"),
            self.probe_size,
            self.probe_button,
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.state)
        layout.addLayout(send_row)
        layout.addWidget(self.repeat)
        layout.addLayout(probe_row)
        # The probe's figures and plot on a tab beside the traffic, shown when a probe starts: the log
        # and hexdump keep the pane's height
        self.probe_page = QWidget(self)
        results = QVBoxLayout(self.probe_page)
        results.setContentsMargins(0, 0, 0, 0)
        results.addWidget(self.stats)
        results.addWidget(self.plot, 1)
        self.plot.setSizePolicy(
            QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding
        )  # the tab's height
        self.body = QTabWidget(self)
        self.body.addTab(self.view, "")
        self.body.addTab(self.probe_page, "")
        self._name_tabs()
        layout.addWidget(self.body, 1)

        self.send_button.clicked.connect(lambda: self.send())
        self.payload.submitted.connect(lambda: self.send())
        self.saved.send_requested.connect(lambda: self.send())
        self.repeat.fire.connect(self.send)
        self.probe_button.clicked.connect(self.probe)
        self.close_button.clicked.connect(self.close_socket)
        self.payload.changed.connect(self._size_note)
        self.payload.encoding.currentIndexChanged.connect(
            lambda: self.view.set_encoding(self.payload.current_encoding())
        )
        self._set_open(False)

    # -- actions --------------------------------------------------------------------------------
    def _ensure_client(self) -> UdpEchoClient | None:
        """The running client engine, started on first use with the current settings."""
        if self.client is not None:
            return self.client
        try:
            addr = self.address.address()
            client = UdpEchoClient(
                addr.host, addr.port, self.timeout.value(), self.connected.isChecked(), self.recv_size.value()
            )
        except SocketLabError as exc:
            self.show_error(exc)
            return None
        self.client = client
        self.start_engine(client)
        self._set_open(True)
        return client

    def send(self, counter: int | None = None) -> None:
        try:
            data = self.payload.payload(counter)
            check_datagram_size(len(data), self.address.address().is_ipv6)
        except SocketLabError as exc:
            self.repeat.refuse()
            self.show_error(exc)
            return
        client = self._ensure_client()
        if client is None:
            self.repeat.refuse()
        else:
            self.clear_error()
            client.submit(data)
            self.saved.record()
            self._reply_timer.start(int(self.timeout.value() * 1000))

    def probe(self) -> None:
        client = self._ensure_client()
        if client is None:
            return
        self.clear_error()
        self.plot.reset(self.probe_count.value() - 1)
        self.body.setCurrentWidget(self.probe_page)
        self.probe_result = None
        self.stats.setText(self.tr("Probing…"))
        self.probe_button.setEnabled(False)
        client.submit_probe(
            self.probe_count.value(), self.probe_interval.value() / 1000, self.probe_size.value()
        )

    def shutdown(self) -> None:
        self.repeat.stop()  # its next tick would open a new socket after the close
        super().shutdown()

    def close_socket(self) -> None:
        if self.runner is not None:
            self.runner.stop()
            self.set_state(self.tr("Socket closed: Send or Probe opens a new one"))

    def _no_reply(self) -> None:
        addr = self.address.host.text()
        self.show_error(
            NoUdpReply(
                action="wait for a reply from",
                where=str(self.address.address()) if self.address.is_valid() else addr,
                detail="timed out",
                host=addr,
                port=self.address.port.value(),
                timeout=self.timeout.value(),
            )
        )

    def _size_note(self) -> None:
        try:
            size = len(self.payload.payload())
        except SocketLabError:
            return
        if size > MAX_PAYLOAD_IPV4:
            self.payload.status.setText(
                self.tr(
                    "{0:,} bytes: too large for one UDP datagram (max 65,507 = 65,535 − 20 IP − 8 UDP)"
                ).format(size)
            )
        elif size > MTU_PAYLOAD:
            self.payload.status.setText(
                self.tr("{0:,} bytes: over 1,472, so IP fragments it on a 1,500-byte MTU path").format(size)
            )

    # -- events ---------------------------------------------------------------------------------
    def handle_event(self, event: Event) -> None:
        if isinstance(event, Connected) and event.conn == 1:
            connected = self.connected.isChecked()

            def opened() -> str:
                mode = self.tr("connected") if connected else self.tr("unconnected")
                return self.tr("UDP socket {0} → {1} ({2})").format(event.local, event.peer, mode)

            self.set_state(opened)
        elif isinstance(event, Traffic) and event.chunk.direction is Direction.RECEIVED:
            self._reply_timer.stop()
            self.set_state(
                self.tr("Reply of {0:,} bytes from {1}").format(len(event.chunk.data), event.chunk.peer)
            )
        elif isinstance(event, Truncated):
            self.set_state(
                self.tr(
                    "Datagram from {0} truncated: kept {1:,} of {2:,} bytes — the rest is lost, unlike TCP"
                ).format(event.peer, event.kept, event.size),
                error=True,
            )
        elif isinstance(event, LargeDatagram):
            self.status_message.emit(
                self.tr("Sent {0:,} bytes: IP fragments this datagram on a 1,500-byte MTU path").format(
                    event.size
                )
            )
        elif isinstance(event, ProbeReply):
            if event.status is ReplyStatus.ON_TIME and event.rtt_ms is not None:
                self.plot.add("rtt", event.seq, event.rtt_ms)
        elif isinstance(event, ProbeFinished):
            self.probe_button.setEnabled(True)
            self._reply_timer.stop()
            self.plot.set_marks([float(seq) for seq in event.stats.lost_seqs])
            self.probe_result = event.stats
            self._show_stats()
        else:
            if isinstance(event, Failed):
                self._reply_timer.stop()  # e.g. 'port unreachable': not a timeout
            super().handle_event(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._show_stats()
            self._name_tabs()
        super().changeEvent(event)

    def _name_tabs(self) -> None:
        self.body.setTabText(0, self.tr("Traffic"))
        self.body.setTabText(1, self.tr("Probe"))

    def _show_stats(self) -> None:
        """The last probe's figures in the current language (again when it changes)."""
        s = self.probe_result
        if s is None:
            return

        def ms(value: float | None) -> str:
            return "–" if value is None else f"{value:.3f}"

        self.stats.setText(
            self.tr(
                "{0} sent · {1} received · {2} lost ({3:.1f} %) · {4} late · {5} duplicated · {6} reordered\n"
                "round trip min {7} / avg {8} / max {9} ms · p50 {10} · p99 {11} · jitter {12} ms"
            ).format(
                s.sent,
                s.received,
                s.lost,
                s.loss_percent,
                s.late,
                s.duplicates,
                s.reordered,
                ms(s.rtt_min_ms),
                ms(s.rtt_avg_ms),
                ms(s.rtt_max_ms),
                ms(s.rtt_p50_ms),
                ms(s.rtt_p99_ms),
                ms(s.jitter_ms),
            )
        )

    def engine_finished(self) -> None:
        self.client = None
        self._reply_timer.stop()
        self.probe_button.setEnabled(True)
        self._set_open(False)

    def _set_open(self, is_open: bool) -> None:
        self.close_button.setEnabled(is_open)
        for widget in (self.address, self.timeout, self.connected, self.recv_size):
            widget.setEnabled(not is_open)

    # -- settings -------------------------------------------------------------------------------
    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("udp/client/host", self.address.host.text())
        settings.setValue("udp/client/port", self.address.port.value())
        settings.setValue("udp/client/connected", self.connected.isChecked())
        settings.setValue("udp/client/timeout", self.timeout.value())

    def load_settings(self, settings: QSettings) -> None:
        self.address.set_address(
            str_value(settings, "udp/client/host", "127.0.0.1"),
            int_value(settings, "udp/client/port", DEFAULT_PORT),
        )
        self.connected.setChecked(bool_value(settings, "udp/client/connected", False))
        self.timeout.setValue(float_value(settings, "udp/client/timeout", 2.0))


class UdpServerPane(EchoServerPane):
    """Answers any number of peers; shows each peer's address and every datagram as its own frame."""

    settings_group = "udp/server"

    def add_options(self) -> None:
        self.recv_size = recv_size_box(self)
        self.options.addWidget(PlainLabel(self.tr("Receive buffer"), self))
        self.options.addWidget(self.recv_size)
        self.options.addStretch(1)
        self.reuse.setToolTip(self.tr("Let another socket bind the same address (SO_REUSEADDR)"))

    def option_widgets(self) -> list[QWidget]:
        return [*super().option_widgets(), self.recv_size]

    def make_echo_server(self, addr: Address, prefix: bytes) -> UdpEchoServer:
        return UdpEchoServer(
            addr.host, addr.port, self.current_mode(), prefix, self.reuse.isChecked(), self.recv_size.value()
        )

    def check_reply(self, data: bytes) -> None:
        check_datagram_size(len(data), self.address.address().is_ipv6)

    def handle_event(self, event: Event) -> None:
        if isinstance(event, Truncated):
            self.set_state(
                self.tr("Datagram from {0} truncated: kept {1:,} of {2:,} bytes").format(
                    event.peer, event.kept, event.size
                ),
                error=True,
            )
        else:
            super().handle_event(event)


class UdpEchoPage(ClientServerPage):
    client: UdpClientPane
    server: UdpServerPane

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(UdpClientPane(), UdpServerPane(), parent)

    def python_code(self) -> str:
        c = self.client
        addr = c.address.address()
        return pycode.udp_client(
            addr.host, addr.port, c.payload.payload(), c.timeout.value(), c.connected.isChecked()
        )

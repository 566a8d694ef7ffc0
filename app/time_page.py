"""The Time tab: ask a time server (SNTP, TIME, DAYTIME or the course's protocol) and see how clock
synchronisation works on the wire; serve the time with a deliberate offset."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.panes import ClientPane, ClientServerPage, ServerPane, labelled_row
from app.settings import float_value, int_value, str_value
from netcore.engines.time_service import TimeClient, TimeServer
from netcore.errors import SocketLabError
from netcore.model.events import Event, TimeQueried
from netcore.present import pycode
from netcore.protocols.address import Address
from netcore.protocols.timeproto import TimeProtocol, TimeResult, describe_sntp_fields, iso
from widgets import style
from widgets.elided_label import ElidedLabel
from widgets.hexdump_view import FieldHexModel, HexdumpView
from widgets.line_plot import LinePlot
from widgets.plain_text import PlainLabel
from widgets.time_diagram import ExchangeDiagram, clock_text

TIME_PORT = 8123  # our server's default: the standard ports (123, 37, 13) need administrator rights


def protocol_combo(parent: QWidget) -> QComboBox:
    combo = QComboBox(parent)
    for protocol, label in (
        (TimeProtocol.SNTP, QCoreApplication.translate("TimePage", "SNTP v4 (RFC 4330), UDP")),
        (TimeProtocol.TIME_TCP, QCoreApplication.translate("TimePage", "TIME (RFC 868), TCP")),
        (TimeProtocol.TIME_UDP, QCoreApplication.translate("TimePage", "TIME (RFC 868), UDP")),
        (TimeProtocol.DAYTIME_TCP, QCoreApplication.translate("TimePage", "DAYTIME (RFC 867), TCP")),
        (TimeProtocol.DAYTIME_UDP, QCoreApplication.translate("TimePage", "DAYTIME (RFC 867), UDP")),
        (TimeProtocol.SIMPLE, QCoreApplication.translate("TimePage", "Course: 4-byte '!I' Unix time, UDP")),
    ):
        combo.addItem(label, protocol.value)
    return combo


class TimeClientPane(ClientPane):
    """Query once or N times; server time, local time, offset and delay; SNTP packet and T1–T4."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.address.port.setValue(TIME_PORT)
        self.client: TimeClient | None = None
        self.protocol = protocol_combo(self)
        self.count = QSpinBox(self)
        self.count.setRange(1, 100_000)
        self.count.setToolTip(self.tr("How many queries"))
        self.interval = QDoubleSpinBox(self)
        self.interval.setRange(0, 3600)
        self.interval.setValue(1)
        self.interval.setSuffix(self.tr(" s"))
        self.interval.setToolTip(self.tr("Time between queries"))
        self.timeout = QDoubleSpinBox(self)
        self.timeout.setRange(0.05, 60)
        self.timeout.setValue(2)
        self.timeout.setSuffix(self.tr(" s"))
        self.timeout.setToolTip(self.tr("How long to wait for each reply"))
        self.query_button = QPushButton(self.tr("&Query"), self)
        # Times and delay end in "…" (the whole text in the tooltip) and the offset sentence wraps:
        # as whole lines they made the pane wider than half a 1024×768 window.
        self.server_time = ElidedLabel(self)
        self.local_time = ElidedLabel(self)
        self.delay = ElidedLabel(self)
        for label in (self.server_time, self.local_time, self.delay):
            label.setText("–")
        self.offset = PlainLabel("–", self)
        self.offset.setWordWrap(True)
        self.said = PlainLabel("–", self)
        self.said.setWordWrap(True)
        for text_label in (self.offset, self.said):
            text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        big = self.offset.font()
        big.setPointSizeF(big.pointSizeF() * 1.4)
        big.setBold(True)
        self.offset.setFont(big)
        self.packet_model = FieldHexModel(self)
        self.packet = HexdumpView(self.packet_model, self)
        self.packet.setMinimumHeight(self.packet.verticalHeader().defaultSectionSize() * 4 + 8)
        self.packet_hover = PlainLabel(self.tr("Hover a byte of the SNTP reply to see its field"), self)
        self.packet_hover.setWordWrap(True)
        self.packet.hovered.connect(self.packet_hover.setText)
        self.diagram = ExchangeDiagram(self)
        self.plot = LinePlot(lambda: self.tr("offset (red) and delay (blue), ms, by query"), self)
        self.result: TimeResult | None = None  # the last reply, shown by _show_figures
        self.set_state(self.tr("Choose a protocol and press Query"))

        form = QFormLayout()
        form.addRow(self.tr("Protocol"), self.protocol)
        form.addRow(self.tr("Server"), self.address)
        options = labelled_row(
            self,
            self.tr("Queries"),
            self.count,
            self.tr("every"),
            self.interval,
            self.tr("Timeout"),
            self.timeout,
        )
        form.addRow(options)
        buttons = QHBoxLayout()
        buttons.addWidget(self.query_button)
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        results = QGridLayout()  # in pairs, so that the log below fits a 1024×768 screen
        for place, (name, value) in enumerate(
            (
                (self.tr("Server time"), self.server_time),
                (self.tr("Local time"), self.local_time),
                (self.tr("Offset"), self.offset),
                (self.tr("Delay"), self.delay),
            )
        ):
            row, col = divmod(place, 2)
            results.addWidget(PlainLabel(name, self), row, col * 2)
            results.addWidget(value, row, col * 2 + 1)
        results.addWidget(PlainLabel(self.tr("Server says"), self), 2, 0)
        results.addWidget(self.said, 2, 1, 1, 3)
        results.setColumnStretch(1, 1)
        results.setColumnStretch(3, 1)
        packet_page = QWidget(self)
        packet_box = QVBoxLayout(packet_page)
        packet_box.addWidget(self.packet, 1)
        packet_box.addWidget(self.packet_hover)
        self.details_tabs = QTabWidget(self)
        self.details_tabs.addTab(packet_page, self.tr("SNTP packet"))
        self.details_tabs.addTab(self.diagram, self.tr("T1–T4"))
        self.details_tabs.addTab(self.plot, self.tr("Over time"))
        details = QWidget(self)
        details_layout = QVBoxLayout(details)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.addLayout(results)
        details_layout.addWidget(self.details_tabs, 1)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(details)
        splitter.addWidget(self.view)
        splitter.setStretchFactor(0, 0)  # the log first: the details keep their least height,
        splitter.setStretchFactor(1, 1)  # the log gets the rest (six rows at 1024×768)
        splitter.setSizes([1, 1])  # at least each one's minimum
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.state)
        layout.addWidget(splitter, 1)

        self.query_button.clicked.connect(self.toggle_query)

    def current_protocol(self) -> TimeProtocol:
        return TimeProtocol(self.protocol.currentData())

    def set_protocol(self, protocol: TimeProtocol) -> None:
        self.protocol.setCurrentIndex(self.protocol.findData(protocol.value))

    def toggle_query(self) -> None:
        if self.runner is not None:
            self.runner.stop()
            return
        try:
            addr = self.address.address()
            client = TimeClient(
                self.current_protocol(),
                addr.host,
                addr.port,
                self.timeout.value(),
                self.count.value(),
                self.interval.value(),
            )
        except SocketLabError as exc:
            self.show_error(exc)
            return
        self.client = client
        self.plot.reset(self.count.value() - 1)
        self.query_button.setText(self.tr("S&top"))
        self.set_state(self.tr("Asking {0}…").format(addr))
        self.start_engine(client)

    def handle_event(self, event: Event) -> None:
        if isinstance(event, TimeQueried):
            self.show_result(event.index, event.result)
        else:
            super().handle_event(event)

    def show_result(self, index: int, result: TimeResult) -> None:
        # The clock first: a narrow pane elides the date, not the time the class compares.
        self.server_time.setText(f"{clock_text(result.server_time)}  ({iso(result.server_time)})")
        self.local_time.setText(f"{clock_text(result.local_time)}  ({iso(result.local_time)})")
        self.result = result
        self._show_figures()
        if result.offset is not None:
            self.plot.add("offset", index, result.offset * 1000, style.SENT_FG)
        self.plot.add("delay", index, result.delay * 1000, style.RECEIVED_FG)
        unsynchronised = result.sntp is not None and not result.sntp.synchronised
        self.said.setStyleSheet(f"color: {style.ERROR_FG.name()};" if unsynchronised else "")
        if result.sntp is not None:
            r = result.sntp
            self.packet_model.set_packet(r.packet.encode(), describe_sntp_fields(r.packet))
            self.diagram.set_times(r.t1, r.t2, r.t3, r.t4)
        else:
            self.packet_model.set_packet(b"", [])
            self.diagram.clear()
        self.set_state(
            self.tr("Reply {0} of {1} from {2}").format(index + 1, self.count.value(), result.server)
        )

    def _show_figures(self) -> None:
        """Offset and delay of the last reply in the current language (again when it changes)."""
        result = self.result
        if result is None:
            return
        if result.offset is None:
            self.offset.setText(self.tr("unknown: DAYTIME is free-form text"))
        elif result.offset >= 0:
            self.offset.setText(
                self.tr("{0:+.3f} ms (the server's clock is ahead)").format(result.offset * 1000)
            )
        else:
            self.offset.setText(
                self.tr("{0:+.3f} ms (the server's clock is behind)").format(result.offset * 1000)
            )
        self.delay.setText(self.tr("{0:.3f} ms").format(result.delay * 1000))
        self.said.setText(self._said_text(result))

    def _said_text(self, result: TimeResult) -> str:
        """What the server said: an SNTP reply's stratum and reference in the GUI's language, a
        DAYTIME reply's own text."""
        if result.sntp is None:
            return result.text
        packet = result.sntp.packet
        text = self.tr("stratum {0}, reference {1}").format(packet.stratum, packet.reference_text)
        if not result.sntp.synchronised:
            text += self.tr(", UNSYNCHRONISED (leap indicator 3): do not trust")
        return text

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._show_figures()
        super().changeEvent(event)

    def engine_finished(self) -> None:
        self.client = None
        self.query_button.setText(self.tr("&Query"))

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("time/client/protocol", self.current_protocol().value)
        settings.setValue("time/client/host", self.address.host.text())
        settings.setValue("time/client/port", self.address.port.value())

    def load_settings(self, settings: QSettings) -> None:
        self.set_protocol(TimeProtocol(str_value(settings, "time/client/protocol", "sntp")))
        self.address.set_address(
            str_value(settings, "time/client/host", "127.0.0.1"),
            int_value(settings, "time/client/port", TIME_PORT),
        )


class TimeServerPane(ServerPane):
    """Serves one time protocol; a deliberate offset shows what 'offset' means."""

    settings_group = "time/server"
    default_port = TIME_PORT

    def build(self) -> None:
        self.protocol = protocol_combo(self)
        self.clock_offset = QDoubleSpinBox(self)
        self.clock_offset.setRange(-86_400, 86_400)
        self.clock_offset.setSingleStep(0.5)
        self.clock_offset.setDecimals(3)
        self.clock_offset.setSuffix(self.tr(" s"))
        self.clock_offset.setToolTip(self.tr("Run this server's clock ahead (+) or behind (−) the real time"))
        self.stratum = QSpinBox(self)
        self.stratum.setRange(1, 15)
        self.stratum.setToolTip(
            self.tr("SNTP stratum: 1 = a reference clock, 2+ = synchronised to another server")
        )
        self.reference = QLineEdit("LOCL", self)
        self.reference.setMaxLength(4)
        self.reference.setToolTip(self.tr("SNTP reference ID: 4 ASCII characters for stratum 1"))
        self.form.addRow(self.tr("Protocol"), self.protocol)
        row = labelled_row(
            self,
            self.tr("Clock offset"),
            self.clock_offset,
            self.tr("Stratum"),
            self.stratum,
            self.tr("Reference ID"),
            self.reference,
        )
        self.form.addRow(row)
        self.clock_offset.valueChanged.connect(self._apply_offset)

    def option_widgets(self) -> list[QWidget]:
        return [*super().option_widgets(), self.protocol, self.stratum, self.reference]

    def make_server(self, addr: Address) -> TimeServer:
        return TimeServer(
            TimeProtocol(self.protocol.currentData()),
            addr.host,
            addr.port,
            self.clock_offset.value(),
            self.stratum.value(),
            self.reference.text() or "LOCL",
            self.reuse.isChecked(),
        )

    def one_liner(self, host: str, port: int) -> str:
        """A request in the running server's protocol: an SNTP server never answers b'hello'."""
        server = self.server
        protocol = (
            server.protocol if isinstance(server, TimeServer) else TimeProtocol(self.protocol.currentData())
        )
        return pycode.connect_one_liner(host, port, not protocol.is_tcp, protocol)

    def _apply_offset(self, value: float) -> None:
        """The offset may change while the server runs."""
        server = self.server
        if isinstance(server, TimeServer):
            server.call_soon(lambda: setattr(server, "offset", value))

    def save_settings(self, settings: QSettings) -> None:
        super().save_settings(settings)
        settings.setValue("time/server/protocol", self.protocol.currentData())
        settings.setValue("time/server/offset", self.clock_offset.value())

    def load_settings(self, settings: QSettings) -> None:
        super().load_settings(settings)
        index = self.protocol.findData(str_value(settings, "time/server/protocol", "sntp"))
        self.protocol.setCurrentIndex(max(0, index))
        self.clock_offset.setValue(float_value(settings, "time/server/offset", 0.0))


class TimePage(ClientServerPage):
    client: TimeClientPane
    server: TimeServerPane

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(TimeClientPane(), TimeServerPane(), parent)

    def python_code(self) -> str:
        addr = self.client.address.address()
        return pycode.time_client(self.client.current_protocol(), addr.host, addr.port)

    def _point_client_at_server(self, host: str, port: int) -> None:
        super()._point_client_at_server(host, port)
        if self.client.runner is None:
            self.client.set_protocol(TimeProtocol(self.server.protocol.currentData()))

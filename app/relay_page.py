"""The Relay tab: a re-chunking relay in front of any TCP server, so a client that assumes one
``recv()`` = one message breaks while a framed one does not."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QComboBox, QLineEdit, QSpinBox, QVBoxLayout, QWidget

from app.panes import EnginePane, Page, ServerPane, labelled_row
from app.settings import str_value
from netcore.engines.relay import ChunkPlan, RechunkRelay
from netcore.present import pycode
from netcore.protocols.address import Address, parse_address
from widgets.plain_text import PlainLabel

ADDRESS_CHARS = 40
"""The Relay tab's address fields hold this many digits: ``[2001:db8::1]:65535`` and some."""


class RelayPane(ServerPane):
    """A re-chunking relay in front of any TCP server."""

    settings_group = "sticking/relay"  # the keys of the days when it was a sub-tab of Packet sticking
    default_port = 9100

    def build(self) -> None:
        self.setTitle(self.tr("Re-chunking relay"))
        self.target = QLineEdit("127.0.0.1:9000", self)
        self.target.setToolTip(self.tr("The real server (host:port), e.g. the TCP echo tab's server"))
        self.chunks = QComboBox(self)
        self.chunks.setEditable(True)
        self.chunks.addItems(["1", "2", "3", "8", "random"])
        self.chunks.setToolTip(self.tr("Bytes per send() on the way through, or 'random'"))
        self.seed = QSpinBox(self)
        self.seed.setRange(0, 1_000_000)
        self.seed.setToolTip(self.tr("Random sizes come from this seed, so a run can be replayed"))
        self.delay = QSpinBox(self)
        self.delay.setRange(0, 10_000)
        self.delay.setSuffix(self.tr(" ms"))
        self.delay.setToolTip(self.tr("Pause between chunks"))
        self.form.addRow(self.tr("Relay to"), self.target)
        # Addresses are short: fields as wide as the log would send the eye across the projector.
        widest = self.fontMetrics().horizontalAdvance("0") * ADDRESS_CHARS
        self.target.setMaximumWidth(widest)
        self.address.setMaximumWidth(widest + self.address.port.sizeHint().width() * 2)
        row = labelled_row(
            self, self.tr("Chunks"), self.chunks, self.tr("seed"), self.seed, self.tr("delay"), self.delay
        )
        self.form.addRow(row)
        hint = PlainLabel(
            self.tr(
                "Point a client (e.g. the TCP echo tab's) at this relay's port: "
                "it receives the server's bytes re-chunked."
            ),
            self,
        )
        hint.setWordWrap(True)
        self.extras.addWidget(hint)

    def option_widgets(self) -> list[QWidget]:
        return [*super().option_widgets(), self.target, self.chunks, self.seed, self.delay]

    def plan(self) -> ChunkPlan:
        """How the relay cuts the stream, as the widgets say; ``InputError`` if they say nonsense."""
        return ChunkPlan.parse(
            self.chunks.currentText().strip(), self.seed.value(), self.delay.value() / 1000
        )

    def make_server(self, addr: Address) -> RechunkRelay:
        return RechunkRelay(
            self.target.text().strip(), self.plan(), addr.host, addr.port, self.reuse.isChecked()
        )

    def save_settings(self, settings: QSettings) -> None:
        super().save_settings(settings)
        settings.setValue("sticking/relay/target", self.target.text())
        settings.setValue("sticking/relay/chunks", self.chunks.currentText())

    def load_settings(self, settings: QSettings) -> None:
        super().load_settings(settings)
        self.target.setText(str_value(settings, "sticking/relay/target", "127.0.0.1:9000"))
        self.chunks.setCurrentText(str_value(settings, "sticking/relay/chunks", "1"))


class RelayPage(Page):
    """The relay on a tab of its own."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.server = RelayPane(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.server)
        self.server.status_message.connect(self.status_message)

    def panes(self) -> list[EnginePane]:
        return [self.server]

    def python_code(self) -> str:
        pane = self.server
        plan = pane.plan()
        target = parse_address(pane.target.text())
        return pycode.relay(pane.address.address(), target, plan.size, plan.seed, plan.max_size, plan.delay_s)

    def save_settings(self, settings: QSettings) -> None:
        self.server.save_settings(settings)

    def load_settings(self, settings: QSettings) -> None:
        self.server.load_settings(settings)

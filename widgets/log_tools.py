"""The traffic log's controls: auto-scroll, the Data column as text or hex, filters by direction
and peer (``LogToolbar``), and what its context menu copies (``copy_texts``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QWidget

from netcore.model.traffic import Chunk, Direction
from netcore.present.export import to_csv, to_text2pcap


class LogToolbar(QWidget):
    """One row above the log. ``changed`` when a filter or the Data format changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.auto_scroll = QCheckBox(self)
        self.auto_scroll.setChecked(True)
        self.data_format = QComboBox(self)
        self.direction = QComboBox(self)
        self.peer = QLineEdit(self)
        self.peer.setClearButtonEnabled(True)
        for combo in (self.data_format, self.direction):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._retranslate()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.auto_scroll)
        layout.addWidget(self.data_format)
        layout.addWidget(self.direction)
        layout.addWidget(self.peer, 1)
        self.data_format.currentIndexChanged.connect(self.changed)
        self.direction.currentIndexChanged.connect(self.changed)
        self.peer.textChanged.connect(self.changed)

    def hex_data(self) -> bool:
        return self.data_format.currentIndex() == 1

    def chosen_direction(self) -> Direction | None:
        return [None, Direction.SENT, Direction.RECEIVED][max(0, self.direction.currentIndex())]

    def keep(self) -> Callable[[Chunk], bool] | None:
        """The filter the choices make (None: every chunk)."""
        direction, peer = self.chosen_direction(), self.peer.text().strip()
        if direction is None and not peer:
            return None
        return lambda c: (direction is None or c.direction is direction) and peer in c.peer

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self.auto_scroll.setText(self.tr("Auto-scroll"))
        self.auto_scroll.setToolTip(
            self.tr("Follow new traffic; untick to keep the rows on screen still while traffic comes")
        )
        for combo, items in (
            (self.data_format, (self.tr("Text"), self.tr("Hex"))),
            (self.direction, (self.tr("Both directions"), self.tr("→ Sent"), self.tr("← Received"))),
        ):
            index = max(0, combo.currentIndex())
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(list(items))
            combo.setCurrentIndex(index)
            combo.blockSignals(False)
        self.data_format.setToolTip(self.tr("Show the Data column as text or as hex bytes"))
        self.direction.setToolTip(self.tr("Show one direction only (the hexdump too)"))
        self.peer.setPlaceholderText(self.tr("Filter by peer"))
        self.peer.setToolTip(self.tr("Show only the traffic of peers whose address contains this text"))


def rows_as_text(rows: Sequence[Sequence[str]]) -> str:
    """Rows as lines of tab-separated columns (pastes into a spreadsheet or an editor)."""
    return "".join("\t".join(row) + "\n" for row in rows)


def copy_texts(chunks: Sequence[Chunk], rows: Sequence[Sequence[str]], encoding: str) -> dict[str, str]:
    """What each "Copy …" entry of the log's menu puts on the clipboard for these rows."""
    data = [c for c in chunks if not c.mark]
    return {
        "text": rows_as_text(rows),
        "hex": to_text2pcap(data),
        "csv": to_csv(chunks, encoding),
        "bytes": b"".join(c.data for c in data).hex(" "),
    }

"""The traffic log's controls: pause, auto-scroll, the Data column as text or hex, filters by
direction and peer (``LogToolbar``), and what its context menu copies (``copy_texts``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QMenu, QToolButton, QWidget

from netcore.model.traffic import Chunk, Direction
from netcore.present.export import to_csv, to_text2pcap


class LogToolbar(QWidget):
    """The log's filter bar (direction, peer), with the small controls that share the row under the
    log (``row_widgets``: Pause, Auto-scroll, Text/Hex, Filter). The bar takes a row of its own only while
    the user filters: the Filter button or Ctrl+F opens it, it stays open while a filter is active
    (the view is visibly filtered), and closing it clears the filters. ``changed`` when a filter or
    the Data format changes; ``pause_action`` toggles the pause (the view does the pausing)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pause_action = QAction(self)  # Pause or Ctrl+Shift+Space where the log has the focus
        self.pause_action.setCheckable(True)
        self.pause_action.setShortcuts([QKeySequence(Qt.Key.Key_Pause), QKeySequence("Ctrl+Shift+Space")])
        self.pause_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.pause_button = QToolButton(self)
        self.pause_button.setDefaultAction(self.pause_action)
        self.pause_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.auto_scroll = QCheckBox(self)
        self.auto_scroll.setChecked(True)
        self.data_format = QComboBox(self)
        self.filter_button = QToolButton(self)
        self.filter_button.setCheckable(True)
        self.filter_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.direction = QComboBox(self)
        self.peer = QLineEdit(self)
        self.peer.setClearButtonEnabled(True)
        for combo in (self.data_format, self.direction):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.find_action = QAction(self)  # Ctrl+F where the log has the focus
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.find_action.triggered.connect(self.open_filter)
        self._retranslate()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.direction)
        layout.addWidget(self.peer, 1)
        self.setVisible(False)
        self.filter_button.toggled.connect(self._filter_toggled)
        self.data_format.currentIndexChanged.connect(self.changed)
        self.direction.currentIndexChanged.connect(self._filter_changed)
        self.peer.textChanged.connect(self._filter_changed)

    def row_widgets(self) -> list[QWidget]:
        """The controls that go in the row under the log, left to right."""
        return [self.pause_button, self.auto_scroll, self.data_format, self.filter_button]

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

    def open_filter(self) -> None:
        """Show the filter bar and put the cursor in the peer box."""
        self.filter_button.setChecked(True)
        self.peer.setFocus()

    def add_to_menu(self, menu: QMenu) -> None:
        """The same controls as entries of the log's context menu."""
        menu.addAction(self.pause_action)
        for text, checked, toggle in (
            (self.auto_scroll.text(), self.auto_scroll.isChecked(), self.auto_scroll.setChecked),
            (self.tr("Data as hex"), self.hex_data(), lambda on: self.data_format.setCurrentIndex(int(on))),
            (self.filter_button.text(), self.filter_button.isChecked(), self.filter_button.setChecked),
        ):
            action = menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(checked)
            action.toggled.connect(toggle)

    def _filter_toggled(self, on: bool) -> None:
        if not on and self.keep() is not None:  # closing the bar ends the filtering it shows
            for box in (self.direction, self.peer):
                box.blockSignals(True)
            self.direction.setCurrentIndex(0)
            self.peer.clear()
            for box in (self.direction, self.peer):
                box.blockSignals(False)
            self.changed.emit()
        self.setVisible(on)

    def _filter_changed(self) -> None:
        if self.keep() is not None:  # a filter set from anywhere shows the bar that says so
            self.filter_button.setChecked(True)
        self.changed.emit()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self.pause_action.setText(self.tr("Pause"))
        self.pause_action.setToolTip(
            self.tr(
                "Freeze what the log and the hexdump show while traffic is still recorded; untick to "
                "catch up (Pause key or Ctrl+Shift+Space)"
            )
        )
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
        self.filter_button.setText(self.tr("Filter"))
        self.filter_button.setToolTip(
            self.tr("Show only one direction or some peers' traffic (Ctrl+F); close to show all again")
        )
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

"""Address and payload inputs with inline validation (the error says where and why, as you type)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from netcore.errors import InputError
from netcore.protocols.address import Address, parse_address
from netcore.protocols.payload import ENCODINGS, PayloadMode, escape_text, parse_payload, to_hex_text
from widgets import style
from widgets.plain_text import PlainLabel
from widgets.state_line import StateLine
from widgets.units import plural

_ERROR_CSS = f"color: {style.ERROR_FG.name()};"
_OK_CSS = "color: palette(placeholder-text);"


def input_error_text(error: InputError) -> str:
    """*error*'s message in the user's language: its template translated (context "InputError",
    where ``make translations-update`` puts every literal template netcore raises), then filled."""
    template = error.params.get("template")
    values = error.params.get("values")
    if not isinstance(template, str) or not template:
        return error.summary
    text = QCoreApplication.translate("InputError", template)
    return text.format(**values) if values else text


class AddressEdit(QWidget):
    """Host field (accepts ``host``, ``host:port``, ``[::1]:port``) plus a port box."""

    changed = Signal()

    def __init__(self, host: str = "127.0.0.1", port: int = 9000, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = QLineEdit(host, self)
        self.host.setPlaceholderText(self.tr("127.0.0.1, ::1, a host name, or host:port"))
        self.host.setToolTip(
            self.tr("IPv4, IPv6 (::1 or [::1]:8000) or a host name; a port typed here wins over the port box")
        )
        self.port = QSpinBox(self)
        # Up to 99999, as wide as 65535: a port typed out of range stays as typed and the error line
        # says why it cannot be used (a range of 0–65535 turned 99999 into 9999 without a word).
        self.port.setRange(0, 99_999)
        self.port.setValue(port)
        self.port.setAccelerated(True)
        self.port.setToolTip(self.tr("TCP/UDP port, 0–65535 (0 = any free port when listening)"))
        self.error = StateLine(1, self)  # its line is kept when empty: an error never moves the rows below
        self.error.setStyleSheet(_ERROR_CSS)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.host, 3)
        row.addWidget(PlainLabel(self.tr("Port"), self))
        row.addWidget(self.port, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.error)
        self.host.textChanged.connect(self._validate)
        self.port.valueChanged.connect(self._validate)

    def address(self) -> Address:
        """The parsed address, or ``InputError`` with a message for the user."""
        return parse_address(self.host.text(), self.port.value())

    def set_address(self, host: str, port: int) -> None:
        self.host.setText(host)
        self.port.setValue(port)

    def is_valid(self) -> bool:
        return self._validate()

    def _validate(self) -> bool:
        try:
            self.address()
        except InputError as exc:
            self.error.setText(input_error_text(exc))
            self.host.setStyleSheet(f"border: 1px solid {style.ERROR_FG.name()};")
            self.changed.emit()
            return False
        self.error.clear()
        self.host.setStyleSheet("")
        self.changed.emit()
        return True

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._validate()  # the error in the new language
        super().changeEvent(event)


class RepeatControl(QWidget):
    """Send again and again on a timer: interval, count (0 = until stopped) and a Start/Stop button.
    ``fire(n)`` is emitted with n = 1, 2, …; a ``{n}`` in the message becomes that number."""

    fire = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.interval = QSpinBox(self)
        self.interval.setRange(1, 3_600_000)
        self.interval.setValue(1000)
        self.interval.setSuffix(self.tr(" ms"))
        self.count = QSpinBox(self)
        self.count.setRange(0, 1_000_000)
        self.count.setValue(10)
        self.count.setSpecialValueText(self.tr("until stopped"))
        self.button = QPushButton(self.tr("Repeat"), self)
        self.button.setCheckable(True)
        self.button.setToolTip(self.tr("Send the message every interval; {n} in it counts 1, 2, 3…"))
        self.progress = PlainLabel(self)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(PlainLabel(self.tr("Repeat every"), self))
        row.addWidget(self.interval)
        row.addWidget(PlainLabel(self.tr("times"), self))
        row.addWidget(self.count)
        row.addWidget(self.button)
        row.addWidget(self.progress, 1)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._sent = 0
        self._refused = False
        self.button.toggled.connect(self._toggle)

    def stop(self) -> None:
        self.button.setChecked(False)

    def refuse(self) -> None:
        """Called by a ``fire`` handler that could not send: stop, without counting that one. The
        first send is made as the button is pressed, so an unusable message never starts a repeat."""
        self._refused = True
        self.stop()

    def _toggle(self, on: bool) -> None:
        if on:
            self._sent = 0
            self.progress.clear()
            self._tick()
            if self.button.isChecked():
                self._timer.start(self.interval.value())
        else:
            self._timer.stop()
        running = self.button.isChecked()  # the first send may have been refused
        self.button.setText(self.tr("Stop repeat") if running else self.tr("Repeat"))

    def _tick(self) -> None:
        self._refused = False
        self.fire.emit(self._sent + 1)
        if self._refused:
            return
        self._sent += 1
        self.progress.setText(self.tr("sent {0}").format(self._sent))
        if self.count.value() and self._sent >= self.count.value():
            self.stop()


class _MessageEdit(QPlainTextEdit):
    """Plain text box where Ctrl+Enter submits (Enter alone types a new line)."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class PayloadEdit(QWidget):
    """What to send: text (UTF-8 or GBK, with \\r \\n \\t \\0 \\xHH escapes) or hex, always visible.

    Switching between Text and Hex converts what is typed, so nothing is lost.
    """

    submitted = Signal()
    changed = Signal()

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = _MessageEdit(self)
        self.edit.setPlainText(text)
        self.edit.setTabChangesFocus(True)
        self.edit.setPlaceholderText(self.tr("Message to send (Ctrl+Enter sends)"))
        self.edit.setFixedHeight(self.edit.fontMetrics().height() * 4 + 12)
        self.mode = QComboBox(self)
        self.mode.addItem(self.tr("Text"), PayloadMode.TEXT.value)
        self.mode.addItem(self.tr("Hex"), PayloadMode.HEX.value)
        self.mode.setToolTip(self.tr("Hex accepts 48 65 6c, 48656c, 0x48,0x65 or \\x48\\x65"))
        self.encoding = QComboBox(self)
        for name in ENCODINGS:
            self.encoding.addItem(name.upper(), name)
        self.escapes = QCheckBox(self.tr("Escapes \\r \\n \\xHH"), self)
        self.escapes.setChecked(True)
        self.status = StateLine(1, self)  # one line, always: an error never moves the rows below
        options = QHBoxLayout()
        options.setContentsMargins(0, 0, 0, 0)
        options.addWidget(self.mode)
        options.addWidget(self.encoding)
        options.addWidget(self.escapes)
        options.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addLayout(options)
        layout.addWidget(self.status)
        self._mode = PayloadMode.TEXT
        self.edit.textChanged.connect(self._validate)
        self.encoding.currentIndexChanged.connect(self._validate)
        self.escapes.toggled.connect(self._validate)
        self.mode.currentIndexChanged.connect(self._switch_mode)
        self.edit.submitted.connect(self.submitted)
        QShortcut(
            QKeySequence("Ctrl+H"),
            self,
            self._toggle_mode,
            context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
        )
        self._validate()

    def current_encoding(self) -> str:
        return str(self.encoding.currentData())

    def payload(self, counter: int | None = None) -> bytes:
        """The bytes to send, or ``InputError`` pointing at the bad character. With *counter*, a
        ``{n}`` in the text becomes that number (repeated sends)."""
        text = self.edit.toPlainText()
        if counter is not None:
            text = text.replace("{n}", str(counter))
        return parse_payload(text, self._mode, self.current_encoding(), self.escapes.isChecked())

    def set_mode(self, mode: PayloadMode | str) -> None:
        self.mode.setCurrentIndex(self.mode.findData(PayloadMode(mode).value))

    def _toggle_mode(self) -> None:
        self.set_mode(PayloadMode.HEX if self._mode is PayloadMode.TEXT else PayloadMode.TEXT)

    def _switch_mode(self) -> None:
        new = PayloadMode(self.mode.currentData())
        if new is self._mode:
            return
        try:
            data = self.payload()
        except InputError:
            data = None  # keep the text as typed; the status line shows what is wrong with it
        self._mode = new
        self.encoding.setEnabled(new is PayloadMode.TEXT)
        self.escapes.setEnabled(new is PayloadMode.TEXT)
        if data is not None:
            self.edit.setPlainText(to_hex_text(data) if new is PayloadMode.HEX else self._as_text(data))
        self._validate()

    def _as_text(self, data: bytes) -> str:
        """Bytes → text that parses back to the same bytes (escapes switched on when needed)."""
        text = escape_text(data, self.current_encoding())
        if text != data.decode(self.current_encoding(), errors="replace"):
            self.escapes.setChecked(True)
        return text

    def _validate(self) -> None:
        try:
            data = self.payload()
        except InputError as exc:
            self.status.setStyleSheet(_ERROR_CSS)
            self.status.setText(input_error_text(exc))
        else:
            self.status.setStyleSheet(_OK_CSS)
            self.status.setText(plural(self.tr("%n byte(s)", "", len(data)), len(data)))
        self.changed.emit()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._validate()  # the status in the new language
        super().changeEvent(event)

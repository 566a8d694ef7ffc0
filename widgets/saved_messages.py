"""Saved messages and send history for a payload box: a compact "Saved" button next to Send.

Its menu saves what the box holds under a name and sends a saved message with one click (the first
nine also with Ctrl+1…Ctrl+9 on the pane that has the focus, else the first pane of the visible
tab); "Manage" reorders, renames and deletes them, imports and exports. Up and Down on the box's
first and last line walk its history of sent messages, like a shell. Every box shares one list,
kept in ``saved_messages.json`` in the application's data folder (the tooltip shows where).

A client's box (given its ``AddressEdit``) can also save a message with the destination it is
aimed at, as Packet Sender's packets keep theirs. Such a message goes where the pane sends without
a word when that is its destination; otherwise nothing is sent and the pane's address is not
changed behind the user's back: a question says where it was saved for and where the pane sends, and
offers "Send to <the pane's address>" and, while the address can be edited (no socket open),
"Send to <its destination>", which sets the pane's address first. A server's reply box has no
destination (a reply goes to the peer chosen there); a destination saved elsewhere is ignored there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from netcore.errors import InputError
from netcore.protocols.payload import PayloadMode
from widgets import style
from widgets.inputs import AddressEdit, PayloadEdit
from widgets.message_store import FILE_NAME, Message, MessageFileError, MessageStore, Problem
from widgets.plain_text import PlainLabel, plain_tooltip
from widgets.units import plural

SHORTCUT_COUNT = 9
_PREVIEW = 60  # characters of a message shown in its tooltip


class _Hub(QObject):
    """Tells every button and dialog that the shared list changed."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.history_unwritable = False  # a history write failed and was reported; none since worked


_shared: tuple[MessageStore, _Hub] | None = None
_file: Path | None = None


def default_file() -> Path:
    """Where the saved messages live: the application's data folder (AppDataLocation)."""
    if _file is not None:
        return _file
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(folder) / FILE_NAME


def use_file(path: Path | None) -> Path | None:
    """Keep the saved messages in *path* from now on (None: the default); tests and the self-test
    use a temporary one. Returns the file chosen before."""
    global _shared, _file
    earlier, (_file, _shared) = _file, (path, None)
    return earlier


def shared() -> tuple[MessageStore, _Hub]:
    """The one store every box uses, loaded on first use."""
    global _shared
    if _shared is None:
        store = MessageStore(default_file())
        store.load()
        _shared = store, _Hub()
    return _shared


def current_message(box: PayloadEdit, name: str = "") -> Message:
    """What *box* holds now."""
    return Message(
        box.edit.toPlainText(),
        PayloadMode(box.mode.currentData()),
        box.current_encoding(),
        box.escapes.isChecked(),
        name,
    )


def show_message(box: PayloadEdit, message: Message) -> None:
    """Put *message* in *box* as it was saved (mode, encoding, escapes, then the text)."""
    box.set_mode(message.mode)
    box.encoding.setCurrentIndex(max(0, box.encoding.findData(message.encoding)))
    box.escapes.setChecked(message.escapes)
    box.edit.setPlainText(message.text)
    box.edit.moveCursor(QTextCursor.MoveOperation.End)


def problem_text(error: MessageFileError) -> str:
    """The user's sentence for a file that cannot be used."""
    if error.problem is Problem.NEWER:
        return QCoreApplication.translate(
            "SavedMessages", "{0} was written by a newer version of Socket Lab (file version {1})."
        ).format(error.path, error.version)
    if error.problem is Problem.UNREADABLE:
        return QCoreApplication.translate("SavedMessages", "{0} cannot be opened: {1}.").format(
            error.path, error.detail
        )
    return QCoreApplication.translate(
        "SavedMessages", "{0} is not a saved-messages file Socket Lab can read ({1})."
    ).format(error.path, error.detail)


def host_port(host: str, port: int) -> str:
    """host:port as people write it: [IPv6]:port."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def preview(message: Message) -> str:
    """A tooltip for *message*: its mode and first characters, or what is wrong with it."""
    try:
        data = message.payload()
    except InputError as exc:
        return str(exc)
    shown = message.text if len(message.text) <= _PREVIEW else message.text[: _PREVIEW - 1] + "…"
    if message.mode is PayloadMode.HEX:
        kind = QCoreApplication.translate("SavedMessages", "hex")
    else:
        kind = message.encoding.upper() + (
            QCoreApplication.translate("SavedMessages", ", escapes") if message.escapes else ""
        )
    text = plural(
        QCoreApplication.translate("SavedMessages", "{0} · {1} byte(s)\n{2}", "", len(data)), len(data)
    ).format(kind, len(data), shown)
    where = message.destination()
    if where is not None:
        text += "\n" + QCoreApplication.translate("SavedMessages", "Saved for {0}").format(host_port(*where))
    return plain_tooltip(text)


class SavedMessagesButton(QToolButton):
    """The "Saved" button of one payload box. The pane connects ``send_requested`` to its send
    (the message is already in the box) and calls ``record()`` after each message it sent."""

    send_requested = Signal()

    def __init__(
        self,
        box: PayloadEdit,
        history_key: str,
        parent: QWidget | None = None,
        address: AddressEdit | None = None,
    ) -> None:
        super().__init__(parent)
        self.box, self.history_key, self.address = box, history_key, address
        self.question: QMessageBox | None = None  # "saved for another destination": send where?
        self.store, self.hub = shared()
        self.setText(self.tr("Saved"))
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)  # as wide as Send
        self.menu_ = QMenu(self)
        self.menu_.setToolTipsVisible(True)
        self.menu_.aboutToShow.connect(self.build_menu)
        self.setMenu(self.menu_)
        self.dialog: ManageDialog | None = None
        self._history_at: int | None = None  # the history entry shown; None: the user's own text
        self._draft = current_message(box)
        self._showing = False
        for n in range(1, SHORTCUT_COUNT + 1):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{n}"), self)
            shortcut.activated.connect(lambda n=n: self._dispatch(n - 1))
            shortcut.activatedAmbiguously.connect(lambda n=n: self._dispatch(n - 1))
        box.edit.installEventFilter(self)
        box.edit.textChanged.connect(self._edited)
        self.hub.changed.connect(self._update_look)
        self._update_look()

    def column_with(self, send: QWidget) -> QVBoxLayout:
        """*send* with this button under it, for the right of the message box's row."""
        column = QVBoxLayout()
        column.addWidget(send)
        column.addWidget(self)
        column.addStretch(1)
        return column

    # -- sending --------------------------------------------------------------------------------
    def send_saved(self, index: int) -> None:
        """Put saved message *index* in the box and ask the pane to send it; if it was saved for
        another destination than the pane's, ask where to send it instead."""
        if not self.box.isEnabled() or not 0 <= index < len(self.store.messages):
            return
        message = self.store.messages[index]
        saved_for = message.destination()
        if self.address is None or saved_for is None or saved_for == self.here():
            self._send(message)
        else:
            self._ask_where(message, saved_for)

    def here(self) -> tuple[str, int] | None:
        """Where the pane sends now (None: no address, or not a valid one)."""
        if self.address is None or not self.address.is_valid():
            return None
        addr = self.address.address()
        return addr.host, addr.port

    def _send(self, message: Message, to: tuple[str, int] | None = None) -> None:
        if to is not None and self.address is not None:
            self.address.set_address(*to)
        show_message(self.box, message)
        self.send_requested.emit()

    def _ask_where(self, message: Message, saved_for: tuple[str, int]) -> None:
        assert self.address is not None
        here = self.here()
        if self.question is not None:  # one question at a time: the newest
            self.question.close()
            self.question.deleteLater()
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Send a saved message"),
            "",
            QMessageBox.StandardButton.Cancel,
            self.window(),
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        text = self.tr("“{0}” was saved for {1}; this pane sends to {2}.").format(
            message.name, host_port(*saved_for), host_port(*here) if here else self.tr("no valid address")
        )
        choices: dict[QAbstractButton, tuple[str, int] | None] = {}  # button → where (None: here)
        send_to = self.tr("Send to {0}")
        if here is not None:
            choices[box.addButton(send_to.format(host_port(*here)), QMessageBox.ButtonRole.AcceptRole)] = None
        if self.address.isEnabled():
            button = box.addButton(send_to.format(host_port(*saved_for)), QMessageBox.ButtonRole.ActionRole)
            choices[button] = saved_for
        else:
            text += "\n" + self.tr("To send it to {0}, close the socket or disconnect first.").format(
                host_port(*saved_for)
            )
        box.setText(text)

        def chosen(clicked: QAbstractButton) -> None:
            if clicked in choices:
                self._send(message, choices[clicked])

        box.buttonClicked.connect(chosen)
        self.question = box
        box.open()

    def _dispatch(self, index: int) -> None:
        """Ctrl+n: every visible button of the window has the shortcut; the one on the pane with
        the focus sends, else the first one."""
        buttons = [b for b in self.window().findChildren(SavedMessagesButton) if b.isVisible()]
        focus = QApplication.focusWidget()
        scoped = [b for b in buttons if focus is not None and b.scope().isAncestorOf(focus)]
        target = (scoped or buttons or [self])[0]
        target.send_saved(index)

    def scope(self) -> QWidget:
        """The pane this button belongs to."""
        return self.parentWidget() or self

    def record(self) -> None:
        """The box's message was sent: add it to this box's history."""
        self._history_at = None
        try:
            if self.store.record(self.history_key, current_message(self.box)):
                self.hub.changed.emit()
        except OSError as exc:
            # Said once, not at every send (a locked or full profile folder fails each time).
            if not self.hub.history_unwritable:
                self.hub.history_unwritable = True
                self._warn(self.tr("Cannot write {0}: {1}").format(self.store.path, exc.strerror or exc))
        else:
            self.hub.history_unwritable = False

    # -- saving ---------------------------------------------------------------------------------
    def save_current(self, with_destination: bool = False) -> None:
        """Ask for a name and save what the box holds (and where the pane sends, if asked)."""
        message = current_message(self.box)
        here = self.here() if with_destination else None
        if here is not None:
            message = replace(message, host=here[0], port=here[1])
        name, ok = QInputDialog.getText(
            self,
            self.tr("Save message"),
            self.tr("Name of the message:"),
            QLineEdit.EchoMode.Normal,
            message.default_name(),
        )
        if ok and name.strip():
            self.change(lambda: self.store.add(replace(message, name=name.strip())))

    def change(self, action: Callable[[], None]) -> bool:
        """Run a change of the list (it writes the file); report a failure. True if it worked."""
        aside = self.store.set_aside
        try:
            action()
        except OSError as exc:
            self._warn(self.tr("Cannot write {0}: {1}").format(self.store.path, exc.strerror or exc))
            return False
        finally:
            self.hub.changed.emit()
        if self.store.set_aside is not None and self.store.set_aside != aside:
            self._inform(
                self.tr("The file that could not be read was kept as {0}.").format(self.store.set_aside)
            )
        return True

    # The message boxes guess whether a text is HTML; a path or a value read from an imported file
    # ("mode '<img src=...>'") is shown as it is (plain_tooltip escapes what would be taken as HTML).
    def _warn(self, text: str) -> None:
        QMessageBox.warning(self, self.tr("Saved messages"), plain_tooltip(text))

    def _inform(self, text: str) -> None:
        QMessageBox.information(self, self.tr("Saved messages"), plain_tooltip(text))

    def import_messages(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Import saved messages"), "", self.tr("Saved messages (*.json);;All files (*)")
        )
        if not path:
            return
        try:
            count = self.store.import_file(Path(path))
        except MessageFileError as exc:
            self.hub.changed.emit()
            self._warn(problem_text(exc) + "\n" + self.tr("Nothing was imported; your list is unchanged."))
            return
        except OSError as exc:
            self._warn(self.tr("Cannot write {0}: {1}").format(self.store.path, exc.strerror or exc))
            return
        self.hub.changed.emit()
        self._inform(self.tr("%n message(s) imported.", "", count))

    def export_messages(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Export saved messages"), FILE_NAME, self.tr("Saved messages (*.json)")
        )
        if not path:
            return
        try:
            self.store.export_file(Path(path))
        except OSError as exc:
            self._warn(self.tr("Cannot write {0}: {1}").format(path, exc.strerror or exc))

    def manage(self) -> None:
        if self.dialog is None:
            self.dialog = ManageDialog(self)
        self.dialog.refresh()
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()

    # -- the menu -------------------------------------------------------------------------------
    def build_menu(self) -> None:
        """Rebuilt each time it opens: the list is shared with the other boxes, and with another
        window of Socket Lab that may have changed the file since."""
        if self.store.refresh():
            self.hub.changed.emit()
        menu = self.menu_
        menu.clear()
        if self.store.problem is not None:
            warning = menu.addAction(self.tr("⚠ The saved messages file could not be read"))
            warning.setToolTip(plain_tooltip(problem_text(self.store.problem)))
            warning.triggered.connect(self.manage)
        menu.addAction(self.tr("Save current message…"), self.save_current)
        if self.address is not None:
            here = self.here()
            with_destination = menu.addAction(
                self.tr("Save with destination {0}…").format(host_port(*here) if here else "–"),
                lambda: self.save_current(with_destination=True),
            )
            with_destination.setEnabled(here is not None)
        if self.store.messages:
            menu.addSeparator()
        for i, message in enumerate(self.store.messages):
            keys = f"\tCtrl+{i + 1}" if i < SHORTCUT_COUNT else ""
            where = message.destination()
            label = message.name + (f"  → {host_port(*where)}" if where else "")
            action = QAction(label.replace("&", "&&") + keys, menu)
            action.setToolTip(preview(message))
            action.setEnabled(self.box.isEnabled())
            action.triggered.connect(lambda _=False, i=i: self.send_saved(i))
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.tr("Manage saved messages…"), self.manage)
        menu.addAction(self.tr("Import…"), self.import_messages)
        menu.addAction(self.tr("Export…"), self.export_messages)

    def _update_look(self) -> None:
        tip = self.tr(
            "Saved messages: save this message, send one with a click or Ctrl+1…Ctrl+9.\n"
            "Up/Down in the message box recall what you sent.\nKept in {0}"
        ).format(self.store.path)
        if self.store.problem is not None:
            tip += "\n\n" + problem_text(self.store.problem)
            self.setStyleSheet(f"QToolButton {{ color: {style.ERROR_FG.name()}; }}")  # not its menu
        else:
            self.setStyleSheet("")
        self.setToolTip(plain_tooltip(tip))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._update_look()
        super().changeEvent(event)

    # -- history --------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up on the box's first line and Down on its last walk the history."""
        if watched is self.box.edit and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and event.modifiers() in (
                Qt.KeyboardModifier.NoModifier,
                Qt.KeyboardModifier.KeypadModifier,
            ):
                cursor = self.box.edit.textCursor()
                up = key == Qt.Key.Key_Up
                move = QTextCursor.MoveOperation.Up if up else QTextCursor.MoveOperation.Down
                if not cursor.movePosition(move):  # already on the first (last) line
                    return self.history_step(-1 if up else 1)
        return super().eventFilter(watched, event)

    def history_step(self, step: int) -> bool:
        """Show the previous (-1) or next (+1) message sent; True if the box changed."""
        items = self.store.history(self.history_key)
        at = self._history_at
        if at is None:
            if step > 0 or not items:
                return False
            self._draft = current_message(self.box)
            at = len(items) - 1
        else:
            at += step
            if at < 0:
                return True  # the oldest: stay
        if at >= len(items):
            self._show(self._draft)
            self._history_at = None
        else:
            self._show(items[at])
            self._history_at = at
        return True

    def _show(self, message: Message) -> None:
        self._showing = True
        try:
            show_message(self.box, message)
        finally:
            self._showing = False

    def _edited(self) -> None:
        if not self._showing:
            self._history_at = None


class ManageDialog(QDialog):
    """The saved messages as a list: drag or Up/Down to reorder, rename in place, delete, send."""

    def __init__(self, button: SavedMessagesButton) -> None:
        super().__init__(button)
        self.button, self.store = button, button.store
        self.setWindowTitle(self.tr("Saved messages"))
        self.list = QListWidget(self)
        self.list.setDragDropMode(QListWidget.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setEditTriggers(
            QListWidget.EditTrigger.DoubleClicked
            | QListWidget.EditTrigger.EditKeyPressed
            | QListWidget.EditTrigger.SelectedClicked
        )
        self.problem = PlainLabel(self)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {style.ERROR_FG.name()};")
        self.where = PlainLabel(self)
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.send_button = QPushButton(self.tr("Send"), self)
        self.load_button = QPushButton(self.tr("Put in message box"), self)
        self.up_button = QPushButton(self.tr("Move up"), self)
        self.down_button = QPushButton(self.tr("Move down"), self)
        self.rename_button = QPushButton(self.tr("Rename"), self)
        self.delete_button = QPushButton(self.tr("Delete"), self)
        self.import_button = QPushButton(self.tr("Import…"), self)
        self.export_button = QPushButton(self.tr("Export…"), self)
        close = QPushButton(self.tr("Close"), self)
        side = QVBoxLayout()
        for widget in (self.send_button, self.load_button, self.up_button, self.down_button):
            side.addWidget(widget)
        side.addWidget(self.rename_button)
        side.addWidget(self.delete_button)
        side.addStretch(1)
        side.addWidget(self.import_button)
        side.addWidget(self.export_button)
        side.addWidget(close)
        row = QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addWidget(self.problem)
        layout.addLayout(row, 1)
        layout.addWidget(self.where)
        self.send_button.clicked.connect(lambda: self.button.send_saved(self.list.currentRow()))
        self.load_button.clicked.connect(self._load)
        self.list.itemActivated.connect(lambda _: self._load())
        self.up_button.clicked.connect(lambda: self.move_by(-1))
        self.down_button.clicked.connect(lambda: self.move_by(1))
        self.rename_button.clicked.connect(lambda: self._edit_current())
        self.delete_button.clicked.connect(self.delete)
        self.import_button.clicked.connect(self.button.import_messages)
        self.export_button.clicked.connect(self.button.export_messages)
        close.clicked.connect(self.close)
        self.list.itemChanged.connect(self._renamed)
        self.list.model().rowsMoved.connect(self._dragged)
        self.list.currentRowChanged.connect(self._update_buttons)
        button.hub.changed.connect(self.refresh)
        self.resize(440, 320)

    def refresh(self) -> None:
        """Show the shared list as it is now, keeping the selected row."""
        row = self.list.currentRow()
        self.list.blockSignals(True)
        self.list.clear()
        for message in self.store.messages:
            item = QListWidgetItem(message.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            item.setToolTip(preview(message))
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.list.setCurrentRow(min(max(row, 0), self.list.count() - 1))
        problem = self.store.problem
        if problem is not None:
            self.problem.setText(
                problem_text(problem)
                + "\n"
                + self.tr(
                    "The file stays as it is until you change the list; then it is kept under another name."
                )
            )
        self.problem.setVisible(problem is not None)
        self.where.setText(self.tr("Kept in {0}").format(self.store.path))
        self._update_buttons()

    def _update_buttons(self) -> None:
        row, count = self.list.currentRow(), self.list.count()
        chosen = 0 <= row < count
        for widget in (self.load_button, self.rename_button, self.delete_button):
            widget.setEnabled(chosen)
        self.send_button.setEnabled(chosen and self.button.box.isEnabled())
        self.up_button.setEnabled(chosen and row > 0)
        self.down_button.setEnabled(chosen and row < count - 1)
        self.export_button.setEnabled(count > 0)

    def move_by(self, step: int) -> None:
        row = self.list.currentRow()
        to = row + step
        if 0 <= row < self.list.count() and 0 <= to < self.list.count():
            self.list.setCurrentRow(to)  # kept by refresh()
            self.button.change(lambda: self.store.move(row, to))

    def delete(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < self.list.count():
            self.button.change(lambda: self.store.remove(row))

    def rename(self, row: int, name: str) -> None:
        if 0 <= row < len(self.store.messages) and name.strip():
            self.button.change(lambda: self.store.rename(row, name.strip()))
        else:
            self.refresh()

    def _edit_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _renamed(self, item: QListWidgetItem) -> None:
        # after the editor has closed: renaming rebuilds the list
        row, name = self.list.row(item), item.text()
        QTimer.singleShot(0, self, lambda: self.rename(row, name))

    def _dragged(self, _parent: object, start: int, _end: int, _dest: object, row: int) -> None:
        to = row if row < start else row - 1
        # after the drop has finished: the change rebuilds the list
        QTimer.singleShot(0, self, lambda: self.button.change(lambda: self.store.move(start, to)))

    def _load(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.store.messages):
            show_message(self.button.box, self.store.messages[row])

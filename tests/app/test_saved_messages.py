"""Saved messages and send history through the real TCP/UDP tabs and real loopback sockets."""

from __future__ import annotations

import json
import socket

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from app.main_window import MainWindow
from netcore.protocols.payload import PayloadMode
from tests.app.test_tcp_echo_page import connect_client, received_bytes, start_server
from widgets import message_store, saved_messages
from widgets.message_store import Message, MessageStore
from widgets.saved_messages import SavedMessagesButton, current_message, show_message

WAIT_MS = 10000


@pytest.fixture
def window(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def menu_action(button: SavedMessagesButton, text: str):
    button.menu_.aboutToShow.emit()
    matches = [a for a in button.menu_.actions() if a.text().split("\t")[0] == text]
    assert len(matches) == 1, [a.text() for a in button.menu_.actions()]
    return matches[0]


def save_as(monkeypatch, button: SavedMessagesButton, name: str) -> None:
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kw: (name, True))
    menu_action(button, "Save current message…").trigger()


def test_save_then_one_click_sends_the_saved_bytes(qtbot, window, monkeypatch):
    page = window.tcp_echo
    start_server(qtbot, page)
    connect_client(qtbot, page)
    box = page.client.payload
    box.set_mode(PayloadMode.HEX)
    box.edit.setPlainText("de ad be ef 0d 0a")
    save_as(monkeypatch, page.client.saved, "magic")
    box.set_mode(PayloadMode.TEXT)
    box.edit.setPlainText("something else")
    menu_action(page.client.saved, "magic").trigger()
    qtbot.waitUntil(lambda: received_bytes(page.server.view) == b"\xde\xad\xbe\xef\r\n", timeout=WAIT_MS)
    assert current_message(box) == Message("de ad be ef 0d 0a", PayloadMode.HEX)
    saved = json.loads(saved_messages.default_file().read_text(encoding="utf-8"))
    assert saved["messages"][0]["name"] == "magic" and saved["messages"][0]["mode"] == "hex"


def test_ctrl_number_sends_from_the_pane_with_the_focus(qtbot, window, monkeypatch):
    page = window.tcp_echo
    start_server(qtbot, page, mode_index=3)  # manual reply
    connect_client(qtbot, page)
    qtbot.waitUntil(lambda: page.server.clients.count() == 1, timeout=WAIT_MS)
    store = page.client.saved.store
    store.add(Message("first\\n", name="one"))
    store.add(Message("GBK 你好", encoding="gbk", escapes=False, name="two"))
    window.activateWindow()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=WAIT_MS)
    page.client.payload.edit.setFocus()
    qtbot.keyClick(page.client.payload.edit, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: received_bytes(page.server.view) == "GBK 你好".encode("gbk"), timeout=WAIT_MS)
    page.server.reply.edit.setFocus()  # the server's reply box: Ctrl+1 replies to the client
    qtbot.keyClick(page.server.reply.edit, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: received_bytes(page.client.view) == b"first\n", timeout=WAIT_MS)
    assert received_bytes(page.server.view) == "GBK 你好".encode("gbk")  # the client did not send it too
    assert page.server.reply.edit.toPlainText() == "first\\n"


def test_udp_click_sends_and_history_walks_up_and_down(qtbot, window):
    window.tabs.setCurrentWidget(window.udp_echo)
    page = window.udp_echo
    page.server.address.set_address("127.0.0.1", 0)
    qtbot.mouseClick(page.server.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: page.server.server is not None and "Listening" in page.server.state.text(), timeout=WAIT_MS
    )
    edit = page.client.payload.edit
    for text in ("one", "two", "two", "three"):
        edit.setPlainText(text)
        qtbot.mouseClick(page.client.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: received_bytes(page.server.view) == b"onetwotwothree", timeout=WAIT_MS)
    history = [m.text for m in page.client.saved.store.history("udp_client")]
    assert history == ["one", "two", "three"]  # a repeat is kept once
    edit.setPlainText("draft")
    edit.setFocus()
    seen = []
    for _ in range(4):
        qtbot.keyClick(edit, Qt.Key.Key_Up)
        seen.append(edit.toPlainText())
    assert seen == ["three", "two", "one", "one"]
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert edit.toPlainText() == "two"
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert edit.toPlainText() == "draft"  # past the newest: what the user was typing
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    qtbot.mouseClick(page.client.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: received_bytes(page.server.view).endswith(b"threethree"), timeout=WAIT_MS)


def test_up_inside_a_multi_line_message_moves_the_cursor(qtbot, window):
    edit = window.tcp_echo.client.payload.edit
    window.tcp_echo.client.saved.store.record("tcp_client", Message("old"))
    edit.setPlainText("line 1\nline 2")
    edit.moveCursor(QTextCursor.MoveOperation.End)
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_Up)  # the cursor was on the last line
    assert edit.toPlainText() == "line 1\nline 2"
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    assert edit.toPlainText() == "old"


def test_manage_reorders_renames_and_deletes(qtbot, window):
    button = window.tcp_echo.client.saved
    for name in ("a", "b", "c"):
        button.store.add(Message(name, name=name))
    button.manage()
    dialog = button.dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    names = lambda: [dialog.list.item(i).text() for i in range(dialog.list.count())]  # noqa: E731
    assert names() == ["a", "b", "c"]
    dialog.list.setCurrentRow(2)
    qtbot.mouseClick(dialog.up_button, Qt.MouseButton.LeftButton)
    assert names() == ["a", "c", "b"] and dialog.list.currentRow() == 1
    dialog.list.item(0).setText("A")  # as the in-place editor does
    qtbot.waitUntil(lambda: [m.name for m in button.store.messages] == ["A", "c", "b"], timeout=WAIT_MS)
    model = dialog.list.model()
    assert model.moveRow(QModelIndex(), 0, QModelIndex(), 3)  # what a drag of "A" to the end does
    qtbot.waitUntil(lambda: [m.name for m in button.store.messages] == ["c", "b", "A"], timeout=WAIT_MS)
    dialog.list.setCurrentRow(0)
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    assert names() == ["b", "A"]
    on_disk = json.loads(button.store.path.read_text(encoding="utf-8"))
    assert [m["name"] for m in on_disk["messages"]] == ["b", "A"]
    other = window.udp_echo.client.saved  # every box shares the list
    other.menu_.aboutToShow.emit()
    assert [a.text() for a in other.menu_.actions() if "\t" in a.text()] == ["b\tCtrl+1", "A\tCtrl+2"]
    dialog.close()


def test_export_then_import_round_trip(qtbot, window, monkeypatch, tmp_path):
    button = window.tcp_echo.client.saved
    button.store.add(Message("48 65", PayloadMode.HEX, name="He"))
    target = tmp_path / "export.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    menu_action(button, "Export…").trigger()
    button.store.remove(0)
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: shown.append(text))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(target), ""))
    menu_action(button, "Import…").trigger()
    assert button.store.messages == [Message("48 65", PayloadMode.HEX, name="He")]
    assert shown == ["1 message imported."]


@pytest.mark.parametrize(
    "content, says",
    [
        ("{not json", "is not a saved-messages file"),
        ('{"format": "socketlab-messages", "version": 99, "messages": []}', "newer version"),
    ],
)
def test_an_unusable_file_is_reported_and_kept_until_the_user_saves(
    qtbot, settings, monkeypatch, content, says
):
    path = saved_messages.default_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    saved_messages.use_file(path)  # start again: the window loads the file
    win = MainWindow(settings)
    qtbot.addWidget(win)
    button = win.tcp_echo.client.saved
    assert says in button.toolTip() and str(path) in button.toolTip()
    assert says in menu_action(button, "⚠ The saved messages file could not be read").toolTip()
    show_message(win.tcp_echo.client.payload, Message("kept"))
    button.record()  # a send's history does not overwrite the file
    assert path.read_text(encoding="utf-8") == content
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: shown.append(text))
    save_as(monkeypatch, button, "mine")
    assert [m.name for m in button.store.messages] == ["mine"]
    assert (
        button.store.set_aside is not None and button.store.set_aside.read_text(encoding="utf-8") == content
    )
    assert shown and str(button.store.set_aside) in shown[0]
    assert says not in button.toolTip()


def test_import_of_a_broken_file_is_reported_and_changes_nothing(qtbot, window, monkeypatch, tmp_path):
    button = window.tcp_echo.client.saved
    button.store.add(Message("x", name="x"))
    bad = tmp_path / "bad.json"
    newer = {"format": "socketlab-messages", "version": message_store.VERSION + 1}
    bad.write_text(json.dumps(newer), encoding="utf-8")
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warned.append(text))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    menu_action(button, "Import…").trigger()
    assert warned and "newer version" in warned[0] and "unchanged" in warned[0]
    assert [m.name for m in button.store.messages] == ["x"]


def test_the_self_test_leaves_the_saved_messages_alone(qtbot):
    from app.selftest import run_self_test

    chosen = saved_messages.default_file()
    ok, reason = run_self_test()
    assert ok, reason
    assert saved_messages.default_file() == chosen
    assert not chosen.exists()  # its sends went to a history of its own


def test_a_value_from_an_imported_file_is_reported_as_text_not_html(qtbot, window, monkeypatch, tmp_path):
    """A shared file's bad value ("mode '<img src=...>'") is quoted literally in the warning."""
    button = window.tcp_echo.client.saved
    bad = tmp_path / "from a colleague.json"
    bad.write_text(
        json.dumps(
            {"format": "socketlab-messages", "version": 1, "messages": [{"text": "x", "mode": "<b>hex</b>"}]}
        ),
        encoding="utf-8",
    )
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warned.append(text))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    menu_action(button, "Import…").trigger()
    assert len(warned) == 1
    assert GuiQt.mightBeRichText(warned[0])  # so the box renders it: as escaped text
    assert "&lt;b&gt;hex&lt;/b&gt;" in warned[0] and "<b>" not in warned[0]


def test_the_menu_shows_what_another_window_saved(qtbot, window):
    """Two Socket Labs share the file: a message saved in the other one is in this one's menu."""
    button = window.tcp_echo.client.saved
    button.store.add(Message("mine", name="mine"))
    other = MessageStore(button.store.path)
    other.load()
    other.add(Message("theirs", name="theirs"))
    button.menu_.aboutToShow.emit()
    shown = [a.text() for a in button.menu_.actions() if "\t" in a.text()]
    assert shown == ["mine\tCtrl+1", "theirs\tCtrl+2"]


def test_a_history_that_cannot_be_written_is_reported_once_not_at_every_send(qtbot, window, monkeypatch):
    """A locked profile folder fails every write: one warning, not a dialog at each send; after a
    write that works, a new failure is reported again."""
    page = window.udp_echo
    button = page.client.saved
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warned.append(text))

    def locked() -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(button.store, "save", locked)
    for text in ("one", "two", "three"):
        page.client.payload.edit.setPlainText(text)
        button.record()
    assert len(warned) == 1 and "Permission denied" in warned[0]
    monkeypatch.undo()
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warned.append(text))
    page.client.payload.edit.setPlainText("four")
    button.record()  # written
    monkeypatch.setattr(button.store, "save", locked)
    page.client.payload.edit.setPlainText("five")
    button.record()
    assert len(warned) == 2


def button_named(box: QMessageBox, text: str):
    matches = [b for b in box.buttons() if b.text() == text]
    assert len(matches) == 1, [b.text() for b in box.buttons()]
    return matches[0]


def test_a_message_saved_with_its_destination_asks_before_going_elsewhere(qtbot, window, monkeypatch):
    """Saved for the app's UDP echo server; sent while the pane aims at another socket, it asks:
    "Send to <saved>" sets the pane's address and sends there, "Send to <here>" sends here."""
    window.tabs.setCurrentWidget(window.udp_echo)
    page = window.udp_echo
    page.server.address.set_address("127.0.0.1", 0)
    qtbot.mouseClick(page.server.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening" in page.server.state.text(), timeout=WAIT_MS)
    server = f"127.0.0.1:{page.server.server.address.port}"
    client = page.client
    client.address.set_address("127.0.0.1", page.server.server.address.port)
    client.payload.edit.setPlainText("ping")
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kw: ("to the server", True))
    menu_action(client.saved, f"Save with destination {server}…").trigger()
    assert client.saved.store.messages[-1].destination() == ("127.0.0.1", page.server.server.address.port)
    saved = json.loads(saved_messages.default_file().read_text(encoding="utf-8"))
    assert saved["version"] == 2 and saved["messages"][-1]["port"] == page.server.server.address.port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", 0))
        other.settimeout(WAIT_MS / 1000)
        elsewhere = f"127.0.0.1:{other.getsockname()[1]}"
        client.address.set_address("127.0.0.1", other.getsockname()[1])
        client.payload.edit.setPlainText("typed")
        menu_action(client.saved, f"to the server  → {server}").trigger()
        question = client.saved.question
        qtbot.waitUntil(lambda: question.isVisible(), timeout=WAIT_MS)
        assert server in question.text() and elsewhere in question.text()
        assert client.payload.edit.toPlainText() == "typed"  # nothing sent, nothing changed yet
        button_named(question, f"Send to {server}").click()
        qtbot.waitUntil(lambda: received_bytes(page.server.view) == b"ping", timeout=WAIT_MS)
        assert (
            client.address.host.text() == "127.0.0.1"
            and client.address.port.value() != other.getsockname()[1]
        )
        # The socket is open now (the address cannot change): sending here is the only offer.
        qtbot.mouseClick(client.close_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: client.address.isEnabled(), timeout=WAIT_MS)
        client.address.set_address("127.0.0.1", other.getsockname()[1])
        menu_action(client.saved, f"to the server  → {server}").trigger()
        question = client.saved.question
        qtbot.waitUntil(lambda: question.isVisible(), timeout=WAIT_MS)
        button_named(question, f"Send to {elsewhere}").click()
        assert other.recvfrom(100)[0] == b"ping"
        assert received_bytes(page.server.view) == b"ping"  # not sent twice

"""AddressEdit and PayloadEdit: inline validation, encodings, escapes, Text ⇄ Hex, Ctrl+Enter."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from netcore.errors import InputError
from netcore.protocols.address import Address
from netcore.protocols.payload import PayloadMode, parse_hex
from widgets.inputs import AddressEdit, PayloadEdit


@pytest.fixture
def address_edit(qtbot) -> AddressEdit:
    widget = AddressEdit("127.0.0.1", 9000)
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def payload(qtbot) -> PayloadEdit:
    widget = PayloadEdit()
    qtbot.addWidget(widget)
    return widget


def type_text(qtbot, widget, text: str) -> None:
    """Type *text* key by key. QTest.keyClicks aborts on characters outside ASCII, so those arrive as
    key events that carry only their text (what an input method commits)."""
    for ch in text:
        if ch.isascii():
            qtbot.keyClicks(widget, ch)
            continue
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, ch))


def error_shown(edit: AddressEdit) -> bool:
    return edit.error.text() != ""


# -- AddressEdit ------------------------------------------------------------------------------------
def test_address_edit_starts_valid(address_edit):
    assert not error_shown(address_edit)
    assert address_edit.is_valid()
    assert address_edit.address() == Address("127.0.0.1", 9000)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1.2.3.999", ["1.2.3.999", "IPv4"]),
        ("[::1", ["never closes"]),
        ("host:99999", ["99999", "out of range"]),
        ("", ["empty"]),
        ("[127.0.0.1]:80", ["IPv6"]),
    ],
)
def test_address_edit_shows_an_inline_error(address_edit, qtbot, text, words):
    address_edit.host.clear()
    qtbot.keyClicks(address_edit.host, text)
    assert address_edit.host.text() == text
    assert error_shown(address_edit)
    for word in words:
        assert word in address_edit.error.text()
    assert "border" in address_edit.host.styleSheet()
    assert not address_edit.is_valid()
    with pytest.raises(InputError):
        address_edit.address()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", Address("127.0.0.1", 9000)),
        ("[::1]:8080", Address("::1", 8080)),  # the port typed in the host field wins over the box
        ("::1", Address("::1", 9000)),
        ("localhost:81", Address("localhost", 81)),
        (" example.org ", Address("example.org", 9000)),
    ],
)
def test_address_edit_accepts_good_addresses(address_edit, qtbot, text, expected):
    qtbot.keyClicks(address_edit.host, "1.2.3.999")
    assert error_shown(address_edit)
    address_edit.host.clear()
    qtbot.keyClicks(address_edit.host, text)
    assert not error_shown(address_edit)
    assert address_edit.host.styleSheet() == ""
    assert address_edit.address() == expected


def test_address_edit_port_box_and_changed_signal(address_edit, qtbot):
    with qtbot.waitSignal(address_edit.changed, timeout=1000):
        address_edit.port.setValue(8001)
    assert address_edit.address() == Address("127.0.0.1", 8001)
    address_edit.set_address("[::1]:7000", 1234)
    assert address_edit.address() == Address("::1", 7000)
    address_edit.set_address("10.0.0.1", 1234)
    assert address_edit.address() == Address("10.0.0.1", 1234)
    with qtbot.waitSignal(address_edit.changed, timeout=1000):
        address_edit.host.setText("10.0.0.1:0")
    assert address_edit.address() == Address("10.0.0.1", 0)


# -- PayloadEdit ------------------------------------------------------------------------------------
def test_typed_text_gives_utf8_bytes(payload, qtbot):
    type_text(qtbot, payload.edit, "héllo 你好")
    assert payload.edit.toPlainText() == "héllo 你好"
    assert payload.payload() == "héllo 你好".encode()
    assert payload.status.text() == f"{len('héllo 你好'.encode())} bytes"


def test_gbk_encoding_gives_gbk_bytes(payload, qtbot):
    type_text(qtbot, payload.edit, "你好")
    assert payload.payload() == b"\xe4\xbd\xa0\xe5\xa5\xbd"
    payload.encoding.setCurrentIndex(payload.encoding.findData("gbk"))
    assert payload.current_encoding() == "gbk"
    assert payload.payload() == "你好".encode("gbk") == b"\xc4\xe3\xba\xc3"


def test_escapes(payload, qtbot):
    qtbot.keyClicks(payload.edit, r"GET /\r\n\x00\\")
    assert payload.payload() == b"GET /\r\n\x00\\"
    payload.escapes.setChecked(False)
    assert payload.payload() == rb"GET /\r\n\x00\\"


def test_bad_escape_reports_its_column(payload, qtbot):
    qtbot.keyClicks(payload.edit, r"ab\q")
    assert "column 3" in payload.status.text()
    with pytest.raises(InputError) as info:
        payload.payload()
    assert info.value.position == 2


ROUND_TRIP_CASES = [
    b"\x00\xff",
    b"back\\slash",
    "中文 text".encode(),
    "中文".encode("gbk"),
    b"two\nlines\r\n",
    b"\x00\xff\\\n" + "混合".encode() + b"\t\x7f\x80end",
]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
@pytest.mark.parametrize("data", ROUND_TRIP_CASES)
def test_text_hex_text_round_trip(payload, qtbot, data, encoding):
    payload.encoding.setCurrentIndex(payload.encoding.findData(encoding))
    payload.set_mode("hex")
    payload.edit.setPlainText(data.hex(" "))
    assert payload.payload() == data
    payload.set_mode("text")  # hex → text keeps the bytes
    assert payload.mode.currentData() == "text"
    assert payload.payload() == data, payload.edit.toPlainText()
    payload.set_mode(PayloadMode.HEX)  # text → hex keeps them too
    assert parse_hex(payload.edit.toPlainText()) == data
    assert payload.payload() == data
    payload.set_mode("text")
    assert payload.payload() == data


def test_typed_text_survives_switching_to_hex_and_back(payload, qtbot):
    type_text(qtbot, payload.edit, r"中\x00\xff\\")
    data = "中".encode() + b"\x00\xff\\"
    assert payload.payload() == data
    payload.mode.setCurrentIndex(payload.mode.findData("hex"))  # the combo, as a user would
    assert payload.edit.toPlainText() == data.hex(" ")
    assert not payload.encoding.isEnabled() and not payload.escapes.isEnabled()
    assert payload.payload() == data
    payload.mode.setCurrentIndex(payload.mode.findData("text"))
    assert payload.encoding.isEnabled()
    assert payload.payload() == data
    assert "中" in payload.edit.toPlainText()


def test_text_with_a_newline_stays_a_new_line(payload):
    payload.set_mode("hex")
    payload.edit.setPlainText("61 0a 62")
    payload.set_mode("text")
    assert payload.edit.toPlainText() == "a\nb"
    assert payload.payload() == b"a\nb"


def test_switching_to_text_turns_escapes_on_when_needed(payload):
    payload.escapes.setChecked(False)
    payload.set_mode("hex")
    payload.edit.setPlainText("00 41")
    payload.set_mode("text")
    assert payload.escapes.isChecked()
    assert payload.payload() == b"\x00A"


def test_bad_hex_digit(payload, qtbot):
    payload.set_mode("hex")
    payload.edit.clear()
    qtbot.keyClicks(payload.edit, "41 4g")
    assert "column 5" in payload.status.text()
    assert "'g'" in payload.status.text()
    with pytest.raises(InputError) as info:
        payload.payload()
    assert info.value.position == 4
    # switching to text with bad hex keeps what was typed
    payload.set_mode("text")
    assert payload.edit.toPlainText() == "41 4g"
    assert payload.payload() == b"41 4g"
    assert "5 bytes" in payload.status.text()


def test_ctrl_return_submits(payload, qtbot):
    qtbot.keyClicks(payload.edit, "hi")
    with qtbot.waitSignal(payload.submitted, timeout=1000):
        qtbot.keyClick(payload.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert payload.edit.toPlainText() == "hi"
    with qtbot.waitSignal(payload.submitted, timeout=1000):
        qtbot.keyClick(payload.edit, Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)


def test_plain_return_inserts_a_newline(payload, qtbot):
    qtbot.keyClicks(payload.edit, "a")
    with qtbot.assertNotEmitted(payload.submitted):
        qtbot.keyClick(payload.edit, Qt.Key.Key_Return)
    qtbot.keyClicks(payload.edit, "b")
    assert payload.edit.toPlainText() == "a\nb"
    assert payload.payload() == b"a\nb"

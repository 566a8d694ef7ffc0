"""pytest-qt: the File fetch tab against its own built-in server, over real loopback sockets."""

from __future__ import annotations

import hashlib
import os

import pytest
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from widgets.hexdump_view import FRAME_START_ROLE, HEX0


@pytest.fixture
def page(qtbot, settings, tmp_path):
    root, dest = tmp_path / "root", tmp_path / "dest"
    root.mkdir()
    dest.mkdir()
    (root / "hello.png").write_bytes(b"\x89PNG fake image")
    (root / "big.bin").write_bytes(os.urandom(8 * 1024 * 1024))
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    win.tabs.setCurrentWidget(win.files)
    page = win.files
    page.server.root.setText(str(root))
    page.server.address.set_address("127.0.0.1", 0)
    page.client.dest.setText(str(dest))
    yield page
    win.close()


def start(qtbot, page):
    qtbot.mouseClick(page.server.start_button, Qt.MouseButton.LeftButton)
    # the list is fetched on start; Fetch is enabled again once that request has finished
    qtbot.waitUntil(lambda: page.client.files.count() == 2 and page.client.runner is None, timeout=5000)


def test_fetch_with_progress_to_100_and_md5(qtbot, page, tmp_path):
    start(qtbot, page)
    assert [page.client.files.item(i).text() for i in range(2)] == ["big.bin", "hello.png"]
    page.client.name.setText("big.bin")
    qtbot.mouseClick(page.client.fetch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.client.runner is None, timeout=15000)
    assert page.client.progress.value() == 1000
    assert "100 %" in page.client.progress_text.text()
    saved = tmp_path / "dest" / "big.bin"
    assert saved.read_bytes() == (tmp_path / "root" / "big.bin").read_bytes()
    assert "md5 verified" in page.client.verdict.text()
    assert hashlib.md5(saved.read_bytes()).hexdigest() in page.client.header.toPlainText()
    # the hexdump marks length | header | body: frames start at the length and at the body
    hexm = page.client.view.hex_model
    starts = [hexm.index(r, c).data(FRAME_START_ROLE) for r in range(3) for c in range(HEX0, HEX0 + 16)]
    assert starts.count(True) >= 1


def test_hello_finds_hello_png(qtbot, page, tmp_path):
    start(qtbot, page)
    page.client.name.setText("hello")
    qtbot.keyClick(page.client.name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.client.runner is None, timeout=5000)
    assert (tmp_path / "dest" / "hello.png").read_bytes() == b"\x89PNG fake image"


def test_cancel_leaves_nothing(qtbot, page, tmp_path):
    (tmp_path / "root" / "huge.bin").write_bytes(b"\0" * (256 * 1024 * 1024))
    start_list = page.server.start_button
    qtbot.mouseClick(start_list, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.client.files.count() == 3 and page.client.runner is None, timeout=5000)
    page.client.name.setText("huge.bin")
    qtbot.mouseClick(page.client.fetch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: 0 < page.client.progress.value() < 1000 or page.client.runner is None, timeout=15000
    )
    qtbot.mouseClick(page.client.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.client.runner is None, timeout=10000)
    if (tmp_path / "dest" / "huge.bin").exists():
        pytest.skip("the transfer finished before Cancel could be pressed")
    assert os.listdir(tmp_path / "dest") == []  # no partial file, no .part
    assert "cancelled" in page.client.state.text()
    assert "Not saved" in page.client.verdict.text()


def test_unknown_name_and_existing_file(qtbot, page, tmp_path):
    start(qtbot, page)
    page.client.name.setText("nope")
    qtbot.mouseClick(page.client.fetch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.client.runner is None, timeout=5000)
    assert "no file named 'nope'" in page.client.state.text()
    assert "Check the name against the server's file list." in page.client.state.text(), "the hint"
    (tmp_path / "dest" / "hello.png").write_bytes(b"mine")
    page.client.name.setText("hello.png")
    qtbot.mouseClick(page.client.fetch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.client.runner is None, timeout=5000)
    assert "already exists" in page.client.state.text()
    assert "Choose another folder, or allow overwriting." in page.client.state.text(), "the hint"
    assert (tmp_path / "dest" / "hello.png").read_bytes() == b"mine"

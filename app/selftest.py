"""``--self-test``: open the window offscreen and, in every tab, run its built-in server on a free
port, talk to it from the tab's client pane and check the reply reached the traffic log; then switch
to Chinese and back. Prints ``self-test ok`` or the reason."""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings

from app import i18n
from app.main_window import MainWindow
from app.panes import ClientServerPage
from netcore.model.traffic import Direction
from widgets import saved_messages
from widgets.message_store import FILE_NAME
from widgets.traffic_log import TrafficView

MESSAGE = "self-test ✓"


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def received(view: TrafficView) -> bytes:
    store = view.store
    chunks = (store.chunk(i) for i in range(len(store)))
    return b"".join(c.data for c in chunks if c.direction is Direction.RECEIVED)


def start_server(page: ClientServerPage, timeout_s: float) -> str | None:
    """Start the page's server on a free port; None when listening, else the reason."""
    page.server.address.set_address("127.0.0.1", 0)
    page.server.toggle_server()
    if wait_until(
        lambda: page.server.server is not None and "Listening" in page.server.state.text(), timeout_s
    ):
        return None
    return f"the server did not start: {page.server.state.text()}"


def check_tcp(window: MainWindow, timeout_s: float) -> str | None:
    page = window.tcp_echo
    if reason := start_server(page, timeout_s):
        return reason
    page.client.toggle_connection()
    if not wait_until(page.client.send_button.isEnabled, timeout_s):
        return f"the client did not connect: {page.client.state.text()}"
    page.client.payload.edit.setPlainText(MESSAGE)
    page.client.send()
    if not wait_until(lambda: received(page.client.view) == MESSAGE.encode(), timeout_s):
        return "the reply did not arrive in the client's traffic log"
    return None


def check_udp(window: MainWindow, timeout_s: float) -> str | None:
    page = window.udp_echo
    if reason := start_server(page, timeout_s):
        return reason
    page.client.payload.edit.setPlainText(MESSAGE)
    page.client.send()
    if not wait_until(lambda: received(page.client.view) == MESSAGE.encode(), timeout_s):
        return f"the reply datagram did not arrive: {page.client.state.text()}"
    return None


def check_time(window: MainWindow, timeout_s: float) -> str | None:
    page = window.time
    if reason := start_server(page, timeout_s):
        return reason
    page.client.count.setValue(1)
    page.client.toggle_query()
    if not wait_until(
        lambda: page.client.runner is None and "Reply 1 of 1" in page.client.state.text(), timeout_s
    ):
        return f"no SNTP reply: {page.client.state.text()}"
    return None


def check_file_fetch(window: MainWindow, timeout_s: float) -> str | None:
    page = window.files
    with tempfile.TemporaryDirectory() as root, tempfile.TemporaryDirectory() as dest:
        (Path(root) / "hello.png").write_bytes(MESSAGE.encode() * 1000)
        page.server.root.setText(root)
        page.client.dest.setText(dest)
        if reason := start_server(page, timeout_s):
            return reason
        if not wait_until(lambda: page.client.runner is None and page.client.files.count() == 1, timeout_s):
            return f"no file list: {page.client.state.text()}"
        page.client.name.setText("hello")
        page.client.fetch()
        saved = Path(dest) / "hello.png"
        if not wait_until(lambda: page.client.runner is None and saved.exists(), timeout_s):
            return f"the file did not arrive: {page.client.state.text()}"
        if saved.read_bytes() != MESSAGE.encode() * 1000:
            return "the fetched file differs from the original"
        page.server.toggle_server()
        wait_until(lambda: page.server.runner is None, timeout_s)
    return None


def check_sticking(window: MainWindow, timeout_s: float) -> str | None:
    pane = window.sticking.scenario
    pane.preset.setCurrentIndex(pane.preset.findData("cure-length-prefix"))
    pane.run()
    if not wait_until(lambda: pane.runner is None, timeout_s):
        return "the packet-sticking preset did not finish"
    if "4 of 4 messages recovered" not in pane.verdict.text():
        return f"unexpected verdict: {pane.verdict.text()}"
    return None


def check_languages(window: MainWindow, _timeout_s: float) -> str | None:
    """The Chinese catalogue is there (inside the executable too) and switching to it and back works."""
    english = window.tabs.tabText(0)
    window.set_language(i18n.CHINESE)
    chinese = window.tabs.tabText(0)
    window.set_language(i18n.ENGLISH)
    if window.translator.code != i18n.ENGLISH or window.tabs.tabText(0) != english:
        return "switching back to English failed"
    if not any("\u4e00" <= ch <= "\u9fff" for ch in chinese):
        return f"the Chinese catalogue did not load (tab reads {chinese!r})"
    return None


CHECKS: dict[str, Callable[[MainWindow, float], str | None]] = {
    "TCP echo": check_tcp,
    "UDP echo": check_udp,
    "Time": check_time,
    "File fetch": check_file_fetch,
    "Packet sticking": check_sticking,
    "Languages": check_languages,
}


def run_self_test(timeout_s: float = 10.0) -> tuple[bool, str]:
    """Returns (ok, reason). An exception escaping any thread meanwhile (an engine's helper thread,
    which no worker catches) fails the test too."""
    settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "SocketLab", "self-test")
    settings.clear()
    settings.setValue("window/language", i18n.ENGLISH)  # the checks read English state texts
    escaped: list[str] = []
    previous_hook = threading.excepthook

    def record(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread is not None else "?"
        escaped.append(f"{args.exc_type.__name__} in thread {name}: {args.exc_value}")
        previous_hook(args)

    threading.excepthook = record
    messages = tempfile.TemporaryDirectory()
    earlier = saved_messages.use_file(Path(messages.name) / FILE_NAME)  # not the user's send history
    window = MainWindow(settings)
    window.show()
    try:
        for name, check in CHECKS.items():
            if reason := check(window, timeout_s):
                return False, f"{name}: {reason}"
            if escaped:
                return False, f"{name}: {escaped[0]}"
        return True, "ok"
    finally:
        window.close()
        settings.clear()
        saved_messages.use_file(earlier)
        messages.cleanup()
        threading.excepthook = previous_hook

"""``--self-test``: open the window offscreen, run the TCP echo server on port 0, send a message
from the client pane, check the reply reached the log. Prints ``self-test ok`` or the reason."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings

from app.main_window import MainWindow
from netcore.traffic import Direction

MESSAGE = "self-test ✓"


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def run_self_test(timeout_s: float = 10.0) -> tuple[bool, str]:
    """Returns (ok, reason)."""
    settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "SocketLab", "self-test")
    settings.clear()
    window = MainWindow(settings)
    window.show()
    page = window.tcp_echo
    try:
        page.server.address.set_address("127.0.0.1", 0)
        page.server.toggle_server()
        if not wait_until(
            lambda: (
                page.server.server is not None
                and page.server.clients is not None
                and "Listening" in page.server.state.text()
            ),
            timeout_s,
        ):
            return False, f"the TCP echo server did not start: {page.server.state.text()}"
        page.client.toggle_connection()
        if not wait_until(lambda: page.client.send_button.isEnabled(), timeout_s):
            return False, f"the client did not connect: {page.client.state.text()}"
        page.client.payload.edit.setPlainText(MESSAGE)
        page.client.send()
        expected = MESSAGE.encode()

        def replied() -> bool:
            store = page.client.view.store
            got = b"".join(
                store.chunk(i).data
                for i in range(len(store))
                if store.chunk(i).direction is Direction.RECEIVED
            )
            return got == expected

        if not wait_until(replied, timeout_s):
            return False, "the reply did not arrive in the client's traffic log"
        return True, "ok"
    finally:
        window.close()
        settings.clear()

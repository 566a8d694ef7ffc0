"""Found on a teacher's walk through every tab at 1024×768: fields as wide as the screen, a log
that hid the port that tells two clients apart."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from app.main_window import FRAME_ALLOWANCE, MainWindow
from widgets.time_diagram import clock_text
from widgets.traffic_log import _TEXT_MARGIN, PEER_COLUMN

ROOM = QSize(1024, 768) - FRAME_ALLOWANCE


@pytest.fixture
def window(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    win.resize(ROOM)
    qtbot.waitUntil(lambda: win.size() == ROOM)
    yield win
    win.close()


def test_relay_address_fields_stay_address_sized(qtbot, window):
    window.tabs.setCurrentWidget(window.relay)
    QApplication.processEvents()
    pane = window.relay.server
    char = pane.fontMetrics().horizontalAdvance("0")
    assert pane.width() > 900  # the tab is wide: the fields could grow
    assert pane.target.width() <= 45 * char
    assert pane.address.host.width() <= 45 * char
    assert pane.target.width() >= pane.fontMetrics().horizontalAdvance("[2001:db8::1]:65535")


def test_narrow_log_keeps_the_peer_port_in_sight(qtbot, window):
    """Two loopback clients differ only by port: an elided Peer cell shows the end of the address."""
    page = window.tcp_echo
    page.server.address.set_address("127.0.0.1", 0)
    page.server.toggle_server()
    qtbot.waitUntil(lambda: page.server.server is not None and page.server.server.address is not None)
    port = page.server.server.address.port
    page.client.address.set_address("127.0.0.1", port)
    page.client.toggle_connection()
    qtbot.waitUntil(page.client.send_button.isEnabled, timeout=10000)
    page.client.payload.edit.setPlainText("hello")
    page.client.send()
    qtbot.waitUntil(lambda: page.client.bytes_in >= 5, timeout=10000)
    log = page.client.view.log
    peer = log.model().row_texts(0)[PEER_COLUMN]
    width = log.columnWidth(PEER_COLUMN) - 2 * _TEXT_MARGIN
    assert log.fontMetrics().horizontalAdvance(peer) > width  # the column is narrow at 1024×768
    shown = log.cell_text(PEER_COLUMN, peer, width)
    assert shown.endswith(f":{port}"), shown
    page.client.toggle_connection()
    page.server.toggle_server()


def test_time_results_fit_the_client_pane(qtbot, window):
    """After a query the server/local times and the offset sentence used to widen the Time client
    pane past its half of a 1024×768 window: a horizontal scroll bar, Local time and Delay cut off."""
    window.tabs.setCurrentWidget(window.time)
    page = window.time
    page.server.address.set_address("127.0.0.1", 0)
    page.server.toggle_server()
    qtbot.waitUntil(lambda: page.server.server is not None and page.server.server.address is not None)
    page.client.address.set_address("127.0.0.1", page.server.server.address.port)
    page.client.count.setValue(1)
    page.client.toggle_query()
    qtbot.waitUntil(lambda: page.client.runner is None and page.client.result is not None, timeout=10000)
    QApplication.processEvents()
    client = page.client
    area = client.parentWidget().parentWidget()  # the scroll area's viewport, then the area
    assert client.width() <= area.width()
    for label in (client.local_time, client.delay, client.offset):
        right = label.mapTo(area, label.rect().topRight()).x()
        assert right <= area.width(), label.text()
    for label, when in (
        (client.server_time, client.result.server_time),
        (client.local_time, client.result.local_time),
    ):
        shown = label.fontMetrics().elidedText(
            label.text(), Qt.TextElideMode.ElideRight, label.contentsRect().width()
        )
        assert shown.startswith(clock_text(when)), shown  # the time of day stays in sight
    page.server.toggle_server()


def test_status_message_ends_in_ellipsis_before_the_traffic_counters(qtbot, window):
    """At zoom ×2 "Listening on 0.0.0.0:42531" ran into the counters: "0.0.0.0:425127.0.0.1:…"."""
    window.presentation.set_zoom(2.0)
    try:
        bar = window.statusBar()
        window.traffic_label.setText("127.0.0.1:40271 ⇄ 127.0.0.1:35990  ↓ 74 B  ↑ 74 B  0 B/s")
        message = "Listening on 0.0.0.0:42531 — students connect to 192.0.2.2 port 42531"
        bar.showMessage(message)
        qtbot.waitUntil(lambda: window.traffic_label.x() > 0 and bar.currentMessage() == message)
        QApplication.processEvents()
        shown = bar.shown_message()
        assert shown.endswith("…") and shown != message
        assert bar.message_rect().right() < window.traffic_label.x()
        assert bar.fontMetrics().horizontalAdvance(shown) <= bar.message_rect().width()
        assert bar.toolTip() == message
    finally:
        window.presentation.set_zoom(1.0)


def query_time_once(qtbot, page) -> None:
    page.server.address.set_address("127.0.0.1", 0)
    page.server.toggle_server()
    qtbot.waitUntil(lambda: page.server.server is not None and page.server.server.address is not None)
    page.client.address.set_address("127.0.0.1", page.server.server.address.port)
    page.client.count.setValue(1)
    page.client.toggle_query()
    qtbot.waitUntil(lambda: page.client.runner is None and page.client.result is not None, timeout=10000)


def test_what_the_time_server_says_is_in_chinese(qtbot, window):
    """The SNTP reply's "stratum 1, reference LOCL" stayed English in the Chinese UI."""
    page = window.time
    query_time_once(qtbot, page)
    assert "stratum 1" in page.client.said.text()
    window.set_language("zh_CN")
    try:
        said = page.client.said.text()
        assert "LOCL" in said and "stratum" not in said and "reference" not in said, said
    finally:
        window.set_language("en")
        page.server.toggle_server()
    assert "stratum 1, reference LOCL" in page.client.said.text()


def test_a_stepped_scenario_keeps_its_preset_until_stopped(qtbot, window):
    """Mid-step another preset could be chosen: its name over the old run's figures, Run greyed."""
    pane = window.sticking.scenario
    pane.preset.setCurrentIndex(pane.preset.findData("big-send-small-recv"))
    qtbot.mouseClick(pane.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "10,240 bytes waiting" in pane.details.text(), timeout=10000)
    assert pane.runner is not None and pane.step_button.isEnabled()
    assert not pane.preset.isEnabled() and not pane.sendall.isEnabled()
    assert pane.messages.isEnabled() and pane.messages.isReadOnly()  # still readable from the back
    qtbot.mouseClick(pane.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.runner is None, timeout=10000)
    assert pane.preset.isEnabled() and not pane.messages.isReadOnly()


def mnemonic(text: str) -> str | None:
    """The letter after a single "&" (Alt+letter), lower case."""
    match = re.search(r"&([^&])", text.replace("&&", ""))
    return match.group(1).lower() if match else None


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_no_two_alt_keys_alike_on_a_tab(qtbot, settings, language):
    """Alt+S on the UDP tab meant both "Send" and "Close socket", Alt+F both the File menu and
    "Fetch", Alt+H the Help menu and "Half close": Qt then only moves the focus between them."""
    settings.setValue("window/language", language)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    menus = [mnemonic(a.text()) for a in win.menuBar().actions()]
    for index in range(win.tabs.count()):
        win.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        buttons = [b for b in win.tabs.currentWidget().findChildren(QAbstractButton) if b.isVisible()]
        letters = [key for key in menus + [mnemonic(b.text()) for b in buttons] if key]
        repeated = {key for key in letters if letters.count(key) > 1}
        assert not repeated, (win.tabs.tabText(index), repeated, [b.text() for b in buttons])
    win.close()


def tab_chain(start: QWidget) -> list[QWidget]:
    """The widgets Tab visits from *start*, in order, once round (focus proxies as Qt skips them)."""
    chain, widget = [start], start.nextInFocusChain()
    while widget is not start:
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.focusProxy() is None:
            chain.append(widget)
        widget = widget.nextInFocusChain()
    return chain


def test_tab_follows_reading_order(qtbot, window):
    """Tab went Port → Timeout → TCP_NODELAY → back to Framing, and from the client's Repeat into
    the server's log; the client's own log and Clear log came after the whole server pane."""
    page = window.tcp_echo
    client, server = page.client, page.server
    expected = [
        client.address.host,
        client.address.port,
        client.framing,
        client.timeout,
        client.nodelay,
        client.connect_button,
        client.half_close_button,
        client.clear_button,
        client.payload.edit,
        client.send_button,
        client.saved,
        client.view.log,
        client.view.hexdump,
        server.address.host,
        server.address.port,
        server.start_button,
        server.clear_button,
        server.view.log,
    ]

    def in_order() -> bool:  # the order is set once the page is laid out
        chain = tab_chain(client.address.host)
        places = [chain.index(widget) for widget in expected]
        return places == sorted(places)

    qtbot.waitUntil(in_order, timeout=5000)

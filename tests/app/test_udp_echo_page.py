"""pytest-qt through real widgets and real loopback datagrams: the UDP echo tab."""

from __future__ import annotations

import socket

import pytest
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from netcore.model.traffic import Direction
from tests.app.test_figures import settle_layouts
from widgets.hexdump_view import FRAME_START_ROLE, HEX0


@pytest.fixture
def page(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    win.tabs.setCurrentWidget(win.udp_echo)
    yield win.udp_echo
    win.close()


def start_server(qtbot, page, mode_index=0, recv_size=None):
    page.server.address.set_address("127.0.0.1", 0)
    page.server.mode.setCurrentIndex(mode_index)
    if recv_size is not None:
        page.server.recv_size.setValue(recv_size)
    qtbot.mouseClick(page.server.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening on" in page.server.state.text(), timeout=5000)
    return page.server.server.address


def datagrams(view, direction):
    store = view.store
    return [store.chunk(i).data for i in range(len(store)) if store.chunk(i).direction is direction]


def send(qtbot, page, text):
    page.client.payload.edit.setPlainText(text)
    qtbot.mouseClick(page.client.send_button, Qt.MouseButton.LeftButton)


def test_datagram_and_its_reply_each_a_frame(qtbot, page):
    start_server(qtbot, page, mode_index=1)  # UPPER
    send(qtbot, page, "hello")
    qtbot.waitUntil(lambda: datagrams(page.client.view, Direction.RECEIVED) == [b"HELLO"], timeout=5000)
    send(qtbot, page, "")  # an empty datagram is legal
    qtbot.waitUntil(lambda: datagrams(page.client.view, Direction.RECEIVED) == [b"HELLO", b""], timeout=5000)
    assert "from 127.0.0.1:" in page.client.state.text()
    hexm = page.client.view.hex_model
    # sent "hello" (0..4) then received "HELLO" (5..9): each datagram is its own frame
    assert hexm.index(0, HEX0).data(FRAME_START_ROLE) is True
    assert hexm.index(0, HEX0 + 5).data(FRAME_START_ROLE) is True
    assert hexm.index(0, HEX0 + 6).data(FRAME_START_ROLE) is False
    qtbot.waitUntil(lambda: page.server.clients.count() == 1, timeout=5000)
    # the server's log is its own batch, which may reach the GUI after the client's reply did
    qtbot.waitUntil(lambda: datagrams(page.server.view, Direction.RECEIVED) == [b"hello", b""], timeout=5000)


def test_too_large_datagram_refused_with_reason(qtbot, page):
    start_server(qtbot, page)
    page.client.payload.set_mode("hex")
    page.client.payload.edit.setPlainText("00 " * 65_508)
    assert "65,507" in page.client.payload.status.text()
    qtbot.mouseClick(page.client.send_button, Qt.MouseButton.LeftButton)
    assert "65,507" in page.client.state.text() and "8 (UDP header)" in page.client.state.text()
    assert page.client.runner is None  # nothing was opened or sent


def test_truncation_is_shown(qtbot, page):
    start_server(qtbot, page, recv_size=4)
    send(qtbot, page, "0123456789")
    qtbot.waitUntil(lambda: "truncated" in page.server.state.text(), timeout=5000)
    assert "kept 4 of 10" in page.server.state.text()
    qtbot.waitUntil(lambda: datagrams(page.client.view, Direction.RECEIVED) == [b"0123"], timeout=5000)


def test_no_reply_times_out_with_udp_hint(qtbot, page):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    page.client.address.set_address("127.0.0.1", port)
    page.client.timeout.setValue(0.2)
    send(qtbot, page, "anyone?")
    qtbot.waitUntil(lambda: "no reply" in page.client.state.text(), timeout=5000)
    assert "plain UDP cannot tell" in page.client.state.text()


def test_connected_udp_reports_port_unreachable(qtbot, page):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    page.client.address.set_address("127.0.0.1", port)
    page.client.connected.setChecked(True)
    page.client.timeout.setValue(2)
    send(qtbot, page, "anyone?")
    qtbot.waitUntil(lambda: "port unreachable" in page.client.state.text(), timeout=5000)
    assert "Nothing is listening on that UDP port" in page.client.state.text()


def test_probe_shows_statistics_and_plot(qtbot, page):
    start_server(qtbot, page)
    page.client.probe_count.setValue(20)
    page.client.probe_interval.setValue(2)
    qtbot.mouseClick(page.client.probe_button, Qt.MouseButton.LeftButton)
    assert page.client.body.currentWidget() is page.client.probe_page  # the plot shows as it starts
    qtbot.waitUntil(lambda: "20 sent" in page.client.stats.text(), timeout=10000)
    assert "20 received" in page.client.stats.text() and "0 lost" in page.client.stats.text()
    assert len(page.client.plot.points("rtt")) == 20
    assert page.client.probe_button.isEnabled()


def test_manual_reply_to_a_peer(qtbot, page):
    start_server(qtbot, page, mode_index=3)
    send(qtbot, page, "ping?")
    qtbot.waitUntil(lambda: page.server.clients.count() == 1, timeout=5000)
    page.server.reply.edit.setPlainText("pong!")
    qtbot.mouseClick(page.server.reply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: datagrams(page.client.view, Direction.RECEIVED) == [b"pong!"], timeout=5000)


def test_ipv6(qtbot, page):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    page.server.address.set_address("::1", 0)
    qtbot.mouseClick(page.server.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening on [::1]" in page.server.state.text(), timeout=5000)
    assert page.client.address.host.text() == "::1"
    send(qtbot, page, "v6")
    qtbot.waitUntil(lambda: datagrams(page.client.view, Direction.RECEIVED) == [b"v6"], timeout=5000)


def test_the_server_pane_keeps_a_bounded_peer_list_and_says_how_many_it_forgot(qtbot, page, monkeypatch):
    """A flood of datagrams from many source ports must not grow the peer menu without end."""
    from netcore.engines import serving

    monkeypatch.setattr(serving, "MAX_PEERS", 4)
    addr = start_server(qtbot, page)
    senders = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(10)]
    try:
        for s in senders:  # ten peers, one datagram each, each echoed
            s.settimeout(5)
            s.sendto(b"hi", (addr.host, addr.port))
            assert s.recv(10) == b"hi"
        qtbot.waitUntil(lambda: page.server.forgotten == 6, timeout=5000)
    finally:
        for s in senders:
            s.close()
    assert page.server.clients.count() == 4
    assert "6 peers forgotten" in page.server.clients.toolTip()
    assert "4 it heard from most recently" in page.server.clients.toolTip()


def test_probe_results_appearing_never_move_the_plot_or_the_log(qtbot, page):
    client = page.client
    page.window().resize(1024, 768)  # as on a projector: the figures would wrap
    start_server(qtbot, page)
    client.probe_interval.setValue(2)
    client.probe_count.setValue(3)
    qtbot.mouseClick(client.probe_button, Qt.MouseButton.LeftButton)  # shows the Probe tab
    qtbot.waitUntil(lambda: "3 sent" in client.stats.text(), timeout=10000)
    client.stats.clear()
    settle_layouts()

    def places():
        return [w.mapTo(page.window(), w.rect().topLeft()) for w in (client.stats, client.plot, client.body)]

    before = places()
    client.probe_count.setValue(5)
    qtbot.mouseClick(client.probe_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "5 sent" in client.stats.text(), timeout=10000)
    settle_layouts()  # the layout has run after the text changed
    assert len(client.stats.text()) > 80  # two lines' worth of figures at this width
    assert places() == before

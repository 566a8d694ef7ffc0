"""pytest-qt: the Time tab queries our own time server over real loopback sockets."""

from __future__ import annotations

import socket

import pytest
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from netcore.protocols.timeproto import TimeProtocol
from tests.app.support import OneReplyServer
from widgets.hexdump_view import FRAME_START_ROLE, HEX0


@pytest.fixture
def page(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    win.tabs.setCurrentWidget(win.time)
    yield win.time
    win.close()


def start_server(qtbot, page, protocol=TimeProtocol.SNTP, offset=0.0):
    page.server.address.set_address("127.0.0.1", 0)
    page.server.protocol.setCurrentIndex(page.server.protocol.findData(protocol.value))
    page.server.clock_offset.setValue(offset)
    qtbot.mouseClick(page.server.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening on" in page.server.state.text(), timeout=5000)


def query(qtbot, page, count=1):
    page.client.count.setValue(count)
    page.client.interval.setValue(0.05)
    qtbot.mouseClick(page.client.query_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.client.runner is None, timeout=10000)


def test_sntp_offset_delay_and_annotated_packet(qtbot, page):
    start_server(qtbot, page, offset=3.5)
    assert page.client.current_protocol() is TimeProtocol.SNTP  # the client follows our server
    query(qtbot, page)
    offset_ms = float(page.client.offset.text().split(" ms")[0])
    assert abs(offset_ms - 3500) < 50
    assert "ms" in page.client.delay.text()
    model = page.client.packet_model
    assert len(model.data_bytes) == 48 and model.rowCount() == 3
    stratum = model.index(0, HEX0 + 1)
    assert stratum.data(FRAME_START_ROLE) is True
    assert stratum.data(Qt.ItemDataRole.ToolTipRole) == "bytes 1–1: stratum = 1"
    assert "reference ID = LOCL" in model.index(0, HEX0 + 12).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, HEX0 + 13).data(FRAME_START_ROLE) is False
    formulas = page.client.diagram.formulas()
    assert formulas[0].startswith("offset = ((T2 − T1) + (T3 − T4)) / 2") and "+3" in formulas[0]
    assert formulas[1].startswith("delay = (T4 − T1) − (T3 − T2)")


def test_repeated_queries_plot_offset_and_delay(qtbot, page):
    start_server(qtbot, page, offset=-1.0)
    query(qtbot, page, count=3)
    offsets = page.client.plot.points("offset")
    assert [x for x, _ in offsets] == [0, 1, 2]
    assert all(abs(y + 1000) < 50 for _, y in offsets)
    assert len(page.client.plot.points("delay")) == 3
    assert "Reply 3 of 3" in page.client.state.text()


@pytest.mark.parametrize("protocol", [TimeProtocol.TIME_TCP, TimeProtocol.DAYTIME_UDP, TimeProtocol.SIMPLE])
def test_other_protocols(qtbot, page, protocol):
    start_server(qtbot, page, protocol)
    assert page.client.current_protocol() is protocol
    query(qtbot, page)
    assert "Reply 1 of 1" in page.client.state.text()
    assert page.client.packet_model.rowCount() == 0  # the annotated packet is for SNTP only
    if protocol is TimeProtocol.DAYTIME_UDP:
        assert "unknown" in page.client.offset.text() and "UTC" in page.client.said.text()
    else:
        assert abs(float(page.client.offset.text().split(" ms")[0])) < 1000


def test_no_server_gives_a_clear_error(qtbot, page):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    page.client.address.set_address("127.0.0.1", port)
    page.client.timeout.setValue(0.3)
    query(qtbot, page)
    assert "port unreachable" in page.client.state.text() or "no reply" in page.client.state.text()


MARKUP = '<h1 style="color:red">X</h1><a href="http://example.com/">link</a><img src="file:///etc/hostname">'


def test_a_daytime_reply_of_markup_is_shown_as_text(qtbot, page):
    """A DAYTIME server that answers with HTML: its characters, not a headline, a link and an image."""
    with OneReplyServer(MARKUP.encode() + b"\r\n", read_first=False) as server:
        page.client.set_protocol(TimeProtocol.DAYTIME_TCP)
        page.client.address.set_address("127.0.0.1", server.port)
        query(qtbot, page)
    assert "Reply 1 of 1" in page.client.state.text()
    assert page.client.said.textFormat() == Qt.TextFormat.PlainText
    assert page.client.said.text() == MARKUP

"""pytest-qt: the Packet-sticking tab runs presets, steps one recv() per click, and relays."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from netcore.engines.tcp_echo import TcpEchoClient
from netcore.model.scenario import COUNTS, PHRASES, PRESETS, VERDICTS

CJK = re.compile(r"[\u4e00-\u9fff]")

APP = Path(__file__).resolve().parents[2] / "app"


@pytest.fixture
def window(qtbot, settings):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    win.tabs.setCurrentWidget(win.sticking)
    yield win
    win.close()


def choose(pane, name):
    pane.preset.setCurrentIndex(pane.preset.findData(name))


def test_run_preset_shows_lanes_and_verdict(qtbot, window):
    pane = window.sticking.scenario
    choose(pane, "two-sends")
    qtbot.mouseClick(pane.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.runner is None, timeout=10000)
    assert (
        pane.verdict.text()
        == "2 messages sent, received as 1 chunk: the receiver cannot tell where 'Hello' ends"
    )
    lanes = dict(pane.timeline.lanes)
    assert [(s.start, s.end) for s in lanes["send()"]] == [(0, 5), (5, 10)]
    assert [(s.start, s.end) for s in lanes["recv()"]] == [(0, 10)]
    assert pane.view.log_model.rowCount() == 1
    assert "segment" in pane.details.text()


def test_cure_adds_a_frames_lane(qtbot, window):
    pane = window.sticking.scenario
    choose(pane, "cure-length-prefix")
    qtbot.mouseClick(pane.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.runner is None, timeout=10000)
    assert pane.verdict.text().startswith("length prefix: 4 of 4 messages recovered")
    frames = dict(pane.timeline.lanes)["frames"]
    assert len(frames) == 4 and frames[0].start == 0 and frames[0].header_end == 4
    assert pane.view.store.frame_count() == 4


def test_step_mode_one_recv_per_click_shows_bytes_waiting(qtbot, window):
    pane = window.sticking.scenario
    choose(pane, "big-send-small-recv")
    pane.max_recvs.setValue(0)  # read everything, 4,096 at a time
    qtbot.mouseClick(pane.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "10,240 bytes waiting" in pane.details.text(), timeout=5000)
    for read, waiting in ((4096, "6,144"), (8192, "2,048"), (10240, "0")):
        qtbot.mouseClick(pane.step_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda read=read: (
                f"{read:,} bytes read" in pane.details.text()
                or ("recv()" in pane.verdict.text() and pane.runner is None)
            ),
            timeout=5000,
        )
        if read < 10240:
            assert f"{waiting} bytes waiting" in pane.details.text()
    qtbot.waitUntil(lambda: pane.runner is None, timeout=5000)
    assert "3 chunks" in pane.verdict.text()
    assert pane.timeline.total == 10240


def test_bad_message_escape_is_reported(qtbot, window):
    pane = window.sticking.scenario
    pane.messages.setPlainText("ok\nbad \\q escape")
    qtbot.mouseClick(pane.run_button, Qt.MouseButton.LeftButton)
    assert "unknown escape" in pane.state.text()
    assert pane.runner is None


def test_relay_rechunks_a_servers_reply(qtbot, window):
    tcp = window.tcp_echo.server
    tcp.address.set_address("127.0.0.1", 0)
    tcp.framing.setCurrentText("length4")
    qtbot.mouseClick(tcp.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening on" in tcp.state.text(), timeout=5000)
    relay = window.relay.server
    relay.target.setText(f"127.0.0.1:{tcp.server.address.port}")
    relay.address.set_address("127.0.0.1", 0)
    relay.chunks.setCurrentText("1")
    qtbot.mouseClick(relay.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening on" in relay.state.text(), timeout=5000)
    client = TcpEchoClient("127.0.0.1", relay.server.address.port, framing="length4", timeout=3)
    client.connect()
    try:
        answered, _ = client.request(b"hello", timeout=3)
    finally:
        client.close()
    assert answered.index == 0
    # the relay re-sent the 9-byte reply one byte per send()
    qtbot.waitUntil(lambda: relay.view.log_model.rowCount() >= 18, timeout=5000)
    store = relay.view.store
    sent_sizes = [
        len(store.chunk(i).data) for i in range(len(store)) if store.chunk(i).direction.value == "sent"
    ]
    assert sent_sizes and set(sent_sizes) == {1}


def test_no_verdict_sentence_is_written_in_app():
    """netcore holds the verdict's English: no module of app/ spells a piece of its sentences."""
    templates = [*VERDICTS.values(), *PHRASES.values(), *(t for pair in COUNTS.values() for t in pair)]
    pieces = {p.strip() for t in templates for p in re.split(r"\{[^{}]*\}", t) if p.strip().count(" ") >= 2}
    assert ": the receiver cannot tell where '" in pieces and "bytes are still waiting" in pieces
    spelt = [
        (path.name, piece)
        for path in APP.rglob("*.py")
        for piece in pieces
        if piece in path.read_text("utf-8")
    ]
    assert not spelt


def choose_again(qtbot, combo):
    """The user opens the combo and picks the item already chosen."""
    combo.showPopup()
    qtbot.waitUntil(combo.view().isVisible, timeout=5000)
    qtbot.keyClick(combo.view(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not combo.view().isVisible(), timeout=5000)


def test_an_edited_preset_says_so_and_choosing_it_again_restores_it(qtbot, window):
    pane = window.sticking.scenario
    for name in (n for n in (pane.preset.itemData(i) for i in range(pane.preset.count())) if n):
        choose(pane, name)
        assert pane.preset.currentText() == name and not pane.edited()
    choose(pane, "big-send-small-recv")
    pane.recv_size.setValue(1000)
    assert pane.preset.currentText() == "big-send-small-recv (edited)"
    pane.recv_size.setValue(4096)  # back to what the preset says
    assert pane.preset.currentText() == "big-send-small-recv"
    qtbot.keyClicks(pane.messages, "more")
    pane.nodelay.setChecked(True)
    assert pane.preset.currentText() == "big-send-small-recv (edited)"
    choose_again(qtbot, pane.preset)
    assert pane.preset.currentText() == "big-send-small-recv"
    assert pane.scenario() == PRESETS["big-send-small-recv"]
    pane.gap.setValue(50)
    choose(pane, "two-sends")  # another preset: the edited one gets its name back
    assert [pane.preset.itemText(i) for i in range(1, pane.preset.count())] == list(PRESETS)


def test_step_drains_what_is_waiting_before_it_starts_again(qtbot, window):
    """big-send-small-recv stops after one recv(): the next Steps read the 6,144 bytes left waiting,
    one recv() each, and only the Step after that starts the scenario again, saying so."""
    pane = window.sticking.scenario
    choose(pane, "big-send-small-recv")

    def step_until(says) -> None:
        qtbot.mouseClick(pane.step_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: says in pane.details.text() or says in pane.verdict.text(), timeout=10000)

    step_until("10,240 bytes waiting")
    step_until("the scenario's receiver stops here")
    assert pane.verdict.text() == (
        "10,240 bytes sent, recv(4096) returned 4,096: 6,144 bytes are still waiting"
    )
    assert pane.runner is not None
    step_until("Draining: recv() #2 returned 4,096 bytes · 2,048 bytes still waiting")
    assert [(s.start, s.end) for s in dict(pane.timeline.lanes)["recv()"]] == [(0, 4096), (4096, 8192)]
    assert pane.timeline.marker == 8192
    step_until("Drained: 10,240 bytes read in 3 recv() calls")
    assert "Press Step to start the scenario again" in pane.details.text()
    qtbot.waitUntil(lambda: pane.runner is None, timeout=10000)
    assert pane.view.log_model.rowCount() == 3
    step_until("Started again")
    qtbot.waitUntil(lambda: "10,240 bytes waiting" in pane.details.text(), timeout=10000)
    assert pane.view.log_model.rowCount() == 0
    qtbot.mouseClick(pane.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.runner is None, timeout=10000)


def test_small_boxes_are_readable_and_shortened_boxes_are_marked(qtbot, window):
    """cure-length-prefix at 1024×768: "Hello" and "你好，世界" beside 3,000 bytes. Every box is at
    least the minimum width; the 3,000-byte boxes are drawn shorter than their bytes, and marked."""
    window.resize(1024, 768)
    pane = window.sticking.scenario
    choose(pane, "cure-length-prefix")
    qtbot.mouseClick(pane.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.runner is None, timeout=10000)
    timeline = pane.timeline
    least = timeline.axis().least
    metrics = timeline.fontMetrics()
    assert least >= metrics.horizontalAdvance("0000")
    boxes = timeline.boxes()
    assert boxes and all(box.rect.width() >= least - 0.01 for box in boxes)
    sends = [box for box in boxes if box.lane == 0]
    assert [box.span.end - box.span.start for box in sends] == [4, 5, 4, 15, 4, 3000, 4]
    assert [box.shortened for box in sends] == [False] * 5 + [True, False]
    for box in sends:  # each size can be read inside its box
        assert box.rect.width() >= metrics.horizontalAdvance(box.span.label) + 4
    big = sends[5]
    assert big.rect.width() < 0.8 * 3000 * timeline.axis().plain_scale
    frames = [box for box in boxes if box.lane == 2]
    assert [box.shortened for box in frames] == [False, False, True, False]
    for frame, prefix in zip(frames, sends[::2], strict=True):  # one byte axis for all lanes
        assert frame.rect.left() == pytest.approx(prefix.rect.left())
    image = timeline.grab().toImage()  # the mark: background, not the box's colour, at the break
    x, y = big.breaks[0], big.rect.center().y()
    assert image.pixelColor(round(x), round(y)) != big.span.colour
    assert image.pixelColor(round(big.rect.left()) + 3, round(y)) == big.span.colour


def test_boxes_in_proportion_are_drawn_to_scale(qtbot, window):
    pane = window.sticking.scenario
    choose(pane, "two-sends")
    qtbot.mouseClick(pane.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.runner is None, timeout=10000)
    boxes = pane.timeline.boxes()
    assert not any(box.shortened for box in boxes)
    hello, world, chunk = (box.rect for box in boxes)
    assert hello.width() == pytest.approx(world.width())
    assert chunk.width() == pytest.approx(hello.width() + world.width())


def test_edited_and_the_relay_tab_are_said_in_chinese(qtbot, window):
    pane = window.sticking.scenario
    choose(pane, "two-sends")
    pane.gap.setValue(10)
    window.set_language("zh_CN")
    assert pane.preset.currentText() == "two-sends（已修改）"
    assert window.tabs.tabText(window.tabs.indexOf(window.relay)) == "中继"
    window.set_language("en")
    assert pane.preset.currentText() == "two-sends (edited)"


def test_a_language_switch_keeps_the_current_run_on_screen(qtbot, window):
    """Switching language during a stepped run says this run's lines in the new language: never the
    verdict of the run before, nor that verdict's details in place of the step just shown."""
    pane = window.sticking.scenario
    choose(pane, "two-sends")
    qtbot.mouseClick(pane.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.runner is None and "Hello" in pane.verdict.text(), timeout=10000)
    choose(pane, "big-send-small-recv")

    def step_until(says) -> None:
        qtbot.mouseClick(pane.step_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: says in pane.details.text() or says in pane.verdict.text(), timeout=10000)

    step_until("10,240 bytes waiting")
    window.set_language("zh_CN")
    assert "Hello" not in pane.verdict.text() and "recv()" in pane.verdict.text(), pane.verdict.text()
    assert "10,240" in pane.details.text() and CJK.search(pane.details.text()), pane.details.text()
    window.set_language("en")
    step_until("the scenario's receiver stops here")
    step_until("Draining: recv() #2 returned 4,096 bytes")
    window.set_language("zh_CN")
    assert "2,048" in pane.details.text() and CJK.search(pane.details.text()), pane.details.text()
    window.set_language("en")
    assert pane.details.text().startswith("Draining: recv() #2 returned 4,096 bytes · 2,048 bytes")
    qtbot.mouseClick(pane.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.runner is None, timeout=10000)

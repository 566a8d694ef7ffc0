"""StateLine: a fixed height whatever its text, a cut with "…" and the whole text in the tooltip."""

from __future__ import annotations

from widgets.state_line import StateLine


def test_height_is_fixed_and_a_long_text_is_cut_with_its_whole_in_the_tooltip(qtbot):
    line = StateLine(2)
    qtbot.addWidget(line)
    line.resize(300, line.height())
    line.show()
    height = line.height()
    for text in ("", "short", "连接被拒绝", "a long text that wraps over many lines " * 10, "x\ny\nz\nw"):
        line.setText(text)
        assert line.height() == height
        assert line.text() == text
    line.setText("a long text that wraps over many lines " * 10)
    assert line.displayed().endswith("…") and len(line.displayed()) < len(line.text())
    assert "wraps over many lines" in line.toolTip()
    line.setText("short")
    assert line.displayed() == "short" and line.toolTip() == ""


def test_a_cut_text_shows_more_when_the_line_widens(qtbot):
    line = StateLine(1)
    qtbot.addWidget(line)
    line.resize(200, line.height())
    line.show()
    line.setText("word " * 60)
    narrow = len(line.displayed())
    line.resize(600, line.height())
    assert len(line.displayed()) > narrow

"""View ▸ High contrast, measured: every text at least 7:1 and every boundary mark at least 3:1
against what it is drawn on (WCAG 2 contrast ratio), from the application palette, the colours the
views hand to Qt and the pixels they paint; a disabled control looks disabled."""

from __future__ import annotations

import socket
from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem, QWidget

from app import screenshots
from app.main_window import MainWindow
from netcore.model.traffic import Direction, make_chunk
from netcore.protocols.framing import Frame, make_codec
from widgets import style
from widgets.hexdump_view import ASCII0, CHUNK_START_ROLE, FRAME_START_ROLE, HEX0
from widgets.style import contrast
from widgets.timeline import header_shade

TEXT, MARK = 7.0, 3.0
Role, Group = QPalette.ColorRole, QPalette.ColorGroup
FG, BG = Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole
PEER = "127.0.0.1:5000"


@pytest.fixture
def window(qtbot, settings):
    """The main window at 1024×768, switched to high contrast through its menu action."""
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.resize(1024, 768)
    win.show()
    qtbot.waitExposed(win)
    win.contrast_action.setChecked(True)
    yield win
    win.contrast_action.setChecked(False)
    win.shutdown()


def pixels(widget: QWidget) -> QImage:
    return widget.grab().toImage()


def background(image: QImage, area: QRect | None = None) -> QColor:
    """The most common colour of *area* of *image*: what the text there is drawn on."""
    area = area or image.rect()
    counts = Counter(
        image.pixel(x, y) for x in range(area.left(), area.right()) for y in range(area.top(), area.bottom())
    )
    return QColor.fromRgb(counts.most_common(1)[0][0])


def test_the_theme_is_black_on_white(window):
    palette = QApplication.palette()
    for role in (Role.Window, Role.Base):
        assert palette.color(role) == QColor("#ffffff"), role
    for role in (Role.WindowText, Role.Text, Role.ButtonText):
        assert palette.color(role) == QColor("#000000"), role
    assert style.colours() is style.HIGH_CONTRAST
    window.contrast_action.setChecked(False)
    assert style.colours() is style.NORMAL


@pytest.mark.parametrize("group", [Group.Active, Group.Inactive])
def test_palette_texts_7_to_1_and_marks_3_to_1(window, group):
    palette = QApplication.palette()

    def ratio(fg: Role, bg: Role) -> float:
        return contrast(palette.color(group, fg), palette.color(group, bg))

    for fg, bg in (
        (Role.WindowText, Role.Window),
        (Role.Text, Role.Base),
        (Role.Text, Role.AlternateBase),
        (Role.ButtonText, Role.Button),
        (Role.HighlightedText, Role.Highlight),
        (Role.ToolTipText, Role.ToolTipBase),
        (Role.PlaceholderText, Role.Base),
        (Role.PlaceholderText, Role.Window),  # "n bytes" under a message box
        (Role.Link, Role.Base),
        (Role.Link, Role.Window),
        (Role.LinkVisited, Role.Base),
    ):
        assert ratio(fg, bg) >= TEXT, (fg, bg, ratio(fg, bg))
    for mark, bg in (
        (Role.Mid, Role.Base),  # plot frames, the time diagram's clocks
        (Role.Mid, Role.Window),
        (Role.Highlight, Role.Base),  # a selection, a progress bar
        (Role.Dark, Role.Window),
        (Role.Shadow, Role.Window),
    ):
        assert ratio(mark, bg) >= MARK, (mark, bg, ratio(mark, bg))


def test_disabled_controls_look_disabled_and_stay_readable(window):
    client = window.tcp_echo.client
    disabled, enabled = client.send_button, client.connect_button
    assert not disabled.isEnabled() and enabled.isEnabled()
    role = disabled.foregroundRole()
    dim, normal = disabled.palette().color(role), enabled.palette().color(role)
    assert contrast(dim, normal) >= MARK, (dim.name(), normal.name())
    face = disabled.palette().color(Role.Button)
    assert 4.5 <= contrast(dim, face) < TEXT, (dim.name(), face.name())
    palette = QApplication.palette()
    for role in (Role.WindowText, Role.Text):
        assert contrast(palette.color(Group.Disabled, role), palette.color(Group.Active, role)) >= MARK, role


def test_the_high_contrast_table_text_on_every_background_it_meets(window):
    """Each text colour of style.HIGH_CONTRAST on each background it is drawn on, including a
    pane's (a group box) as painted: a colour no widget test happens to show is measured too."""
    c = style.colours()
    line = window.tcp_echo.client.state  # a line of text in a pane
    pane = background(pixels(window), QRect(line.mapTo(window, QPoint(0, 0)), line.size()))
    palette = QApplication.palette()
    surfaces = [palette.color(Role.Window), palette.color(Role.Base), pane]
    for fg, bgs in (
        (c.sent_fg, [c.sent_bg, c.sent_header_bg, c.trailer_bg, c.highlight_bg]),
        (c.received_fg, [c.received_bg, c.received_header_bg, c.trailer_bg, c.highlight_bg]),
        (c.error_fg, surfaces),
        (c.ok_fg, surfaces),
        (c.offset_fg, surfaces),
        (palette.color(Role.Text), list(c.field_shades)),
    ):
        for bg in bgs:
            assert contrast(fg, bg) >= TEXT, (fg.name(), bg.name())
    backgrounds = [
        c.sent_bg,
        c.sent_header_bg,
        c.received_bg,
        c.received_header_bg,
        c.trailer_bg,
        c.highlight_bg,
    ]
    for mark in (c.chunk_line, c.frame_line):
        for bg in [*backgrounds, *c.field_shades]:
            assert contrast(mark, bg) >= MARK, (mark.name(), bg.name())


def test_every_control_has_an_edge_3_to_1(window):
    """Buttons, fields, spin boxes, combo boxes and tabs: the darkest of the first pixels inside the
    control's left edge, against the pixel just outside it (a field must be findable on a projector)."""
    client = window.tcp_echo.client
    controls = [
        client.connect_button,
        client.address.host,
        client.address.port,
        client.payload.mode,
        client.payload.edit,
        client.view.hexdump,
        window.tabs.tabBar(),
    ]
    image = pixels(window)
    bar = client.view.hexdump.horizontalScrollBar()  # the ASCII column is reached through it
    assert bar.isVisible()
    groove = pixels(bar)
    y, ends = groove.height() // 2, groove.height() + 2  # between the arrow buttons
    track = [QColor.fromRgb(groove.pixel(x, y)) for x in range(ends, groove.width() - ends)]
    assert max(contrast(colour, background(groove)) for colour in track) >= MARK
    for control in controls:
        left = control.mapTo(window, QPoint(0, 0))
        y = left.y() + control.height() // 2
        outside = QColor.fromRgb(image.pixel(left.x() - 2, y))
        edge = max(contrast(QColor.fromRgb(image.pixel(left.x() + dx, y)), outside) for dx in range(3))
        assert edge >= MARK, (type(control).__name__, edge)


def fill_pane(view) -> None:
    length = make_codec("length4")
    for direction in (Direction.SENT, Direction.RECEIVED):
        wire = length.encode(b"hello") + length.encode(b"world, again!")
        frames = [f for f in make_codec("length4").feed(wire) if isinstance(f, Frame)]
        view.add(
            [
                (make_chunk(direction, wire[:7], 0, 1, PEER), frames),
                (make_chunk(direction, wire[7:], 7, 1, PEER), []),
            ]
        )
        lines = b"one\ntwo\nthree\n"
        frames = [f for f in make_codec("line").feed(lines) if isinstance(f, Frame)]
        view.add(
            [
                (make_chunk(direction, lines[:6], 0, 2, PEER), frames),
                (make_chunk(direction, lines[6:], 6, 2, PEER), []),
            ]
        )


def test_hexdump_bytes_offsets_and_boundaries(window, qtbot):
    view = window.tcp_echo.client.view
    fill_pane(view)
    model, hexdump = view.hex_model, view.hexdump
    model.set_highlight(3, 9)
    qtbot.waitUntil(lambda: model.rowCount() >= 4, timeout=10000)
    base = hexdump.palette().color(Role.Base)
    image = pixels(hexdump.viewport())
    backgrounds: set[str] = set()
    bars = 0
    for row in range(model.rowCount()):
        offset = model.data(model.index(row, 0), FG)
        assert contrast(offset, base) >= TEXT, offset.name()
        for col in range(HEX0, model.columnCount()):
            index = model.index(row, col)
            if model.data(index) is None:
                continue
            fg, bg = model.data(index, FG), model.data(index, BG)
            backgrounds.add(bg.name())
            assert contrast(fg, bg) >= TEXT, (row, col, fg.name(), bg.name())
            if col >= ASCII0 or not (
                model.data(index, CHUNK_START_ROLE) or model.data(index, FRAME_START_ROLE)
            ):
                continue
            x, y = hexdump.columnViewportPosition(col), hexdump.rowViewportPosition(row)
            if y < 0 or y + hexdump.rowHeight(row) > image.height():
                continue
            bar = QColor.fromRgb(image.pixel(x + 1, y + hexdump.rowHeight(row) // 2))
            assert contrast(bar, bg) >= MARK, (row, col, bar.name(), bg.name())
            bars += 1
    assert bars >= 6
    # every kind of byte was there: payload and header both ways, delimiter, highlight
    assert len(backgrounds) == 6, backgrounds
    selected = hexdump.palette().color(Group.Active, Role.Highlight)
    assert contrast(hexdump.palette().color(Group.Active, Role.HighlightedText), selected) >= TEXT


def test_traffic_log_rows(window, qtbot):
    view = window.tcp_echo.client.view
    fill_pane(view)
    model = view.log_model
    qtbot.waitUntil(lambda: model.rowCount() == 8, timeout=10000)
    base = view.log.palette().color(Role.Base)
    for row in range(model.rowCount()):
        fg = model.data(model.index(row, 1), FG)
        assert contrast(fg, base) >= TEXT, (row, fg.name())
    option = QStyleOptionViewItem()
    grid = view.log.style().styleHint(QStyle.StyleHint.SH_Table_GridLineColor, option, view.log)
    assert contrast(QColor.fromRgba(grid & 0xFFFFFFFF), base) >= MARK, hex(grid)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_error_and_input_error_lines_on_what_is_behind_them(window, qtbot):
    """The texts a page colours itself (a failed connect, a bad hex digit, the byte count),
    measured against the pixels behind them."""

    def measure(label, coloured: bool) -> None:
        label.ensurePolished()
        fg = label.palette().color(label.foregroundRole())
        bg = background(pixels(window), QRect(label.mapTo(window, QPoint(0, 0)), label.size()))
        assert (fg != QColor("#000000")) == coloured, label.text()
        assert contrast(fg, bg) >= TEXT, (label.text(), fg.name(), bg.name())

    client = window.tcp_echo.client
    client.address.host.setText("127.0.0.1")
    client.address.port.setValue(free_port())
    client.toggle_connection()
    qtbot.waitUntil(lambda: bool(client.state.property("error")), timeout=10000)
    measure(client.state, True)
    client.payload.set_mode("hex")
    client.payload.edit.setPlainText("48 zz")
    qtbot.waitUntil(lambda: "z" in client.payload.status.text(), timeout=10000)
    measure(client.payload.status, True)
    client.payload.edit.setPlainText("48 65")  # "2 bytes": a quieter colour, still 7:1
    qtbot.waitUntil(lambda: "z" not in client.payload.status.text(), timeout=10000)
    measure(client.payload.status, True)


def test_a_colour_set_before_the_switch_follows_it(window, qtbot):
    """The byte count under a message box takes its colour from the palette through a style
    sheet: switched to high contrast afterwards, it is read again."""
    window.contrast_action.setChecked(False)
    status = window.tcp_echo.client.payload.status
    window.tcp_echo.client.payload.edit.setPlainText("abc")
    qtbot.waitUntil(lambda: "3" in status.text(), timeout=10000)
    status.ensurePolished()
    window.contrast_action.setChecked(True)
    fg = status.palette().color(status.foregroundRole())
    assert contrast(fg, QApplication.palette().color(Role.Window)) >= TEXT, hex(fg.rgba())


def test_two_sends_keep_a_visible_boundary(window, qtbot):
    """The lesson of two-sends: two send() boxes side by side, the line between them plain."""
    pane = window.sticking.scenario
    window.tabs.setCurrentWidget(window.sticking)
    pane.preset.setCurrentIndex(pane.preset.findData("two-sends"))
    pane.run()
    qtbot.waitUntil(lambda: pane.runner is None and bool(pane.timeline.lanes), timeout=10000)
    timeline = pane.timeline
    fill = style.SENT_BG.rgb()
    image = pixels(timeline)
    rows = [y for y in range(image.height()) if any(image.pixel(x, y) == fill for x in range(image.width()))]
    assert rows, "no send() box drawn"
    y = rows[0] + 2  # just inside the boxes' top edge, above the labels
    runs, edges, inside = 0, [], False
    for x in range(image.width()):
        if image.pixel(x, y) == fill:
            if not inside:
                runs += 1
            inside = True
        elif inside or runs:
            edges.append((runs, QColor.fromRgb(image.pixel(x, y))))
            inside = False
    assert runs >= 2, "the two send() boxes are not apart"
    between = [colour for run, colour in edges if run == 1]
    strongest = max(contrast(colour, style.SENT_BG) for colour in between)
    assert strongest >= MARK, [c.name() for c in between]
    colours = style.colours()
    for _, spans in timeline.lanes:
        for span in spans:
            for fill in (span.colour, header_shade(span.colour)):
                assert contrast(colours.box_fg, fill) >= TEXT, span.label
                assert contrast(colours.box_edge, fill) >= MARK, span.label
                assert contrast(colours.frame_line, fill) >= MARK, span.label  # "read so far"


def test_time_plot_and_diagram_marks(window, qtbot, tmp_path: Path):
    window.tabs.setCurrentWidget(window.time)
    screenshots.time_client(window, tmp_path)
    client = window.time.client
    plot = client.plot
    assert plot.series
    for colour, _ in plot.series.values():
        assert contrast(colour, plot.palette().color(Role.Base)) >= MARK, colour.name()
    packet = client.packet_model  # the SNTP reply's fields, shaded in turn, in the text colour
    text = client.packet.palette().color(Role.Text)
    cells = [packet.data(packet.index(row, HEX0 + col), BG) for row in range(3) for col in range(16)]
    shades = {cell.name() for cell in cells if cell is not None}
    assert len(shades) >= 4
    for shade in shades:
        assert contrast(text, QColor(shade)) >= TEXT, shade
    colours = style.colours()
    for mark in (colours.error_fg, colours.sent_fg, colours.received_fg):  # lost marks, T1→T2, T3→T4
        assert contrast(mark, client.diagram.palette().color(Role.Window)) >= MARK
        assert contrast(mark, plot.palette().color(Role.Base)) >= MARK


def test_switching_off_restores_the_system_theme_even_from_a_later_window(qtbot, settings):
    """A second window opens in the remembered high contrast; switching it off brings back the
    palette and style the application started with, not the first window's high contrast."""
    window_colour, style_name = QApplication.palette().color(Role.Window), QApplication.style().name()
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.contrast_action.setChecked(True)
    first.close()
    second = MainWindow(settings)
    qtbot.addWidget(second)
    assert second.presentation.high_contrast
    second.contrast_action.setChecked(False)
    assert QApplication.palette().color(Role.Window) == window_colour
    assert QApplication.style().name() == style_name
    assert style.colours() is style.NORMAL
    second.close()

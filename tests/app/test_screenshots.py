"""The README screenshot script drives every tab to a working state and saves a full window image."""

from __future__ import annotations

from PySide6.QtGui import QImage

from app import screenshots


def test_screenshot_script_saves_every_tab_in_english_and_two_in_chinese(qtbot, tmp_path):
    """Seven PNGs of the window's size, each with real content (many distinct colours)."""
    saved = screenshots.take(tmp_path)
    assert [p.name for p in saved] == [
        *(f"{name}.png" for name in screenshots.SCENES),
        "tcp-echo-zh_CN.png",
        "packet-sticking-zh_CN.png",
    ]
    for path in saved:
        image = QImage(str(path))
        assert (image.width(), image.height()) == screenshots.SIZE, path
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
        assert len(colours) > 20, f"{path} looks blank"

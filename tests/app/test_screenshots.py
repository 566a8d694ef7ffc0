"""The README screenshot script drives every tab to a working state and saves a full window image,
then every tab at 1024×768 in both languages, with and without high contrast."""

from __future__ import annotations

from PySide6.QtGui import QColor, QImage

from app import i18n, screenshots
from widgets import saved_messages


def test_screenshot_script_saves_every_tab_in_english_and_two_in_chinese(qtbot, tmp_path):
    """Eight PNGs of the window's size and 24 at the projector's, each with real content (many
    distinct colours); the high-contrast ones mostly white."""
    history = tmp_path / "history" / "saved_messages.json"
    saved_messages.use_file(history)  # the user's file, as far as the script knows
    saved = screenshots.take(tmp_path)
    assert not history.exists()  # the script's sends stay out of the user's history
    projector = [
        tmp_path / screenshots.PROJECTOR_DIR / screenshots.projector_name(name, language, high_contrast)
        for language, high_contrast in screenshots.VARIANTS
        for name in screenshots.SCENES
    ]
    classroom = [
        tmp_path / screenshots.PROJECTOR_DIR / f"{name}{'-zh_CN' if language == i18n.CHINESE else ''}.png"
        for language in screenshots.CLASSROOM_LANGUAGES
        for name in ("connections", "connect-to-me")
    ]
    assert saved == [
        *(tmp_path / f"{name}.png" for name in screenshots.SCENES),
        tmp_path / "tcp-echo-zh_CN.png",
        tmp_path / "packet-sticking-zh_CN.png",
        *projector,
        *classroom,
    ]
    assert len(set(projector)) == 4 * len(screenshots.SCENES) == 24
    for path in saved:
        image = QImage(str(path))
        if "connect-to-me" in path.name:  # a dialog that fits the projector
            assert image.width() <= screenshots.PROJECTOR[0] and image.height() <= screenshots.PROJECTOR[1], (
                path
            )
        else:
            size = screenshots.PROJECTOR if path in projector or path in classroom else screenshots.SIZE
            assert (image.width(), image.height()) == size, path  # the window fits 1024×768 in every tab
        samples = [image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)]
        assert len(set(samples)) > 20, f"{path} looks blank"
        if "high-contrast" in path.name:
            white = sum(QColor.fromRgb(pixel).lightness() >= 240 for pixel in samples)
            assert white > len(samples) / 2, f"{path} is not black on white"

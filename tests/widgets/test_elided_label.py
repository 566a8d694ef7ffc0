"""ElidedLabel: a status line that never resizes its pane nor repaints the window around it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from widgets.elided_label import ElidedLabel

LONG = "133 chunks · 8,390,516 bytes · 5,765 older chunks (370,997,335 bytes) dropped to stay within " * 3


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def row_with(qtbot, label: QWidget) -> tuple[QWidget, QPushButton]:
    box = QWidget()
    qtbot.addWidget(box)
    layout = QHBoxLayout(box)
    layout.addWidget(label, 1)
    button = QPushButton("Save traffic…", box)
    layout.addWidget(button)
    box.resize(300, 40)
    box.show()
    qtbot.waitExposed(box)
    qtbot.wait(50)  # the first paints are done
    return box, button


def test_a_long_text_neither_widens_the_row_nor_moves_its_neighbour(qtbot):
    label = ElidedLabel()
    box, button = row_with(qtbot, label)
    before = (box.minimumSizeHint().width(), button.geometry())
    label.setText(LONG)
    qtbot.wait(20)
    assert (box.minimumSizeHint().width(), button.geometry()) == before
    assert label.text() == LONG and label.toolTip() == LONG  # the whole text, for the mouse
    plain = QLabel(LONG)  # what a QLabel would have asked for (the check can fail)
    assert plain.minimumSizeHint().width() > box.width()


def test_a_new_text_repaints_the_label_and_nothing_else(qtbot):
    label = ElidedLabel()
    _box, button = row_with(qtbot, label)
    counter = PaintCounter()
    label.installEventFilter(counter)
    button.installEventFilter(neighbour := PaintCounter())
    for n in range(5):
        label.setText(f"{n:,} chunks · {n * 65536:,} bytes · " + LONG[: 20 * n])
        qtbot.wait(20)
    assert counter.paints >= 5
    assert neighbour.paints == 0
    label.setText(label.text())  # the same text: nothing to do
    painted = counter.paints
    qtbot.wait(20)
    assert counter.paints == painted


def inked_columns(label: ElidedLabel) -> list[int]:
    """The x of every pixel column of the label's picture that is not all background."""
    image = label.grab().toImage()
    background = image.pixel(0, 0)
    return [
        x for x in range(image.width()) if any(image.pixel(x, y) != background for y in range(image.height()))
    ]


def test_a_long_text_is_drawn_to_the_labels_end_and_no_further(qtbot):
    label = ElidedLabel()
    _box, _button = row_with(qtbot, label)
    label.setText("3 chunks")
    short = inked_columns(label)
    assert short and max(short) < label.width() // 2
    label.setText(LONG)
    long = inked_columns(label)
    assert label.width() - 30 < max(long) < label.width()  # cut to the width, with "…" at the end

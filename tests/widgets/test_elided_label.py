"""ElidedLabel: a status line that never resizes its pane nor repaints the window around it."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject
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


class Row:
    """A label and a button beside it in a shown window, each with a PaintCounter."""

    def __init__(self, qtbot, label: QWidget) -> None:
        self.box = QWidget()
        qtbot.addWidget(self.box)
        layout = QHBoxLayout(self.box)
        layout.addWidget(label, 1)
        self.button = QPushButton("Save traffic…", self.box)
        layout.addWidget(self.button)
        self.label_paints, self.button_paints = PaintCounter(), PaintCounter()
        label.installEventFilter(self.label_paints)
        self.button.installEventFilter(self.button_paints)
        self.box.resize(300, 40)
        self.box.show()
        qtbot.waitExposed(self.box)
        # the first paints are done (both painted, and nothing is left to deliver): count from zero
        qtbot.waitUntil(lambda: self.label_paints.paints > 0 and self.button_paints.paints > 0, timeout=5000)
        QCoreApplication.processEvents()
        self.label_paints.paints = self.button_paints.paints = 0


def test_a_long_text_neither_widens_the_row_nor_moves_its_neighbour(qtbot):
    label = ElidedLabel()
    row = Row(qtbot, label)
    before = (row.box.minimumSizeHint().width(), row.button.geometry())
    label.setText(LONG)
    QCoreApplication.sendPostedEvents()  # the layout request a wider label would post, handled now
    assert (row.box.minimumSizeHint().width(), row.button.geometry()) == before
    assert label.text() == LONG and label.toolTip() == LONG  # the whole text, for the mouse
    plain = QLabel(LONG)  # what a QLabel would have asked for (the check can fail)
    assert plain.minimumSizeHint().width() > row.box.width()


def test_a_new_text_repaints_the_label_and_nothing_else(qtbot):
    """Qt paints every widget of a window marked for repainting in one pass: after the label's
    paint, a neighbour marked too would have been painted; after the button's, the label."""
    label = ElidedLabel()
    row = Row(qtbot, label)
    for n in range(5):
        painted = row.label_paints.paints
        label.setText(f"{n:,} chunks · {n * 65536:,} bytes · " + LONG[: 20 * n])
        qtbot.waitUntil(lambda painted=painted: row.label_paints.paints > painted, timeout=5000)
    assert row.button_paints.paints == 0
    painted = row.label_paints.paints
    label.setText(label.text())  # the same text: nothing to do
    row.button.update()  # a marker: once the button is painted, a label marked too would be
    qtbot.waitUntil(lambda: row.button_paints.paints > 0, timeout=5000)
    assert row.label_paints.paints == painted


def inked_columns(label: ElidedLabel) -> list[int]:
    """The x of every pixel column of the label's picture that is not all background."""
    image = label.grab().toImage()
    background = image.pixel(0, 0)
    return [
        x for x in range(image.width()) if any(image.pixel(x, y) != background for y in range(image.height()))
    ]


def test_a_long_text_is_drawn_to_the_labels_end_and_no_further(qtbot):
    label = ElidedLabel()
    _row = Row(qtbot, label)  # kept: the window owns the label
    label.setText("3 chunks")
    short = inked_columns(label)
    assert short and max(short) < label.width() // 2
    label.setText(LONG)
    long = inked_columns(label)
    assert label.width() - 30 < max(long) < label.width()  # cut to the width, with "…" at the end

"""Fitting the window to a small screen (a 1024×768 projector): panes that scroll, a splitter that
stacks its panes when they do not fit side by side, splitter positions remembered, and a window
geometry that stays inside the screen."""

from __future__ import annotations

import math

from PySide6.QtCore import QByteArray, QEvent, QRect, QSettings, QSize, Qt
from PySide6.QtGui import QResizeEvent, QTextLayout
from PySide6.QtWidgets import QFrame, QScrollArea, QSplitter, QTabBar, QVBoxLayout, QWidget

SETTINGS_GROUP = "splitters"


class _MinimumLayout(QVBoxLayout):
    """A layout that answers no height-for-width: a resizable QScrollArea then sizes its widget by
    the minimum size, where with word-wrapped labels inside it took the *preferred* height for the
    width and scrolled a pane that fitted."""

    def hasHeightForWidth(self) -> bool:
        return False


def scroll_area(content: QWidget, parent: QWidget | None = None) -> QScrollArea:
    """*content* in a frameless scroll area: it gets all the room there is, and scroll bars when
    that is less than its minimum size."""
    area = QScrollArea(parent)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    holder = QWidget()
    layout = _MinimumLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(content)
    area.setWidget(holder)
    return area


def scroll_contents(page: QWidget) -> QScrollArea:
    """Move what *page*'s layout holds into a scroll area that becomes the page's only child, so the
    page asks for little room and scrolls when it gets less than its contents need."""
    inner = QWidget()
    layout = page.layout()
    if layout is not None:
        inner.setLayout(layout)  # Qt takes the layout, and the widgets it manages, off the page
        layout.setContentsMargins(0, 0, 0, 0)
    area = scroll_area(inner, page)
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(area)
    return area


def content_width(widget: QWidget) -> int:
    """The width *widget* needs without a horizontal scroll bar (a scroll area: its contents')."""
    content = widget.widget() if isinstance(widget, QScrollArea) else None
    if isinstance(widget, QScrollArea) and content is not None:
        return content.minimumSizeHint().width() + widget.verticalScrollBar().sizeHint().width()
    return widget.minimumSizeHint().width()


class FlexSplitter(QSplitter):
    """Panes side by side when the splitter is wide enough for all of them, one above the other
    when it is not; the sizes the user drags to are kept for each orientation."""

    def __init__(self, parent: QWidget | None = None, rest: int | None = None) -> None:
        """*rest*: the pane that takes the width the others leave when side by side (they get what
        their contents need); None: equal shares."""
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setChildrenCollapsible(False)
        self._sizes: dict[Qt.Orientation, list[int]] = {}
        self._rest = rest
        self.splitterMoved.connect(self._remember)

    def side_by_side_width(self) -> int:
        """The width the panes need side by side, with the handles between them."""
        widgets = [w for w in (self.widget(i) for i in range(self.count())) if w is not None]
        handles: int = self.handleWidth() * max(0, len(widgets) - 1)
        return handles + sum(content_width(w) for w in widgets)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.fit(event.size().width())
        super().resizeEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # a pane's minimum changed (zoom, language)
            self.fit(self.width())
        return super().event(event)

    def fit(self, width: int) -> None:
        """Choose the orientation for *width* and apply its remembered (or equal) sizes."""
        wanted = Qt.Orientation.Horizontal if width >= self.side_by_side_width() else Qt.Orientation.Vertical
        if wanted != self.orientation() or not self._sizes:
            self.setOrientation(wanted)
            self.setSizes(self._sizes.get(wanted) or self._first_sizes(wanted, width))

    def _first_sizes(self, orientation: Qt.Orientation, width: int) -> list[int]:
        """The sizes until the user drags: equal whatever the hints, or side by side the *rest*
        pane with what the others leave."""
        count = self.count()
        if self._rest is None or orientation is Qt.Orientation.Vertical:
            return [1000] * count
        sizes = [content_width(w) if (w := self.widget(i)) is not None else 0 for i in range(count)]
        others = sum(sizes) - sizes[self._rest] + self.handleWidth() * (count - 1)
        sizes[self._rest] = max(1, width - others)
        return sizes

    def _remember(self, _pos: int, _index: int) -> None:
        self._sizes[self.orientation()] = self.sizes()

    def save(self, settings: QSettings, key: str) -> None:
        for orientation, sizes in self._sizes.items():
            settings.setValue(f"{key}/{orientation.name}", ",".join(map(str, sizes)))

    def restore(self, settings: QSettings, key: str) -> None:
        for orientation in (Qt.Orientation.Horizontal, Qt.Orientation.Vertical):
            text = str(settings.value(f"{key}/{orientation.name}", ""))
            sizes = [int(s) for s in text.split(",") if s.strip().isdigit()]
            if len(sizes) == self.count() and sum(sizes) > 0:
                self._sizes[orientation] = sizes
        if self._sizes.get(self.orientation()):
            self.setSizes(self._sizes[self.orientation()])


def splitter_key(splitter: QSplitter, top: QWidget) -> str:
    """A settings key naming *splitter* by its place under *top*: the class names of its ancestors,
    each with its index among siblings of the same class (two panes of one class stay apart)."""
    parts: list[str] = []
    widget: QWidget | None = splitter
    while widget is not None and widget is not top:
        parent = widget.parentWidget()
        name = type(widget).__name__
        if parent is not None:
            direct = Qt.FindChildOption.FindDirectChildrenOnly
            same = parent.findChildren(type(widget), options=direct)
            if len(same) > 1:
                name += str(same.index(widget))
        parts.append(name)
        widget = parent
    return SETTINGS_GROUP + "/" + "-".join(reversed(parts))


def save_splitters(top: QWidget, settings: QSettings) -> None:
    """Remember where the user put every splitter under *top*."""
    for splitter in top.findChildren(QSplitter):
        key = splitter_key(splitter, top)
        if isinstance(splitter, FlexSplitter):
            splitter.save(settings, key)
        else:
            settings.setValue(key, splitter.saveState())


def restore_splitters(top: QWidget, settings: QSettings) -> None:
    """Put every splitter under *top* where the user left it (a splitter not saved keeps its own)."""
    for splitter in top.findChildren(QSplitter):
        key = splitter_key(splitter, top)
        if isinstance(splitter, FlexSplitter):
            splitter.restore(settings, key)
        else:
            state = settings.value(key)
            if isinstance(state, QByteArray):
                splitter.restoreState(state)


def fitted_geometry(wanted: QRect, available: QRect) -> QRect:
    """*wanted* moved and shrunk so that it lies inside *available* (a screen's free area)."""
    width, height = min(wanted.width(), available.width()), min(wanted.height(), available.height())
    left = min(max(wanted.left(), available.left()), available.right() + 1 - width)
    top = min(max(wanted.top(), available.top()), available.bottom() + 1 - height)
    return QRect(left, top, width, height)


class TabBar(QTabBar):
    """Tabs tall enough for the tallest font in their text: a label such as "Packet sticking 粘包"
    takes its Chinese from a fallback font taller than the Latin one, which clipped the "g"."""

    def tabSizeHint(self, index: int) -> QSize:
        hint = super().tabSizeHint(index)
        layout = QTextLayout(self.tabText(index).replace("&", ""), self.font())
        layout.beginLayout()
        line = layout.createLine()
        layout.endLayout()
        extra = math.ceil(line.height()) - self.fontMetrics().height() if line.isValid() else 0
        return QSize(hint.width(), hint.height() + max(0, extra))

"""The user's language: English source texts, Simplified Chinese from ``resources/i18n``. Chosen from
the system locale or the View ▸ Language menu, and switched at run time without a restart: the
translator remembers what every text it handed out was translated from, so the texts already on
screen can be translated again in place."""

from __future__ import annotations

import re
import string

from PySide6.QtCore import QCoreApplication, QEvent, QLibraryInfo, QLocale, QObject, Qt, QTranslator
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QSpinBox,
    QTableView,
    QTabWidget,
    QTextEdit,
    QWidget,
)

from app.resources import resource_path
from widgets.elided_label import ElidedLabel

ENGLISH = "en"
CHINESE = "zh_CN"
SYSTEM = "system"
# Each language named in itself, so a user who cannot read the current one still finds theirs.
LANGUAGES: dict[str, str] = {ENGLISH: "English", CHINESE: "简体中文"}

Origin = tuple[str, str, "str | None", int]


def system_language() -> str:
    """The language of the system locale that we have, else English."""
    for name in QLocale.system().uiLanguages():
        if name.lower().replace("-", "_").startswith("zh"):
            return CHINESE
        if name.lower().startswith("en"):
            return ENGLISH
    return ENGLISH


def resolve(choice: str) -> str:
    """The language a menu/settings choice ("system", "en", "zh_CN") means on this machine."""
    return choice if choice in LANGUAGES else system_language()


class Translator(QTranslator):
    """Translates through the current language's catalogue (ours and Qt's own dialogs) and records,
    for each text it hands out, the context and source it came from."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.code = ENGLISH
        self._catalogs: list[QTranslator] = []
        self._origins: dict[str, list[Origin]] = {}
        self._patterns: dict[str, tuple[re.Pattern[str], dict[str, str]] | None] = {}

    def load_language(self, code: str) -> None:
        """Use *code*'s catalogues; raises ``FileNotFoundError`` when ours is missing (not built)."""
        catalogs: list[QTranslator] = []
        if code != ENGLISH:
            ours = QTranslator(self)
            path = resource_path("i18n", f"socketlab_{code}.qm")
            if not ours.load(str(path)):
                raise FileNotFoundError(f"translation catalogue {path} is missing: run `make translations`")
            catalogs.append(ours)
            qt_own = QTranslator(self)
            if qt_own.load(f"qtbase_{code}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
                catalogs.append(qt_own)
        self._catalogs = catalogs
        self.code = code

    def translate(
        self, context: str, source_text: str, disambiguation: str | None = None, n: int = -1
    ) -> str | None:  # None (a null QString) means "not mine: use the source"
        origin = (context, source_text, disambiguation, n)
        for catalog in self._catalogs:
            text = catalog.translate(context, source_text, disambiguation, n)
            if text:
                self._remember(text, origin)
                return text
        if n >= 0 and "(s)" in source_text:  # an English plural: "%n byte(s)" → "1 byte", "2 bytes"
            text = source_text.replace("(s)", "" if n == 1 else "s")
            self._remember(text, origin)
            return text
        self._remember(source_text, origin)
        return None

    def _remember(self, text: str, origin: Origin) -> None:
        # PySide's tr() asks once per class of the caller's MRO, most derived first: keep them all.
        # A plural text is shown with its count in place of %n, so remember it that way too.
        n = origin[3]
        origins = self._origins.setdefault(text.replace("%n", str(n)) if n >= 0 else text, [])
        if origin not in origins:
            origins.append(origin)

    def isEmpty(self) -> bool:
        return False

    def again(self, text: str, near: tuple[str, ...] = ()) -> str | None:
        """*text* (handed out earlier in any language) in the current language, or None if it did
        not come from a translation (user input, numbers). A text made by ``str.format`` from a
        translated template is matched against the templates and refilled with the same values.
        When one text came from several contexts, those named in *near* (the classes around the
        widget) come first."""
        origins = sorted(self._origins.get(text, ()), key=lambda o: _closeness(o[0], near))
        for context, source, disambiguation, n in origins:
            translated = QCoreApplication.translate(context, source, disambiguation, n)
            if translated != text:
                return translated
        if origins:
            return text
        return self._again_formatted(text, near)

    def _again_formatted(self, text: str, near: tuple[str, ...]) -> str | None:
        best: tuple[int, str, dict[str, str]] | None = None
        for template in [t for t in self._origins if "{" in t]:
            if template not in self._patterns:
                self._patterns[template] = _template_pattern(template)
            pattern = self._patterns[template]
            if pattern is None:
                continue
            match = pattern[0].match(text)
            if match is None:
                continue
            closeness = min(_closeness(o[0], near) for o in self._origins[template])
            if best is None or closeness < best[0]:
                best = (closeness, template, {name: match[key] for key, name in pattern[1].items()})
        if best is None:
            return None
        new_template = self.again(best[1], near)
        return None if new_template is None else _fill(new_template, best[2])


def _closeness(context: str, near: tuple[str, ...]) -> int:
    return near.index(context) if context in near else len(near)


def _fields(template: str) -> list[tuple[str, str | None]]:
    """(literal text, field name) pairs of a ``str.format`` template; ``{}`` fields are numbered."""
    parts: list[tuple[str, str | None]] = []
    auto = 0
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        if name == "":
            name, auto = str(auto), auto + 1
        parts.append((literal, name))
    return parts


def _template_pattern(template: str) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """A regex matching what *template* formats to, and its group → field names; None when the
    template has no field or too little fixed text to recognise ("{0}" alone matches anything)."""
    try:
        parts = _fields(template)
    except ValueError:
        return None
    fixed = "".join(literal for literal, _ in parts)
    if all(name is None for _, name in parts) or len(fixed.strip()) < 2:
        return None
    regex, groups = "", dict[str, str]()
    for literal, name in parts:
        regex += re.escape(literal)
        if name is None:
            continue
        if name in groups.values():
            key = next(k for k, v in groups.items() if v == name)
            regex += f"(?P={key})"
        else:
            key = f"f{len(groups)}"
            groups[key] = name
            regex += f"(?P<{key}>.*?)"
    return re.compile(regex + r"\Z", re.DOTALL), groups


def _fill(template: str, values: dict[str, str]) -> str | None:
    """*template* with each field replaced by the text it showed before, or None if one is missing."""
    try:
        parts = _fields(template)
    except ValueError:
        return None
    if any(name is not None and name not in values for _, name in parts):
        return None
    return "".join(literal + (values[name] if name is not None else "") for literal, name in parts)


def in_current_language(text: str) -> str:
    """*text*, handed out earlier in any language, in the current one (as is when not translated)."""
    app = QCoreApplication.instance()
    translator = app.findChild(Translator) if app is not None else None
    again = translator.again(text) if translator is not None else None
    return text if again is None else again


def install(choice: str) -> Translator:
    """The application's one translator, installed and set to *choice* (idempotent)."""
    app = QCoreApplication.instance()
    assert app is not None, "create the QApplication first"
    translator = app.findChild(Translator)
    if translator is None:
        translator = Translator(app)
        _load(translator, resolve(choice))
        QCoreApplication.installTranslator(translator)
    elif translator.code != resolve(choice):
        switch(translator, choice, [])
    return translator


def _load(translator: Translator, code: str) -> None:
    try:
        translator.load_language(code)
    except FileNotFoundError as exc:
        print(f"socketlab: {exc}; showing English", flush=True)
        translator.load_language(ENGLISH)


def switch(translator: Translator, choice: str, roots: list[QWidget]) -> None:
    """Change the language now and translate the texts under *roots* again."""
    _load(translator, resolve(choice))
    QCoreApplication.removeTranslator(translator)
    QCoreApplication.installTranslator(translator)  # posts QEvent.LanguageChange to every window
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)  # handled before we return
    for root in roots:
        _retranslate_tree(translator, root)


def _retranslate_tree(translator: Translator, root: QWidget) -> None:
    for widget in [root, *root.findChildren(QWidget)]:
        _retranslate_widget(translator, widget)
        widget.update()  # widgets that paint text translate while painting
    for action in root.findChildren(QAction):
        _swap(translator, action.text, action.setText)
        _swap(translator, action.toolTip, action.setToolTip)
        _swap(translator, action.statusTip, action.setStatusTip)


def _swap(translator: Translator, getter: object, setter: object, near: tuple[str, ...] = ()) -> None:
    assert callable(getter) and callable(setter)
    text = getter()
    if text:
        new = translator.again(text, near)
        if new is not None and new != text:
            setter(new)


def _near(widget: QWidget) -> tuple[str, ...]:
    """The translation contexts around *widget*, closest first: its own classes (and the shared
    context a class declares as ``translation_context``), then its parents'."""
    names: list[str] = []
    node: QObject | None = widget
    while node is not None:
        for cls in type(node).__mro__:
            names += [cls.__name__, cls.__dict__.get("translation_context", cls.__name__)]
        node = node.parent()
    return tuple(dict.fromkeys(names))


def _retranslate_widget(translator: Translator, widget: QWidget) -> None:
    near = _near(widget)

    def swap(getter: object, setter: object) -> None:
        _swap(translator, getter, setter, near)

    for getter, setter in (
        (widget.toolTip, widget.setToolTip),
        (widget.statusTip, widget.setStatusTip),
        (widget.whatsThis, widget.setWhatsThis),
        (widget.windowTitle, widget.setWindowTitle),
        (widget.accessibleName, widget.setAccessibleName),
    ):
        swap(getter, setter)
    if isinstance(widget, (QLabel, QAbstractButton, ElidedLabel)):
        swap(widget.text, widget.setText)
    elif isinstance(widget, (QGroupBox, QMenu)):
        swap(widget.title, widget.setTitle)
    elif isinstance(widget, QTabWidget):
        for i in range(widget.count()):
            swap(lambda i=i: widget.tabText(i), lambda t, i=i: widget.setTabText(i, t))
            swap(lambda i=i: widget.tabToolTip(i), lambda t, i=i: widget.setTabToolTip(i, t))
    elif isinstance(widget, QComboBox):
        for i in range(widget.count()):
            swap(lambda i=i: widget.itemText(i), lambda t, i=i: widget.setItemText(i, t))
            swap(
                lambda i=i: widget.itemData(i, Qt.ItemDataRole.ToolTipRole) or "",
                lambda t, i=i: widget.setItemData(i, t, Qt.ItemDataRole.ToolTipRole),
            )
    if isinstance(widget, (QLineEdit, QPlainTextEdit, QTextEdit)):
        swap(widget.placeholderText, widget.setPlaceholderText)
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        swap(widget.prefix, widget.setPrefix)
        swap(widget.suffix, widget.setSuffix)
    if isinstance(widget, QAbstractSpinBox):
        swap(widget.specialValueText, widget.setSpecialValueText)
    if isinstance(widget, QTableView) and widget.model() is not None:
        columns = widget.horizontalHeader().count()
        if columns:
            widget.model().headerDataChanged.emit(Qt.Orientation.Horizontal, 0, columns - 1)

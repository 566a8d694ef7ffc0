"""Two languages: the Chinese catalogue is complete and current, it builds and loads, the window
follows the system locale, and switching language at run time translates what is on screen."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QTranslator
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QTabWidget,
    QWidget,
)

from app import i18n
from app.errors_text import error_hint, error_summary, error_text
from app.main_window import MainWindow
from app.sticking_page import ScenarioPane
from netcore.errors import (
    BadDestination,
    CannotSave,
    CannotWrite,
    ConnectionRefused,
    FetchCancelled,
    FetchRefused,
    FileAlreadyExists,
    FileAppeared,
    FileFetchError,
    KeyRefused,
    KeyTooShort,
    NotEnoughSpace,
    ServerNotProven,
    TooManyKeyGuesses,
    from_os_error,
)
from netcore.model.scenario import Call, Cure, Scenario, ScenarioResult, Verdict, VerdictKind

ROOT = Path(__file__).resolve().parents[2]
I18N = ROOT / "resources" / "i18n"
TS = I18N / "socketlab_zh_CN.ts"
QM = I18N / "socketlab_zh_CN.qm"
LRELEASE = Path(sys.executable).with_name("pyside6-lrelease")
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%n")
MNEMONIC = re.compile(r"&([^&\s])")
CJK = re.compile(r"[\u4e00-\u9fff]")


def messages(ts: Path) -> dict[tuple[str, str], ET.Element | None]:
    """(context, source) → the <translation> element of every message in *ts*."""
    found = {}
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            found[(name, message.findtext("source", ""))] = message.find("translation")
    return found


def translated(translation: ET.Element | None) -> str:
    """The text of a translation: its own, or its plural forms' (Chinese has one)."""
    if translation is None:
        return ""
    forms = [form.text or "" for form in translation.iter("numerusform")]
    return "\n".join(forms) if forms else translation.text or ""


@pytest.fixture(scope="module")
def catalogue() -> Path:
    """The compiled catalogue, built from the .ts as `make` does when it is missing or stale."""
    if not QM.exists() or QM.stat().st_mtime < TS.stat().st_mtime:
        subprocess.run([str(LRELEASE), "-silent", str(TS), "-qm", str(QM)], check=True, timeout=60)
    return QM


def test_chinese_catalogue_has_no_unfinished_or_empty_translation():
    """Every message of the .ts is translated and marked finished."""
    unfinished = [
        key
        for key, translation in messages(TS).items()
        if translation is None or translation.get("type") is not None or not translated(translation).strip()
    ]
    assert len(messages(TS)) > 300
    assert not unfinished, f"{len(unfinished)} unfinished, e.g. {unfinished[:5]}"


def test_chinese_translations_keep_every_placeholder_and_mnemonic():
    """A translation has the same {…} placeholders and the same &-mnemonic letter as its source."""
    wrong = []
    for (context, source), translation in messages(TS).items():
        text = translated(translation)
        if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
            wrong.append((context, source, text))
        if [m.upper() for m in MNEMONIC.findall(source)] != [m.upper() for m in MNEMONIC.findall(text)]:
            wrong.append((context, source, text))
    assert not wrong, wrong[:5]


def test_no_two_texts_of_one_context_share_a_translation():
    """Switching back to English finds each text's source: within a context, translations differ
    (error actions excepted: they fill error messages and are never translated back)."""
    seen: dict[tuple[str, str], str] = {}
    clashes = []
    for (context, source), translation in messages(TS).items():
        if context == "Action":
            continue
        key = (context, translated(translation))
        if key in seen and seen[key] != source:
            clashes.append((context, seen[key], source))
        seen[key] = source
    assert not clashes, clashes


def test_chinese_catalogue_is_current_with_the_sources(tmp_path):
    """Merging the sources into a copy of the .ts adds and drops nothing: every tr() text of app/ and
    widgets/, every netcore error template and action is in the committed catalogue."""
    shutil.copy(TS, tmp_path / TS.name)
    subprocess.run(
        [sys.executable, str(I18N / "update_ts.py"), str(tmp_path)], check=True, timeout=120, cwd=ROOT
    )
    fresh, committed = set(messages(tmp_path / TS.name)), set(messages(TS))
    assert fresh - committed == set(), "new texts: run `make translations-update` and translate them"
    assert committed - fresh == set(), "texts no longer in the sources: run `make translations-update`"
    assert ("ConnectionRefused", ConnectionRefused.hint_template) in committed
    assert ("Action", "connect to") in committed


def test_compiled_catalogue_loads_and_translates(catalogue):
    """The .qm built from the .ts loads into a QTranslator and answers in Chinese."""
    translator = QTranslator()
    assert translator.load(str(catalogue))
    assert CJK.search(translator.translate("MainWindow", "&File") or "")
    assert CJK.search(translator.translate("ConnectionRefused", ConnectionRefused.hint_template) or "")


@pytest.mark.parametrize(("lang", "expected"), [("zh_CN.UTF-8", "zh_CN"), ("en_GB.UTF-8", "en"), ("C", "en")])
def test_language_follows_the_system_locale(lang, expected):
    """With no saved choice the UI language is the system locale's (Chinese for any zh locale)."""
    env = {**os.environ, "LANG": lang, "LC_ALL": lang, "LANGUAGE": "", "QT_QPA_PLATFORM": "offscreen"}
    code = "from PySide6.QtCore import QCoreApplication; from app import i18n; app = QCoreApplication([]); "
    code += "print(i18n.resolve(i18n.SYSTEM))"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def texts(window: QWidget) -> list[str]:
    """Every static text a user can read in *window*, in widget order."""
    found: list[str] = []
    for widget in [window, *window.findChildren(QWidget)]:
        found += [widget.toolTip(), widget.windowTitle()]
        if isinstance(widget, (QLabel, QAbstractButton)):
            found.append(widget.text())
        elif isinstance(widget, (QGroupBox, QMenu)):
            found.append(widget.title())
        elif isinstance(widget, QTabWidget):
            found += [widget.tabText(i) for i in range(widget.count())]
        elif isinstance(widget, QComboBox):
            found += [widget.itemText(i) for i in range(widget.count())]
        if isinstance(widget, QLineEdit):
            found.append(widget.placeholderText())
    found += [action.text() for action in window.findChildren(QAction)]
    return found


def make_window(qtbot, settings) -> MainWindow:
    window = MainWindow(settings)
    qtbot.addWidget(window)
    return window


def test_switching_language_translates_the_visible_window_and_back(qtbot, settings, catalogue):
    """View ▸ Language ▸ 简体中文 turns a visible label Chinese at once, the window then reads exactly as
    one started in Chinese, and English brings back the original texts."""
    settings.setValue("window/language", "en")
    window = make_window(qtbot, settings)
    window.show()
    english = texts(window)
    pane = window.tcp_echo.server
    start_text = pane.start_button.text()
    assert start_text == "S&tart server"
    assert window.tabs.tabText(0) == "TCP echo"

    window.language_actions[i18n.CHINESE].trigger()
    assert CJK.search(pane.start_button.text()) and "(&T)" in pane.start_button.text()
    assert CJK.search(window.tabs.tabText(0))
    assert CJK.search(window.menuBar().actions()[0].text())
    switched = texts(window)
    assert settings.value("window/language") == i18n.CHINESE

    fresh = make_window(qtbot, settings)
    assert texts(fresh) == switched, [(a, b) for a, b in zip(texts(fresh), switched, strict=True) if a != b]

    window.language_actions[i18n.ENGLISH].trigger()
    assert pane.start_button.text() == start_text
    assert texts(window) == english


@pytest.fixture
def chinese(qtbot, catalogue):
    """The application translator set to Chinese (conftest puts English back after the test)."""
    return i18n.install(i18n.CHINESE)


def test_error_summary_and_hint_are_translated_by_error_type(chinese):
    """A netcore error shows in Chinese with the same parameters; in English it reads as netcore's."""
    error = from_os_error(
        ConnectionRefusedError(111, "refused"), action="connect to", host="127.0.0.1", port=9
    )
    assert isinstance(error, ConnectionRefused)
    text = error_text(error)
    assert CJK.search(error_hint(error)) and "127.0.0.1:9" in text
    assert "connect to" not in text and "Nothing is listening" not in text
    i18n.switch(chinese, i18n.ENGLISH, [])
    assert error_text(error) == error.describe()


FETCH_ERRORS = [
    FetchCancelled(),
    FetchRefused("nope.txt", "no file named 'nope.txt'"),
    KeyRefused("a.txt", "wrong key: the HMAC of the challenge does not match"),
    FileAlreadyExists("a.txt", "/tmp/dest"),
    FileAppeared("a.txt", "/tmp/dest"),
    NotEnoughSpace("a.txt", "/tmp/dest", 2_000_000, 1_000),
    BadDestination("/tmp/no/such", "No such file or directory"),
    CannotSave("a.txt", "/tmp/dest", "Is a directory"),
    CannotWrite("File too large"),
    ServerNotProven("127.0.0.1", 8080),
    TooManyKeyGuesses("127.0.0.2", 5, 60.0, 42.0, 3),
]


def test_every_file_fetch_error_is_checked_below():
    def subclasses(cls: type) -> set[type]:
        return {sub for direct in cls.__subclasses__() for sub in {direct} | subclasses(direct)}

    assert {type(error) for error in FETCH_ERRORS} == subclasses(FileFetchError)


@pytest.mark.parametrize(
    "error", [*FETCH_ERRORS, KeyTooShort(15, 16)], ids=lambda error: type(error).__name__
)
def test_file_fetch_errors_show_their_hint_in_chinese_and_english(chinese, error):
    """A file-fetch error reaches the GUI with its hint, in Chinese with the same parameters, and in
    English exactly as netcore says it."""
    hint, summary = error_hint(error), error_summary(error)
    assert CJK.search(hint) and CJK.search(summary), (summary, hint)
    assert all(str(value) in summary for value in error.params.values() if isinstance(value, str))
    if isinstance(error, NotEnoughSpace):
        assert "2,000,000" in summary and "1,000" in summary
    i18n.switch(chinese, i18n.ENGLISH, [])
    assert error_hint(error) == error.hint != ""
    assert error_text(error) == error.describe()


def test_error_shown_in_a_pane_is_translated_when_the_language_changes(qtbot, settings, catalogue):
    """A refused connection's message on screen turns Chinese when the language is switched."""
    settings.setValue("window/language", "en")
    window = make_window(qtbot, settings)
    pane = window.tcp_echo.client
    error = from_os_error(
        ConnectionRefusedError(111, "refused"), action="connect to", host="127.0.0.1", port=9
    )
    pane.show_error(error)
    assert pane.state.text() == error.describe()
    window.set_language(i18n.CHINESE)
    assert CJK.search(pane.state.text()) and "127.0.0.1:9" in pane.state.text()
    window.set_language(i18n.ENGLISH)
    assert pane.state.text() == error.describe()


def test_formatted_state_texts_are_translated_in_place(qtbot, settings, catalogue):
    """A running server's "Listening on 127.0.0.1:PORT" turns Chinese with the same address, and back."""
    settings.setValue("window/language", "en")
    window = make_window(qtbot, settings)
    pane = window.tcp_echo.server
    pane.address.set_address("127.0.0.1", 0)
    pane.toggle_server()
    qtbot.waitUntil(lambda: pane.state.text().startswith("Listening on 127.0.0.1:"), timeout=5000)
    english = pane.state.text()
    address = english.removeprefix("Listening on ")
    window.set_language(i18n.CHINESE)
    assert pane.state.text() != english and CJK.search(pane.state.text()) and address in pane.state.text()
    window.set_language(i18n.ENGLISH)
    assert pane.state.text() == english
    window.shutdown()


@pytest.mark.parametrize("preset", ["nagle-burst", "big-send-small-recv", "cure-length-prefix"])
def test_packet_sticking_verdict_is_said_in_the_language_shown(qtbot, settings, catalogue, preset):
    """The verdict and the segment count are netcore's English in English, Chinese with the same
    numbers in Chinese (also when the language changes after the run), and English again."""
    settings.setValue("window/language", "en")
    window = make_window(qtbot, settings)
    pane = window.sticking.scenario
    pane.preset.setCurrentIndex(pane.preset.findData(preset))
    pane.run()
    qtbot.waitUntil(lambda: pane.runner is None and pane._result is not None, timeout=10000)
    result = pane._result
    assert pane.verdict.text() == result.verdict
    assert pane.details.text().startswith(result.segments_note)
    window.set_language(i18n.CHINESE)
    chinese = pane.verdict.text()
    assert CJK.search(chinese) and not re.search(r"[A-Za-z]{4,}", chinese.replace("recv", ""))
    assert re.findall(r"\d+", chinese.replace(",", "")) and set(re.findall(r"\d+", chinese)) <= set(
        re.findall(r"\d+", result.verdict)
    )
    assert CJK.search(pane.details.text())
    pane.run()  # a run in Chinese says it in Chinese too
    qtbot.waitUntil(lambda: pane.runner is None and pane._result is not result, timeout=10000)
    assert CJK.search(pane.verdict.text())
    window.set_language(i18n.ENGLISH)
    assert pane.verdict.text() == pane._result.verdict
    window.shutdown()


VERDICTS = [
    Verdict(VerdictKind.CURED, 4, 3015, 3, cure=Cure.JSON, recovered=4),
    Verdict(VerdictKind.CURED, 1, 5, 1, cure=Cure.ANNOUNCE, recovered=1),
    Verdict(VerdictKind.WAITING, 1, 10240, 1, waiting=6144, calls=((4096, 4096),)),
    Verdict(VerdictKind.WAITING, 2, 10240, 2, waiting=2048, calls=((4096, 4096), (4096, 4096))),
    Verdict(VerdictKind.WAITING, 1, 10240, 0, waiting=10240),
    Verdict(VerdictKind.SIZED, 2, 11, 2, calls=((2, 2), (10, 9))),
    Verdict(VerdictKind.MERGED, 2, 10, 1, first="Hello"),
    Verdict(VerdictKind.SURVIVED, 1, 5, 1),
    Verdict(VerdictKind.SPLIT, 20, 1234, 1500),
    Verdict(VerdictKind.SHIFTED, 2, 10, 2),
]
SEGMENTS = [(20, 3), (1, 1), (1, None)]  # (send() calls, TCP segments)
CODE_WORDS = {"recv", "send", "TCP", "INFO", "JSON"}  # names from the code, the same in every language
NUMBER = re.compile(r"\d[\d,]*\d|\d")


def words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]+", text))


@pytest.mark.parametrize("facts", VERDICTS, ids=lambda facts: str(facts)[:40])
@pytest.mark.parametrize("sends, segments", SEGMENTS)
def test_verdict_shown_in_chinese_has_no_english_word_and_the_same_numbers(
    qtbot, chinese, facts, sends, segments
):
    """Each verdict kind and segment note reads in Chinese with none of its English words left (but
    the code's names and the message quoted) and the same numbers; in English it is netcore's."""
    result = ScenarioResult(
        Scenario((b"x",)), (Call(0.0, 0, b"x"),) * sends, (), (), None, segments, None, facts
    )
    pane = ScenarioPane()
    qtbot.addWidget(pane)
    pane._show_result(result)
    shown = [pane.verdict.text(), pane.details.text()]
    for english, said in zip([result.verdict, result.segments_note], shown, strict=True):
        english_words = words(english) - CODE_WORDS - words(facts.first)
        assert CJK.search(said) and not english_words & words(said), said
        assert sorted(NUMBER.findall(said)) == sorted(NUMBER.findall(english)), said
    i18n.switch(chinese, i18n.ENGLISH, [])
    assert [pane.verdict.text(), pane.details.text()] == [result.verdict, result.segments_note]

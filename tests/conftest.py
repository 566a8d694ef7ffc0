"""Shared test setup: headless Qt, isolated settings, no QThread left running after a test, and the
count of open file descriptors (Linux)."""

from __future__ import annotations

import os
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from tests.requires import LINUX


@pytest.fixture(autouse=True)
def _no_thread_left_running(request: pytest.FixtureRequest):
    """Fail any test that leaves an engine's QThread running (only for tests that used Qt)."""
    yield
    if "qtbot" not in request.fixturenames:
        return
    from app.workers import running_runners

    left = running_runners()
    for runner in left:
        runner.stop_and_wait(5000)
    assert not left, f"test left {len(left)} QThread(s) running: {[type(r.engine).__name__ for r in left]}"


@pytest.fixture(autouse=True)
def _english_after_each_test(request: pytest.FixtureRequest):
    """Put the application's language back to English after a Qt test that switched it."""
    yield
    if "qtbot" not in request.fixturenames:
        return
    from PySide6.QtCore import QCoreApplication

    from app import i18n

    translator = QCoreApplication.instance().findChild(i18n.Translator)
    if translator is not None and translator.code != i18n.ENGLISH:
        i18n.switch(translator, i18n.ENGLISH, [])


@pytest.fixture
def settings(tmp_path):
    """A QSettings in a temporary INI file, so tests never touch the user's settings."""
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "socketlab.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def open_fds() -> Callable[[], int]:
    """A function that counts this process's open file descriptors (the entries of /proc/self/fd);
    the test is skipped, saying so, where there is no /proc (Windows, macOS)."""
    if not LINUX:
        pytest.skip("counts open file descriptors in /proc/self/fd (Linux only)")

    def count() -> int:
        return len(os.listdir("/proc/self/fd"))

    return count


@pytest.fixture(autouse=True)
def _saved_messages_in_tmp(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Keep a Qt test's saved messages and send history in a file of its own, never the user's."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    from widgets import saved_messages

    saved_messages.use_file(tmp_path_factory.mktemp("messages") / "saved_messages.json")
    yield
    saved_messages.use_file(None)

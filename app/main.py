"""Entry point of the GUI: ``socketlab`` / ``python -m app`` [--self-test] [--version]."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from app.resources import resource_path
from netcore import __version__
from netcore.io.platform import process_age, utf8_output

_IMPORTED_AT = time.time()


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="socketlab", description="Socket Lab: see every byte on the wire.")
    parser.add_argument("--version", action="version", version=f"Socket Lab {__version__}")
    parser.add_argument(
        "--startup-time",
        action="store_true",
        help="print the time from process start to the first window shown, then quit",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="run the built-in check offscreen (no display needed), print 'self-test ok'",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test or args.startup_time:
        # They print: a reason may be Chinese or hold a ✓, which a Windows pipe's code page (cp1252
        # on CI, GBK in China) cannot encode; the failure would become a UnicodeEncodeError.
        utf8_output()
    if args.self_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.workers import keep_freed_heap

    keep_freed_heap()

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setOrganizationName("SocketLab")
    app.setApplicationName("Socket Lab")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QIcon(str(resource_path("icons", "socketlab.svg"))))
    if args.self_test:
        from app.selftest import run_self_test

        ok, reason = run_self_test()
        print("self-test ok" if ok else f"self-test FAILED: {reason}", flush=True)
        return 0 if ok else 1
    window = MainWindow()
    window.show()
    if args.startup_time:
        from PySide6.QtCore import QTimer

        def report() -> None:
            print(f"first window after {seconds_since_start():.3f} s", flush=True)
            app.quit()

        QTimer.singleShot(0, report)
    return app.exec()


def seconds_since_start() -> float:
    """Seconds since this program was started: for a one-file build, since its bootloader (the
    parent process that unpacks it) started, which is when the user double-clicked.

    Exact where the system tells a process's start (Linux); elsewhere counted from this module's
    import, which misses the interpreter's own start."""
    one_file = getattr(sys, "frozen", False) and Path(getattr(sys, "_MEIPASS", "")).name.startswith("_MEI")
    age = process_age(os.getppid() if one_file else os.getpid())
    return age if age is not None else time.time() - _IMPORTED_AT  # elsewhere: since this import

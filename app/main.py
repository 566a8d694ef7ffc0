"""Entry point of the GUI: ``socketlab`` / ``python -m app`` [--self-test] [--version]."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from netcore import __version__


def resource_path(*parts: str) -> Path:
    """A file under resources/, from the source tree or from inside the PyInstaller bundle."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
    return base.joinpath("resources", *parts)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="socketlab", description="Socket Lab: see every byte on the wire.")
    parser.add_argument("--version", action="version", version=f"Socket Lab {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="run the built-in check offscreen (no display needed), print 'self-test ok'",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow

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
    return app.exec()

"""What a test needs of the system it runs on, and the skip that says so where it is missing.

Socket Lab runs on Windows, macOS and Linux, and its tests must at least be collected on each: a
test module never imports a POSIX-only module (``fcntl``, ``termios``, ``resource``) at module level
and never calls a Linux-only function (``os.geteuid``, ``/proc``, network namespaces) before it has
checked the system. Tests that need such things are marked with ``linux(why)`` or ``posix(why)``, or
call ``need_root(what)`` first, so elsewhere they are skipped with the reason.
``python -m tests.no_posix pytest --collect-only`` checks the collection (tests/test_no_posix.py).
"""

from __future__ import annotations

import os
import sys
from typing import Final

import pytest

LINUX: Final = sys.platform.startswith("linux")
POSIX: Final = os.name == "posix"  # Linux and macOS


def linux(why: str) -> pytest.MarkDecorator:
    """Skip the marked tests except on Linux; *why* names the Linux-only thing they need."""
    return pytest.mark.skipif(not LINUX, reason=f"needs Linux: {why}")


def posix(why: str) -> pytest.MarkDecorator:
    """Skip the marked tests on Windows; *why* names the POSIX-only thing they need."""
    return pytest.mark.skipif(not POSIX, reason=f"needs a POSIX system (not Windows): {why}")


def is_root() -> bool:
    """Whether this process runs as root (never on Windows, which has no ``os.geteuid``)."""
    return POSIX and os.geteuid() == 0


def need_root(what: str) -> None:
    """Skip the calling test unless this is Linux and we are root; *what* needs both."""
    if not LINUX:
        pytest.skip(f"{what} needs Linux")
    if not is_root():
        pytest.skip(f"{what} needs root")

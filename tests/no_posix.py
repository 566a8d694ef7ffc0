"""``python -m tests.no_posix MODULE [ARG ...]``: run ``python -m MODULE ARG ...`` the way Windows would
import it, on the Linux machine that builds and tests Socket Lab.

Before MODULE is run (with ``runpy``, as ``-m`` does), this process is made to lack what Windows lacks
and Linux has, as far as that can be done without faking ``sys.platform``:

- the POSIX-only modules ``fcntl``, ``termios`` and ``resource`` cannot be imported (any import of
  them raises ModuleNotFoundError, as on Windows), and copies imported before are forgotten;
- ``socket`` has no ``TCP_INFO`` (the sender's segment count) and no ``TCP_USER_TIMEOUT``, which
  Windows' socket module does not define either;
- ``select`` has only ``select()``: no ``epoll``, ``poll``, ``devpoll`` or ``kqueue``, so
  ``selectors.DefaultSelector`` is the ``SelectSelector`` it is on Windows.

A module that imports a POSIX-only module at import time then fails to import, and a figure that
reads a Linux-only option without checking first crashes instead of saying it is not available:
either fails the command, as it would on Windows. Examples::

    python -m tests.no_posix netcore tcp-echo-server --port 0 --duration 5
    python -m tests.no_posix app --self-test
    python -m tests.no_posix pytest --collect-only -q
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import runpy
import select
import socket
import sys
from collections.abc import Sequence
from types import ModuleType

BLOCKED_MODULES = frozenset({"fcntl", "termios", "resource"})
HIDDEN = {
    socket: ("TCP_INFO", "TCP_USER_TIMEOUT"),
    select: ("epoll", "EPOLLIN", "poll", "POLLIN", "devpoll", "kqueue", "kevent"),
}
# modules that chose their implementation when first imported, from what the hidden names offered
RELOADED = ("selectors",)


class BlockPosixModules(importlib.abc.MetaPathFinder):
    """A finder, first on ``sys.meta_path``, that refuses the modules Windows does not have."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] in BLOCKED_MODULES:
            raise ModuleNotFoundError(f"No module named {fullname!r} (as on Windows)", name=fullname)
        return None


def install() -> None:
    """Make this process lack the modules and names listed above, from now on."""
    for name in list(sys.modules):
        if name.partition(".")[0] in BLOCKED_MODULES or name in RELOADED:
            del sys.modules[name]
    sys.meta_path.insert(0, BlockPosixModules())
    for module, names in HIDDEN.items():
        for name in names:
            if hasattr(module, name):
                delattr(module, name)


def main(argv: Sequence[str]) -> None:
    if not argv:
        raise SystemExit("usage: python -m tests.no_posix MODULE [ARG ...]")
    module, *args = argv
    install()
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])

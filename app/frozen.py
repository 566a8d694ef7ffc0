"""The executable's entry point (build.spec).

``socketlab`` starts the GUI. On Windows the windowed ``socketlab.exe`` has no console to print to,
so the build also makes ``socketlab-cli.exe``, the same program with a console: it runs the command
line (``socketlab-cli tcp-echo ...``, as ``python -m netcore``) and the GUI's own checks that print
(``socketlab-cli --self-test``, ``--startup-time``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

CONSOLE_NAME = "socketlab-cli"
GUI_CHECKS = frozenset({"--self-test", "--startup-time"})


def main(executable: str = sys.executable, argv: Sequence[str] | None = None) -> int:
    """Start what *executable*'s name asks for with *argv* (default: this process's arguments)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if Path(executable).stem.lower() == CONSOLE_NAME and not GUI_CHECKS.intersection(args):
        from netcore.cli import main as cli_main

        return cli_main(args)
    from app.main import main as gui_main

    return gui_main(args)


if __name__ == "__main__":
    sys.exit(main())

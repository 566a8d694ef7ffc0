"""``python -m netcore`` / ``socketlab-cli``: every tab's work, headless."""

from netcore.cli.commands import main

__all__ = ["main"]

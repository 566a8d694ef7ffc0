"""Show netcore errors in the user's language: each error type's English templates are the
translation source texts (context = the error class name), filled with the error's parameters."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from netcore.errors import SocketLabError


def error_summary(error: SocketLabError) -> str:
    template = QCoreApplication.translate(type(error).__name__, type(error).summary_template)
    return template.format(**error.params)


def error_hint(error: SocketLabError) -> str:
    if not type(error).hint_template:
        return ""
    template = QCoreApplication.translate(type(error).__name__, type(error).hint_template)
    return template.format(**error.params)


def error_text(error: SocketLabError) -> str:
    """Summary and hint on one line, translated."""
    hint = error_hint(error)
    return f"{error_summary(error)} — {hint}" if hint else error_summary(error)

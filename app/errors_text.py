"""Show netcore errors in the user's language: each error class's English templates are translation
source texts (context = the class that defines the template), filled with the error's parameters;
the action an error names ("connect to", …) is translated too (context "Action"), and so is the
template of an ``InputError`` (context "InputError")."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication

from netcore.errors import InputError, SocketLabError
from widgets.inputs import input_error_text


def _template(error: SocketLabError, attr: str) -> str:
    owner = next(cls for cls in type(error).__mro__ if attr in cls.__dict__)
    text = getattr(owner, attr)
    return QCoreApplication.translate(owner.__name__, text) if text and text != "{detail}" else text


def _params(error: SocketLabError) -> dict[str, Any]:
    params = dict(error.params)
    if isinstance(params.get("action"), str):
        params["action"] = QCoreApplication.translate("Action", params["action"])
    return params


def error_summary(error: SocketLabError) -> str:
    if isinstance(error, InputError) and "template" in error.params:
        return input_error_text(error)
    return _template(error, "summary_template").format(**_params(error))


def error_hint(error: SocketLabError) -> str:
    template = _template(error, "hint_template")
    return template.format(**_params(error)) if template else ""


def error_text(error: SocketLabError) -> str:
    """Summary and hint on one line, translated."""
    hint = error_hint(error)
    return f"{error_summary(error)} — {hint}" if hint else error_summary(error)

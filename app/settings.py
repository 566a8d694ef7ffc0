"""Typed reads from QSettings (INI and native backends return strings or objects)."""

from __future__ import annotations

from PySide6.QtCore import QSettings


def int_value(settings: QSettings, key: str, default: int) -> int:
    value = settings.value(key, default)
    try:
        return int(str(value))
    except ValueError:
        return default


def str_value(settings: QSettings, key: str, default: str) -> str:
    return str(settings.value(key, default))


def bool_value(settings: QSettings, key: str, default: bool) -> bool:
    return str(settings.value(key, default)).lower() in ("true", "1")


def float_value(settings: QSettings, key: str, default: float) -> float:
    try:
        return float(str(settings.value(key, default)))
    except ValueError:
        return default

"""Sizes and rates for people: the unit chosen so the number has a few digits (B, KB, MB, GB; SI);
counts with the right English plural."""

from __future__ import annotations

_UNITS = ("B", "KB", "MB", "GB", "TB")


def rate(bytes_per_s: float) -> str:
    """``593 B/s``, ``12.3 KB/s``, ``660 MB/s``, ``1.25 GB/s``."""
    return size(bytes_per_s) + "/s"


def size(count: float) -> str:
    """``0 B``, ``999 B``, ``1.50 KB``, ``12.3 MB``, ``660 MB``: three significant digits past 1 KB."""
    value, unit = float(count), 0
    while abs(value) >= 999.5 and unit < len(_UNITS) - 1:
        value /= 1000
        unit += 1
    if unit == 0:
        return f"{value:.0f} B"
    digits = 2 if abs(value) < 9.995 else 1 if abs(value) < 99.95 else 0
    return f"{value:.{digits}f} {_UNITS[unit]}"


def plural(text: str, n: int) -> str:
    """An English source text with "(s)" (``tr("%n byte(s)", "", n)`` when no catalogue translated
    it) as English says it: "1 byte", "2 bytes". A translated text has no "(s)" and is kept."""
    return text.replace("(s)", "" if n == 1 else "s")

"""The one hexdump formatter: ``offset | 16 hex bytes | ASCII``, one row at a time, fast."""

from __future__ import annotations

from collections.abc import Iterator

WIDTH = 16
# Printable ASCII stays, everything else shows as '.'.
ASCII_TABLE = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in range(256))
ASCII_CHAR = tuple(chr(c) for c in ASCII_TABLE)  # byte value → the character a view shows
HEX_BYTE = tuple(f"{b:02x}" for b in range(256))  # byte value → two hex digits


def ascii_text(data: bytes | bytearray | memoryview) -> str:
    """Printable ASCII as is, every other byte as '.'."""
    return bytes(data).translate(ASCII_TABLE).decode("ascii")


def hex_text(data: bytes | bytearray | memoryview) -> str:
    """``48 65 6c 6c`` with an extra space after the eighth byte."""
    raw = bytes(data)
    if len(raw) <= 8:
        return raw.hex(" ")
    return raw[:8].hex(" ") + "  " + raw[8:].hex(" ")


def format_row(data: bytes | bytearray | memoryview, offset: int, width: int = WIDTH) -> str:
    """One line: ``00000010  48 65 6c 6c 6f ...  |Hello|``, padded so the ASCII columns align."""
    hex_width = 3 * width + (1 if width > 8 else 0) - 1
    return f"{offset:08x}  {hex_text(data):<{hex_width}}  |{ascii_text(data)}|"


def format_rows(
    data: bytes | bytearray | memoryview, start_offset: int = 0, width: int = WIDTH
) -> Iterator[str]:
    """Rows of a hexdump of *data* whose first byte is at stream offset *start_offset*."""
    view = memoryview(data)
    for i in range(0, len(view), width):
        yield format_row(view[i : i + width], start_offset + i, width)


def hexdump(data: bytes | bytearray | memoryview, start_offset: int = 0) -> str:
    return "\n".join(format_rows(data, start_offset))

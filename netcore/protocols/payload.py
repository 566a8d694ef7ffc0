"""The one payload parser every tab shares: text (with escapes, in a chosen encoding) or raw hex.

Errors are ``InputError`` with ``position`` = 0-based index of the offending character, and the
message names the column (1-based) so a user can find it.
"""

from __future__ import annotations

import codecs
import re
from enum import StrEnum

from netcore.errors import InputError

ENCODINGS = ("utf-8", "gbk")

_HEX_TOKEN = re.compile(
    r"(?P<sep>[\s,;:\-]+)|(?P<prefixed>(?:0[xX]|\\[xX])(?P<pdigits>[0-9a-fA-F]*))"
    r"|(?P<digits>[0-9a-fA-F]+)|(?P<bad>.)",
    re.DOTALL,
)
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_SIMPLE_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "0": b"\x00", "\\": b"\\", "'": b"'", '"': b'"'}


class PayloadMode(StrEnum):
    TEXT = "text"
    HEX = "hex"


def parse_hex(text: str) -> bytes:
    """``48 65 6c``, ``48656c``, ``0x48,0x65``, ``\\x48\\x65`` → bytes."""
    tokens = list(_HEX_TOKEN.finditer(text))
    for m in tokens:
        if m.lastgroup == "bad":
            col = m.start()
            raise InputError(
                "'{char}' at column {column} is not a hex digit (use 0-9 and a-f)",
                position=col,
                char=text[col],
                column=col + 1,
            )
    out = bytearray()
    for m in tokens:
        kind = m.lastgroup
        if kind == "sep":
            continue
        digits = m.group("pdigits") if kind == "prefixed" else m.group("digits")
        start = m.start("pdigits") if kind == "prefixed" else m.start()
        if not digits:
            raise InputError(
                "'{prefix}' at column {column} has no hex digits after it",
                position=m.start(),
                prefix=m.group(),
                column=m.start() + 1,
            )
        if len(digits) % 2:
            raise InputError(
                "odd number of hex digits in '{digits}' at column {column}: each byte needs two digits",
                position=start,
                digits=digits,
                column=start + 1,
            )
        out += bytes.fromhex(digits)
    return bytes(out)


def parse_text(text: str, encoding: str = "utf-8", escapes: bool = True) -> bytes:
    """Encode *text*; with *escapes*, ``\\r \\n \\t \\0 \\\\ \\xHH`` become bytes (``\\xHH``: one byte)."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError("unknown text encoding '{encoding}'", encoding=encoding) from None
    out = bytearray()
    literal_start = 0
    i = 0

    def flush(end: int) -> None:
        segment = text[literal_start:end]
        try:
            out.extend(segment.encode(encoding))
        except UnicodeEncodeError as exc:
            col = literal_start + exc.start
            raise InputError(
                "'{char}' at column {column} cannot be encoded in {encoding}",
                position=col,
                char=text[col],
                column=col + 1,
                encoding=encoding.upper(),
            ) from None

    while escapes and i < len(text):
        if text[i] != "\\":
            i += 1
            continue
        flush(i)
        nxt = text[i + 1 : i + 2]
        if nxt in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[nxt]
            i += 2
        elif nxt == "x":
            digits = text[i + 2 : i + 4]
            if len(digits) != 2 or any(c not in _HEX_DIGITS for c in digits):
                raise InputError(
                    "'\\x' at column {column} must be followed by two hex digits", position=i, column=i + 1
                )
            out.append(int(digits, 16))
            i += 4
        elif nxt == "":
            raise InputError(
                "lone backslash at column {column}: write \\\\ for a backslash", position=i, column=i + 1
            )
        else:
            raise InputError(
                "unknown escape '\\{escape}' at column {column}: use \\n \\r \\t \\0 \\xHH or \\\\",
                position=i,
                escape=nxt,
                column=i + 1,
            )
        literal_start = i
    flush(len(text))
    return bytes(out)


def parse_payload(
    text: str, mode: PayloadMode | str = PayloadMode.TEXT, encoding: str = "utf-8", escapes: bool = True
) -> bytes:
    """Turn what the user typed into the bytes to send."""
    try:
        kind = PayloadMode(mode)
    except ValueError:
        raise InputError("unknown payload mode '{mode}': use text or hex", mode=mode) from None
    if kind is PayloadMode.HEX:
        return parse_hex(text)
    return parse_text(text, encoding, escapes)


def escape_text(data: bytes, encoding: str = "utf-8", keep_newlines: bool = True) -> str:
    """The inverse of ``parse_text`` with escapes: bytes → text that parses back to the same bytes.

    Undecodable bytes and control characters become ``\\xHH`` (or ``\\r \\t \\0``), a backslash
    ``\\\\``; a newline stays a real new line unless *keep_newlines* is off (then ``\\n``).
    """
    out = []
    for ch in data.decode(encoding, errors="surrogateescape"):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n" and keep_newlines:
            out.append(ch)
        elif code < 0x20 or code == 0x7F:
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}.get(ch, f"\\x{code:02x}"))
        else:
            out.append(ch)
    return "".join(out)


def to_hex_text(data: bytes) -> str:
    """The inverse of ``parse_hex``: ``48 65 6c``."""
    return data.hex(" ")

"""The course's JSON-header wire format, in one place (sans-I/O): a 4-byte header length, a UTF-8
JSON object, then a body of ``header["data_all"]`` bytes.

The length is network order ``!I`` (what we send unless asked) or the course's
``struct.pack('i', n)``: little-endian ``<i`` on common machines. ``detect_length_format`` tells them
apart. A length is checked against ``max_header`` before any byte of the header is read, so a length
of 0xFFFFFFFF never allocates anything. In a file reply ``file_name`` is the file's stem and
``file_type`` its extension (``name_fields`` and ``whole_name``).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any, Final

from netcore.errors import LocalProtocolError, RemoteProtocolError

LENGTH_FORMATS: Final = ("!I", "<i")
LENGTH_SIZE: Final = 4
MAX_HEADER: Final = 64 * 1024
MAX_LIST_HEADER: Final = 4 * 1024 * 1024  # a file list ('?'): about 100,000 names of 30 bytes
SIZE_KEY: Final = "data_all"


def encode_header(
    header: Mapping[str, Any], length_format: str = "!I", max_header: int = MAX_HEADER
) -> bytes:
    """The 4-byte length and the UTF-8 JSON of *header*; ``LocalProtocolError`` over *max_header* bytes."""
    raw = json.dumps(header, ensure_ascii=False).encode()
    if len(raw) > max_header:
        raise LocalProtocolError(f"the JSON header is {len(raw):,} bytes, over {max_header:,}")
    return struct.pack(length_format, len(raw)) + raw


def header_length(
    prefix: bytes | bytearray, length_format: str, max_header: int = MAX_HEADER, offset: int = 0
) -> int:
    """The header length the 4 bytes at *offset* of *prefix* announce, read as *length_format*;
    ``RemoteProtocolError`` unless it is 1 to *max_header* bytes."""
    (length,) = struct.unpack_from(length_format, prefix, offset)
    if not 0 < length <= max_header:
        raise RemoteProtocolError(
            f"the JSON header length {length:,} read as '{length_format}' is outside 1..{max_header:,} bytes"
            " — try the other length format"
        )
    return int(length)


def _readings(prefix: bytes, max_header: int) -> list[tuple[str, int]]:
    """Each length format with the length *prefix* means in it, if that is a plausible header length."""
    readings = ((fmt, struct.unpack(fmt, prefix)[0]) for fmt in LENGTH_FORMATS)
    return [(fmt, n) for fmt, n in readings if 0 < n <= max_header]


def detection_bytes(prefix: bytes, max_header: int = MAX_HEADER) -> int:
    """How many header bytes ``detect_length_format`` needs after *prefix*: none, unless both byte
    orders give a plausible length (00 01 00 00 is 65,536 one way and 256 the other): then the shorter."""
    readings = _readings(prefix, max_header)
    return min(n for _, n in readings) if len(readings) == 2 else 0


def detect_length_format(prefix: bytes, following: bytes = b"", max_header: int = MAX_HEADER) -> str:
    """Which byte order a 4-byte header length is in: the one reading that gives 1..*max_header* bytes.

    When both readings are plausible, *following* (``detection_bytes(prefix)`` bytes after the length)
    decides: the shorter reading must end a JSON object there.
    """
    fits = _readings(prefix, max_header)
    if not fits:
        big, little = (struct.unpack(fmt, prefix)[0] for fmt in LENGTH_FORMATS)
        raise RemoteProtocolError(
            f"the 4-byte header length {prefix.hex(' ')} is {big:,} read as '!I' and {little:,} read as "
            f"'<i': neither is a header of 1 to {max_header:,} bytes (a server that asks for a shared "
            "key sends 32 random bytes first: set the key)"
        )
    if len(fits) == 1:
        return fits[0][0]
    shorter = min(n for _, n in fits)
    big_is_shorter = dict(fits)["!I"] == shorter
    return "!I" if following[:shorter].rstrip().endswith(b"}") == big_is_shorter else "<i"


def decode_json_header(raw: bytes) -> dict[str, Any]:
    """UTF-8 JSON object → dict, or ``RemoteProtocolError`` naming what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RemoteProtocolError(f"the JSON header is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RemoteProtocolError(
            f"the JSON header is not valid JSON: {exc.msg} at column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:  # a number of over 4,300 digits, or nested too deep
        raise RemoteProtocolError(f"the JSON header cannot be decoded: {exc}") from None
    if not isinstance(value, dict):
        raise RemoteProtocolError(f"the JSON header must be an object {{...}}, not {type(value).__name__}")
    return value


def decode_header(raw: bytes, size_key: str = SIZE_KEY) -> dict[str, Any]:
    """The JSON header as a dict, with its body size (*size_key*) checked to be a whole number ≥ 0."""
    header = decode_json_header(raw)
    size = header.get(size_key)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise RemoteProtocolError(f"the JSON header's {size_key!r} must be a whole number ≥ 0, not {size!r}")
    return header


def name_fields(name: str) -> dict[str, str]:
    """The course's ``file_name`` (the stem) and ``file_type`` (the extension, no dot) of a file name."""
    path = PurePosixPath(name)
    return {"file_name": path.stem, "file_type": path.suffix[1:]}


def whole_name(file_name: str, file_type: str) -> str:
    """The file a header names: ``file_name + "." + file_type``, as the course's client saves it, or
    *file_name* alone from a server that sends the whole name (*file_type* empty or already its end)."""
    if not file_type or file_name.lower().endswith(f".{file_type}".lower()):
        return file_name
    return f"{file_name}.{file_type}"

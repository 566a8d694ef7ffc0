"""Hypothesis strategies for hostile bytes: random streams cut into pieces, length prefixes far over
any limit, JSON headers that are not UTF-8, not JSON or not objects, sizes that are not sizes, and
file names that try to leave their folder."""

from __future__ import annotations

import itertools
import json
import struct
from typing import Any

from hypothesis import strategies as st

from netcore.protocols.framing import DEFAULT_MAX_FRAME, DEFAULT_MAX_HEADER, make_codec

# 4-byte lengths a hostile peer likes: all ones, the sign bit, just over each limit, and zero
HUGE_LENGTHS_4 = (
    0xFFFFFFFF,
    0xFFFFFFFE,
    0x80000000,
    0x7FFFFFFF,
    DEFAULT_MAX_FRAME + 1,
    DEFAULT_MAX_HEADER + 1,
    0x01000000,
    0,
)


@st.composite
def cut(draw: st.DrawFn, data: bytes, max_cuts: int = 4) -> list[bytes]:
    """*data* cut at a few random offsets: each piece goes in its own send()."""
    offsets = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=max_cuts))))
    bounds = [0, *offsets, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def filled(size: int, byte: int) -> bytes:
    """*size* bytes that are not all the same (so a truncation shows), from a seed byte."""
    return bytes((byte + i * 7) & 0xFF for i in range(size))


def sized_bytes(sizes: st.SearchStrategy[int]) -> st.SearchStrategy[bytes]:
    """Bytes of the drawn size, cheap to make even when the size is 64 KiB."""
    return st.builds(filled, sizes, st.integers(0, 255))


# -- JSON headers --------------------------------------------------------------------------------
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
NOT_OBJECTS = st.one_of(
    JSON_SCALARS,
    st.lists(JSON_SCALARS, max_size=4),
    st.lists(st.dictionaries(st.text(max_size=8), JSON_SCALARS, max_size=2), max_size=2),
)

# byte strings that are no JSON object at all (or no text at all)
BROKEN_JSON = st.one_of(
    st.sampled_from(
        [
            b"",
            b" ",
            b"{",
            b"}",
            b'{"data_all": 1',
            b'{"data_all": 1}}',
            b'{"data_all": 1} trailing',
            b'{"file_name": "\xff\xfe", "data_all": 0}',  # invalid UTF-8 inside a string
            b'{"data_all": 0, "x": "\xc3"}',  # a cut UTF-8 sequence
            b"\xef\xbb\xbf{}",  # a UTF-8 byte order mark
            b"\x00" * 16,
            b'{"data_all": NaN}',
            b'{"data_all": Infinity}',
            b'{"data_all": -Infinity}',
            b'{"data_all": ' + b"9" * 5000 + b"}",  # more digits than int() takes
            b"[" * 50_000,  # nested deeper than the decoder recurses
            b'{"a": ' * 20_000 + b"1" + b"}" * 20_000,
            b"'data_all': 1",
            b"data_all=1",
        ]
    ),
    st.binary(max_size=300),
    NOT_OBJECTS.map(lambda value: json.dumps(value).encode()),
)

# data_all values that are not a byte count this side can accept
BAD_SIZES = st.one_of(
    st.integers(max_value=-1),
    st.sampled_from([-1, -(2**31), -(2**63), 2**31, 2**32, 2**63, 2**64, 10**30, DEFAULT_MAX_FRAME + 1]),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
    st.lists(st.integers(0, 9), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=1),
)


def json_header(header: dict[str, Any], length_format: str = "!I") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack(length_format, len(raw)) + raw


# -- file names ----------------------------------------------------------------------------------
TRAVERSAL_NAMES = (
    "..",
    ".",
    "../",
    "../x",
    "../../etc/passwd",
    "/etc/passwd",
    "//etc/passwd",
    "\\etc\\passwd",
    "C:\\Windows\\win.ini",
    "c:x",
    "a/../../x",
    "sub/../../outside/secret.txt",
    "sub/../..",
    "./../x",
    "x\0y",
    "\0",
    "a" * 256,
    "é" * 128,  # 256 bytes in UTF-8
    "~",
    "~root",
    "*",
    "?*[",
    "[",
    "**/*",
    "\udcff",  # a lone surrogate (what a JSON escape can smuggle in)
    " ",
    "\t",
    "\r",
)
NAMES = st.one_of(
    st.sampled_from(TRAVERSAL_NAMES),
    st.text(max_size=40),
    st.lists(st.sampled_from(["..", ".", "sub", "x", "", "/"]), min_size=1, max_size=5).map("/".join),
)


# -- framed streams -------------------------------------------------------------------------------
def hostile_tail(framing: str) -> st.SearchStrategy[bytes]:
    """Crafted bytes that break *framing* (or nearly do) after any valid frames."""
    garbage = st.binary(max_size=64)
    if framing == "length4":
        prefix = st.sampled_from(HUGE_LENGTHS_4) | st.integers(0, 2**32 - 1)
        return st.builds(lambda n, rest: n.to_bytes(4, "big") + rest, prefix, garbage) | st.binary(
            min_size=1, max_size=3
        )
    if framing == "length8s":
        prefix = st.sampled_from([-1, -(2**63), 2**63 - 1, DEFAULT_MAX_FRAME + 1]) | st.integers(
            -(2**63), 2**63 - 1
        )
        return st.builds(lambda n, rest: n.to_bytes(8, "big", signed=True) + rest, prefix, garbage)
    if framing == "json":
        bad_length = st.builds(
            lambda n, rest: n.to_bytes(4, "big") + rest, st.sampled_from(HUGE_LENGTHS_4), garbage
        )
        bad_text = BROKEN_JSON.map(lambda raw: struct.pack("!I", len(raw)) + raw)
        bad_size = st.builds(lambda size: json_header({"data_all": size}), BAD_SIZES)
        cut_header = st.builds(
            lambda size, keep: json_header({"data_all": size})[:keep], st.integers(0, 99), st.integers(1, 12)
        )
        return st.one_of(bad_length, bad_text, bad_size, cut_header)
    return garbage


@st.composite
def hostile_stream(draw: st.DrawFn, framing: str) -> bytes:
    """Random bytes, or valid frames followed by a crafted fault."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=4096))
    codec = make_codec(framing)
    frames = draw(st.lists(st.binary(min_size=1, max_size=200), max_size=4))
    return b"".join(codec.encode(p) for p in frames) + draw(hostile_tail(framing))

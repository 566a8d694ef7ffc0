"""Tests of the payload parser in netcore.protocols.payload (hex and text with escapes)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcore.errors import InputError
from netcore.protocols.payload import (
    ENCODINGS,
    PayloadMode,
    escape_text,
    parse_hex,
    parse_payload,
    parse_text,
    to_hex_text,
)

HYPOTHESIS = settings(max_examples=200, deadline=None)


# -- hex ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("48 65 6c 6c 6f", b"Hello"),
        ("48656c6c6f", b"Hello"),
        ("48656C6C6F", b"Hello"),
        ("48 65 6C 6c 6F", b"Hello"),
        ("0x48,0x65", b"He"),
        ("0x48, 0x65, 0X6C", b"Hel"),
        ("0x4865", b"He"),
        ("\\x48\\x65", b"He"),
        ("\\X48\\x6c", b"Hl"),
        ("48\n65\r\n6c\t6c  6f\n", b"Hello"),
        ("48:65:6c", b"Hel"),
        ("48-65;6c", b"Hel"),
        ("  00 ff 7F 80  ", b"\x00\xff\x7f\x80"),
        ("0x00", b"\x00"),
        ("", b""),
        (" \n\t", b""),
    ],
)
def test_parse_hex_accepts_common_spellings(text: str, expected: bytes) -> None:
    assert parse_hex(text) == expected
    assert parse_payload(text, PayloadMode.HEX) == expected
    assert parse_payload(text, "hex") == expected


@pytest.mark.parametrize(
    ("text", "position", "char"),
    [
        ("48 6g", 4, "g"),
        ("zz", 0, "z"),
        ("48 65 x5", 6, "x"),
        ("48 65\n6c 6q", 10, "q"),
        ("0x48 0xgg", 7, "g"),
        ("48 ６5", 3, "６"),  # a full-width digit is not a hex digit
        ("48.65", 2, "."),
    ],
)
def test_parse_hex_bad_digit_points_at_it(text: str, position: int, char: str) -> None:
    with pytest.raises(InputError) as info:
        parse_hex(text)
    err = info.value
    assert err.position == position
    assert text[err.position] == char
    assert f"column {position + 1}" in str(err)
    assert f"'{char}'" in err.summary
    assert "not a hex digit" in err.summary


@pytest.mark.parametrize(
    ("text", "position", "digits"),
    [("486", 0, "486"), ("48 6", 3, "6"), ("48 65 6c6", 6, "6c6"), ("0x486", 2, "486"), ("\\x4", 2, "4")],
)
def test_parse_hex_odd_digit_count(text: str, position: int, digits: str) -> None:
    with pytest.raises(InputError, match="odd number of hex digits") as info:
        parse_hex(text)
    assert info.value.position == position
    assert f"'{digits}' at column {position + 1}" in str(info.value)
    assert "two digits" in str(info.value)


@pytest.mark.parametrize(
    ("text", "position"), [("0x", 0), ("48 0x", 3), ("0X 48", 0), ("\\x", 0), ("48,\\x", 3)]
)
def test_parse_hex_lone_prefix(text: str, position: int) -> None:
    with pytest.raises(InputError, match="has no hex digits after it") as info:
        parse_hex(text)
    assert info.value.position == position
    assert f"column {position + 1}" in str(info.value)


def test_to_hex_text() -> None:
    assert to_hex_text(b"Hello") == "48 65 6c 6c 6f"
    assert to_hex_text(b"") == ""
    assert to_hex_text(b"\x00\xff") == "00 ff"


@HYPOTHESIS
@given(st.binary(max_size=300))
def test_hex_round_trip(data: bytes) -> None:
    assert parse_hex(to_hex_text(data)) == data
    assert parse_hex(data.hex()) == data
    assert parse_hex(data.hex().upper()) == data
    assert parse_hex(",".join(f"0x{b:02X}" for b in data)) == data
    assert parse_hex("".join(f"\\x{b:02x}" for b in data)) == data


# -- text ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", b"hello"),
        ("a\\r\\nb", b"a\r\nb"),
        ("\\t\\0\\\\", b"\t\x00\\"),
        ("\\n", b"\n"),
        ("\\x41\\x42", b"AB"),
        ("\\xff", b"\xff"),  # one raw byte, not U+00FF encoded as UTF-8
        ("\\xFF\\x00", b"\xff\x00"),
        ("é\\xff", b"\xc3\xa9\xff"),
        ("\\x4142", b"A42"),  # exactly two digits after \x
        ("say \\\"hi\\\" \\'x\\'", b"say \"hi\" 'x'"),
        ("\\\\n", b"\\n"),  # an escaped backslash, then a plain n
        ("", b""),
    ],
)
def test_parse_text_escapes(text: str, expected: bytes) -> None:
    assert parse_text(text) == expected
    assert parse_payload(text) == expected
    assert parse_payload(text, PayloadMode.TEXT) == expected


def test_parse_text_escapes_disabled() -> None:
    assert parse_text("a\\nb\\x41\\", escapes=False) == b"a\\nb\\x41\\"
    assert parse_payload("\\q", "text", escapes=False) == b"\\q"


def test_parse_text_encodings() -> None:
    assert ENCODINGS == ("utf-8", "gbk")
    assert parse_text("你好", "gbk") == b"\xc4\xe3\xba\xc3"
    assert parse_text("你好", "utf-8") == b"\xe4\xbd\xa0\xe5\xa5\xbd"
    assert parse_text("你\\n好", "gbk") == b"\xc4\xe3\n\xba\xc3"
    assert parse_text("你\\xff好", "gbk") == b"\xc4\xe3\xff\xba\xc3"
    assert parse_payload("你好", "text", "gbk") == b"\xc4\xe3\xba\xc3"
    assert parse_text("你好", "GBK") == b"\xc4\xe3\xba\xc3"


@pytest.mark.parametrize(
    ("text", "escapes", "position"),
    [
        ("ab😀", True, 2),
        ("😀", True, 0),
        ("你好€", True, 2),
        ("\\n\\x41😀", True, 6),
        ("a\\tb\\\\😀c", True, 6),
        ("\\n😀", False, 2),
    ],
)
def test_parse_text_unencodable_in_gbk(text: str, escapes: bool, position: int) -> None:
    with pytest.raises(InputError) as info:
        parse_text(text, "gbk", escapes)
    err = info.value
    assert err.position == position
    assert f"'{text[position]}' at column {position + 1} cannot be encoded in GBK" in str(err)


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("ab\\q", 2, "unknown escape '\\q' at column 3"),
        ("\\u0041", 0, "unknown escape '\\u'"),
        ("ab\\", 2, "lone backslash at column 3"),
        ("\\", 0, "lone backslash at column 1"),
        ("\\x4", 0, "'\\x' at column 1 must be followed by two hex digits"),
        ("ok \\xg1", 3, "column 4"),
        ("\\x4g", 0, "two hex digits"),
        ("\\x", 0, "two hex digits"),
    ],
)
def test_parse_text_bad_escapes(text: str, position: int, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_text(text)
    assert info.value.position == position
    assert fragment in str(info.value)


def test_parse_text_unknown_encoding() -> None:
    with pytest.raises(InputError, match="unknown text encoding 'klingon'"):
        parse_text("x", "klingon")


def test_payload_mode() -> None:
    assert PayloadMode("text") is PayloadMode.TEXT
    assert PayloadMode("hex") is PayloadMode.HEX
    assert PayloadMode.HEX == "hex"
    assert parse_payload("41", "text") == b"41"
    assert parse_payload("41", "hex") == b"A"


def test_input_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_hex("xyz")


@HYPOTHESIS
@given(st.text(max_size=200))
def test_text_without_escapes_is_plain_utf8(text: str) -> None:
    assert parse_text(text, escapes=False) == text.encode()


@HYPOTHESIS
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\\"), max_size=200))
def test_text_without_backslashes_is_unchanged_by_escapes(text: str) -> None:
    assert parse_text(text) == text.encode()


@HYPOTHESIS
@given(st.lists(st.one_of(st.binary(min_size=1, max_size=4), st.text(max_size=4)), max_size=20))
def test_escaped_bytes_and_text_mix(parts: list[bytes | str]) -> None:
    """Bytes written as \\xHH and text written with escaped backslashes come back exactly."""
    typed = "".join(
        "".join(f"\\x{b:02x}" for b in part) if isinstance(part, bytes) else part.replace("\\", "\\\\")
        for part in parts
    )
    expected = b"".join(part if isinstance(part, bytes) else part.encode() for part in parts)
    assert parse_text(typed) == expected


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200), keep_newlines=st.booleans(), encoding=st.sampled_from(["utf-8", "gbk"]))
def test_escape_text_round_trips_any_bytes(data: bytes, keep_newlines: bool, encoding: str) -> None:
    text = escape_text(data, encoding, keep_newlines)
    assert parse_text(text, encoding) == data
    if not keep_newlines:
        assert "\n" not in text  # one message per line stays one line

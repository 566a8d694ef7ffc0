"""Tests of the hexdump formatter in netcore.protocols.hexdump."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcore.protocols.hexdump import WIDTH, ascii_text, format_row, format_rows, hex_text, hexdump

HYPOTHESIS = settings(max_examples=200, deadline=None)

HEX_START = 10  # after "00000000  "
HEX_END = HEX_START + 3 * WIDTH  # 16 bytes: 47 characters of hex plus the extra gap after the eighth byte
ASCII_BAR = HEX_END + 2  # the '|' that opens the ASCII column


def test_exact_row_format() -> None:
    row = format_row(b"Hello world", 0)
    assert row == "00000000  48 65 6c 6c 6f 20 77 6f  72 6c 64" + " " * 15 + "  |Hello world|"
    assert hexdump(b"Hello world") == row


def test_full_row() -> None:
    row = format_row(bytes(range(0x30, 0x40)), 0x10)
    assert row == ("00000010  30 31 32 33 34 35 36 37  38 39 3a 3b 3c 3d 3e 3f  |0123456789:;<=>?|")


@pytest.mark.parametrize("length", range(WIDTH + 1))
def test_short_rows_keep_the_ascii_column_aligned(length: int) -> None:
    data = bytes(range(0x41, 0x41 + length))
    row = format_row(data, 0x20)
    assert row.startswith("00000020  ")
    assert row.index("|") == ASCII_BAR
    assert row.endswith("|")
    assert row[ASCII_BAR + 1 : -1] == data.decode()
    assert len(row) == ASCII_BAR + length + 2
    hex_column = row[HEX_START:HEX_END]
    assert bytes.fromhex(hex_column) == data
    assert hex_column == hex_text(data).ljust(HEX_END - HEX_START)
    if length > 8:
        assert hex_column[3 * 8 - 1 : 3 * 8 + 1] == "  "  # the gap after the eighth byte


def test_non_printable_bytes_show_as_dots() -> None:
    data = bytes([0x00, 0x1F, 0x20, 0x7E, 0x7F, 0x80, 0xFF, 0x0A, 0x41])
    assert ascii_text(data) == ".. ~....A"
    assert format_row(data, 0).endswith("|.. ~....A|")
    for b in range(256):
        expected = chr(b) if 0x20 <= b < 0x7F else "."
        assert ascii_text(bytes([b])) == expected
    assert ascii_text("你好".encode()) == "......"


def test_hex_text() -> None:
    assert hex_text(b"") == ""
    assert hex_text(b"\x00\xff") == "00 ff"
    assert hex_text(bytes(range(8))) == "00 01 02 03 04 05 06 07"
    assert hex_text(bytes(range(9))) == "00 01 02 03 04 05 06 07  08"
    assert hex_text(memoryview(b"\xab")) == "ab"
    assert hex_text(bytearray(b"\xcd")) == "cd"


def test_offsets_and_row_count() -> None:
    data = bytes(range(40))
    rows = list(format_rows(data, 0x1000))
    assert [r[:8] for r in rows] == ["00001000", "00001010", "00001020"]
    assert len(rows) == 3
    assert rows[2].index("|") == ASCII_BAR
    assert hexdump(data, 0x1000) == "\n".join(rows)
    assert hexdump(b"") == ""
    assert list(format_rows(b"")) == []
    assert format_row(b"x", 0x123456789).startswith("123456789  78")  # offsets grow past 8 digits
    assert format_row(b"x", 0xABCDEF).startswith("00abcdef  ")


def test_narrow_rows() -> None:
    row = format_row(b"abc", 0, width=4)
    assert row == "00000000  61 62 63     |abc|"
    rows = list(format_rows(b"abcdefghij", 0, width=4))
    assert rows == [
        "00000000  61 62 63 64  |abcd|",
        "00000004  65 66 67 68  |efgh|",
        "00000008  69 6a" + " " * 6 + "  |ij|",
    ]


@HYPOTHESIS
@given(data=st.binary(max_size=200), start=st.integers(0, 2**32 - 256))
def test_hex_columns_parse_back_to_the_data(data: bytes, start: int) -> None:
    text = hexdump(data, start)
    rows = text.split("\n") if data else []
    assert len(rows) == (len(data) + WIDTH - 1) // WIDTH
    recovered = bytearray()
    for i, row in enumerate(rows):
        assert int(row[:8], 16) == start + i * WIDTH
        assert row[8:10] == "  "
        assert row.index("|") == ASCII_BAR
        chunk = bytes.fromhex(row[HEX_START:HEX_END])
        assert row[ASCII_BAR + 1 : -1] == ascii_text(chunk)
        recovered += chunk
    assert recovered == data

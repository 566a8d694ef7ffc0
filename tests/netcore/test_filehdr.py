"""netcore.protocols.filehdr: the one codec of the JSON-header wire format, shared by the file
protocol (filefetch), the "json" framing (JsonHeaderCodec) and the JSON cure of packet sticking."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcore.engines.sticking import _wire_pieces
from netcore.errors import LocalProtocolError, RemoteProtocolError
from netcore.model.scenario import Cure, Scenario
from netcore.protocols.filehdr import (
    MAX_HEADER,
    decode_header,
    decode_json_header,
    detect_length_format,
    detection_bytes,
    encode_header,
    header_length,
    name_fields,
    whole_name,
)
from netcore.protocols.framing import Frame, JsonHeaderCodec


def test_encode_header_is_the_length_then_the_json():
    assert encode_header({"data_all": 2}) == b'\x00\x00\x00\x0f{"data_all": 2}'
    assert encode_header({"data_all": 2}, "<i") == b'\x0f\x00\x00\x00{"data_all": 2}'
    assert encode_header({"名": 1})[4:] == '{"名": 1}'.encode()  # UTF-8, not \\u escapes


def test_encode_header_refuses_what_decoding_would_refuse():
    exactly = {"data_all": 0, "pad": ""}
    exactly["pad"] = "x" * (MAX_HEADER - len(json.dumps(exactly)))
    assert header_length(encode_header(exactly), "!I") == MAX_HEADER
    with pytest.raises(LocalProtocolError, match=f"65,537 bytes, over {MAX_HEADER:,}"):
        encode_header({**exactly, "pad": exactly["pad"] + "x"})


@pytest.mark.parametrize(
    ("fmt", "length"),
    [
        ("!I", 0),
        ("!I", MAX_HEADER + 1),
        ("!I", 0xFFFFFFFF),
        ("!I", 2**31),
        ("<i", 0),
        ("<i", MAX_HEADER + 1),
        ("<i", -1),
        ("<i", -(2**31)),
        ("<i", 2**31 - 1),
    ],
)
def test_header_length_outside_the_limit_is_refused_from_the_four_bytes_alone(fmt, length):
    """Only the 4 bytes are looked at: a length of 0xFFFFFFFF is refused before anything is read."""
    with pytest.raises(RemoteProtocolError, match=f"length {length:,} read as '{fmt}' is outside 1..65,536"):
        header_length(struct.pack(fmt, length), fmt)


def test_header_length_limits_and_offset():
    assert header_length(struct.pack("!I", 1), "!I") == 1
    assert header_length(struct.pack("<i", MAX_HEADER), "<i") == MAX_HEADER
    assert header_length(b"xx" + struct.pack("!I", 7), "!I", offset=2) == 7
    with pytest.raises(RemoteProtocolError, match=r"101 read as '!I' is outside 1\.\.100 bytes"):
        header_length(struct.pack("!I", 101), "!I", max_header=100)


def test_detection_needs_more_bytes_only_when_both_orders_are_plausible():
    assert detection_bytes(struct.pack("!I", 100)) == 0
    assert detection_bytes(struct.pack("<i", 100)) == 0
    assert detection_bytes(b"\xff\xff\xff\xff") == 0
    assert detection_bytes(b"\x00\x01\x00\x00") == 256  # 65,536 as '!I', 256 as '<i'
    assert detection_bytes(b"\x00\x00\x01\x00") == 256  # 256 as '!I', 65,536 as '<i'
    with pytest.raises(RemoteProtocolError, match="neither is a header of 1 to 65,536 bytes"):
        detect_length_format(b"\xff\xff\xff\xff")


def test_decode_json_header():
    assert decode_json_header('{"a": 1, "名": "值"}'.encode()) == {"a": 1, "名": "值"}
    with pytest.raises(RemoteProtocolError, match="UTF-8 \\(byte 3\\)"):
        decode_json_header(b'{"a\xff": 1}')
    with pytest.raises(RemoteProtocolError, match="column 2"):
        decode_json_header(b"{,}")
    with pytest.raises(RemoteProtocolError, match="not list"):
        decode_json_header(b"[]")
    with pytest.raises(RemoteProtocolError):
        decode_json_header(b"")


def test_decode_header_checks_the_body_size():
    assert decode_header(b'{"data_all": 0}') == {"data_all": 0}
    assert decode_header(b'{"size": 3}', "size") == {"size": 3}
    for raw in (b"{}", b'{"data_all": -1}', b'{"data_all": true}', b'{"data_all": 1.0}'):
        with pytest.raises(RemoteProtocolError, match="'data_all' must be a whole number ≥ 0"):
            decode_header(raw)


HEADERS = st.dictionaries(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=10),
    st.integers() | st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
    max_size=5,
).map(lambda extra: {**extra, "data_all": 3})


@settings(max_examples=200, deadline=None)
@given(header=HEADERS, fmt=st.sampled_from(["!I", "<i"]))
def test_the_framing_codec_and_the_header_codec_agree(header, fmt):
    """JsonHeaderCodec encodes exactly what encode_header makes, and decodes it back."""
    codec = JsonHeaderCodec(fmt)
    wire = encode_header(header, fmt) + b"abc"
    assert codec.encode(b"abc", header) == wire
    (frame,) = codec.feed(wire)
    assert isinstance(frame, Frame) and (frame.header, frame.payload) == (header, b"abc")
    assert detect_length_format(wire[:4], wire[4 : 4 + detection_bytes(wire[:4])]) == fmt


def test_the_json_cure_sends_the_header_codecs_bytes_in_three_calls():
    message = "你好".encode()
    pieces = _wire_pieces(Scenario((message,), cure=Cure.JSON), message)
    header = {"data_all": len(message), "md5": hashlib.md5(message).hexdigest()}
    assert pieces == [encode_header(header)[:4], encode_header(header)[4:], message]


# -- file_name and file_type -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("hello.png", ("hello", "png")),
        ("archive.tar.gz", ("archive.tar", "gz")),
        ("README", ("README", "")),
        (".bashrc", (".bashrc", "")),
        (".hidden.cfg", (".hidden", "cfg")),
        ("名字.txt", ("名字", "txt")),
        ("Photo.JPG", ("Photo", "JPG")),
        ("odd.", ("odd.", "")),
    ],
)
def test_name_fields_are_the_stem_and_the_extension(name, fields):
    assert name_fields(name) == dict(zip(("file_name", "file_type"), fields, strict=True))
    assert whole_name(*fields) == name


def test_whole_name_accepts_a_server_that_sends_the_whole_name():
    assert whole_name("hello", "png") == "hello.png"
    assert whole_name("hello.png", "png") == "hello.png"
    assert whole_name("IMG.JPG", "jpg") == "IMG.JPG"
    assert whole_name("hello.png", "") == "hello.png"
    assert whole_name("notes.png", "txt") == "notes.png.txt"


NAME_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"), min_size=1)


@settings(max_examples=300, deadline=None)
@given(name=NAME_TEXT)
def test_whole_name_undoes_name_fields(name):
    """Every name comes back whole, except one whose stem itself ends with its extension
    ("x.png.png"), which reads as a server sending the whole name."""
    path = PurePosixPath(name)
    if path.name != name:  # "." and "..", or trailing dots PurePath normalises: not file names
        return
    fields = name_fields(name)
    if fields["file_type"] and fields["file_name"].lower().endswith("." + fields["file_type"].lower()):
        assert whole_name(**fields) == fields["file_name"]
    else:
        assert whole_name(**fields) == name

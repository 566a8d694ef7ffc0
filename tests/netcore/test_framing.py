"""Tests of the sans-I/O framing codecs in netcore.protocols.framing."""

from __future__ import annotations

import dataclasses
import itertools
import json
import struct
import time
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcore.errors import InputError, LocalProtocolError, RemoteProtocolError
from netcore.protocols.framing import (
    DEFAULT_MAX_FRAME,
    DEFAULT_MAX_HEADER,
    FRAMING_CHOICES,
    NEED_DATA,
    ConnectionClosed,
    DelimiterCodec,
    FixedLengthCodec,
    Frame,
    FramingCodec,
    JsonHeaderCodec,
    LengthPrefixCodec,
    RawCodec,
    make_codec,
)

HYPOTHESIS = settings(max_examples=200, deadline=None)

LENGTH_SPECS = [
    f"length{width}{order}{sign}" for width in (1, 2, 4, 8) for order in ("", "le") for sign in ("", "s")
]
DELIMITERS = [b"\n", b"\r\n", b"\x00", b"END", b"\n\n", b"abab", b"\r\n\r\n"]


# -- helpers ------------------------------------------------------------------------------------
Event = Frame | ConnectionClosed


def drain(codec: FramingCodec, limit: int = 100_000) -> list[Event]:
    """Every event until NEED_DATA; fails (instead of hanging) if the codec never asks for more."""
    events: list[Event] = []
    for _ in range(limit):
        event = codec.next_event()
        if event is NEED_DATA:
            return events
        assert isinstance(event, Frame | ConnectionClosed)
        events.append(event)
    pytest.fail(f"{type(codec).__name__} produced over {limit} events without asking for data")


def decode_pieces(codec: FramingCodec, pieces: Iterable[bytes]) -> list[Event]:
    """Feed every non-empty piece, then end of stream; return every event."""
    events: list[Event] = []
    for piece in pieces:
        if piece:
            codec.receive_data(piece)
            events += drain(codec)
    codec.receive_data(b"")
    return events + drain(codec)


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    points = [0, *sorted(set(cuts)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points)]


def frames_of(events: Sequence[Event]) -> list[Frame]:
    return [e for e in events if isinstance(e, Frame)]


def check_offsets(frames: Sequence[Frame], stream: bytes) -> None:
    """Frames tile the stream, in order, and each payload is the bytes it claims to be."""
    pos = 0
    for i, frame in enumerate(frames):
        assert frame.index == i
        assert frame.start == pos
        assert frame.start <= frame.payload_start <= frame.payload_end <= frame.end
        assert frame.payload == stream[frame.payload_start : frame.payload_end]
        assert frame.header_length == frame.payload_start - frame.start
        pos = frame.end
    assert pos == len(stream)


def peak_memory(action: Callable[[], Any]) -> int:
    """Peak traced memory (bytes) while *action* runs; exceptions propagate."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def rejects_before_body(codec: FramingCodec, header: bytes, match: str) -> None:
    """Feeding only *header* raises RemoteProtocolError at once, without a big allocation."""

    def go() -> None:
        with pytest.raises(RemoteProtocolError, match=match):
            codec.feed(header)

    assert peak_memory(go) < 256 * 1024
    assert codec.buffered == len(header)


# -- the split-invariance requirement: every codec, every offset, one byte at a time -------------
def _json_codec(length_format: str) -> Callable[[], FramingCodec]:
    return lambda: JsonHeaderCodec(length_format)


SPLIT_CASES: list[tuple[str, Callable[[], FramingCodec], list[tuple[bytes, dict[str, Any] | None]]]] = [
    (
        "line",
        lambda: make_codec("line"),
        [(b"hello", None), (b"", None), (b"world\r", None), (b"\x00\xff", None)],
    ),
    ("crlf", lambda: make_codec("crlf"), [(b"a\rb", None), (b"\n", None), (b"", None), (b"end\r", None)]),
    ("nul", lambda: DelimiterCodec(b"\x00"), [(b"abc", None), (b"\n\r", None), (b"", None)]),
    ("END", lambda: DelimiterCodec(b"END"), [(b"xEN", None), (b"NDE", None), (b"E", None), (b"", None)]),
    (
        "fixed:4",
        lambda: make_codec("fixed:4"),
        [(b"abcd", None), (b"\x00\x00\x00\x04", None), (b"wxyz", None)],
    ),
    ("fixed:1", lambda: FixedLengthCodec(1), [(b"a", None), (b"\n", None), (b"z", None)]),
    *[
        (
            spec,
            (lambda spec=spec: make_codec(spec)),
            [(b"hello", None), (b"", None), (bytes(range(100)), None), (b"\x00\x00\x00\x05", None)],
        )
        for spec in LENGTH_SPECS
    ],
    *[
        (
            f"json{fmt}",
            _json_codec(fmt),
            [
                (b"body one", {"name": "a.txt", "md5": "0" * 32}),
                (b"", {}),
                (b'{"data_all": 1}', {"name": "你好.txt"}),
                (b"\xff" * 40, None),
            ],
        )
        for fmt in ("!I", "<i")
    ],
]


def _encode_all(codec: FramingCodec, messages: Sequence[tuple[bytes, dict[str, Any] | None]]) -> bytes:
    return b"".join(codec.encode(payload, header) for payload, header in messages)


@pytest.mark.parametrize(("name", "factory", "messages"), SPLIT_CASES, ids=[c[0] for c in SPLIT_CASES])
def test_split_at_every_offset_and_byte_by_byte_equal_whole(
    name: str, factory: Callable[[], FramingCodec], messages: list[tuple[bytes, dict[str, Any] | None]]
) -> None:
    stream = _encode_all(factory(), messages)
    whole = decode_pieces(factory(), [stream])
    frames = frames_of(whole)
    assert [f.payload for f in frames] == [payload for payload, _ in messages]
    assert whole[-1] == ConnectionClosed(len(stream))
    assert len(whole) == len(messages) + 1
    check_offsets(frames, stream)

    for cut in range(len(stream) + 1):
        assert decode_pieces(factory(), [stream[:cut], stream[cut:]]) == whole, f"split at {cut}"
    assert decode_pieces(factory(), [stream[i : i + 1] for i in range(len(stream))]) == whole


def test_split_invariance_keeps_json_headers() -> None:
    messages = [(b"abc", {"name": "a", "md5": "x"}), (b"", {"n": [1, 2]})]
    stream = _encode_all(JsonHeaderCodec(), messages)
    frames = frames_of(decode_pieces(JsonHeaderCodec(), [stream[i : i + 1] for i in range(len(stream))]))
    assert [f.header for f in frames] == [
        {"name": "a", "md5": "x", "data_all": 3},
        {"n": [1, 2], "data_all": 0},
    ]


def test_raw_codec_frames_are_exactly_the_received_pieces() -> None:
    stream = b"hello world, this is raw"
    for cut in range(1, len(stream)):
        codec = RawCodec()
        events = decode_pieces(codec, [stream[:cut], stream[cut:]])
        assert events == [
            Frame(0, stream[:cut], 0, 0, cut, cut),
            Frame(1, stream[cut:], cut, cut, len(stream), len(stream)),
            ConnectionClosed(len(stream)),
        ]
    events = decode_pieces(RawCodec(), [stream[i : i + 1] for i in range(len(stream))])
    frames = frames_of(events)
    assert [f.payload for f in frames] == [bytes([b]) for b in stream]
    check_offsets(frames, stream)
    assert events[-1] == ConnectionClosed(len(stream))


def test_raw_codec_keeps_pieces_apart_even_when_fed_before_reading() -> None:
    codec = RawCodec()
    codec.receive_data(b"ab")
    codec.receive_data(bytearray(b"cde"))
    codec.receive_data(memoryview(b"f"))
    assert list(codec.events()) == [
        Frame(0, b"ab", 0, 0, 2, 2),
        Frame(1, b"cde", 2, 2, 5, 5),
        Frame(2, b"f", 5, 5, 6, 6),
    ]
    assert codec.encode(b"xyz") == b"xyz"
    assert codec.name == "raw"


# -- hypothesis round trips ---------------------------------------------------------------------
def _round_trip(codec_factory: Callable[[], FramingCodec], stream: bytes, cuts: list[int]) -> list[Frame]:
    events = decode_pieces(codec_factory(), split_at(stream, cuts))
    assert events[-1] == ConnectionClosed(len(stream))
    assert all(isinstance(e, Frame) for e in events[:-1])
    frames = frames_of(events)
    check_offsets(frames, stream)
    return frames


@st.composite
def cuts_for(draw: st.DrawFn, stream: bytes) -> list[int]:
    return draw(st.lists(st.integers(0, len(stream)), max_size=12))


@HYPOTHESIS
@given(
    spec=st.sampled_from(LENGTH_SPECS), payloads=st.lists(st.binary(max_size=127), max_size=8), data=st.data()
)
def test_length_prefix_round_trip(spec: str, payloads: list[bytes], data: st.DataObject) -> None:
    codec = make_codec(spec)
    assert isinstance(codec, LengthPrefixCodec)
    stream = b"".join(codec.encode(p) for p in payloads)
    frames = _round_trip(lambda: make_codec(spec), stream, data.draw(cuts_for(stream)))
    assert [f.payload for f in frames] == payloads
    for frame in frames:
        assert frame.header_length == codec.width
        prefix = stream[frame.start : frame.payload_start]
        assert int.from_bytes(prefix, codec.byteorder, signed=codec.signed) == len(frame.payload)
        assert frame.payload_end == frame.end


_DELIM_PIECES = st.sampled_from([b"a", b"b", b"x", b"\n", b"\r", b"E", b"N", b"D", b"\x00", b"\xff"])


@HYPOTHESIS
@given(
    delimiter=st.sampled_from(DELIMITERS),
    candidates=st.lists(st.lists(_DELIM_PIECES, max_size=12).map(b"".join), max_size=8),
    data=st.data(),
)
def test_delimiter_round_trip(delimiter: bytes, candidates: list[bytes], data: st.DataObject) -> None:
    codec = DelimiterCodec(delimiter)
    payloads = []
    for payload in candidates:
        # The receiver splits at the first delimiter it finds: encode must refuse exactly the payloads
        # for which that is not where the payload ends.
        splits_elsewhere = (payload + delimiter).find(delimiter) != len(payload)
        if splits_elsewhere:
            with pytest.raises(LocalProtocolError):
                codec.encode(payload)
        else:
            assert codec.encode(payload) == payload + delimiter
            payloads.append(payload)
    stream = b"".join(p + delimiter for p in payloads)
    frames = _round_trip(lambda: DelimiterCodec(delimiter), stream, data.draw(cuts_for(stream)))
    assert [f.payload for f in frames] == payloads
    for frame in frames:
        assert frame.header_length == 0
        assert stream[frame.payload_end : frame.end] == delimiter


@HYPOTHESIS
@given(size=st.integers(1, 9), count=st.integers(0, 8), data=st.data())
def test_fixed_length_round_trip(size: int, count: int, data: st.DataObject) -> None:
    payloads = data.draw(st.lists(st.binary(min_size=size, max_size=size), min_size=count, max_size=count))
    codec = FixedLengthCodec(size)
    stream = b"".join(codec.encode(p) for p in payloads)
    frames = _round_trip(lambda: FixedLengthCodec(size), stream, data.draw(cuts_for(stream)))
    assert [f.payload for f in frames] == payloads
    assert all(f.end - f.start == size for f in frames)


_JSON_VALUES = st.one_of(
    st.integers(), st.text(max_size=8), st.booleans(), st.none(), st.lists(st.integers(), max_size=3)
)
_JSON_KEYS = st.text(max_size=6).filter(lambda k: k != "data_all")
_JSON_HEADERS = st.dictionaries(_JSON_KEYS, _JSON_VALUES, max_size=4)


@HYPOTHESIS
@given(
    length_format=st.sampled_from(["!I", "<i"]),
    messages=st.lists(st.tuples(st.binary(max_size=64), _JSON_HEADERS), max_size=6),
    data=st.data(),
)
def test_json_header_round_trip(
    length_format: str, messages: list[tuple[bytes, dict[str, Any]]], data: st.DataObject
) -> None:
    codec = JsonHeaderCodec(length_format)
    stream = b"".join(codec.encode(p, h) for p, h in messages)
    frames = _round_trip(lambda: JsonHeaderCodec(length_format), stream, data.draw(cuts_for(stream)))
    assert [f.payload for f in frames] == [p for p, _ in messages]
    assert [f.header for f in frames] == [{**h, "data_all": len(p)} for p, h in messages]
    for frame in frames:
        (hlen,) = struct.unpack(length_format, stream[frame.start : frame.start + 4])
        assert frame.header_length == 4 + hlen
        assert json.loads(stream[frame.start + 4 : frame.payload_start]) == frame.header


@HYPOTHESIS
@given(pieces=st.lists(st.binary(min_size=1, max_size=50), max_size=10))
def test_raw_round_trip(pieces: list[bytes]) -> None:
    stream = b"".join(pieces)
    events = decode_pieces(RawCodec(), pieces)
    frames = frames_of(events)
    assert [f.payload for f in frames] == pieces
    check_offsets(frames, stream)
    assert events[-1] == ConnectionClosed(len(stream))


# -- limits: oversize lengths fail at once, before the body ---------------------------------------
@pytest.mark.parametrize(
    ("spec", "header", "match"),
    [
        ("length4", b"\xff\xff\xff\xff", "4,294,967,295"),
        ("length4le", b"\xff\xff\xff\xff", "over the limit"),
        ("length4", (DEFAULT_MAX_FRAME + 1).to_bytes(4, "big"), "over the limit of 16,777,216"),
        ("length8", b"\xff" * 8, "over the limit"),
        ("length8le", (2**62).to_bytes(8, "little"), "over the limit"),
        ("length8s", (2**63 - 1).to_bytes(8, "big"), "over the limit"),
        ("length4s", b"\xff\xff\xff\xff", "negative"),
        ("length4les", (-(2**31)).to_bytes(4, "little", signed=True), "negative"),
        ("length8s", b"\xff" * 8, "negative"),
        ("length2s", b"\x80\x00", "negative"),
        ("length2les", b"\x00\x80", "negative"),
        ("length1s", b"\x80", "negative"),
    ],
)
def test_oversize_or_negative_length_prefix_rejected_before_body(
    spec: str, header: bytes, match: str
) -> None:
    rejects_before_body(make_codec(spec), header, match)


def test_length_prefix_error_names_the_prefix_bytes() -> None:
    with pytest.raises(RemoteProtocolError, match="ff ff ff ff"):
        make_codec("length4").feed(b"\xff\xff\xff\xff")


def test_length_prefix_limit_is_max_frame_exactly() -> None:
    codec = LengthPrefixCodec(2, max_frame=100)
    events = codec.feed((100).to_bytes(2, "big") + b"x" * 100)
    assert [f.payload for f in frames_of(events)] == [b"x" * 100]
    with pytest.raises(RemoteProtocolError, match="101"):
        codec.feed((101).to_bytes(2, "big"))


def test_partial_length_prefix_waits_and_oversize_is_found_when_complete() -> None:
    codec = make_codec("length4")
    assert codec.feed(b"\xff\xff\xff") == []
    assert codec.next_event() is NEED_DATA
    with pytest.raises(RemoteProtocolError):
        codec.feed(b"\xff")


def test_oversize_after_good_frames_raises_only_at_the_bad_header() -> None:
    small = LengthPrefixCodec(2, max_frame=1000)
    good = small.encode(b"ok") + small.encode(b"fine")
    small.receive_data(good + b"\x7f\xff")
    first, second = small.next_event(), small.next_event()
    assert isinstance(first, Frame) and first.payload == b"ok"
    assert isinstance(second, Frame) and second.payload == b"fine"
    with pytest.raises(RemoteProtocolError, match="32,767"):
        small.next_event()


def _json_frame_header(header: dict[str, Any] | bytes, length_format: str = "!I") -> bytes:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack(length_format, len(raw)) + raw


@pytest.mark.parametrize("length_format", ["!I", "<i"])
@pytest.mark.parametrize(
    ("header", "match"),
    [
        ({"data_all": 2**40}, "over the limit"),
        ({"data_all": DEFAULT_MAX_FRAME + 1}, "over the limit"),
        ({"data_all": -1}, "whole number ≥ 0, not -1"),
        ({"data_all": True}, "whole number"),
        ({"data_all": False}, "whole number"),
        ({"data_all": "5"}, "whole number"),
        ({"data_all": 5.0}, "whole number"),
        ({"data_all": None}, "whole number"),
        ({"name": "a.txt"}, "whole number.*None"),
        (b"\xff\xfe{}", "UTF-8"),
        (b'{"data_all": 1', "not valid JSON"),
        (b"[1, 2]", "object.*list"),
        (b"5", "object.*int"),
        (b'"text"', "object.*str"),
        (b"null", "object.*NoneType"),
    ],
)
def test_bad_json_header_rejected_before_body(
    length_format: str, header: dict[str, Any] | bytes, match: str
) -> None:
    rejects_before_body(JsonHeaderCodec(length_format), _json_frame_header(header, length_format), match)


@pytest.mark.parametrize(
    ("length_format", "prefix", "match"),
    [
        ("!I", struct.pack("!I", 0), "JSON header length 0 "),
        ("<i", struct.pack("<i", 0), "JSON header length 0 "),
        ("!I", struct.pack("!I", DEFAULT_MAX_HEADER + 1), "65,537 read as '!I' is outside 1..65,536"),
        ("!I", b"\xff\xff\xff\xff", "4,294,967,295"),
        ("<i", struct.pack("<i", -1), "-1"),
        ("<i", struct.pack("<i", -(2**31)), "-2,147,483,648"),
        ("<i", struct.pack("<i", 2**31 - 1), "outside"),
    ],
)
def test_json_header_length_out_of_range_rejected_at_once(
    length_format: str, prefix: bytes, match: str
) -> None:
    rejects_before_body(JsonHeaderCodec(length_format), prefix, match)


def test_json_header_of_exactly_max_header_is_accepted() -> None:
    codec = JsonHeaderCodec(max_header=100)
    head = json.dumps({"data_all": 2, "pad": ""}).encode()
    head = json.dumps({"data_all": 2, "pad": "x" * (100 - len(head))}).encode()
    assert len(head) == 100
    (frame, closed) = codec.feed(struct.pack("!I", 100) + head + b"hi") + codec.feed(b"")
    assert isinstance(frame, Frame) and frame.payload == b"hi" and frame.header_length == 104
    assert closed == ConnectionClosed(106)
    with pytest.raises(RemoteProtocolError, match=r"101 read as '!I' is outside 1\.\.100"):
        JsonHeaderCodec(max_header=100).feed(struct.pack("!I", 101))


def test_json_body_limit_is_max_frame_exactly() -> None:
    ok = JsonHeaderCodec(max_frame=10).feed(_json_frame_header({"data_all": 10}) + b"0123456789")
    assert [f.payload for f in frames_of(ok)] == [b"0123456789"]
    with pytest.raises(RemoteProtocolError, match="11"):
        JsonHeaderCodec(max_frame=10).feed(_json_frame_header({"data_all": 11}))


def test_json_header_waits_for_whole_header_before_judging_it() -> None:
    codec = JsonHeaderCodec()
    raw = _json_frame_header({"data_all": -5})
    assert codec.feed(raw[:-1]) == []
    with pytest.raises(RemoteProtocolError, match="not -5"):
        codec.feed(raw[-1:])


def test_custom_size_key() -> None:
    codec = JsonHeaderCodec(size_key="size")
    encoded = codec.encode(b"abc", {"name": "f"})
    assert json.loads(encoded[4:-3]) == {"name": "f", "size": 3}
    (frame,) = JsonHeaderCodec(size_key="size").feed(encoded)
    assert isinstance(frame, Frame) and frame.payload == b"abc"
    with pytest.raises(RemoteProtocolError, match="'size'"):
        JsonHeaderCodec(size_key="size").feed(_json_frame_header({"data_all": 3}))


# -- end of stream ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("codec", "data", "match"),
    [
        (make_codec("length4"), b"\x00\x00\x00\x0aabc", "3 of the 10 payload bytes"),
        (make_codec("length4"), b"\x00\x00", "2 of the 4 bytes of a length prefix"),
        (make_codec("length8le"), b"\x01", "1 of the 8 bytes of a length prefix"),
        (make_codec("length2"), b"\x01\x00", "0 of the 256 payload bytes"),
        (make_codec("line"), b"abc", "3 bytes after the last b'\\\\n' have no delimiter"),
        (make_codec("crlf"), b"abc\r", "4 bytes after the last b'\\\\r\\\\n'"),
        (make_codec("fixed:16"), b"12345", "5 of the 16 bytes of a fixed-length frame"),
        (JsonHeaderCodec(), _json_frame_header({"data_all": 10}) + b"ab", "2 of the 10 body bytes"),
        (JsonHeaderCodec(), b"\x00\x00\x00", "3 bytes of a JSON header"),
        (JsonHeaderCodec(), b"\x00\x00\x00\x10{", "5 bytes of a JSON header"),
    ],
    ids=[
        "len-payload",
        "len-prefix",
        "len8-prefix",
        "len-empty-payload",
        "line",
        "crlf",
        "fixed",
        "json-body",
        "json-length",
        "json-header",
    ],
)
def test_end_of_stream_inside_a_frame_says_what_is_missing(
    codec: FramingCodec, data: bytes, match: str
) -> None:
    codec.receive_data(data)
    assert list(codec.events()) == []
    codec.receive_data(b"")
    with pytest.raises(RemoteProtocolError, match=match):
        codec.next_event()


def test_end_of_stream_inside_a_frame_after_good_frames() -> None:
    codec = make_codec("length1")
    stream = codec.encode(b"one") + codec.encode(b"two") + codec.encode(b"three")[:-2]
    events = codec.feed(stream[:-1])
    assert [f.payload for f in frames_of(events)] == [b"one", b"two"]
    codec.receive_data(stream[-1:])
    codec.receive_data(b"")
    with pytest.raises(RemoteProtocolError, match="3 of the 5 payload bytes"):
        list(codec.events())


@pytest.mark.parametrize("spec", FRAMING_CHOICES)
def test_clean_end_gives_connection_closed_once(spec: str) -> None:
    codec = make_codec(spec)
    payload = bytes(16) if spec.startswith("fixed") else b"payload"
    stream = codec.encode(payload) * 2
    events = codec.feed(stream[: len(stream) // 2]) + codec.feed(stream[len(stream) // 2 :])
    assert [f.payload for f in frames_of(events)] == [payload, payload]
    assert codec.next_event() is NEED_DATA
    codec.receive_data(b"")
    assert codec.next_event() == ConnectionClosed(len(stream))
    assert codec.next_event() is NEED_DATA
    assert codec.next_event() is NEED_DATA
    with pytest.raises(LocalProtocolError, match="after end of stream"):
        codec.receive_data(b"more")


@pytest.mark.parametrize("spec", ["raw", "line", "length4", "json", "fixed:3"])
def test_empty_stream_closes_at_offset_zero(spec: str) -> None:
    codec = make_codec(spec)
    assert codec.next_event() is NEED_DATA
    assert codec.feed(b"") == [ConnectionClosed(0)]
    assert codec.offset == 0


# -- encode errors ------------------------------------------------------------------------------
def test_encode_errors_are_local_protocol_errors() -> None:
    with pytest.raises(LocalProtocolError, match="contains the delimiter"):
        make_codec("line").encode(b"two\nlines")
    with pytest.raises(LocalProtocolError, match="delimiter"):
        make_codec("crlf").encode(b"a\r\nb")
    with pytest.raises(LocalProtocolError, match="exactly 16 bytes, not 15"):
        make_codec("fixed:16").encode(bytes(15))
    with pytest.raises(LocalProtocolError, match="exactly 4 bytes, not 5"):
        FixedLengthCodec(4).encode(bytes(5))
    with pytest.raises(LocalProtocolError, match="256 bytes do not fit a 1-byte length prefix \\(max 255\\)"):
        make_codec("length1").encode(bytes(256))
    with pytest.raises(LocalProtocolError, match="max 127"):
        make_codec("length1s").encode(bytes(128))
    with pytest.raises(LocalProtocolError, match="max 65,535"):
        make_codec("length2le").encode(bytes(65536))
    with pytest.raises(LocalProtocolError, match="over 10"):
        JsonHeaderCodec(max_header=10).encode(b"", {"name": "long enough"})


def test_encode_at_the_limits() -> None:
    assert make_codec("length1").encode(bytes(255)) == b"\xff" + bytes(255)
    assert make_codec("length1s").encode(bytes(127)) == b"\x7f" + bytes(127)
    assert make_codec("length2").encode(bytes(65535))[:2] == b"\xff\xff"
    assert make_codec("length2le").encode(b"abc") == b"\x03\x00abc"
    assert make_codec("length4").encode(b"abc") == b"\x00\x00\x00\x03abc"
    assert make_codec("length8le").encode(b"") == bytes(8)
    assert make_codec("line").encode(b"abc") == b"abc\n"
    assert make_codec("crlf").encode(b"abc\r") == b"abc\r\r\n"
    assert JsonHeaderCodec().encode(b"hi") == b'\x00\x00\x00\x0f{"data_all": 2}hi'
    assert JsonHeaderCodec("<i").encode(b"hi")[:4] == b"\x0f\x00\x00\x00"
    assert JsonHeaderCodec().encode(b"", {"data_all": 99})[4:] == b'{"data_all": 0}'


@pytest.mark.parametrize(
    ("delimiter", "payload"), [(b"\n\n", b"a\n"), (b"abab", b"xab"), (b"\r\n\r\n", b"GET\r\n")]
)
def test_delimiter_encode_refuses_payload_that_would_be_split_early(delimiter: bytes, payload: bytes) -> None:
    # payload + delimiter contains the delimiter before the payload's end: the peer would cut there.
    assert (payload + delimiter).find(delimiter) < len(payload)
    with pytest.raises(LocalProtocolError):
        DelimiterCodec(delimiter).encode(payload)


# -- make_codec and constructors -----------------------------------------------------------------
@pytest.mark.parametrize("spec", FRAMING_CHOICES)
def test_make_codec_accepts_every_listed_choice(spec: str) -> None:
    assert make_codec(spec).name == spec


@pytest.mark.parametrize(
    ("spec", "cls", "attrs"),
    [
        ("raw", RawCodec, {}),
        (" LINE ", DelimiterCodec, {"delimiter": b"\n", "name": "line"}),
        ("crlf", DelimiterCodec, {"delimiter": b"\r\n", "name": "crlf"}),
        ("delim:0d0a", DelimiterCodec, {"delimiter": b"\r\n", "name": "crlf"}),
        ("delim:00", DelimiterCodec, {"delimiter": b"\x00", "name": "delim:00"}),
        ("DELIM:7C7C", DelimiterCodec, {"delimiter": b"||", "name": "delim:7c7c"}),
        ("fixed:7", FixedLengthCodec, {"size": 7, "name": "fixed:7"}),
        ("length1", LengthPrefixCodec, {"width": 1, "byteorder": "big", "signed": False}),
        ("length2le", LengthPrefixCodec, {"width": 2, "byteorder": "little", "signed": False}),
        (
            "length4be",
            LengthPrefixCodec,
            {"width": 4, "byteorder": "big", "signed": False, "name": "length4"},
        ),
        ("length4s", LengthPrefixCodec, {"width": 4, "byteorder": "big", "signed": True}),
        ("length8les", LengthPrefixCodec, {"width": 8, "byteorder": "little", "signed": True}),
        ("json", JsonHeaderCodec, {"length_format": "!I", "name": "json"}),
        ("json-le", JsonHeaderCodec, {"length_format": "<i", "name": "json-le"}),
    ],
)
def test_make_codec_builds_the_right_codec(spec: str, cls: type, attrs: dict[str, Any]) -> None:
    codec = make_codec(spec, max_frame=1234)
    assert type(codec) is cls
    assert codec.max_frame == 1234
    for key, value in attrs.items():
        assert getattr(codec, key) == value


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "foo",
        "length",
        "length3",
        "length16",
        "length4x",
        "length4lebe",
        "fixed:",
        "fixed:abc",
        "fixed:-1",
        "fixed:0",
        "delim:",
        "delim:zz",
        "delim:0",
        "json-be",
        "jsonle",
        "raw2",
        "line:",
    ],
)
def test_make_codec_rejects_unknown_specs(spec: str) -> None:
    with pytest.raises(InputError):
        make_codec(spec)


def test_make_codec_messages_help() -> None:
    with pytest.raises(InputError, match=r"unknown framing 'foo'.*length1/2/4/8"):
        make_codec("foo")
    with pytest.raises(InputError, match=r"e\.g\. delim:0d0a"):
        make_codec("delim:zz")
    with pytest.raises(InputError, match=r"e\.g\. fixed:16"):
        make_codec("fixed:x")
    with pytest.raises(InputError, match="from 1 to 100 bytes, not 101"):
        make_codec("fixed:101", max_frame=100)


def test_constructors_validate() -> None:
    with pytest.raises(InputError, match="at least one byte"):
        DelimiterCodec(b"")
    with pytest.raises(InputError, match="1, 2, 4 or 8 bytes, not 3"):
        LengthPrefixCodec(3)
    with pytest.raises(InputError, match="'!H'"):
        JsonHeaderCodec("!H")
    with pytest.raises(InputError):
        FixedLengthCodec(0)


# -- events and sentinels -----------------------------------------------------------------------
def test_need_data_is_a_singleton_sentinel() -> None:
    assert repr(NEED_DATA) == "NEED_DATA"
    assert type(NEED_DATA)() is NEED_DATA
    assert make_codec("line").next_event() is NEED_DATA


def test_events_are_frozen_and_slotted() -> None:
    frame = Frame(0, b"x", 0, 4, 5, 5)
    with pytest.raises(AttributeError):  # a named tuple: immutable
        frame.payload = b"y"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ConnectionClosed(3).offset = 4  # type: ignore[misc]
    assert not hasattr(frame, "__dict__")
    assert not hasattr(ConnectionClosed(0), "__dict__")
    assert frame.header_length == 4
    assert frame.header is None


# -- no rescanning, no hoarding -----------------------------------------------------------------
class _CountingBuffer(bytearray):
    """A bytearray that counts how many bytes ``find`` has to look at."""

    scanned = 0

    def find(self, sub: Any, start: Any = None, end: Any = None) -> int:  # type: ignore[override]
        begin = 0 if start is None else start
        self.scanned += max(0, len(self) - begin)
        return super().find(sub, start)


@pytest.mark.parametrize("delimiter", [b"\n", b"\r\n", b"END"])
def test_delimiter_codec_does_not_rescan(delimiter: bytes) -> None:
    max_frame = 1024 * 1024
    codec = DelimiterCodec(delimiter, max_frame=max_frame)
    counter = codec._buf = _CountingBuffer()
    piece = b"x" * 1024
    began = time.perf_counter()
    for _ in range(1024):
        assert codec.feed(piece) == []
    elapsed = time.perf_counter() - began
    assert codec.buffered == max_frame
    # Each byte is searched about once (plus a delimiter's length of overlap per piece).
    assert max_frame <= counter.scanned <= max_frame + 1024 * len(delimiter)
    assert elapsed < 2.0
    with pytest.raises(RemoteProtocolError, match="no delimiter"):
        for _ in range(2 + len(delimiter)):
            codec.feed(b"y")
    assert codec.buffered <= max_frame + len(delimiter) + 1


def test_delimiter_codec_finds_a_delimiter_split_across_pieces_after_a_long_search() -> None:
    codec = DelimiterCodec(b"\r\n\r\n")
    body = b"a" * 5000 + b"\r"
    for i in range(0, len(body), 7):
        assert codec.feed(body[i : i + 7]) == []
    assert codec.feed(b"\n\r") == []
    (frame,) = codec.feed(b"\nnext")
    assert isinstance(frame, Frame)
    assert frame.payload == b"a" * 5000
    assert (frame.payload_end, frame.end) == (5000, 5004)
    assert codec.buffered == 4


def test_delimiter_frame_of_exactly_max_frame_is_accepted() -> None:
    codec = DelimiterCodec(b"\n", max_frame=10)
    (frame,) = codec.feed(b"0123456789\n")
    assert isinstance(frame, Frame) and len(frame.payload) == 10
    with pytest.raises(RemoteProtocolError, match="11"):
        DelimiterCodec(b"\n", max_frame=10).feed(b"0123456789A\n")


@pytest.mark.parametrize("spec", ["length4", "line", "json", "fixed:16", "raw"])
def test_consumed_bytes_are_dropped(spec: str) -> None:
    codec = make_codec(spec)
    frame_bytes = codec.encode(b"z" * 16)
    per_feed = 1 if spec == "raw" else 3  # raw: one frame per receive_data
    seen = 0
    for _ in range(100):
        seen += len(codec.feed(frame_bytes * 3))
        assert codec.buffered == 0
    assert seen == 100 * per_feed
    codec.receive_data(frame_bytes[:5])
    assert codec.buffered == 5
    assert codec.offset == 300 * len(frame_bytes)


@pytest.mark.parametrize("spec", ["length4", "line", "json"])
def test_memory_stays_bounded_over_many_large_frames(spec: str) -> None:
    size = 64 * 1024
    payload = b"q" * size
    encoded = make_codec(spec).encode(payload)
    pieces = [encoded[i : i + 4096] for i in range(0, len(encoded), 4096)]
    codec = make_codec(spec)

    def run() -> None:
        count = 0
        for _ in range(64):  # 4 MiB in total
            for piece in pieces:
                for event in codec.feed(piece):
                    assert isinstance(event, Frame) and len(event.payload) == size
                    count += 1
        assert count == 64

    assert peak_memory(run) < 8 * size  # a codec that kept consumed bytes would hold 4 MiB

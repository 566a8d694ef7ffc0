"""Sans-I/O framing codecs: raw, delimiter, fixed length, length prefix and JSON header + body.

A codec holds a ``bytearray``; ``receive_data(data)`` adds bytes (``b""`` = end of stream) and
``next_event()`` hands out a ``Frame``, ``ConnectionClosed`` or ``NEED_DATA``. A codec never rescans
what it has searched, drops consumed bytes, and raises ``RemoteProtocolError`` as soon as a header
announces more than its limit, so a 4-byte length of 0xFFFFFFFF never allocates 4 GiB. The same
codec classes frame what we send (``encode``) and decode what we receive: this module is the one
place that knows each framing's wire format, except the JSON header's, which ``filehdr`` holds for
this codec and the file protocol alike.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, NamedTuple

from netcore.errors import InputError, LocalProtocolError, RemoteProtocolError
from netcore.protocols import filehdr

DEFAULT_MAX_FRAME: Final = 16 * 1024 * 1024
DEFAULT_MAX_HEADER: Final = filehdr.MAX_HEADER


class _NeedData:
    """Sentinel: the codec needs more bytes before it can hand out another event."""

    _instance: _NeedData | None = None

    def __new__(cls) -> _NeedData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = _NeedData()


class Frame(NamedTuple):
    """One application message and where it sits in the stream (immutable; a named tuple because
    one is made per message, a UDP datagram included).

    ``start`` ≤ ``payload_start`` ≤ ``payload_end`` ≤ ``end`` are stream offsets: the header is
    ``[start, payload_start)``, the payload ``[payload_start, payload_end)`` and any trailer (a
    delimiter) ``[payload_end, end)``.
    """

    index: int  # type: ignore[assignment]  # a field, hiding tuple.index (unused on frames)
    payload: bytes
    start: int
    payload_start: int
    payload_end: int
    end: int
    header: Mapping[str, Any] | None = None

    @property
    def header_length(self) -> int:
        return self.payload_start - self.start


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The stream ended cleanly after ``offset`` bytes, on a frame boundary."""

    offset: int


Event = Frame | ConnectionClosed


class FramingCodec(ABC):
    """Base of every framing codec: buffering, offsets, end of stream and limits."""

    name: str = ""

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self._pos = 0  # read position inside _buf
        self._base = 0  # stream offset of _buf[0]
        self._eof = False
        self._closed_reported = False
        self._index = 0

    # -- feeding --------------------------------------------------------------------------------
    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Add received bytes; ``b""`` means the peer closed (end of stream)."""
        if self._eof:
            raise LocalProtocolError("receive_data() called after end of stream")
        if not data:
            self._eof = True
            return
        if self._pos:
            del self._buf[: self._pos]
            self._base += self._pos
            self._forget(self._pos)
            self._pos = 0
        self._buf += data

    def next_event(self) -> Frame | ConnectionClosed | _NeedData:
        frame = self._parse()
        if frame is not None:
            self._index += 1
            return frame
        if self._eof:
            left = len(self._buf) - self._pos
            if left:
                raise RemoteProtocolError(f"the stream ended inside a frame: {self._incomplete(left)}")
            if not self._closed_reported:
                self._closed_reported = True
                return ConnectionClosed(self.offset)
        return NEED_DATA

    def events(self) -> Iterator[Frame | ConnectionClosed]:
        """Every event the buffered bytes make, until more data is needed."""
        while True:
            event = self.next_event()
            if event is NEED_DATA:
                return
            assert not isinstance(event, _NeedData)
            yield event

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame | ConnectionClosed]:
        """``receive_data`` then every event it completes."""
        self.receive_data(data)
        return list(self.events())

    # -- state ----------------------------------------------------------------------------------
    @property
    def offset(self) -> int:
        """Stream offset of the first byte not yet handed out in a frame."""
        return self._base + self._pos

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a frame."""
        return len(self._buf) - self._pos

    # -- helpers for subclasses -----------------------------------------------------------------
    def _take(
        self, header_len: int, payload_len: int, trailer_len: int = 0, header: Mapping[str, Any] | None = None
    ) -> Frame:
        start = self._base + self._pos
        p0 = self._pos + header_len
        payload = bytes(self._buf[p0 : p0 + payload_len])
        self._pos = p0 + payload_len + trailer_len
        return Frame(
            self._index,
            payload,
            start,
            start + header_len,
            start + header_len + payload_len,
            self._base + self._pos,
            header,
        )

    def _check_size(self, size: int, what: str) -> None:
        if size < 0:
            raise RemoteProtocolError(f"{what} is negative ({size:,})")
        if size > self.max_frame:
            raise RemoteProtocolError(
                f"{what} announces {size:,} bytes, over the limit of {self.max_frame:,} bytes"
            )

    def _forget(self, n: int) -> None:  # noqa: B027 - an optional hook, empty by default
        """Called when *n* consumed bytes are dropped from the front of the buffer."""

    @abstractmethod
    def _parse(self) -> Frame | None:
        """Return the next complete frame from ``_buf[_pos:]``, or None if more bytes are needed."""

    @abstractmethod
    def _incomplete(self, left: int) -> str:
        """Explain what was missing when the stream ended with *left* unframed bytes."""

    @abstractmethod
    def encode(self, payload: bytes, header: Mapping[str, Any] | None = None) -> bytes:
        """Frame *payload* for sending."""


class RawCodec(FramingCodec):
    """No framing: each ``receive_data`` call is one frame, exactly what ``recv()`` returned."""

    name = "raw"

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        super().__init__(max_frame)
        self._sizes: deque[int] = deque()

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        super().receive_data(data)
        if data:
            self._sizes.append(len(data))

    def _parse(self) -> Frame | None:
        return self._take(0, self._sizes.popleft()) if self._sizes else None

    def _incomplete(self, left: int) -> str:
        return f"{left} bytes"  # unreachable: raw frames are never incomplete

    def encode(self, payload: bytes, header: Mapping[str, Any] | None = None) -> bytes:
        return bytes(payload)


class DelimiterCodec(FramingCodec):
    """Frames end with a delimiter (``\\n`` for lines); the payload excludes it."""

    def __init__(self, delimiter: bytes = b"\n", max_frame: int = DEFAULT_MAX_FRAME) -> None:
        if not delimiter:
            raise InputError("the delimiter must be at least one byte")
        super().__init__(max_frame)
        self.delimiter = delimiter
        self.name = {b"\n": "line", b"\r\n": "crlf"}.get(delimiter, f"delim:{delimiter.hex()}")
        self._scan = 0  # buffer index where the next search starts

    def _forget(self, n: int) -> None:
        self._scan = max(0, self._scan - n)

    def _parse(self) -> Frame | None:
        start = max(self._scan, self._pos)
        hit = self._buf.find(self.delimiter, start)
        if hit < 0:
            self._scan = max(self._pos, len(self._buf) - len(self.delimiter) + 1)
            if len(self._buf) - self._pos > self.max_frame + len(self.delimiter):
                raise RemoteProtocolError(
                    f"no delimiter {self.delimiter!r} within {self.max_frame:,} bytes (the frame limit)"
                )
            return None
        size = hit - self._pos
        self._check_size(size, "a delimited frame")
        frame = self._take(0, size, len(self.delimiter))
        self._scan = self._pos
        return frame

    def _incomplete(self, left: int) -> str:
        return f"{left} bytes after the last {self.delimiter!r} have no delimiter"

    def encode(self, payload: bytes, header: Mapping[str, Any] | None = None) -> bytes:
        framed = bytes(payload) + self.delimiter
        # Also catches a payload ending in the start of a self-overlapping delimiter (b"a\n" + b"\n\n").
        if framed.find(self.delimiter) != len(payload):
            raise LocalProtocolError(
                f"the payload contains the delimiter {self.delimiter!r}: the receiver would split it there"
            )
        return framed


class FixedLengthCodec(FramingCodec):
    """Every frame is exactly ``size`` bytes."""

    def __init__(self, size: int, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        if not 1 <= size <= max_frame:
            raise InputError(
                "a fixed frame length must be from 1 to {maximum:,} bytes, not {size:,}",
                maximum=max_frame,
                size=size,
            )
        super().__init__(max_frame)
        self.size = size
        self.name = f"fixed:{size}"

    def _parse(self) -> Frame | None:
        return self._take(0, self.size) if len(self._buf) - self._pos >= self.size else None

    def _incomplete(self, left: int) -> str:
        return f"{left} of the {self.size} bytes of a fixed-length frame"

    def encode(self, payload: bytes, header: Mapping[str, Any] | None = None) -> bytes:
        if len(payload) != self.size:
            raise LocalProtocolError(
                f"fixed-length framing needs exactly {self.size} bytes, not {len(payload)}"
            )
        return bytes(payload)


ByteOrder = Literal["big", "little"]


class LengthPrefixCodec(FramingCodec):
    """A 1/2/4/8-byte length (of the payload only), big or little endian, signed or unsigned."""

    def __init__(
        self,
        width: int = 4,
        byteorder: ByteOrder = "big",
        signed: bool = False,
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        if width not in (1, 2, 4, 8):
            raise InputError("a length prefix is 1, 2, 4 or 8 bytes, not {width}", width=width)
        super().__init__(max_frame)
        self.width, self.byteorder, self.signed = width, byteorder, signed
        self.name = f"length{width}{'le' if byteorder == 'little' else ''}{'s' if signed else ''}"
        self._pending: int | None = None  # decoded length of the frame being received

    def _parse(self) -> Frame | None:
        avail = len(self._buf) - self._pos
        if self._pending is None:
            if avail < self.width:
                return None
            raw = self._buf[self._pos : self._pos + self.width]
            size = int.from_bytes(raw, self.byteorder, signed=self.signed)
            self._check_size(size, f"the {self.width}-byte length prefix {bytes(raw).hex(' ')}")
            self._pending = size
        if avail < self.width + self._pending:
            return None
        frame = self._take(self.width, self._pending)
        self._pending = None
        return frame

    def _incomplete(self, left: int) -> str:
        if self._pending is None:
            return f"{left} of the {self.width} bytes of a length prefix"
        return f"{left - self.width:,} of the {self._pending:,} payload bytes the prefix announced"

    def encode(self, payload: bytes, header: Mapping[str, Any] | None = None) -> bytes:
        limit = (1 << (8 * self.width - (1 if self.signed else 0))) - 1
        if len(payload) > limit:
            raise LocalProtocolError(
                f"{len(payload):,} bytes do not fit a {self.width}-byte length prefix (max {limit:,})"
            )
        return len(payload).to_bytes(self.width, self.byteorder, signed=self.signed) + payload


class JsonHeaderCodec(FramingCodec):
    """4-byte header length, a UTF-8 JSON object, then a body of ``header[size_key]`` bytes: the wire
    format of ``netcore.protocols.filehdr``, decoded incrementally."""

    def __init__(
        self,
        length_format: str = "!I",
        size_key: str = filehdr.SIZE_KEY,
        max_header: int = DEFAULT_MAX_HEADER,
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        if length_format not in filehdr.LENGTH_FORMATS:
            raise InputError(f"JSON header length format must be '!I' or '<i', not {length_format!r}")
        super().__init__(max_frame)
        self.length_format, self.size_key, self.max_header = length_format, size_key, max_header
        self.name = "json" if length_format == "!I" else "json-le"
        self._header: tuple[int, dict[str, Any], int] | None = None  # (header length, header, body size)

    def _parse(self) -> Frame | None:
        avail = len(self._buf) - self._pos
        head = filehdr.LENGTH_SIZE
        if self._header is None:
            if avail < head:
                return None
            hlen = filehdr.header_length(self._buf, self.length_format, self.max_header, self._pos)
            if avail < head + hlen:
                return None
            header = filehdr.decode_header(
                bytes(self._buf[self._pos + head : self._pos + head + hlen]), self.size_key
            )
            size = header[self.size_key]
            self._check_size(size, f"the JSON header's {self.size_key!r}")
            self._header = (hlen, header, size)
        hlen, header, size = self._header
        if avail < head + hlen + size:
            return None
        self._header = None
        return self._take(head + hlen, size, header=header)

    def _incomplete(self, left: int) -> str:
        if self._header is None:
            return f"{left} bytes of a JSON header"
        hlen, _, size = self._header
        return f"{left - filehdr.LENGTH_SIZE - hlen:,} of the {size:,} body bytes the JSON header announced"

    def encode(self, payload: bytes, header: Mapping[str, Any] | None = None) -> bytes:
        head = {**(header or {}), self.size_key: len(payload)}
        return filehdr.encode_header(head, self.length_format, self.max_header) + payload


FRAMING_CHOICES: Final = (
    "raw",
    "line",
    "crlf",
    "length1",
    "length2",
    "length4",
    "length4le",
    "length8",
    "json",
    "fixed:16",
)
_LENGTH_SPEC = re.compile(r"length(1|2|4|8)(le|be)?(s)?")


def make_codec(spec: str, max_frame: int = DEFAULT_MAX_FRAME) -> FramingCodec:
    """A codec from its name: raw, line, crlf, delim:HEX, fixed:N, length{1,2,4,8}[le][s], json, json-le."""
    s = spec.strip().lower()
    if s == "raw":
        return RawCodec(max_frame)
    if s == "line":
        return DelimiterCodec(b"\n", max_frame)
    if s == "crlf":
        return DelimiterCodec(b"\r\n", max_frame)
    if s.startswith("delim:"):
        try:
            return DelimiterCodec(bytes.fromhex(s[6:]), max_frame)
        except ValueError:
            raise InputError("'{spec}': write the delimiter in hex, e.g. delim:0d0a", spec=spec) from None
    if s.startswith("fixed:"):
        if not s[6:].isdigit():
            raise InputError("'{spec}': write the frame length in bytes, e.g. fixed:16", spec=spec)
        return FixedLengthCodec(int(s[6:]), max_frame)
    if m := _LENGTH_SPEC.fullmatch(s):
        order: ByteOrder = "little" if m.group(2) == "le" else "big"
        return LengthPrefixCodec(int(m.group(1)), order, bool(m.group(3)), max_frame)
    if s in ("json", "json-le"):
        return JsonHeaderCodec("!I" if s == "json" else "<i", max_frame=max_frame)
    raise InputError(
        "unknown framing '{spec}': use raw, line, crlf, delim:HEX, fixed:N, length1/2/4/8[le][s] or json",
        spec=spec,
    )

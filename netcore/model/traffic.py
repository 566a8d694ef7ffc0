"""Traffic as data: chunks with direction, peer, times and stream offsets, in a store bounded in bytes.

The store keeps chunks in arrival order (both directions interleaved, like Wireshark's Follow Stream)
and gives each a *display position*: where its first byte sits in the concatenation of all chunks
ever stored. It drops the oldest chunks when over its byte or chunk bound and counts what it dropped.
Decoded frames are kept per stream (session, connection, direction) as spans of stream offsets: a
new session (``begin_session``, e.g. a reconnect) starts new streams, so the frames of a connection
never land on the bytes of an earlier one that had the same connection id.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, NamedTuple

from netcore.protocols.framing import Frame

DEFAULT_MAX_BYTES: Final = 32 * 1024 * 1024
DEFAULT_MAX_CHUNKS: Final = 200_000


class Direction(StrEnum):
    SENT = "sent"
    RECEIVED = "received"

    @property
    def arrow(self) -> str:
        return "→" if self is Direction.SENT else "←"


class Mark(StrEnum):
    """A connection event shown among the chunks as a row of its own (a chunk with no bytes)."""

    NONE = ""
    CONNECT = "connect"  # we connected
    ACCEPT = "accept"  # a client connected to our server
    FIN_SENT = "FIN sent"  # shutdown(SHUT_WR): our half close
    FIN_RECEIVED = "FIN received"  # the peer's half close; our replies are still going out
    CLOSED_BY_PEER = "closed by peer"  # recv() returned b"", and we closed too
    CLOSED_HERE = "closed here"
    RESET = "reset"  # RST
    ERROR = "closed on error"


class Chunk(NamedTuple):
    """The bytes of one ``send()`` or ``recv()`` call (one datagram for UDP), or a connection event
    (``mark``, no bytes). Immutable; a named tuple rather than a frozen dataclass because one is made
    per call: it builds 4 times faster."""

    direction: Direction
    data: bytes
    offset: int  # stream offset of data[0] within (conn, direction)
    conn: int  # connection id, unique within one engine
    peer: str  # "127.0.0.1:5000"
    mono_ns: int
    wall: float
    mark: Mark = Mark.NONE

    @property
    def end(self) -> int:
        return self.offset + len(self.data)


def make_chunk(direction: Direction, data: bytes, offset: int, conn: int, peer: str) -> Chunk:
    """A chunk stamped now (monotonic nanoseconds and wall-clock seconds)."""
    return Chunk(direction, data, offset, conn, peer, time.monotonic_ns(), time.time())


def make_mark(mark: Mark, direction: Direction, conn: int, peer: str) -> Chunk:
    """A connection event stamped now, as a chunk with no bytes (*direction*: who acted)."""
    return Chunk(direction, b"", 0, conn, peer, time.monotonic_ns(), time.time(), mark)


# Put in a dropped chunk's slot so its bytes are freed now, not at the next compaction of the list.
_DROPPED: Final = Chunk(Direction.SENT, b"", 0, 0, "", 0, 0.0)


@dataclass(frozen=True, slots=True)
class FrameSpan:
    """Where a decoded frame sits in its stream (no payload copy)."""

    index: int
    start: int
    payload_start: int
    payload_end: int
    end: int

    @classmethod
    def of(cls, frame: Frame) -> FrameSpan:
        return cls(frame.index, frame.start, frame.payload_start, frame.payload_end, frame.end)


@dataclass(slots=True)
class _Lane:
    """Frames of one stream, oldest first, with a head index instead of O(n) pops."""

    starts: list[int] = field(default_factory=list)
    spans: list[FrameSpan] = field(default_factory=list)
    head: int = 0

    def compact(self) -> None:
        if self.head > 1024 and self.head * 2 > len(self.spans):
            del self.starts[: self.head], self.spans[: self.head]
            self.head = 0


class TrafficStore:
    """Chunks in arrival order, bounded in bytes and count; drops the oldest and says how many."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_chunks: int = DEFAULT_MAX_CHUNKS) -> None:
        self.max_bytes, self.max_chunks = max_bytes, max_chunks
        self.epoch = 0  # counts clear() calls, so views can tell a clear from dropping
        self.clear()

    def clear(self) -> None:
        self.epoch += 1
        self.session = 0  # chunks and frames added from now on belong to this session
        self._chunks: list[Chunk] = []
        self._starts: list[int] = []  # display position of each chunk
        self._head = 0
        self._first_seq = 0  # sequence number of _chunks[_head]
        self._end = 0  # display position one past the newest byte
        self._bytes = 0
        self._marks = 0  # stored chunks that are connection events (no bytes)
        self._sessions: list[int] = []  # the session of each chunk
        self._lanes: dict[tuple[int, int, Direction], _Lane] = {}
        self._frames = 0
        self.dropped_chunks = 0
        self.dropped_bytes = 0

    # -- adding ---------------------------------------------------------------------------------
    def begin_session(self) -> None:
        """What comes next is from new connections (a new engine), whatever their ids."""
        self.session += 1

    def append(self, chunk: Chunk, frames: Iterable[Frame] = ()) -> None:
        self._chunks.append(chunk)
        self._sessions.append(self.session)
        self._starts.append(self._end)
        self._end += len(chunk.data)
        self._bytes += len(chunk.data)
        self._marks += chunk.mark is not Mark.NONE
        self.add_frames(chunk.conn, chunk.direction, frames)
        self._enforce_bounds()

    def add_frames(self, conn: int, direction: Direction, frames: Iterable[Frame]) -> None:
        """Frames of connection *conn* of the current session."""
        key = (self.session, conn, direction)
        lane = self._lanes.get(key)
        for frame in frames:
            if lane is None:
                lane = self._lanes[key] = _Lane()
            lane.starts.append(frame.start)
            lane.spans.append(FrameSpan.of(frame))
            self._frames += 1

    def _enforce_bounds(self) -> None:
        while len(self) > 1 and (self._bytes > self.max_bytes or len(self) > self.max_chunks):
            self._drop_oldest()
        while self._frames > self.max_chunks:
            lane = max(self._lanes.values(), key=lambda ln: len(ln.spans) - ln.head)
            lane.head += 1
            self._frames -= 1
            lane.compact()
        if self._head > 1024 and self._head * 2 > len(self._chunks):
            del self._chunks[: self._head], self._starts[: self._head], self._sessions[: self._head]
            self._head = 0

    def _drop_oldest(self) -> None:
        chunk, session = self._chunks[self._head], self._sessions[self._head]
        self._chunks[self._head] = _DROPPED
        self._head += 1
        self._first_seq += 1
        self._bytes -= len(chunk.data)
        self._marks -= chunk.mark is not Mark.NONE
        self.dropped_chunks += 1
        self.dropped_bytes += len(chunk.data)
        key = (session, chunk.conn, chunk.direction)
        lane = self._lanes.get(key)
        if lane is not None:
            while lane.head < len(lane.spans) and lane.spans[lane.head].end <= chunk.end:
                lane.head += 1
                self._frames -= 1
            lane.compact()
            if lane.head == len(lane.spans) and session != self.session:
                del self._lanes[key]  # an earlier session's stream with no frame left

    # -- reading --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._chunks) - self._head

    @property
    def first_seq(self) -> int:
        """Sequence number of the oldest chunk still stored (the count of chunks ever dropped)."""
        return self._first_seq

    @property
    def byte_count(self) -> int:
        return self._bytes

    @property
    def data_chunk_count(self) -> int:
        """Stored chunks that carry bytes (connection-event rows not counted)."""
        return len(self) - self._marks

    @property
    def base(self) -> int:
        """Display position of the oldest stored byte."""
        return self._starts[self._head] if len(self) else self._end

    @property
    def end(self) -> int:
        return self._end

    def chunk(self, row: int) -> Chunk:
        """The *row*-th stored chunk (0 = oldest still stored)."""
        return self._chunks[self._head + row]

    def chunk_start(self, row: int) -> int:
        """Display position of the *row*-th stored chunk."""
        return self._starts[self._head + row]

    def row_at(self, pos: int) -> int:
        """Row of the chunk that holds display position *pos* (base ≤ pos < end)."""
        return bisect.bisect_right(self._starts, pos, self._head) - 1 - self._head

    def read(self, pos: int, size: int) -> bytes:
        """Up to *size* bytes from display position *pos*, across chunk boundaries."""
        pos = max(pos, self.base)
        out = bytearray()
        row = self.row_at(pos)
        while size > 0 and 0 <= row < len(self):
            chunk, start = self.chunk(row), self.chunk_start(row)
            piece = chunk.data[pos - start : pos - start + size]
            out += piece
            size -= len(piece)
            pos += len(piece)
            row += 1
        return bytes(out)

    def frame_of(self, row: int, stream_offset: int) -> FrameSpan | None:
        """The decoded frame that contains *stream_offset* of the *row*-th chunk's stream, if any."""
        chunk = self.chunk(row)
        return self.frame_at(chunk.conn, chunk.direction, stream_offset, self._sessions[self._head + row])

    def frame_at(
        self, conn: int, direction: Direction, stream_offset: int, session: int | None = None
    ) -> FrameSpan | None:
        """The decoded frame that contains *stream_offset* of the stream (of the current session
        unless *session* is given), if any is stored."""
        lane = self._lanes.get((self.session if session is None else session, conn, direction))
        if lane is None:
            return None
        i = bisect.bisect_right(lane.starts, stream_offset, lane.head) - 1
        if i < lane.head:
            return None
        span = lane.spans[i]
        return span if span.start <= stream_offset < span.end else None

    def frame_count(self) -> int:
        return self._frames

    def snapshot(self) -> TrafficStore:
        """A copy that later appends and drops leave alone (what a paused view shows): the same
        chunks (shared: they are immutable), numbering, display positions and frames. It costs a
        reference per chunk and frame, within the same bounds."""
        copy = TrafficStore(self.max_bytes, self.max_chunks)
        copy.epoch, copy.session = self.epoch, self.session
        copy._chunks = self._chunks[self._head :]
        copy._starts = self._starts[self._head :]
        copy._sessions = self._sessions[self._head :]
        copy._first_seq, copy._end, copy._bytes, copy._marks = (
            self._first_seq,
            self._end,
            self._bytes,
            self._marks,
        )
        copy._lanes = {
            key: _Lane(lane.starts[lane.head :], lane.spans[lane.head :]) for key, lane in self._lanes.items()
        }
        copy._frames = self._frames
        copy.dropped_chunks, copy.dropped_bytes = self.dropped_chunks, self.dropped_bytes
        return copy

    def only(self, keep: Callable[[Chunk], bool]) -> TrafficStore:
        """A new store, with the same bounds, of the stored chunks *keep* accepts (one connection's,
        one direction's...), and the frames of their streams."""
        kept = TrafficStore(self.max_bytes, self.max_chunks)
        streams: set[tuple[int, int, Direction]] = set()
        for row in range(len(self)):
            chunk = self.chunk(row)
            if keep(chunk):
                kept.session = self._sessions[self._head + row]  # the chunk stays in its session
                kept.append(chunk)
                streams.add((kept.session, chunk.conn, chunk.direction))
        kept.session = self.session
        for stream, lane in self._lanes.items():
            if stream in streams:
                spans = lane.spans[lane.head :]
                kept._lanes[stream] = _Lane([s.start for s in spans], list(spans))
                kept._frames += len(spans)
        return kept

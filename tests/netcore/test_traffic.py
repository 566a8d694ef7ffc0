"""Tests of the bounded traffic store in netcore.model.traffic."""

from __future__ import annotations

import itertools
import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcore.model.traffic import Chunk, Direction, FrameSpan, Mark, TrafficStore, make_chunk, make_mark
from netcore.protocols.framing import Frame, LengthPrefixCodec

HYPOTHESIS = settings(max_examples=200, deadline=None)
SENT, RECEIVED = Direction.SENT, Direction.RECEIVED


def chunk(direction: Direction, data: bytes, offset: int, conn: int = 1) -> Chunk:
    return Chunk(direction, data, offset, conn, "127.0.0.1:5000", 0, 0.0)


class Streams:
    """Builds chunks with correct stream offsets per (conn, direction)."""

    def __init__(self) -> None:
        self.offsets: dict[tuple[int, Direction], int] = {}

    def next(self, direction: Direction, data: bytes, conn: int = 1) -> Chunk:
        key = (conn, direction)
        offset = self.offsets.get(key, 0)
        self.offsets[key] = offset + len(data)
        return chunk(direction, data, offset, conn)


# -- basics -------------------------------------------------------------------------------------
def test_direction_and_chunk() -> None:
    assert SENT.arrow == "→" and RECEIVED.arrow == "←"
    assert Direction("sent") is SENT
    c = chunk(SENT, b"hello", 10)
    assert c.end == 15
    with pytest.raises(AttributeError):  # immutable
        c.data = b"x"  # type: ignore[misc]


def test_make_chunk_stamps_the_time() -> None:
    before_mono, before_wall = time.monotonic_ns(), time.time()
    c = make_chunk(RECEIVED, b"abc", 7, 3, "[::1]:80")
    after_mono, after_wall = time.monotonic_ns(), time.time()
    assert (c.direction, c.data, c.offset, c.conn, c.peer) == (RECEIVED, b"abc", 7, 3, "[::1]:80")
    assert before_mono <= c.mono_ns <= after_mono
    assert before_wall <= c.wall <= after_wall


def test_read_across_chunks_of_both_directions() -> None:
    store, s = TrafficStore(), Streams()
    store.append(s.next(SENT, b"hello "))
    store.append(s.next(RECEIVED, b"HELLO"))
    store.append(s.next(SENT, b"world"))
    assert len(store) == 3
    assert (store.base, store.end, store.byte_count, store.first_seq) == (0, 16, 16, 0)
    assert store.read(0, 16) == b"hello HELLOworld"
    assert store.read(0, 1000) == b"hello HELLOworld"
    assert store.read(4, 5) == b"o HEL"
    assert store.read(3, 10) == b"lo HELLOwo"
    assert store.read(6, 5) == b"HELLO"
    assert store.read(15, 5) == b"d"
    assert store.read(16, 5) == b""
    assert store.read(3, 0) == b""
    assert [store.chunk_start(r) for r in range(3)] == [0, 6, 11]
    assert store.chunk(1).direction is RECEIVED and store.chunk(2).offset == 6
    expected_rows = [0] * 6 + [1] * 5 + [2] * 5
    assert [store.row_at(pos) for pos in range(16)] == expected_rows


def test_empty_store() -> None:
    store = TrafficStore()
    assert len(store) == 0
    assert (store.base, store.end, store.byte_count, store.first_seq) == (0, 0, 0, 0)
    assert store.read(0, 10) == b""
    assert store.frame_at(1, SENT, 0) is None
    assert store.frame_count() == 0


# -- bounds -------------------------------------------------------------------------------------
def test_byte_bound_drops_the_oldest_and_counts_exactly() -> None:
    store = TrafficStore(max_bytes=10)
    store.append(chunk(SENT, b"aaaa", 0))
    store.append(chunk(RECEIVED, b"bbbb", 0))
    assert (len(store), store.dropped_chunks, store.dropped_bytes) == (2, 0, 0)
    store.append(chunk(SENT, b"cccc", 4))  # 12 bytes > 10: the oldest goes
    assert (len(store), store.byte_count, store.dropped_chunks, store.dropped_bytes) == (2, 8, 1, 4)
    assert (store.base, store.end, store.first_seq) == (4, 12, 1)
    assert store.chunk(0).data == b"bbbb" and store.chunk_start(0) == 4
    assert store.read(4, 100) == b"bbbbcccc"
    assert store.row_at(4) == 0 and store.row_at(11) == 1
    assert store.read(0, 6) == b"bbbbcc"  # positions before base are gone: reading starts at base

    store.append(chunk(SENT, b"d" * 30, 8))  # bigger than the bound: it alone stays
    assert (len(store), store.byte_count, store.dropped_chunks, store.dropped_bytes) == (1, 30, 3, 12)
    assert (store.base, store.end, store.first_seq) == (12, 42, 3)
    assert store.read(12, 100) == b"d" * 30

    store.append(chunk(SENT, b"e", 38))
    assert (len(store), store.byte_count, store.dropped_chunks, store.dropped_bytes) == (1, 1, 4, 42)
    assert (store.base, store.end, store.first_seq) == (42, 43, 4)


def test_chunk_count_bound() -> None:
    store = TrafficStore(max_bytes=10**6, max_chunks=3)
    for i in range(5):
        store.append(chunk(SENT, bytes([65 + i]) * (i + 1), i * (i + 1) // 2))
    assert len(store) == 3
    assert (store.dropped_chunks, store.dropped_bytes, store.first_seq) == (2, 3, 2)
    assert store.base == 3 and store.end == 15
    assert store.read(store.base, 100) == b"CCCDDDDEEEEE"
    assert [store.chunk(r).data[:1] for r in range(3)] == [b"C", b"D", b"E"]


def test_many_drops_past_internal_compaction() -> None:
    store, s = TrafficStore(max_bytes=10**9, max_chunks=10), Streams()
    for i in range(5000):
        store.append(s.next(SENT if i % 2 else RECEIVED, i.to_bytes(4, "big")))
    assert len(store) == 10
    assert (store.first_seq, store.dropped_chunks, store.dropped_bytes) == (4990, 4990, 4990 * 4)
    assert (store.base, store.end) == (4990 * 4, 5000 * 4)
    for row in range(10):
        assert store.chunk(row).data == (4990 + row).to_bytes(4, "big")
        assert store.chunk_start(row) == (4990 + row) * 4
        assert store.row_at((4990 + row) * 4 + 3) == row
    assert store.read(store.base + 2, 8) == b"".join(i.to_bytes(4, "big") for i in range(4990, 4993))[2:10]


def test_clear() -> None:
    store = TrafficStore(max_bytes=4)
    store.append(chunk(SENT, b"abc", 0), [Frame(0, b"abc", 0, 0, 3, 3)])
    store.append(chunk(SENT, b"def", 3))
    store.clear()
    assert (len(store), store.byte_count, store.dropped_chunks, store.dropped_bytes) == (0, 0, 0, 0)
    assert (store.base, store.end, store.first_seq, store.frame_count()) == (0, 0, 0, 0)


@HYPOTHESIS
@given(
    sizes=st.lists(st.integers(1, 40), max_size=60),
    max_bytes=st.integers(1, 100),
    max_chunks=st.integers(1, 8),
)
def test_bounds_match_a_simple_model(sizes: list[int], max_bytes: int, max_chunks: int) -> None:
    store, s = TrafficStore(max_bytes, max_chunks), Streams()
    kept: list[tuple[int, bytes]] = []  # (display position, data)
    end = dropped = dropped_bytes = 0
    for i, size in enumerate(sizes):
        data = bytes([i % 256]) * size
        store.append(s.next(SENT if i % 3 else RECEIVED, data))
        kept.append((end, data))
        end += size
        while len(kept) > 1 and (sum(len(d) for _, d in kept) > max_bytes or len(kept) > max_chunks):
            dropped += 1
            dropped_bytes += len(kept.pop(0)[1])
        assert len(store) == len(kept)
        assert store.byte_count == sum(len(d) for _, d in kept) <= max(max_bytes, size)
        assert (store.dropped_chunks, store.dropped_bytes) == (dropped, dropped_bytes)
        assert store.first_seq == dropped
        assert store.end == end
        assert store.base == kept[0][0]
    assert store.read(store.base, 10**6) == b"".join(d for _, d in kept)
    for row, (start, data) in enumerate(kept):
        assert store.chunk_start(row) == start
        assert store.chunk(row).data == data
        assert store.row_at(start) == row
        assert store.row_at(start + len(data) - 1) == row
        assert (
            store.read(start + len(data) // 2, 3)
            == b"".join(d for _, d in kept)[
                start - store.base + len(data) // 2 : start - store.base + len(data) // 2 + 3
            ]
        )


# -- frames -------------------------------------------------------------------------------------
def _framed_chunks(payloads: list[bytes], cuts: list[int]) -> tuple[bytes, list[tuple[bytes, list[Frame]]]]:
    """Encode *payloads* with a 2-byte length prefix, cut the stream and decode each piece."""
    codec = LengthPrefixCodec(2)
    stream = b"".join(codec.encode(p) for p in payloads)
    points = [0, *cuts, len(stream)]
    decoder = LengthPrefixCodec(2)
    pieces = []
    for a, b in itertools.pairwise(points):
        events = decoder.feed(stream[a:b])
        pieces.append((stream[a:b], [e for e in events if isinstance(e, Frame)]))
    return stream, pieces


def test_frames_are_found_by_stream_offset() -> None:
    # frame 0 = [0, 7): prefix [0, 2), payload "hello" [2, 7); frame 1 = [7, 14) "world";
    # frame 2 = [14, 17) "!"
    stream, pieces = _framed_chunks([b"hello", b"world", b"!"], [10])
    assert [len(frames) for _, frames in pieces] == [1, 2]  # frame 1 spans both chunks
    store, s = TrafficStore(), Streams()
    store.append(s.next(SENT, b"unrelated"))  # another direction and position in the display
    for data, frames in pieces:
        store.append(s.next(RECEIVED, data), frames)
    assert store.frame_count() == 3

    for offset in range(len(stream)):
        span = store.frame_at(1, RECEIVED, offset)
        assert span is not None
        index = 0 if offset < 7 else 1 if offset < 14 else 2
        assert span.index == index
        assert span.start <= offset < span.end
    assert store.frame_at(1, RECEIVED, 0) == FrameSpan(0, 0, 2, 7, 7)  # a header byte
    assert store.frame_at(1, RECEIVED, 5) == FrameSpan(0, 0, 2, 7, 7)  # a payload byte
    assert store.frame_at(1, RECEIVED, 8) == FrameSpan(1, 7, 9, 14, 14)  # header of the spanning frame
    assert store.frame_at(1, RECEIVED, 12) == FrameSpan(1, 7, 9, 14, 14)  # its payload, in the 2nd chunk
    assert store.frame_at(1, RECEIVED, len(stream)) is None
    assert store.frame_at(1, SENT, 0) is None
    assert store.frame_at(2, RECEIVED, 0) is None


def test_partial_frame_bytes_have_no_frame() -> None:
    stream, pieces = _framed_chunks([b"abc", b"defgh"], [7])  # the second frame is incomplete in chunk 1
    store, s = TrafficStore(), Streams()
    data, frames = pieces[0]
    store.append(s.next(SENT, data), frames)
    assert store.frame_at(1, SENT, 2) is not None
    assert store.frame_at(1, SENT, 5) is None  # received, not yet a frame
    data, frames = pieces[1]
    store.append(s.next(SENT, data), frames)
    assert store.frame_at(1, SENT, 5) == FrameSpan(1, 5, 7, 12, 12)
    assert store.frame_at(1, SENT, len(stream) - 1) == FrameSpan(1, 5, 7, 12, 12)


def test_add_frames_later() -> None:
    store = TrafficStore()
    store.append(chunk(SENT, b"\x00\x01x", 0))
    assert store.frame_at(1, SENT, 1) is None
    store.add_frames(1, SENT, [Frame(0, b"x", 0, 2, 3, 3)])
    assert store.frame_at(1, SENT, 1) == FrameSpan(0, 0, 2, 3, 3)
    assert store.frame_count() == 1


def test_frames_of_a_new_session_never_land_on_an_earlier_connection_with_the_same_id() -> None:
    """Issue 15: reconnecting (a new engine, connection #1 again) with a framing must not draw the
    new connection's frames on the old connection's raw bytes at the same stream offsets."""
    store = TrafficStore()
    store.append(chunk(RECEIVED, b"hello", 0))  # raw: no frames
    store.begin_session()
    store.append(chunk(RECEIVED, b"\x00\x01x", 0), [Frame(0, b"x", 0, 2, 3, 3)])
    assert store.frame_of(0, 0) is None and store.frame_of(0, 2) is None
    assert store.frame_of(1, 0) == FrameSpan(0, 0, 2, 3, 3)
    assert store.frame_at(1, RECEIVED, 1) == FrameSpan(0, 0, 2, 3, 3)  # the current session's
    assert store.frame_at(1, RECEIVED, 1, session=store.session - 1) is None


def test_an_old_sessions_frames_go_with_its_chunks() -> None:
    store = TrafficStore(max_chunks=2)
    store.append(chunk(SENT, b"\x00\x01x", 0), [Frame(0, b"x", 0, 2, 3, 3)])
    store.begin_session()
    store.append(chunk(SENT, b"ab", 0))
    store.append(chunk(SENT, b"cd", 2))
    assert store.frame_count() == 0 and store.frame_of(0, 0) is None


def test_frames_disappear_with_their_chunks() -> None:
    # chunks: [0, 10) holds frame 0 and the start of frame 1; [10, 17) holds the rest; then one more frame
    stream, pieces = _framed_chunks([b"hello", b"world", b"!"], [10])
    store, s = TrafficStore(max_bytes=len(stream)), Streams()
    for data, frames in pieces:
        store.append(s.next(RECEIVED, data), frames)
    other = LengthPrefixCodec(2).encode(b"sent")
    store.append(s.next(SENT, other), LengthPrefixCodec(2).feed(other))  # drops the first received chunk
    assert store.dropped_chunks == 1
    assert store.frame_at(1, RECEIVED, 3) is None  # frame 0 lay wholly in the dropped chunk
    assert store.frame_at(1, RECEIVED, 8) == FrameSpan(1, 7, 9, 14, 14)  # frame 1 still has bytes stored
    assert store.frame_at(1, RECEIVED, 15) == FrameSpan(2, 14, 16, 17, 17)
    assert store.frame_at(1, SENT, 0) is not None
    assert store.frame_count() == 3

    store.append(s.next(SENT, b"x" * len(stream)))  # drops the second received chunk and the sent one
    assert store.dropped_chunks == 3
    assert store.frame_at(1, RECEIVED, 8) is None
    assert store.frame_at(1, RECEIVED, 15) is None
    assert store.frame_at(1, SENT, 0) is None
    assert store.frame_count() == 0


def test_dropping_one_direction_keeps_the_other_directions_frames() -> None:
    store = TrafficStore(max_bytes=8)
    enc = LengthPrefixCodec(2).encode
    store.append(chunk(SENT, enc(b"ab"), 0), [Frame(0, b"ab", 0, 2, 4, 4)])
    store.append(chunk(RECEIVED, enc(b"cd"), 0), [Frame(0, b"cd", 0, 2, 4, 4)])
    store.append(chunk(RECEIVED, enc(b"ef"), 4), [Frame(1, b"ef", 4, 6, 8, 8)])  # drops the SENT chunk
    assert store.frame_at(1, SENT, 0) is None
    assert store.frame_at(1, RECEIVED, 0) == FrameSpan(0, 0, 2, 4, 4)
    assert store.frame_at(1, RECEIVED, 5) == FrameSpan(1, 4, 6, 8, 8)
    assert store.frame_count() == 2


def test_frame_count_is_bounded() -> None:
    store = TrafficStore(max_bytes=10**9, max_chunks=50)
    for i in range(200):  # one chunk with many tiny frames each time
        frames = []
        for k in range(4):
            start = 8 * i + 2 * k
            frames.append(Frame(4 * i + k, b"", start, start + 2, start + 2, start + 2))
        store.append(chunk(SENT, b"\x00\x00" * 4, 8 * i), frames)
        assert store.frame_count() <= 50
    assert store.frame_at(1, SENT, 8 * 199) == FrameSpan(796, 8 * 199, 8 * 199 + 2, 8 * 199 + 2, 8 * 199 + 2)
    assert store.frame_at(1, SENT, 0) is None


# -- memory -------------------------------------------------------------------------------------
def test_memory_stays_bounded_under_a_flood() -> None:
    max_bytes, size = 1024 * 1024, 64 * 1024
    store = TrafficStore(max_bytes=max_bytes)
    codec = LengthPrefixCodec(4)
    offset = 0
    tracemalloc.start()
    try:
        for _ in range(200 * 1024 * 1024 // size):  # 200 MiB in 64 KiB chunks
            data = (size - 4).to_bytes(4, "big") + bytes(size - 4)  # one frame; a fresh object, like recv()
            store.append(make_chunk(RECEIVED, data, offset, 1, "peer"), codec.feed(data))
            offset += size
            assert store.byte_count <= max_bytes + size
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert store.end == offset == 200 * 1024 * 1024
    assert store.dropped_bytes == offset - store.byte_count
    assert store.dropped_chunks == offset // size - len(store)
    # Dropped chunks must be released, not just uncounted: only about max_bytes may stay alive.
    assert peak < 2 * max_bytes + 4 * size, f"peak {peak / 2**20:.1f} MiB for a 1 MiB store"
    assert current < 2 * max_bytes + 2 * size


def test_connection_event_rows_are_not_counted_as_chunks_even_as_they_are_dropped():
    store = TrafficStore(max_bytes=1000, max_chunks=3)
    store.append(make_mark(Mark.ACCEPT, Direction.RECEIVED, 1, "127.0.0.1:5000"))
    store.append(make_chunk(Direction.RECEIVED, b"x", 0, 1, "127.0.0.1:5000"))
    assert (len(store), store.data_chunk_count) == (2, 1)
    store.append(make_chunk(Direction.SENT, b"y", 0, 1, "127.0.0.1:5000"))
    store.append(make_mark(Mark.CLOSED_BY_PEER, Direction.RECEIVED, 1, "127.0.0.1:5000"))  # drops the accept
    assert (len(store), store.dropped_chunks, store.data_chunk_count) == (3, 1, 2)
    store.append(make_chunk(Direction.RECEIVED, b"z", 1, 1, "127.0.0.1:5000"))  # drops "x"
    assert (len(store), store.data_chunk_count) == (3, 2)
    only = store.only(lambda chunk: chunk.direction is Direction.RECEIVED)
    assert (len(only), only.data_chunk_count) == (2, 1)


def test_snapshot_stays_as_it_was_while_the_store_goes_on() -> None:
    store = TrafficStore(max_bytes=10)
    store.append(make_chunk(Direction.SENT, b"abcd", 0, 1, "p"))
    store.append(make_chunk(Direction.RECEIVED, b"efgh", 0, 1, "p"))
    frozen = store.snapshot()
    store.append(make_chunk(Direction.SENT, b"ijkl", 4, 1, "p"))  # drops the oldest
    assert store.first_seq == 1 and len(store) == 2
    assert (frozen.first_seq, len(frozen), frozen.base, frozen.end) == (0, 2, 0, 8)
    assert frozen.read(0, 100) == b"abcdefgh" and frozen.epoch == store.epoch

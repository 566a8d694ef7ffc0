"""UDP probe bookkeeping without sockets (netcore.protocols.probe): the wire format, and every way a reply can
be classified (on time, late, duplicate, unknown, reordered) with exact counts and sequence lists.

Times are chosen by the test (nanoseconds as integers), so every figure is known exactly.
"""

from __future__ import annotations

import itertools
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcore.errors import LocalProtocolError
from netcore.protocols.probe import (
    MAGIC,
    MIN_PROBE_SIZE,
    ProbeStats,
    ProbeTracker,
    ReplyStatus,
    decode_probe,
    encode_probe,
)

MS = 1_000_000  # nanoseconds per millisecond
T0 = 1_000_000 * MS  # an arbitrary start, far from zero


def sent_tracker(count: int, timeout_s: float = 1.0, interval_ms: int = 10) -> ProbeTracker:
    """A tracker that sent seq 0..count-1, one every *interval_ms* from T0."""
    tracker = ProbeTracker(timeout_s)
    for seq in range(count):
        tracker.on_sent(seq, T0 + seq * interval_ms * MS)
    return tracker


def sent_at(seq: int, interval_ms: int = 10) -> int:
    return T0 + seq * interval_ms * MS


def assert_accounted(stats: ProbeStats) -> None:
    """Every probe sent is exactly one of: received, late, lost, pending."""
    assert stats.sent == stats.received + stats.late + stats.lost + stats.pending


# -- wire format --------------------------------------------------------------------------------
def test_encode_decode_round_trip():
    probe = encode_probe(7, 123_456_789)
    assert len(probe) == MIN_PROBE_SIZE == 34
    assert probe == b"SLPROBE1:00000007:00000000075BCD15"
    assert probe.startswith(MAGIC)
    assert decode_probe(probe) == (7, 123_456_789)


@pytest.mark.parametrize("size", [34, 35, 100, 1472, 65_507])
def test_encode_pads_to_the_size_asked(size):
    probe = encode_probe(1, 2, size)
    assert len(probe) == size
    assert probe[MIN_PROBE_SIZE:] == b"." * (size - MIN_PROBE_SIZE)
    assert decode_probe(probe) == (1, 2)


def test_encode_keeps_32_bit_seq_and_64_bit_time():
    probe = encode_probe(2**32 + 5, 2**64 + 9)
    assert decode_probe(probe) == (5, 9)
    assert decode_probe(encode_probe(2**32 - 1, 2**64 - 1)) == (2**32 - 1, 2**64 - 1)


def test_decode_survives_an_upper_case_echo_and_a_prefix():
    probe = encode_probe(0xABCD, 0xDEADBEEF, 64)
    assert decode_probe(probe.upper()) == (0xABCD, 0xDEADBEEF)
    assert decode_probe(b"echo: " + probe) == (0xABCD, 0xDEADBEEF)
    assert decode_probe(b"ECHO: " + probe.upper()) == (0xABCD, 0xDEADBEEF)


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"hello",
        b"SLPROBE1",
        b"SLPROBE1:0000000:0000000000000000",  # 7 hex digits of seq
        b"SLPROBE1:00000001:000000000000000",  # 15 hex digits of time
        b"slprobe1:00000001:0000000000000002",  # a lower-case echo breaks the magic
        b"SLPROBE2:00000001:0000000000000002",
        bytes(range(256)),
    ],
)
def test_decode_of_garbage_is_none(garbage):
    assert decode_probe(garbage) is None


@pytest.mark.parametrize("size", [0, 1, 20, 33])
def test_size_under_34_is_refused(size):
    with pytest.raises(LocalProtocolError, match="at least 34 bytes"):
        encode_probe(1, 2, size)


# -- classification -----------------------------------------------------------------------------
def test_every_reply_on_time_in_order():
    tracker = sent_tracker(5)
    for seq in range(5):
        status, rtt = tracker.on_reply(seq, sent_at(seq) + 3 * MS)
        assert status is ReplyStatus.ON_TIME and rtt == pytest.approx(3.0)
    stats = tracker.stats(sent_at(4) + 10_000 * MS)
    assert (stats.sent, stats.received, stats.lost, stats.late, stats.pending) == (5, 5, 0, 0, 0)
    assert (stats.duplicates, stats.reordered, stats.unknown) == (0, 0, 0)
    assert stats.lost_seqs == stats.duplicate_seqs == stats.reordered_seqs == stats.late_seqs == ()
    assert stats.loss_percent == 0.0
    assert_accounted(stats)


def test_chosen_drops_duplicates_reorders_late_and_unknown():
    """10 probes: 3 and 7 dropped, 5 answered twice, 9 answered before 8, 2 answered late, 1 stray."""
    tracker = sent_tracker(10, timeout_s=0.5)
    schedule = [  # (seq, received at ms after T0); arrival order
        (0, 5),
        (1, 15),
        (4, 45),
        (5, 55),
        (5, 56),  # duplicate
        (6, 65),
        (9, 95),
        (8, 96),  # lower than 9, already seen: reordered
        (2, 600),  # sent at 20 ms, answered 580 ms later: late (timeout 500 ms), and after 9: reordered
        (42, 601),  # never sent: unknown
    ]
    statuses = [tracker.on_reply(seq, T0 + at * MS)[0] for seq, at in schedule]
    tracker.on_unknown()  # a datagram that is not a probe at all
    assert statuses == [
        ReplyStatus.ON_TIME,
        ReplyStatus.ON_TIME,
        ReplyStatus.ON_TIME,
        ReplyStatus.ON_TIME,
        ReplyStatus.DUPLICATE,
        ReplyStatus.ON_TIME,
        ReplyStatus.ON_TIME,
        ReplyStatus.ON_TIME,
        ReplyStatus.LATE,
        ReplyStatus.UNKNOWN,
    ]
    stats = tracker.stats(T0 + 2_000 * MS)
    assert stats.sent == 10
    assert stats.received == 7  # 0 1 4 5 6 8 9
    assert stats.lost_seqs == (3, 7) and stats.lost == 2
    assert stats.late_seqs == (2,) and stats.late == 1
    assert stats.duplicate_seqs == (5,) and stats.duplicates == 1
    assert stats.reordered_seqs == (8, 2) and stats.reordered == 2
    assert stats.unknown == 2
    assert stats.pending == 0
    assert stats.loss_percent == pytest.approx(20.0)
    assert_accounted(stats)


def test_a_late_reply_is_late_never_also_lost():
    tracker = sent_tracker(1, timeout_s=0.1)
    # Before the reply: past the timeout, it counts as lost...
    assert tracker.stats(T0 + 150 * MS).lost_seqs == (0,)
    status, rtt = tracker.on_reply(0, T0 + 200 * MS)
    assert status is ReplyStatus.LATE and rtt == pytest.approx(200.0)
    # ...once the late reply came, it is late and no longer lost.
    stats = tracker.stats(T0 + 300 * MS)
    assert (stats.lost, stats.late, stats.received, stats.pending) == (0, 1, 0, 0)
    assert stats.lost_seqs == () and stats.late_seqs == (0,)
    assert stats.rtt_min_ms is None  # a late round trip is not in the statistics
    assert_accounted(stats)


def test_a_duplicate_of_a_late_reply_is_a_duplicate():
    tracker = sent_tracker(1, timeout_s=0.1)
    assert tracker.on_reply(0, T0 + 200 * MS)[0] is ReplyStatus.LATE
    assert tracker.on_reply(0, T0 + 201 * MS) == (ReplyStatus.DUPLICATE, None)
    stats = tracker.stats(T0 + 300 * MS)
    assert stats.late_seqs == (0,) and stats.duplicate_seqs == (0,)


def test_reply_exactly_at_the_timeout_is_on_time():
    tracker = sent_tracker(1, timeout_s=0.1)
    assert tracker.on_reply(0, T0 + 100 * MS)[0] is ReplyStatus.ON_TIME


def test_unknown_replies_are_counted_not_classified():
    tracker = sent_tracker(2)
    assert tracker.on_reply(99, T0) == (ReplyStatus.UNKNOWN, None)
    assert tracker.on_reply(-1, T0) == (ReplyStatus.UNKNOWN, None)
    tracker.on_unknown()
    stats = tracker.stats(T0)
    assert stats.unknown == 3
    assert (stats.received, stats.duplicates, stats.reordered) == (0, 0, 0)


def test_a_reply_to_another_runs_probe_of_the_same_number_is_unknown():
    """The reply carries its probe's send time: a stale reply from an earlier run does not count."""
    tracker = sent_tracker(2)
    stale = decode_probe(encode_probe(0, sent_at(0) - 5_000 * MS))
    assert stale is not None
    assert tracker.on_reply(stale[0], sent_at(0) + MS, stale[1]) == (ReplyStatus.UNKNOWN, None)
    fresh = decode_probe(encode_probe(0, sent_at(0)))
    assert fresh is not None
    assert tracker.on_reply(fresh[0], sent_at(0) + 2 * MS, fresh[1]) == (ReplyStatus.ON_TIME, 2.0)
    stats = tracker.stats(sent_at(1) + MS)
    assert (stats.unknown, stats.received, stats.pending, stats.duplicates) == (1, 1, 1, 0)


def test_pending_becomes_lost_when_its_timeout_passes():
    tracker = sent_tracker(3, timeout_s=0.1, interval_ms=50)  # sent at 0, 50, 100 ms
    tracker.on_reply(1, T0 + 60 * MS)
    assert not tracker.all_settled(T0 + 60 * MS)
    at_60 = tracker.stats(T0 + 60 * MS)
    assert (at_60.received, at_60.pending, at_60.lost) == (1, 2, 0)
    at_100 = tracker.stats(T0 + 100 * MS)  # exactly at seq 0's timeout: still pending
    assert (at_100.pending, at_100.lost) == (2, 0)
    at_101 = tracker.stats(T0 + 101 * MS)
    assert at_101.lost_seqs == (0,) and at_101.pending == 1
    assert not tracker.all_settled(T0 + 150 * MS)
    at_201 = tracker.stats(T0 + 201 * MS)
    assert at_201.lost_seqs == (0, 2) and at_201.pending == 0
    assert tracker.all_settled(T0 + 201 * MS)
    for stats in (at_60, at_100, at_101, at_201):
        assert_accounted(stats)


def test_nothing_sent():
    stats = ProbeTracker(1.0).stats(T0)
    assert stats.sent == 0 and stats.loss_percent == 0.0
    assert stats.rtt_min_ms is stats.rtt_p99_ms is stats.jitter_ms is None
    assert ProbeTracker(1.0).all_settled(T0)


# -- round-trip statistics ----------------------------------------------------------------------
def test_rtt_statistics_from_known_times():
    rtts = [10, 20, 15, 30, 25]  # ms, in arrival order
    tracker = sent_tracker(len(rtts), interval_ms=100)
    for seq, rtt in enumerate(rtts):
        assert tracker.on_reply(seq, sent_at(seq, 100) + rtt * MS)[1] == pytest.approx(rtt)
    stats = tracker.stats(T0 + 10_000 * MS)
    assert stats.rtt_min_ms == pytest.approx(10)
    assert stats.rtt_max_ms == pytest.approx(30)
    assert stats.rtt_avg_ms == pytest.approx(20)
    assert stats.rtt_p50_ms == pytest.approx(20)
    assert stats.rtt_p99_ms == pytest.approx(30)
    assert stats.jitter_ms == pytest.approx((10 + 5 + 15 + 5) / 4)  # |20-10| |15-20| |30-15| |25-30|


def test_rtt_percentiles_of_101_replies():
    rtts = list(range(1, 102))  # 1..101 ms
    tracker = sent_tracker(len(rtts), interval_ms=200)
    order = list(reversed(range(len(rtts))))  # arrival order does not change percentiles
    for seq in order:  # replies arrive in reverse: 100 of them are reordered
        tracker.on_reply(seq, sent_at(seq, 200) + rtts[seq] * MS)
    stats = tracker.stats(T0 + 100_000 * MS)
    assert stats.rtt_min_ms == pytest.approx(1)
    assert stats.rtt_p50_ms == pytest.approx(51)
    assert stats.rtt_p99_ms == pytest.approx(100)
    assert stats.rtt_max_ms == pytest.approx(101)
    assert stats.rtt_avg_ms == pytest.approx(51)
    assert stats.jitter_ms == pytest.approx(1.0)  # consecutive arrivals differ by 1 ms
    assert stats.reordered == 100 and stats.reordered_seqs == tuple(range(99, -1, -1))


def test_single_reply_has_no_jitter():
    tracker = sent_tracker(1)
    tracker.on_reply(0, T0 + 7 * MS)
    stats = tracker.stats(T0 + 7 * MS)
    assert stats.rtt_min_ms == stats.rtt_max_ms == stats.rtt_p50_ms == stats.rtt_p99_ms == pytest.approx(7)
    assert stats.jitter_ms is None


def test_late_and_duplicate_round_trips_are_not_in_the_statistics():
    tracker = sent_tracker(3, timeout_s=0.05)
    tracker.on_reply(0, sent_at(0) + 4 * MS)
    tracker.on_reply(0, sent_at(0) + 900 * MS)  # duplicate
    tracker.on_reply(1, sent_at(1) + 8 * MS)
    tracker.on_reply(2, sent_at(2) + 80 * MS)  # late
    stats = tracker.stats(T0 + 10_000 * MS)
    assert stats.received == 2
    assert (stats.rtt_min_ms, stats.rtt_max_ms, stats.rtt_avg_ms) == pytest.approx((4, 8, 6))
    assert stats.jitter_ms == pytest.approx(4)


# -- random schedules against a reference ------------------------------------------------------
reply_schedules = st.tuples(
    st.integers(min_value=0, max_value=30),  # probes sent
    st.lists(  # replies: (seq, delay after its send in ms); seq may be unknown
        st.tuples(st.integers(min_value=0, max_value=35), st.integers(min_value=0, max_value=400)),
        max_size=60,
    ),
    st.integers(min_value=0, max_value=600),  # when stats() is asked, ms after the last send
)


@settings(max_examples=300, deadline=None)
@given(reply_schedules)
def test_random_schedules_match_a_reference(schedule):
    count, replies, ask_after_ms = schedule
    timeout_ms, interval_ms = 100, 10
    tracker = sent_tracker(count, timeout_s=timeout_ms / 1000, interval_ms=interval_ms)
    # Replies arrive in order of their arrival time (stable for equal times).
    arrivals = sorted(
        ((seq, (seq * interval_ms + delay) if seq < count else delay) for seq, delay in replies),
        key=lambda r: r[1],
    )
    for seq, at_ms in arrivals:
        tracker.on_reply(seq, T0 + at_ms * MS)
    now_ms = max([(count - 1) * interval_ms if count else 0, *(at for _, at in arrivals)]) + ask_after_ms
    stats = tracker.stats(T0 + now_ms * MS)

    # The reference: the first reply of a sent seq counts; later ones are duplicates.
    first: dict[int, int] = {}
    duplicates, reordered, unknown = [], [], 0
    highest = -1
    for seq, at_ms in arrivals:
        if seq >= count:
            unknown += 1
        elif seq in first:
            duplicates.append(seq)
        else:
            first[seq] = at_ms
            if seq < highest:
                reordered.append(seq)
            highest = max(highest, seq)
    late = [s for s in first if first[s] - s * interval_ms > timeout_ms]
    on_time = [s for s in first if s not in late]
    unanswered = [s for s in range(count) if s not in first]
    lost = [s for s in unanswered if now_ms - s * interval_ms > timeout_ms]

    assert stats.sent == count
    assert_accounted(stats)
    assert stats.received == len(on_time)
    assert stats.late_seqs == tuple(late)
    assert stats.lost_seqs == tuple(lost)
    assert stats.pending == len(unanswered) - len(lost)
    assert stats.duplicate_seqs == tuple(duplicates) and stats.duplicates == len(duplicates)
    assert stats.reordered_seqs == tuple(reordered) and stats.reordered == len(reordered)
    assert stats.unknown == unknown
    assert not set(stats.late_seqs) & set(stats.lost_seqs)
    rtts = [first[s] - s * interval_ms for s in first if s in on_time]
    if rtts:
        assert stats.rtt_min_ms == pytest.approx(min(rtts))
        assert stats.rtt_max_ms == pytest.approx(max(rtts))
        assert stats.rtt_avg_ms == pytest.approx(statistics.fmean(rtts))
        assert stats.rtt_min_ms <= stats.rtt_p50_ms <= stats.rtt_p99_ms <= stats.rtt_max_ms
    else:
        assert stats.rtt_avg_ms is None
    if len(rtts) > 1:
        in_arrival = [at - s * interval_ms for s, at in first.items() if s in on_time]
        expected = statistics.fmean(abs(b - a) for a, b in itertools.pairwise(in_arrival))
        assert stats.jitter_ms == pytest.approx(expected)
    assert tracker.all_settled(T0 + now_ms * MS) == (stats.pending == 0)

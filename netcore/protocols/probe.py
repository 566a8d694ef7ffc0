"""UDP probe bookkeeping, sans I/O: sequence-numbered datagrams in, ping-like statistics out.

A probe datagram carries a sequence number and its send time, padded to the chosen size. Every
reply is classified exactly once: on time, late (after its timeout: counted as late, not lost),
duplicate, or from an unknown sequence number; a reply whose sequence number is lower than one
already seen is also counted as reordered. Lost = sent and never answered once its timeout passed.
"""

from __future__ import annotations

import itertools
import re
import statistics
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from netcore.errors import LocalProtocolError

MAGIC: Final = b"SLPROBE1"
_PROBE = re.compile(rb"SLPROBE1:([0-9A-F]{8}):([0-9A-F]{16})")
MIN_PROBE_SIZE: Final = 34  # MAGIC:SEQ(8 hex):TIME(16 hex)


def encode_probe(seq: int, sent_ns: int, size: int = MIN_PROBE_SIZE) -> bytes:
    """A probe datagram of *size* bytes (at least 34): ``SLPROBE1:<seq>:<ns>`` in upper-case hex, so
    an UPPER-case or prefixing echo server still returns a readable probe; padded with dots."""
    if size < MIN_PROBE_SIZE:
        raise LocalProtocolError(f"a probe datagram needs at least {MIN_PROBE_SIZE} bytes, not {size}")
    head = b"%s:%08X:%016X" % (MAGIC, seq & 0xFFFFFFFF, sent_ns & 0xFFFFFFFFFFFFFFFF)
    return head + b"." * (size - len(head))


def decode_probe(data: bytes) -> tuple[int, int] | None:
    """(seq, send time ns) of a probe reply, or None if *data* holds none of our probes."""
    match = _PROBE.search(data)
    if match is None:
        return None
    return int(match.group(1), 16), int(match.group(2), 16)


class ReplyStatus(StrEnum):
    ON_TIME = "on time"
    LATE = "late"
    DUPLICATE = "duplicate"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ProbeStats:
    sent: int
    received: int  # answered within the timeout
    lost: int  # never answered, timeout passed
    late: int  # answered after the timeout
    duplicates: int
    reordered: int
    pending: int  # sent, unanswered, timeout not yet passed
    unknown: int  # replies that are not our probes
    rtt_min_ms: float | None
    rtt_avg_ms: float | None
    rtt_max_ms: float | None
    rtt_p50_ms: float | None
    rtt_p99_ms: float | None
    jitter_ms: float | None  # mean |difference| of consecutive round trips (in arrival order)
    lost_seqs: tuple[int, ...]
    duplicate_seqs: tuple[int, ...]
    reordered_seqs: tuple[int, ...]
    late_seqs: tuple[int, ...]

    @property
    def loss_percent(self) -> float:
        return 100.0 * self.lost / self.sent if self.sent else 0.0


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))]


class ProbeTracker:
    """Records sends and replies; ``stats(now_ns)`` summarises them at any moment."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_ns = int(timeout_s * 1e9)
        self._sent: dict[int, int] = {}
        self._answered: set[int] = set()
        self._rtts_ms: list[float] = []
        self._highest = -1
        self._duplicates: list[int] = []
        self._reordered: list[int] = []
        self._late: list[int] = []
        self._unknown = 0

    def on_sent(self, seq: int, sent_ns: int) -> None:
        self._sent[seq] = sent_ns

    def on_reply(
        self, seq: int, received_ns: int, echoed_sent_ns: int | None = None
    ) -> tuple[ReplyStatus, float | None]:
        """Classify one reply; returns its status and round trip in ms (None for duplicates/unknown).

        With *echoed_sent_ns* (the send time the reply carries), a reply to another run's probe of
        the same number counts as unknown.
        """
        sent_ns = self._sent.get(seq)
        if sent_ns is None or (echoed_sent_ns is not None and echoed_sent_ns != sent_ns):
            self._unknown += 1
            return ReplyStatus.UNKNOWN, None
        if seq in self._answered:
            self._duplicates.append(seq)
            return ReplyStatus.DUPLICATE, None
        self._answered.add(seq)
        if seq < self._highest:
            self._reordered.append(seq)
        self._highest = max(self._highest, seq)
        rtt_ms = (received_ns - sent_ns) / 1e6
        if received_ns - sent_ns > self.timeout_ns:
            self._late.append(seq)
            return ReplyStatus.LATE, rtt_ms
        self._rtts_ms.append(rtt_ms)
        return ReplyStatus.ON_TIME, rtt_ms

    def on_unknown(self) -> None:
        self._unknown += 1

    def all_settled(self, now_ns: int) -> bool:
        """Every probe is answered or past its timeout."""
        return all(s in self._answered or now_ns - t > self.timeout_ns for s, t in self._sent.items())

    def stats(self, now_ns: int) -> ProbeStats:
        unanswered = [s for s in self._sent if s not in self._answered]
        lost = sorted(s for s in unanswered if now_ns - self._sent[s] > self.timeout_ns)
        rtts = self._rtts_ms
        ordered = sorted(rtts)
        jitter = statistics.fmean(abs(b - a) for a, b in itertools.pairwise(rtts)) if len(rtts) > 1 else None
        return ProbeStats(
            sent=len(self._sent),
            received=len(rtts),
            lost=len(lost),
            late=len(self._late),
            duplicates=len(self._duplicates),
            reordered=len(self._reordered),
            pending=len(unanswered) - len(lost),
            unknown=self._unknown,
            rtt_min_ms=ordered[0] if ordered else None,
            rtt_avg_ms=statistics.fmean(rtts) if rtts else None,
            rtt_max_ms=ordered[-1] if ordered else None,
            rtt_p50_ms=_percentile(ordered, 0.5) if ordered else None,
            rtt_p99_ms=_percentile(ordered, 0.99) if ordered else None,
            jitter_ms=jitter,
            lost_seqs=tuple(lost),
            duplicate_seqs=tuple(self._duplicates),
            reordered_seqs=tuple(self._reordered),
            late_seqs=tuple(self._late),
        )

"""A packet-sticking (粘包) scenario as data: what is sent and how it is read (``Scenario``), each
``send()``/``recv()`` call, the result, and the verdict as facts the GUI and CLI put into words."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from netcore.errors import InputError, LocalProtocolError
from netcore.protocols.framing import Frame

READY: Final = b"recv_ready"  # announce-and-wait: the receiver's answer to a length


class Cure(StrEnum):
    NONE = "none"
    LENGTH = "length"  # struct.pack("!I", n) + payload
    DELIMITER = "delimiter"
    JSON = "json"  # 4-byte length + JSON header {"data_all": n, "md5": ...} + body
    ANNOUNCE = "announce"  # the course's first cure: send the length, wait for recv_ready, send the data

    @property
    def label(self) -> str:
        return {
            "none": "no framing",
            "length": "length prefix",
            "delimiter": "delimiter",
            "json": "JSON header",
            "announce": "announce and wait",
        }[self.value]


@dataclass(frozen=True, slots=True)
class Scenario:
    messages: tuple[bytes, ...]
    sendall: bool = False  # all messages in one sendall() instead of a send() each
    gap_s: float = 0.0  # pause between the sender's messages
    nodelay: bool = False  # TCP_NODELAY: Nagle's algorithm off
    cure: Cure = Cure.NONE
    delimiter: bytes = b"\n"
    recv_delay_s: float = 0.2  # receiver sleeps before its first recv(): lets bytes pile up
    recv_size: int = 1024
    recv_sizes: tuple[int, ...] = ()  # explicit size of each recv() (then recv_size for the rest)
    recv_gap_s: float = 0.0
    max_recvs: int | None = None  # stop after this many recv() calls (bytes may be left waiting)

    def __post_init__(self) -> None:
        if not self.messages:
            raise InputError("a scenario needs at least one message")
        if self.recv_size < 1 or any(n < 1 for n in self.recv_sizes):
            raise InputError("recv() sizes must be at least 1 byte")
        if self.cure is Cure.DELIMITER and any(self.delimiter in m for m in self.messages):
            raise LocalProtocolError("a message contains the delimiter: the receiver would split it there")


@dataclass(frozen=True, slots=True)
class Call:
    """One send() or recv() call: when (s after the start), where in the stream, what."""

    time: float
    offset: int
    data: bytes
    waiting: int | None = None  # recv only: bytes in the receive buffer just before the call

    @property
    def length(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    scenario: Scenario
    sends: tuple[Call, ...]
    recvs: tuple[Call, ...]
    frames: tuple[Frame, ...]
    waiting_after: int | None  # bytes still unread when the receiver stopped
    segments: int | None  # TCP segments with data the sender emitted (Linux TCP_INFO)
    announce_rtt_ms: float | None  # announce-and-wait: the extra round trip
    facts: Verdict

    @property
    def verdict(self) -> str:
        """The verdict in one English line."""
        return str(self.facts)

    @property
    def segments_note(self) -> str:
        """What TCP_INFO says of the sender's segments, in English."""
        if self.segments is None:
            return "how many TCP segments the sender emitted cannot be known on this system (no TCP_INFO)"
        return (
            f"the sender's TCP emitted {_plural(self.segments, 'segment')} with data for "
            f"{_plural(len(self.sends), 'send() call')}"
        )

    def to_json(self) -> dict[str, Any]:
        def call(c: Call) -> dict[str, Any]:
            item = {"offset": c.offset, "length": c.length, "time": c.time, "hex": c.data.hex()}
            return item if c.waiting is None else item | {"waiting": c.waiting}

        return {
            "sends": [call(c) for c in self.sends],
            "recvs": [call(c) for c in self.recvs],
            "frames": [
                {
                    "offset": f.start,
                    "length": f.end - f.start,
                    "payload_offset": f.payload_start,
                    "payload_length": len(f.payload),
                    "hex": f.payload.hex(),
                    "time": self._frame_time(f),
                }
                for f in self.frames
            ],
            "verdict": self.verdict,
            "segments": self.segments,
            "segments_note": self.segments_note,
            "waiting_after": self.waiting_after,
            "announce_rtt_ms": self.announce_rtt_ms,
        }

    def _frame_time(self, frame: Frame) -> float | None:
        """When the recv() that completed *frame* returned."""
        return next((c.time for c in self.recvs if c.offset + c.length >= frame.end), None)


def _preview(message: bytes) -> str:
    text = message[:20].decode("utf-8", errors="replace")
    return text + ("…" if len(message) > 20 else "")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class VerdictKind(StrEnum):
    CURED = "cured"  # a cure was on: how many messages it recovered
    WAITING = "waiting"  # the receiver stopped with bytes still in its buffer
    SIZED = "sized"  # fixed recv() sizes: each read took what was there
    MERGED = "merged"  # fewer chunks than messages
    SURVIVED = "survived"  # the boundaries happened to survive
    SPLIT = "split"  # more chunks than messages
    SHIFTED = "shifted"  # as many chunks as messages, boundaries inside them


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the receiver saw compared with what was sent, as facts: ``str()`` says it in English,
    the GUI says it in the user's language."""

    kind: VerdictKind
    messages: int
    total: int  # bytes sent
    reads: int  # recv() calls that returned data
    cure: Cure = Cure.NONE
    recovered: int = 0  # messages a cure recovered intact
    waiting: int = 0  # bytes left in the receive buffer
    calls: tuple[tuple[int, int], ...] = ()  # (size asked, bytes returned) of each recv()
    first: str = ""  # the start of the first message

    def __str__(self) -> str:
        kind = self.kind
        if kind is VerdictKind.CURED:
            return (
                f"{self.cure.label}: {self.recovered} of {self.messages} messages recovered"
                f" from {_plural(self.reads, 'recv() chunk')}"
            )
        calls = [f"recv({size}) returned {got:,}" for size, got in self.calls]
        if kind is VerdictKind.WAITING:
            nothing = "" if any(got for _, got in self.calls) else " (nothing read)"
            return (
                f"{self.total:,} bytes sent, {' + '.join(calls)}: "
                f"{self.waiting:,} bytes are still waiting{nothing}"
            )
        if kind is VerdictKind.SIZED:
            return (
                f"{_plural(self.messages, 'message')} ({self.total:,} bytes) sent; {', '.join(calls)}: "
                "each read takes what is there, wherever the messages began and ended"
            )
        head = f"{_plural(self.messages, 'message')} sent, received as {_plural(self.reads, 'chunk')}"
        return (
            head
            + {
                VerdictKind.MERGED: f": the receiver cannot tell where '{self.first}' ends",
                VerdictKind.SURVIVED: ": the boundaries survived this time, but TCP does not promise it",
                VerdictKind.SPLIT: ": messages were split across recv() calls",
                VerdictKind.SHIFTED: ": the chunk boundaries fall inside messages",
            }[kind]
        )


def verdict(
    scenario: Scenario, sends: list[Call], recvs: list[Call], frames: tuple[Frame, ...], waiting: int | None
) -> Verdict:
    """What the receiver saw compared with what was sent."""
    messages = scenario.messages
    reads = [c for c in recvs if c.data]
    facts = (len(messages), sum(len(m) for m in messages), len(reads))
    if scenario.cure is not Cure.NONE:
        recovered = sum(1 for f, m in zip(frames, messages, strict=False) if f.payload == m)
        return Verdict(VerdictKind.CURED, *facts, cure=scenario.cure, recovered=recovered)
    calls = tuple((_size(scenario, i), c.length) for i, c in enumerate(reads))
    if waiting:
        return Verdict(VerdictKind.WAITING, *facts, waiting=waiting, calls=calls)
    if scenario.recv_sizes:
        return Verdict(VerdictKind.SIZED, *facts, calls=calls)
    boundaries = {sum(len(m) for m in messages[: i + 1]) for i in range(len(messages))}
    chunk_ends = {c.offset + c.length for c in reads}
    if len(reads) < len(messages):
        return Verdict(VerdictKind.MERGED, *facts, first=_preview(messages[0]))
    if chunk_ends == boundaries:
        return Verdict(VerdictKind.SURVIVED, *facts)
    if len(reads) > len(messages):
        return Verdict(VerdictKind.SPLIT, *facts)
    return Verdict(VerdictKind.SHIFTED, *facts)


def _size(scenario: Scenario, index: int) -> int:
    return scenario.recv_sizes[index] if index < len(scenario.recv_sizes) else scenario.recv_size


def variable_output(count: int, seed: int = 1) -> tuple[bytes, ...]:
    """Replies of very different lengths, standing in for the course's remote-command server
    (which ran shell commands: Socket Lab never executes anything it receives)."""
    lines = [f"line {i}: {'#' * ((i * 37 + seed * 11) % 50)}\n".encode() for i in range(400)]
    out = []
    for i in range(count):
        n = 1 + (i * 97 + seed * 13) % 120
        out.append(b"".join(lines[:n]))
    return tuple(out)


_CURE_MESSAGES = (b"Hello", "你好，世界".encode(), b"x" * 3000, b"")
PRESETS: Final[dict[str, Scenario]] = {
    "two-sends": Scenario((b"Hello", b"World")),
    "big-send-small-recv": Scenario(
        (bytes(i % 251 for i in range(10 * 1024)),), sendall=True, recv_size=4096, max_recvs=1
    ),
    "nagle-burst": Scenario(tuple(b"%c" % (65 + i % 26) for i in range(20)), nodelay=False, recv_delay_s=0.0),
    "nodelay-burst": Scenario(
        tuple(b"%c" % (65 + i % 26) for i in range(20)), nodelay=True, recv_delay_s=0.0
    ),
    "recv-2-then-10": Scenario((b"hello", b"world!"), recv_sizes=(2, 10)),
    "cure-length-prefix": Scenario(_CURE_MESSAGES, cure=Cure.LENGTH),
    "cure-delimiter": Scenario(_CURE_MESSAGES[:3], cure=Cure.DELIMITER),
    "cure-json-header": Scenario(_CURE_MESSAGES, cure=Cure.JSON),
    "cure-announce-and-wait": Scenario(_CURE_MESSAGES[:3], cure=Cure.ANNOUNCE),
}


def preset(name: str, **changes: Any) -> Scenario:
    """A preset by its stable name, with any field changed."""
    try:
        base = PRESETS[name]
    except KeyError:
        raise InputError(f"unknown preset '{name}': choose one of {', '.join(PRESETS)}") from None
    return dataclasses.replace(base, **changes)

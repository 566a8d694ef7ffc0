"""A packet-sticking (粘包) scenario as data: what is sent and how it is read (``Scenario``), each
``send()``/``recv()`` call, the result, and the verdict as facts with the English templates that put
them into words (the GUI translates the templates, as it does netcore's errors)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
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
        return CURE_LABELS[self]


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
    def segments_text(self) -> Text:
        """What TCP_INFO says of the sender's segments."""
        if self.segments is None:
            return Text(PHRASES["segments unknown"])
        counts = {
            "segments": _count(self.segments, "segment"),
            "sends": _count(len(self.sends), "send() call"),
        }
        return Text(PHRASES["segments"], counts)

    @property
    def segments_note(self) -> str:
        """What TCP_INFO says of the sender's segments, in English."""
        return str(self.segments_text)

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


@dataclass(frozen=True, slots=True)
class Text:
    """An English *template* and the *params* that fill it, as netcore/errors.py keeps errors: ``str()``
    is the English, ``said()`` with a translator another language. A param may be a Text or Texts."""

    template: str
    params: Mapping[str, object] = field(default_factory=dict)

    def said(self, translate: Callable[[str], str] = str) -> str:
        """Filled in, each template (this one's and its params') first put through *translate*
        (``str`` keeps the English)."""
        params = {k: v.said(translate) if isinstance(v, Text | Texts) else v for k, v in self.params.items()}
        return translate(self.template).format(**params)

    def __str__(self) -> str:
        return self.said()


@dataclass(frozen=True, slots=True)
class Texts:
    """Texts said one after another, *separator* (a template too) between them."""

    separator: str
    items: tuple[Text, ...]

    def said(self, translate: Callable[[str], str] = str) -> str:
        return translate(self.separator).join(item.said(translate) for item in self.items)


class VerdictKind(StrEnum):
    CURED = "cured"  # a cure was on: how many messages it recovered
    WAITING = "waiting"  # the receiver stopped with bytes still in its buffer
    SIZED = "sized"  # fixed recv() sizes: each read took what was there
    MERGED = "merged"  # fewer chunks than messages
    SURVIVED = "survived"  # the boundaries happened to survive
    SPLIT = "split"  # more chunks than messages
    SHIFTED = "shifted"  # as many chunks as messages, boundaries inside them


# The English templates of the verdict and the segment count, one each. The GUI translates them
# (context "Verdict") and fills the same params; a count with its noun ("2 messages") is a param of
# its own, singular or plural, so that English says "1 message" and a translation says it its way.
VERDICTS: Final[dict[VerdictKind, str]] = {
    VerdictKind.CURED: "{cure}: {recovered} of {sent} messages recovered from {chunks}",
    VerdictKind.WAITING: "{total:,} bytes sent, {calls}: {waiting:,} bytes are still waiting{nothing}",
    VerdictKind.SIZED: (
        "{messages} ({total:,} bytes) sent; {calls}: each read takes what is there, "
        "wherever the messages began and ended"
    ),
    VerdictKind.MERGED: (
        "{messages} sent, received as {chunks}: the receiver cannot tell where '{first}' ends"
    ),
    VerdictKind.SURVIVED: (
        "{messages} sent, received as {chunks}: the boundaries survived this time, "
        "but TCP does not promise it"
    ),
    VerdictKind.SPLIT: "{messages} sent, received as {chunks}: messages were split across recv() calls",
    VerdictKind.SHIFTED: "{messages} sent, received as {chunks}: the chunk boundaries fall inside messages",
}
CURE_LABELS: Final[dict[Cure, str]] = {
    Cure.NONE: "no framing",
    Cure.LENGTH: "length prefix",
    Cure.DELIMITER: "delimiter",
    Cure.JSON: "JSON header",
    Cure.ANNOUNCE: "announce and wait",
}
COUNTS: Final[dict[str, tuple[str, str]]] = {
    "message": ("1 message", "{n:,} messages"),
    "chunk": ("1 chunk", "{n:,} chunks"),
    "recv() chunk": ("1 recv() chunk", "{n:,} recv() chunks"),
    "segment": ("1 segment", "{n:,} segments"),
    "send() call": ("1 send() call", "{n:,} send() calls"),
}
PHRASES: Final[dict[str, str]] = {
    "recv call": "recv({size}) returned {got:,}",
    "calls": ", ",  # between the recv() calls of a sized read
    "sum": " + ",  # between the recv() calls that left bytes waiting
    "nothing read": " (nothing read)",
    "segments": "the sender's TCP emitted {segments} with data for {sends}",
    "segments unknown": (
        "how many TCP segments the sender emitted cannot be known on this system (no TCP_INFO)"
    ),
}


def _count(n: int, noun: str) -> Text:
    """*n* and its noun, e.g. "1 message", "2 messages"."""
    one, many = COUNTS[noun]
    return Text(one) if n == 1 else Text(many, {"n": n})


def templates() -> Iterator[str]:
    """Every English template of the verdict and the segment count (resources/i18n/update_ts.py marks
    them for translation)."""
    yield from VERDICTS.values()
    yield from CURE_LABELS.values()
    for one, many in COUNTS.values():
        yield from (one, many)
    yield from PHRASES.values()


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the receiver saw compared with what was sent, as facts: ``text`` is its template and
    params, ``str()`` the English."""

    kind: VerdictKind
    messages: int
    total: int  # bytes sent
    reads: int  # recv() calls that returned data
    cure: Cure = Cure.NONE
    recovered: int = 0  # messages a cure recovered intact
    waiting: int = 0  # bytes left in the receive buffer
    calls: tuple[tuple[int, int], ...] = ()  # (size asked, bytes returned) of each recv()
    first: str = ""  # the start of the first message

    @property
    def text(self) -> Text:
        """The verdict's template (one per kind) and its params."""
        kind = self.kind
        params: dict[str, object]
        if kind is VerdictKind.CURED:
            params = {
                "cure": Text(self.cure.label),
                "recovered": self.recovered,
                "sent": self.messages,
                "chunks": _count(self.reads, "recv() chunk"),
            }
        elif kind is VerdictKind.WAITING:
            params = {
                "total": self.total,
                "calls": self._calls("sum"),
                "waiting": self.waiting,
                "nothing": "" if any(got for _, got in self.calls) else Text(PHRASES["nothing read"]),
            }
        elif kind is VerdictKind.SIZED:
            params = {
                "messages": _count(self.messages, "message"),
                "total": self.total,
                "calls": self._calls("calls"),
            }
        else:
            params = {"messages": _count(self.messages, "message"), "chunks": _count(self.reads, "chunk")}
            if kind is VerdictKind.MERGED:
                params["first"] = self.first
        return Text(VERDICTS[kind], params)

    def _calls(self, separator: str) -> Texts:
        calls = tuple(Text(PHRASES["recv call"], {"size": size, "got": got}) for size, got in self.calls)
        return Texts(PHRASES[separator], calls)

    def __str__(self) -> str:
        return str(self.text)


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

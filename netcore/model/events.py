"""Events that I/O engines report: frozen, slotted, safe to hand to another thread."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from netcore.errors import SocketLabError
from netcore.model.fetch import FetchResult
from netcore.model.scenario import Call, ScenarioResult
from netcore.model.traffic import Chunk, Direction
from netcore.protocols.framing import Frame
from netcore.protocols.probe import ProbeStats, ReplyStatus
from netcore.protocols.timeproto import TimeResult


class CloseReason(StrEnum):
    PEER_CLOSED = "peer closed"  # recv() returned b""
    LOCAL = "closed here"
    RESET = "reset"
    ERROR = "error"
    FORGOTTEN = "forgotten"  # a UDP server remembers so many peers: the least recently heard one


@dataclass(frozen=True, slots=True)
class Listening:
    host: str
    port: int
    address: str


@dataclass(frozen=True, slots=True)
class Connected:
    conn: int
    local: str
    peer: str


class Traffic(NamedTuple):
    """One send() or recv() call, and the frames its bytes completed in that direction. A named
    tuple (immutable) like ``Chunk``: one is made per call."""

    chunk: Chunk
    frames: tuple[Frame, ...] = ()


@dataclass(frozen=True, slots=True)
class Answered:
    """The reply to message *index* has fully arrived, *rtt_s* after it was queued."""

    conn: int
    index: int
    rtt_s: float


@dataclass(frozen=True, slots=True)
class Unanswered:
    """No reply to message *index* came within *waited_s* seconds: it is given up, so the bytes or
    frames that arrive later count towards the messages sent after it."""

    conn: int
    index: int
    waited_s: float


@dataclass(frozen=True, slots=True)
class WriteShutdown:
    """We shut down our sending side (half close): the peer's recv() now returns b""."""

    conn: int


@dataclass(frozen=True, slots=True)
class PeerShutdown:
    """The peer shut down its sending side (FIN: our recv() returned b"") while we still had bytes
    to send it: the connection stays half open until they are sent, then we close it."""

    conn: int


@dataclass(frozen=True, slots=True)
class Closed:
    conn: int
    peer: str
    reason: CloseReason
    error: SocketLabError | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """An error that is not tied to closing one connection (or that ends the engine)."""

    error: SocketLabError
    conn: int | None = None


@dataclass(frozen=True, slots=True)
class Truncated:
    """A datagram was larger than the receive buffer: only *kept* of its *size* bytes were read,
    and the rest is gone for good (unlike TCP, where it would wait for the next recv())."""

    conn: int
    peer: str
    kept: int
    size: int


@dataclass(frozen=True, slots=True)
class LargeDatagram:
    """We sent a datagram over 1,472 bytes: on a 1,500-byte MTU path IP fragments it."""

    conn: int
    size: int


@dataclass(frozen=True, slots=True)
class ProbeReply:
    seq: int
    status: ReplyStatus
    rtt_ms: float | None


@dataclass(frozen=True, slots=True)
class ProbeFinished:
    stats: ProbeStats


@dataclass(frozen=True, slots=True)
class TimeQueried:
    """Event: a query finished (result) — reported by ``TimeClient.run``."""

    index: int
    result: TimeResult


@dataclass(frozen=True, slots=True)
class ScenarioStepped:
    """Step mode: the receiver's recv() *call* (None before the first), the sender's calls and the
    frames decoded so far, and how many bytes are waiting in the receive buffer now."""

    call: Call | None
    sends: tuple[Call, ...]
    frames: tuple[Frame, ...]
    waiting: int | None
    draining: bool = False  # a recv() after the scenario's receiver stopped, reading what was left
    drained: bool = False  # ... and the last one: everything sent is read


@dataclass(frozen=True, slots=True)
class ScenarioFinished:
    """The scenario's result; with *draining* (step mode) the receiver stopped with bytes still to
    read and each further step reads on."""

    result: ScenarioResult
    draining: bool = False


@dataclass(frozen=True, slots=True)
class FramesDecoded:
    """Frames found in a stream apart from any one chunk (e.g. a file reply: length | header | body)."""

    conn: int
    direction: Direction
    frames: tuple[Frame, ...]


@dataclass(frozen=True, slots=True)
class FilesListed:
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FetchProgress:
    name: str
    received: int
    total: int


@dataclass(frozen=True, slots=True)
class FetchStatus:
    """What a fetch of *name* is waiting for, as an English *template* (one of
    ``model.fetch.STATUS_TEMPLATES``, which the GUI translates) and its *params*."""

    name: str
    template: str
    params: Mapping[str, Any]

    @property
    def text(self) -> str:
        return self.template.format(**self.params)


@dataclass(frozen=True, slots=True)
class FetchHeader:
    """The reply header a request of *name* got (a refusal's too), as decoded."""

    name: str
    header: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class FetchFinished:
    result: FetchResult


@dataclass(frozen=True, slots=True)
class Stopped:
    """The engine has stopped and released its sockets."""


Event = (
    Listening
    | Connected
    | Traffic
    | Answered
    | Unanswered
    | WriteShutdown
    | PeerShutdown
    | Closed
    | Failed
    | Truncated
    | LargeDatagram
    | ProbeReply
    | ProbeFinished
    | TimeQueried
    | ScenarioStepped
    | ScenarioFinished
    | FramesDecoded
    | FilesListed
    | FetchProgress
    | FetchStatus
    | FetchHeader
    | FetchFinished
    | Stopped
)
EventSink = Callable[[Sequence[Event]], None]

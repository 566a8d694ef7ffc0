"""What every built-in server shares: reply modes and opening a listening socket with a hint."""

from __future__ import annotations

import socket
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from netcore.errors import (
    FromOwnAddress,
    FromServicePort,
    InputError,
    LoopFull,
    OverReplyRate,
    ReplyWithheld,
    SocketLabError,
    from_os_error,
)
from netcore.io.loop import READ, Engine
from netcore.io.platform import MAX_DATAGRAM, Datagram, prepare_listener, waiting_datagrams
from netcore.io.resolve import resolve
from netcore.io.stream import endpoint_of
from netcore.model.events import Closed, CloseReason, Connected, Failed, Listening, Traffic, Truncated
from netcore.model.traffic import Direction, make_chunk
from netcore.protocols.address import Address
from netcore.protocols.framing import Frame

ACCEPT_BACKOFF_S = 0.1


class ReplyMode(StrEnum):
    ECHO = "echo"
    UPPER = "upper"
    PREFIX = "prefix"
    MANUAL = "manual"  # the operator types each reply (the course's chat server)


def make_reply(mode: ReplyMode, payload: bytes, prefix: bytes = b"") -> bytes | None:
    """The automatic reply to one message, or None in manual mode."""
    if mode is ReplyMode.ECHO:
        return payload
    if mode is ReplyMode.UPPER:
        return payload.upper()  # ASCII letters only, so UTF-8 and GBK text stays intact
    if mode is ReplyMode.PREFIX:
        return prefix + payload
    return None


def open_listener(host: str, port: int, kind: int, reuse_addr: bool) -> socket.socket:
    """A bound socket of *kind* (SOCK_STREAM or SOCK_DGRAM) on host:port, or a ``NetError`` with a hint.

    ``::`` listens on IPv6 and IPv4 both where the system allows it; the options that differ between
    systems (SO_REUSEADDR vs SO_EXCLUSIVEADDRUSE, IPV6_V6ONLY) are set by ``platform``.
    """
    family, socktype, proto, _, sockaddr = resolve(host, port, kind, "listen on", passive=True)[0]
    try:
        sock = socket.socket(family, socktype, proto)
    except OSError as exc:
        raise from_os_error(exc, action="listen on", host=host, port=port) from None
    try:
        prepare_listener(sock, reuse_addr, dual_stack=host in ("::", ""))
        sock.bind(sockaddr)
        if kind == socket.SOCK_STREAM:
            sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise from_os_error(exc, action="listen on", host=host, port=port) from None
    return sock


MAX_PEERS: Final = 4096  # peers a UDP server remembers; the least recently heard are forgotten
SERVICE_PORTS: Final = frozenset({7, 13, 19, 37, 123})  # echo, daytime, chargen, time, NTP: answer anything
REPLY_RATE: Final = 1000.0  # automatic replies a second to one UDP peer, on average
REPLY_BURST: Final = 100  # automatic replies to one UDP peer at once
WILDCARDS: Final = frozenset({"0.0.0.0", "::", ""})


class TokenBucket:
    """A peer's allowance of replies: *burst* at once, refilled at *rate* a second."""

    __slots__ = ("tokens", "when")

    def __init__(self, burst: int, now: float) -> None:
        self.tokens, self.when = float(burst), now

    def take(self, rate: float, burst: int, now: float) -> bool:
        """Spend one token if there is one."""
        self.tokens = min(float(burst), self.tokens + (now - self.when) * rate)
        self.when = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


@dataclass
class ReplyGuard:
    """Which datagrams a UDP server answers on its own. Never one from its own address (the reply
    would come back forever; on a wildcard address any peer using the server's port counts, as the
    datagram's destination address is not known), not one from a well-known service's port unless
    *answer_service_ports* (echo ↔ daytime answer each other forever), and at most *rate* replies a
    second to each peer after a *burst* (a flood, or a loop through a server we do not know)."""

    answer_service_ports: bool = False
    rate: float = REPLY_RATE
    burst: int = REPLY_BURST
    service_ports: frozenset[int] = SERVICE_PORTS

    def __post_init__(self) -> None:
        if not self.rate > 0 or self.burst < 1:
            raise InputError(
                f"replies need a rate above 0 and a burst of 1 or more, not {self.rate:g} and {self.burst}"
            )

    def withhold(
        self, own: Address, addr: Any, bucket: TokenBucket, now: float
    ) -> type[ReplyWithheld] | None:
        """Why a datagram from *addr* must not be answered (None: answer it; a token is spent)."""
        if addr[1] == own.port and (own.host in WILDCARDS or addr[0] == own.host):
            return FromOwnAddress
        if not self.answer_service_ports and addr[1] in self.service_ports:
            return FromServicePort
        return None if bucket.take(self.rate, self.burst, now) else OverReplyRate


class PeerTable:
    """Gives each peer address a connection id and tracks stream offsets per direction.

    Bounded: beyond *limit* peers the one heard from least recently is forgotten (a flood of
    datagrams from spoofed sources must not grow it without end); ``forgotten`` counts them."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_PEERS if limit is None else limit
        self.ids: OrderedDict[Any, int] = OrderedDict()  # least recently heard first
        self.addrs: dict[int, Any] = {}
        self.names: dict[int, str] = {}  # "host:port", formatted once per peer
        self.offsets: dict[tuple[int, Direction], int] = {}
        self.frames: dict[tuple[int, Direction], int] = {}
        self.buckets: dict[int, TokenBucket] = {}  # each peer's allowance of automatic replies
        self.forgotten = 0
        self._next_conn = 1

    def lookup(self, addr: Any) -> tuple[int, bool]:
        """(connection id, is this peer new)."""
        conn = self.ids.get(addr)
        if conn is not None:
            self.ids.move_to_end(addr)
            return conn, False
        conn = self._next_conn
        self._next_conn += 1
        self.ids[addr] = conn
        self.addrs[conn] = addr
        self.names[conn] = endpoint_of(addr)
        return conn, True

    def evict(self) -> list[tuple[int, str]]:
        """Forget the least recently heard peers beyond the limit; returns their (id, name)."""
        gone = []
        while len(self.ids) > self.limit:
            _, conn = self.ids.popitem(last=False)
            del self.addrs[conn]
            gone.append((conn, self.names.pop(conn)))
            self.buckets.pop(conn, None)
            for direction in Direction:
                self.offsets.pop((conn, direction), None)
                self.frames.pop((conn, direction), None)
        self.forgotten += len(gone)
        return gone

    def traffic(self, direction: Direction, data: bytes, conn: int) -> Traffic:
        """The datagram as a chunk and as one frame of its own, at the next offsets of its stream."""
        key = (conn, direction)
        offset = self.offsets.get(key, 0)
        index = self.frames.get(key, 0)
        self.offsets[key] = offset + len(data)
        self.frames[key] = index + 1
        chunk = make_chunk(direction, data, offset, conn, self.names[conn])
        end = offset + len(data)
        return Traffic(chunk, (Frame(index, data, offset, offset, end, end),))


class ServerEngine(Engine):
    """Base of the built-in servers: binding with a hint, ``Listening``, and replies by peer id.

    A subclass handles its listening socket in ``on_listener`` (called when it is readable) and
    closes its own connections in ``close_connections``."""

    socket_kind: int = socket.SOCK_STREAM  # or SOCK_DGRAM

    def __init__(self, host: str, port: int, mode: ReplyMode, prefix: bytes, reuse_addr: bool) -> None:
        super().__init__()
        self.host, self.port, self.mode, self.prefix, self.reuse_addr = host, port, mode, prefix, reuse_addr
        self.address: Address | None = None
        self._sock: socket.socket | None = None
        self.peers = PeerTable()  # connection ids by address (UDP: bounded, least recently heard go)
        self.unreachable = 0  # UDP: ICMP port unreachable reports for earlier replies (ignored)
        self.accept_failures = 0  # accept() errors in the current run of them
        self._last_accept_error: OSError | None = None
        self.guard = ReplyGuard()  # UDP: which datagrams are answered automatically
        self.withheld: Counter[type[ReplyWithheld]] = Counter()  # UDP: datagrams not answered, by reason
        self._buf = bytearray()  # UDP: the receive buffer, allocated when the first datagram comes

    def bind(self) -> Address:
        """Open the listening socket now (so errors such as address-in-use surface at once)."""
        if self._sock is None:
            self._sock = open_listener(self.host, self.port, self.socket_kind, self.reuse_addr)
            self._sock.setblocking(False)
            self.address = Address(*self._sock.getsockname()[:2])
        assert self.address is not None
        return self.address

    def discard(self) -> None:
        """Release the sockets of a server that will never run (e.g. its bind failed)."""
        self.close()

    def setup(self) -> bool:
        try:
            address = self.bind()
        except SocketLabError as exc:
            self.emit(Failed(exc))
            return False
        assert self._sock is not None
        self.loop.watch(self._sock, READ, self.on_listener)
        self.emit(Listening(address.host, address.port, str(address)))
        return True

    def on_listener(self, mask: int) -> None:
        raise NotImplementedError

    def accept_clients(self) -> Iterator[tuple[socket.socket, Any]]:
        """Every client waiting to be accepted now, as (socket, address). After an ``accept()``
        error (e.g. EMFILE, too many open files) accepting pauses a moment; the first error of a
        run of them is reported at once, the rest once, with their count, when accepting works
        again (``accept_failures`` counts them meanwhile)."""
        assert self._sock is not None
        while True:
            try:
                client = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self.accept_failures += 1
                if self.accept_failures == 1:
                    self.emit(Failed(self._accept_error(exc)))
                else:
                    self._last_accept_error = exc
                self.pause_accepting()
                return
            self._report_accept_failures()
            yield client

    def _accept_error(self, exc: OSError, more: int = 0) -> SocketLabError:
        error = from_os_error(exc, action="accept on", host=self.host, port=self.port)
        if more:
            error.params["detail"] = f"{more:,} more times: {error.params['detail']}"
        return error

    def _report_accept_failures(self) -> None:
        """Say how many more times accept() failed since the first report of a run of failures."""
        if self.accept_failures > 1 and self._last_accept_error is not None:
            self.emit(Failed(self._accept_error(self._last_accept_error, self.accept_failures - 1)))
        self.accept_failures, self._last_accept_error = 0, None

    def refused_for_room(self, sock: socket.socket, addr: Any, sockets: int) -> bool:
        """Close an accepted client at once, saying why, when the loop cannot watch the *sockets*
        it would need (Windows' select() stops at 512); False when there is room."""
        room = self.loop.room
        if room is None or room >= sockets:
            return False
        sock.close()
        peer = endpoint_of(addr)
        self.emit(Failed(LoopFull(action="accept on", where=peer, detail="", host=addr[0], port=addr[1])))
        return True

    def receive_datagrams(self, keep: int, replying: bool = True) -> Iterator[tuple[int, Datagram]]:
        """The datagrams waiting on a UDP server's socket (at most 256 a round), each with its peer's
        id. New peers are reported (``Connected``, and any peer forgotten to make room), each datagram
        as ``Traffic`` and, if cut, ``Truncated``; receive errors are reported and serving goes on;
        an ICMP 'port unreachable' for an earlier reply is only counted (``unreachable``).
        When *replying* (the caller answers each datagram it is given), those the ``guard`` withholds
        are not given: they are counted in ``withheld`` and reported once a round per peer and reason
        (``Failed`` with a ``ReplyWithheld``)."""
        assert self._sock is not None and self.address is not None
        if not self._buf:
            self._buf = bytearray(MAX_DATAGRAM)
        now = time.monotonic()
        withheld: Counter[tuple[int, Any, type[ReplyWithheld]]] = Counter()
        for received in waiting_datagrams(self._sock, self._buf, keep):
            if isinstance(received, OSError):
                error = from_os_error(received, action="receive on", host=self.host, port=self.port, udp=True)
                self.emit(Failed(error))
                continue
            if received is None:
                self.unreachable += 1
                continue
            conn, new = self.peers.lookup(received.addr)
            if new:
                self.emit(Connected(conn, str(self.address), self.peers.names[conn]))
                for gone, name in self.peers.evict():
                    self.emit(Closed(gone, name, CloseReason.FORGOTTEN))
            self.emit(self.peers.traffic(Direction.RECEIVED, received.data, conn))
            if received.size > len(received.data):
                self.emit(Truncated(conn, self.peers.names[conn], len(received.data), received.size))
            if replying:
                bucket = self.peers.buckets.get(conn)
                if bucket is None:
                    bucket = self.peers.buckets[conn] = TokenBucket(self.guard.burst, now)
                reason = self.guard.withhold(self.address, received.addr, bucket, now)
                if reason is not None:
                    withheld[conn, received.addr, reason] += 1
                    continue
            yield conn, received
        for (conn, addr, reason), count in withheld.items():
            self.withheld[reason] += count
            report = reason(endpoint_of(addr), count, addr[1], self.guard.rate, self.guard.burst)
            self.emit(Failed(report, conn))

    def pause_accepting(self, seconds: float = ACCEPT_BACKOFF_S) -> None:
        """Stop watching the listener for a moment: after an accept() error such as EMFILE (too many
        open files) it stays readable, and the loop would spin on it."""
        assert self._sock is not None
        listener = self._sock
        self.loop.forget(listener)
        self.loop.call_later(seconds, lambda: self.loop.watch(listener, READ, self.on_listener))

    def close_connections(self) -> None:
        """Close every connection the server holds (``close`` calls it before the listener)."""

    def close(self) -> None:
        if not self.loop.closed:
            self._report_accept_failures()
            self.close_connections()
        if self._sock is not None:
            self._sock.close()
        self.loop.close()

    def send_to(self, conn: int, payload: bytes) -> None:
        """Send *payload* to peer *conn* (the operator's reply in manual mode), thread-safe."""
        self.call_soon(lambda: self._send(conn, payload))

    def send_to_all(self, payload: bytes) -> None:
        """Send *payload* to every peer the server has now ("send to all"), thread-safe."""
        self.call_soon(lambda: self._send_all(payload))

    def _send(self, conn: int, payload: bytes) -> None:
        raise NotImplementedError

    def _send_all(self, payload: bytes) -> None:
        for conn in list(self.peers.addrs):
            self._send(conn, payload)

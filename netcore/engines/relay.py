"""A TCP relay that re-chunks the stream on its way through: fixed chunk sizes, random sizes from a
seed (so a class can replay a run), or one byte at a time, with an optional delay between chunks.

Put it between a client and any server to prove that a client which assumes one ``recv()`` = one
message breaks, while a framed protocol does not care.
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import socket
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from netcore.engines.serving import ReplyMode, ServerEngine
from netcore.errors import InputError, SocketLabError, from_os_error
from netcore.io.loop import READ, TICK_S, WRITE, Timer
from netcore.io.platform import CONNECT_PENDING
from netcore.io.stream import endpoint_of
from netcore.model.events import (
    Closed,
    CloseReason,
    Connected,
    Failed,
    Traffic,
)
from netcore.model.traffic import Direction, make_chunk
from netcore.protocols.address import parse_address

MAX_BUFFERED = 1024 * 1024  # stop reading a side while this much waits to be re-sent


@dataclass(frozen=True, slots=True)
class ChunkPlan:
    """How to cut the stream: ``size`` bytes per send, or random sizes in 1..``max_size``."""

    size: int | None = None
    seed: int = 0
    max_size: int = 64
    delay_s: float = 0.0

    @classmethod
    def parse(cls, text: str, seed: int = 0, delay_s: float = 0.0, max_size: int = 64) -> ChunkPlan:
        """``1``, ``N`` or ``random``."""
        if text == "random":
            if max_size < 1:
                raise InputError("the largest random chunk must be at least 1 byte")
            return cls(None, seed, max_size, delay_s)
        if not text.isdigit() or int(text) < 1:
            raise InputError(
                "chunks must be a size in bytes (1, 10, ...) or 'random', not '{text}'",
                text=text,
            )
        return cls(int(text), seed, max_size, delay_s)

    def sizes(self, salt: int) -> random.Random | None:
        return None if self.size is not None else random.Random(self.seed * 1_000_003 + salt)


@dataclass(slots=True, eq=False)
class _Leg:
    """One direction of one relayed connection: read from src, re-chunk, write to dst. The two legs
    of a pair are each other's ``partner`` (a leg's dst is its partner's src)."""

    src: socket.socket
    dst: socket.socket
    conn: int  # the connection id under which dst's traffic is reported
    peer: str
    rng: random.Random | None
    partner: _Leg | None = None
    buf: bytearray = field(default_factory=bytearray)
    rx_offset: int = 0
    tx_offset: int = 0
    next_send: float = 0.0
    eof: bool = False
    shut: bool = False
    blocked: bool = False  # dst's send buffer is full: wait until it can be written

    @property
    def reading(self) -> bool:
        """Read src while it is open and the buffer has room (backpressure beyond MAX_BUFFERED)."""
        return not self.eof and len(self.buf) < MAX_BUFFERED

    @property
    def due(self) -> bool:
        """Something to do on the next round: bytes to send, or an EOF to pass on."""
        return not self.shut and not self.blocked and (bool(self.buf) or self.eof)


class RechunkRelay(ServerEngine):
    """Listens on host:port; for each client, connects to *target* and relays both ways."""

    def __init__(
        self,
        target: str,
        plan: ChunkPlan,
        host: str = "127.0.0.1",
        port: int = 0,
        reuse_addr: bool = False,
        connect_timeout: float = 5.0,
    ) -> None:
        self.target = parse_address(target)
        super().__init__(host, port, ReplyMode.MANUAL, b"", reuse_addr)
        self.plan, self.connect_timeout = plan, connect_timeout
        self._legs: set[_Leg] = set()
        self._due: set[_Leg] = set()  # legs with work for the next round; idle pairs cost nothing
        self._pairs = 0
        # target sockets still connecting → (their client, its address, the connect timeout)
        self._connecting: dict[socket.socket, tuple[socket.socket, Any, Timer]] = {}

    def serve(self) -> None:
        while not self.stopping:
            self.loop.run_once(self._next_timeout())
            self._write_due()
            self.flush()

    def close_connections(self) -> None:
        for leg in self._legs:
            leg.src.close()
            leg.dst.close()
        for server, (client, _, timer) in self._connecting.items():
            timer.cancel()
            client.close()
            server.close()

    def _next_timeout(self) -> float:
        if not self._due:
            return TICK_S
        return max(0.0, min(TICK_S, min(leg.next_send for leg in self._due) - time.monotonic()))

    def on_listener(self, _mask: int) -> None:
        """Accept a client and start connecting to the target for it, without waiting here."""
        for client, addr in self.accept_clients():
            if not self.refused_for_room(client, addr, sockets=2):  # the client's and the target's
                self._start_pair(client, addr)

    def _start_pair(self, client: socket.socket, addr: Any) -> None:
        target = (self.target.host, self.target.port)
        try:
            family, kind, proto, _, sockaddr = socket.getaddrinfo(*target, type=socket.SOCK_STREAM)[0]
            server = socket.socket(family, kind, proto)
            server.setblocking(False)
            code = server.connect_ex(sockaddr)
            if code not in CONNECT_PENDING:
                server.close()
                raise OSError(code, os.strerror(code))
        except OSError as exc:
            client.close()
            self._connect_failed(exc)
            return
        timer = self.loop.call_later(self.connect_timeout, lambda: self._connect_timed_out(server))
        self._connecting[server] = (client, addr, timer)
        self.loop.watch(server, WRITE, lambda _mask: self._connected(server))

    def _connected(self, server: socket.socket) -> None:
        client, addr, timer = self._connecting.pop(server)
        timer.cancel()
        self.loop.forget(server)
        code = server.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            client.close()
            server.close()
            self._connect_failed(OSError(code, os.strerror(code)))
            return
        self._pair(client, addr, server)

    def _connect_timed_out(self, server: socket.socket) -> None:
        client, _, _ = self._connecting.pop(server)
        self.loop.forget(server)
        client.close()
        server.close()
        self._connect_failed(TimeoutError(errno.ETIMEDOUT, "timed out"))

    def _connect_failed(self, exc: OSError) -> None:
        error = from_os_error(
            exc, action="relay to", host=self.target.host, port=self.target.port, timeout=self.connect_timeout
        )
        self.emit(Failed(error))

    def _pair(self, client: socket.socket, addr: Any, server: socket.socket) -> None:
        for sock in (client, server):
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # our chunks, not Nagle's
        self._pairs += 1
        up, down = 2 * self._pairs - 1, 2 * self._pairs
        client_peer, server_peer = endpoint_of(addr), str(self.target)
        self.emit(Connected(up, str(self.address), client_peer))
        self.emit(Connected(down, endpoint_of(server.getsockname()), server_peer))
        # client → server is reported under the server leg's id, and the other way round
        upward = _Leg(client, server, down, server_peer, self.plan.sizes(up))
        downward = _Leg(server, client, up, client_peer, self.plan.sizes(down), partner=upward)
        upward.partner = downward
        self._legs |= {upward, downward}
        for leg in (upward, downward):
            self._watch(leg)

    # -- one leg at a time: cost per event, nothing per idle connection ----------------------------
    def _watch(self, leg: _Leg) -> None:
        """Watch leg.src for what its two legs wait for: reading (this leg), writing (the partner's
        dst is this socket, when it was full)."""
        if leg.src.fileno() < 0:
            return
        assert leg.partner is not None
        mask = (READ if leg.reading else 0) | (WRITE if leg.partner.blocked else 0)
        self.loop.watch(leg.src, mask, partial(self._on_ready, leg))

    def _on_ready(self, leg: _Leg, mask: int) -> None:
        assert leg.partner is not None
        if mask & WRITE and leg.partner.blocked:  # the partner may send into this socket again
            leg.partner.blocked = False
            self._due.add(leg.partner)
        if mask & READ:
            self._read(leg)
        if leg in self._legs:
            self._watch(leg)

    def _read(self, leg: _Leg) -> None:
        assert leg.partner is not None
        try:
            data = leg.src.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fail(leg, exc, leg.partner)  # src is the partner's dst
            return
        if data:
            other = leg.partner
            self.emit(Traffic(make_chunk(Direction.RECEIVED, data, leg.rx_offset, other.conn, other.peer)))
            leg.rx_offset += len(data)
            leg.buf += data
        else:
            leg.eof = True
        if leg.due:
            self._due.add(leg)

    SENDS_PER_ROUND = 64  # per leg: one pair re-chunking a large transfer byte by byte cannot starve the rest

    def _write_due(self) -> None:
        now = time.monotonic()
        for leg in list(self._due):
            if leg in self._legs and now >= leg.next_send:
                self._write(leg, now)
            if not leg.due or leg not in self._legs:
                self._due.discard(leg)

    def _write(self, leg: _Leg, now: float) -> None:
        was_reading = leg.reading
        for _ in range(self.SENDS_PER_ROUND):
            if not leg.buf:
                break
            size = self.plan.size if leg.rng is None else leg.rng.randint(1, self.plan.max_size)
            try:
                n = leg.dst.send(leg.buf[:size])
            except (BlockingIOError, InterruptedError):  # dst is full: wait until it can be written
                leg.blocked = True
                assert leg.partner is not None
                self._watch(leg.partner)
                return
            except OSError as exc:
                self._fail(leg, exc, leg)
                return
            data = bytes(leg.buf[:n])
            del leg.buf[:n]
            self.emit(Traffic(make_chunk(Direction.SENT, data, leg.tx_offset, leg.conn, leg.peer)))
            leg.tx_offset += n
            if self.plan.delay_s:
                leg.next_send = now + self.plan.delay_s
                break
        if leg.reading and not was_reading:  # drained below the bound: read again
            self._watch(leg)
        if leg.eof and not leg.buf and not leg.shut:
            leg.shut = True
            with contextlib.suppress(OSError):  # the other side may be gone already
                leg.dst.shutdown(socket.SHUT_WR)
            self._close_if_done(leg)

    def _close_if_done(self, leg: _Leg) -> None:
        """Close a relayed pair once both directions have ended (EOF passed on, or an error)."""
        partner = leg.partner
        assert partner is not None
        if not (leg.shut and partner.shut) or leg not in self._legs:
            return
        for done in (leg, partner):
            self._legs.discard(done)
            self._due.discard(done)
            self.emit(Closed(done.conn, done.peer, CloseReason.PEER_CLOSED))
        for sock in (leg.src, leg.dst):
            self.loop.forget(sock)
            sock.close()

    def _fail(self, leg: _Leg, exc: OSError, failed: _Leg) -> None:
        """End the pair after *exc* on a socket: *failed* is the leg whose dst it is (named by its
        peer, "host:port" or "[v6]:port")."""
        peer = parse_address(failed.peer)
        error: SocketLabError = from_os_error(exc, action="relay to", host=peer.host, port=peer.port)
        self.emit(Failed(error, failed.conn))
        for side in (leg, leg.partner):
            assert side is not None
            side.eof = side.shut = True
            side.buf.clear()
        self._close_if_done(leg)

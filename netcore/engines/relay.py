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
            raise InputError(f"chunks must be a size in bytes (1, 10, ...) or 'random', not '{text}'")
        return cls(int(text), seed, max_size, delay_s)

    def sizes(self, salt: int) -> random.Random | None:
        return None if self.size is not None else random.Random(self.seed * 1_000_003 + salt)


@dataclass(slots=True)
class _Leg:
    """One direction of one relayed connection: read from src, re-chunk, write to dst."""

    src: socket.socket
    dst: socket.socket
    conn: int  # the connection id under which dst's traffic is reported
    peer: str
    rng: random.Random | None
    buf: bytearray = field(default_factory=bytearray)
    rx_offset: int = 0
    tx_offset: int = 0
    next_send: float = 0.0
    eof: bool = False
    shut: bool = False
    watched: bool = False  # the loop watches src for reading


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
        self._legs: list[_Leg] = []
        self._pairs = 0
        # target sockets still connecting → (their client, its address, the connect timeout)
        self._connecting: dict[socket.socket, tuple[socket.socket, Any, Timer]] = {}

    def serve(self) -> None:
        while not self.stopping:
            self.loop.run_once(self._next_timeout())
            self._write_due()
            self._sync()
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
        pending = [leg.next_send for leg in self._legs if leg.buf]
        if not pending:
            return TICK_S
        return max(0.0, min(TICK_S, min(pending) - time.monotonic()))

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
        self._legs.append(_Leg(client, server, down, server_peer, self.plan.sizes(up)))
        self._legs.append(_Leg(server, client, up, client_peer, self.plan.sizes(down)))

    def _read(self, leg: _Leg) -> None:
        try:
            data = leg.src.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fail(leg, exc)
            return
        if not data:
            leg.eof = True
            return
        other = leg.conn + 1 if leg.conn % 2 else leg.conn - 1
        peer = self._peer_of(other)
        self.emit(Traffic(make_chunk(Direction.RECEIVED, data, leg.rx_offset, other, peer)))
        leg.rx_offset += len(data)
        leg.buf += data

    def _peer_of(self, conn: int) -> str:
        return next((leg.peer for leg in self._legs if leg.conn == conn), "?")

    def _write_due(self) -> None:
        now = time.monotonic()
        for leg in self._legs:
            while leg.buf and now >= leg.next_send and not leg.shut:
                size = self.plan.size if leg.rng is None else leg.rng.randint(1, self.plan.max_size)
                try:
                    n = leg.dst.send(leg.buf[:size])
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as exc:
                    self._fail(leg, exc)
                    break
                data = bytes(leg.buf[:n])
                del leg.buf[:n]
                self.emit(Traffic(make_chunk(Direction.SENT, data, leg.tx_offset, leg.conn, leg.peer)))
                leg.tx_offset += n
                if self.plan.delay_s:
                    leg.next_send = now + self.plan.delay_s
                    break
            if leg.eof and not leg.buf and not leg.shut:
                leg.shut = True
                with contextlib.suppress(OSError):  # the other side may be gone already
                    leg.dst.shutdown(socket.SHUT_WR)
        self._close_finished()

    def _close_finished(self) -> None:
        """Close a relayed pair once both directions have ended (EOF passed on, or an error)."""
        for leg in list(self._legs):
            partner = next((o for o in self._legs if o.src is leg.dst), None)
            if leg.shut and (partner is None or partner.shut) and leg in self._legs:
                for done in (leg, partner):
                    if done is not None:
                        self._legs.remove(done)
                        self.emit(Closed(done.conn, done.peer, CloseReason.PEER_CLOSED))
                for sock in (leg.src, leg.dst):
                    self.loop.forget(sock)
                    sock.close()

    def _fail(self, leg: _Leg, exc: OSError) -> None:
        error: SocketLabError = from_os_error(exc, action="relay to", host=leg.peer, port=0)
        self.emit(Failed(error, leg.conn))
        leg.eof = leg.shut = True
        leg.buf.clear()
        partner = next((o for o in self._legs if o.src is leg.dst), None)
        if partner is not None:
            partner.eof = partner.shut = True
            partner.buf.clear()

    def _sync(self) -> None:
        """Watch each open source for reading while its buffer has room."""
        for leg in self._legs:
            wanted = not leg.eof and len(leg.buf) < MAX_BUFFERED and leg.src.fileno() >= 0
            if wanted != leg.watched:
                self.loop.watch(leg.src, READ if wanted else 0, partial(self._on_readable, leg))
                leg.watched = wanted

    def _on_readable(self, leg: _Leg, _mask: int) -> None:
        self._read(leg)

"""One non-blocking TCP connection with framing on both directions, shared by clients and servers."""

from __future__ import annotations

import socket
from collections.abc import Callable

from netcore.errors import ProtocolError, SocketLabError, format_endpoint, from_os_error
from netcore.io.loop import READ, WRITE, Loop
from netcore.model.events import Closed, CloseReason, Event, PeerShutdown, Traffic, WriteShutdown
from netcore.model.traffic import Direction, make_chunk
from netcore.protocols.framing import Frame, FramingCodec, RawCodec, make_codec

RECV_SIZE = 65536
# A server stops reading from a peer while this much of its reply to it is still unsent (backpressure).
OUTBUF_HIGH_WATER = 1024 * 1024


def endpoint_of(addr: tuple[str, int] | tuple[str, int, int, int]) -> str:
    return format_endpoint(addr[0], addr[1])


class TcpStream:
    """A connected socket, its codecs (what we receive, and the same framing over what we send),
    its stream offsets and its unsent bytes. It reports every send()/recv() call as a ``Traffic``
    event into ``emit``."""

    def __init__(
        self,
        sock: socket.socket,
        conn: int,
        framing: str,
        emit: Callable[[Event], None],
        loop: Loop,
        on_ready: Callable[[int], None],
        recv_size: int = RECV_SIZE,
        before_close: Callable[[TcpStream], None] | None = None,
        backpressure: bool = True,
    ) -> None:
        sock.setblocking(False)
        self.before_close = before_close
        self.sock, self.conn, self.emit, self.recv_size = sock, conn, emit, recv_size
        self.loop, self.on_ready = loop, on_ready
        # False for a client: what it queues is what it was asked to send, not replies to what it
        # reads, so it must keep reading (an echo server sending back a large message would
        # otherwise wait for a client that waits for it).
        self.backpressure = backpressure
        self.local = endpoint_of(sock.getsockname())
        peer = sock.getpeername()
        self.peer = endpoint_of(peer)
        self.peer_host, self.peer_port = peer[0], peer[1]
        self.rx: FramingCodec = make_codec(framing)
        self.tx: FramingCodec = make_codec(framing)
        self.raw = isinstance(self.rx, RawCodec)  # raw frames are just the chunks: no codec work
        self.rx_offset = self.tx_offset = 0
        self.outbuf = bytearray()
        self.mask = 0  # the events the loop watches this stream for
        self.shutdown_pending = False  # shut down the write side once outbuf drains
        self.write_shut = False
        self.peer_closed = False  # recv() returned b""
        self.closed = False
        self.dead_peer_timeout = 0.0  # set with detect_dead_peer: named when the kernel gives up

    def queue(self, payload: bytes) -> None:
        """Frame *payload* and queue it; raises ``LocalProtocolError`` if the framing cannot carry it."""
        self.outbuf += self.tx.encode(payload)

    def wanted_mask(self) -> int:
        """Selector events this stream needs now: read unless paused, write while bytes wait."""
        if self.closed:
            return 0
        mask = 0
        if not self.peer_closed and (not self.backpressure or len(self.outbuf) < OUTBUF_HIGH_WATER):
            mask |= READ
        if self.outbuf or self.shutdown_pending:
            mask |= WRITE
        return mask

    def sync(self) -> None:
        """Make the loop watch this stream for ``wanted_mask``."""
        mask = self.wanted_mask()
        if mask != self.mask:
            self.loop.watch(self.sock, mask, self.on_ready)
            self.mask = mask

    def on_readable(self) -> list[bytes]:
        """One recv(); returns the payloads of the frames it completed. Closes on EOF or error."""
        try:
            data = self.sock.recv(self.recv_size)
        except (BlockingIOError, InterruptedError):  # nothing to read yet
            return []
        except TimeoutError as exc:
            if exc.errno is None:  # the socket's own timeout (a client waiting for a reply): nothing yet
                return []
            self._fail(exc, "receive from")  # ETIMEDOUT: keepalive or TCP_USER_TIMEOUT gave up
            return []
        except OSError as exc:
            self._fail(exc, "receive from")
            return []
        if not data:
            return self._on_eof()
        chunk = make_chunk(Direction.RECEIVED, data, self.rx_offset, self.conn, self.peer)
        self.rx_offset += len(data)
        if self.raw:
            self.emit(Traffic(chunk))
            return [data]
        try:
            frames = tuple(e for e in self.rx.feed(data) if isinstance(e, Frame))
        except ProtocolError as exc:
            self.emit(Traffic(chunk))
            self.close(CloseReason.ERROR, exc)
            return []
        self.emit(Traffic(chunk, frames))
        return [f.payload for f in frames]

    def _on_eof(self) -> list[bytes]:
        """The peer closed its side: finish sending what is queued, then close ours."""
        self.peer_closed = True
        try:
            if not self.raw:
                self.rx.receive_data(b"")
                list(self.rx.events())
        except ProtocolError as exc:
            self.close(CloseReason.ERROR, exc)
            return []
        if self.outbuf:
            self.emit(PeerShutdown(self.conn))
        else:
            self.close(CloseReason.PEER_CLOSED)
        return []

    def on_writable(self) -> None:
        """Send as much of the queued bytes as the socket takes now, one send() call at a time."""
        while self.outbuf and not self.closed:
            try:
                n = self.sock.send(self.outbuf)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._fail(exc, "send to")
                return
            if n == len(self.outbuf):
                data = bytes(self.outbuf)
                self.outbuf.clear()
            else:
                data = bytes(self.outbuf[:n])
                del self.outbuf[:n]
            chunk = make_chunk(Direction.SENT, data, self.tx_offset, self.conn, self.peer)
            self.tx_offset += n
            frames = () if self.raw else tuple(e for e in self.tx.feed(data) if isinstance(e, Frame))
            self.emit(Traffic(chunk, frames))
        if self.peer_closed and not self.outbuf:
            self.close(CloseReason.PEER_CLOSED)
            return
        if self.shutdown_pending and not self.outbuf and not self.closed:
            self.shutdown_pending = False
            self.write_shut = True
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError as exc:
                self._fail(exc, "shut down the connection to")
                return
            self.emit(WriteShutdown(self.conn))

    def _fail(self, exc: OSError, action: str) -> None:
        error = from_os_error(
            exc, action=action, host=self.peer_host, port=self.peer_port, timeout=self.dead_peer_timeout
        )
        reason = CloseReason.RESET if isinstance(exc, ConnectionError) else CloseReason.ERROR
        self.close(reason, error)

    def close(self, reason: CloseReason = CloseReason.LOCAL, error: SocketLabError | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        if self.before_close is not None:
            self.before_close(self)
        if self.mask and not self.loop.closed:
            self.loop.forget(self.sock)
            self.mask = 0
        self.sock.close()
        self.emit(Closed(self.conn, self.peer, reason, error))

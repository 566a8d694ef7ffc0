"""TCP echo: a multi-client server (echo / UPPER / prefix / manual reply) and a client with RTT."""

from __future__ import annotations

import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from netcore.engines.serving import ReplyMode, ServerEngine, make_reply
from netcore.errors import (
    BufferBudgetExceeded,
    InputError,
    LocalProtocolError,
    SocketLabError,
    TimedOut,
    from_os_error,
)
from netcore.io.loop import READ, TICK_S, WRITE, Engine, Timer, connect_nonblocking
from netcore.io.platform import detect_dead_peer, wait_readable
from netcore.io.resolve import resolve
from netcore.io.stream import TcpStream
from netcore.model.events import (
    Answered,
    Closed,
    CloseReason,
    Connected,
    Event,
    Failed,
    Unanswered,
)
from netcore.protocols.framing import RawCodec, make_codec


def check_message(payload: bytes, framing: str) -> None:
    """Raise ``LocalProtocolError`` if *payload* cannot be sent as one message with *framing*."""
    codec = make_codec(framing)
    if not payload and isinstance(codec, RawCodec):
        raise LocalProtocolError(
            "an empty message sends nothing over a TCP byte stream — choose a framing to send an empty frame"
        )
    codec.encode(payload)


FRAME_TIMEOUT_S = 60.0
DEAD_PEER_TIMEOUT_S = 120.0
BUFFER_BUDGET = 256 * 1024 * 1024  # bytes all of a server's clients may hold in it at once


class TcpEchoServer(ServerEngine):
    """Serves many clients at once from one select() loop; replies per decoded frame.

    A frame must arrive whole within *frame_timeout* seconds of its first byte, or the client is
    closed (a slowloris sending one byte a second holds nothing for long); raw framing has no partial
    frames, so an idle chat stays open. A client that vanished without closing (no FIN, no RST) is
    dropped about *dead_peer_timeout* seconds after it last answered (TCP keepalive). None: never.
    All clients together may hold at most *buffer_budget* bytes in the server (incomplete frames and
    unsent replies; each frame up to the codec's 16 MiB): the client whose bytes would go over it is
    closed, saying so (``BufferBudgetExceeded``).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        mode: ReplyMode | str = ReplyMode.ECHO,
        framing: str = "raw",
        prefix: bytes = b"",
        reuse_addr: bool = False,
        frame_timeout: float | None = FRAME_TIMEOUT_S,
        dead_peer_timeout: float | None = DEAD_PEER_TIMEOUT_S,
        buffer_budget: int = BUFFER_BUDGET,
    ) -> None:
        if buffer_budget < 1:
            raise InputError(f"the buffer budget must be at least 1 byte, not {buffer_budget:,}")
        make_codec(framing)  # raise InputError now for an unknown framing (before opening any socket)
        super().__init__(host, port, ReplyMode(mode), prefix, reuse_addr)
        self.framing = framing
        self.frame_timeout, self.dead_peer_timeout = frame_timeout, dead_peer_timeout
        self.buffer_budget = buffer_budget
        self.held = 0  # bytes all clients hold now: incomplete frames and unsent replies
        self._held: dict[int, int] = {}  # conn → the bytes it holds
        self._frame_timers: dict[int, Timer] = {}  # conn → the timer of its incomplete frame
        self._streams: dict[int, TcpStream] = {}
        self._next_conn = 1

    # -- thread-safe commands -------------------------------------------------------------------
    def disconnect(self, conn: int) -> None:
        self.call_soon(lambda: self._disconnect(conn))

    @property
    def client_count(self) -> int:
        return len(self._streams)

    # -- loop -----------------------------------------------------------------------------------
    def close_connections(self) -> None:
        for stream in list(self._streams.values()):
            stream.close(CloseReason.LOCAL)

    def on_listener(self, _mask: int) -> None:
        for sock, addr in self.accept_clients():
            if self.refused_for_room(sock, addr, sockets=1):
                continue
            conn = self._next_conn
            try:
                stream = TcpStream(
                    sock,
                    conn,
                    self.framing,
                    self.emit,
                    self.loop,
                    self._ready(conn),
                    before_close=self._forget,
                )
            except OSError:  # the client reset before we accepted it (getpeername: ENOTCONN)
                sock.close()
                continue
            self._next_conn += 1
            if self.dead_peer_timeout is not None:
                detect_dead_peer(sock, self.dead_peer_timeout)
                stream.dead_peer_timeout = self.dead_peer_timeout
            self._streams[conn] = stream
            self.emit(Connected(conn, stream.local, stream.peer))
            stream.sync()

    def _ready(self, conn: int) -> Callable[[int], None]:
        return lambda mask: self._service(self._streams[conn], mask)

    def _forget(self, stream: TcpStream) -> None:
        self._streams.pop(stream.conn, None)
        self.held -= self._held.pop(stream.conn, 0)
        timer = self._frame_timers.pop(stream.conn, None)
        if timer is not None:
            timer.cancel()

    def _service(self, stream: TcpStream, mask: int) -> None:
        if mask & READ:
            payloads = stream.on_readable()
            for payload in payloads:
                reply = make_reply(self.mode, payload, self.prefix)
                if reply is not None:
                    self._queue(stream, reply)
            self._time_frame(stream, completed=bool(payloads))
        if stream.outbuf or stream.peer_closed:
            stream.on_writable()
        self._hold(stream)
        stream.sync()

    def _hold(self, stream: TcpStream) -> None:
        """Count the bytes *stream* holds; close it if they would take the server over its budget."""
        if stream.closed:
            return
        now = stream.rx.buffered + len(stream.outbuf)
        before = self._held.get(stream.conn, 0)
        if now > before and self.held - before + now > self.buffer_budget:
            error = BufferBudgetExceeded(
                action="receive from",
                where=stream.peer,
                detail="",
                host=stream.peer_host,
                port=stream.peer_port,
                held=now,
                budget_mib=self.buffer_budget / 2**20,
            )
            stream.close(CloseReason.ERROR, error)
            return
        self.held += now - before
        self._held[stream.conn] = now

    def _time_frame(self, stream: TcpStream, completed: bool) -> None:
        """Start the clock when a frame begins to arrive; stop it when no frame is incomplete."""
        conn = stream.conn
        if self.frame_timeout is None or stream.closed or not stream.rx.buffered:
            timer = self._frame_timers.pop(conn, None)
            if timer is not None:
                timer.cancel()
        elif completed or conn not in self._frame_timers:
            if conn in self._frame_timers:
                self._frame_timers[conn].cancel()
            self._frame_timers[conn] = self.loop.call_later(
                self.frame_timeout, lambda: self._expire_frame(conn)
            )

    def _expire_frame(self, conn: int) -> None:
        self._frame_timers.pop(conn, None)
        stream = self._streams.get(conn)
        if stream is None:
            return
        error = TimedOut(
            action="wait for a request from",
            where=stream.peer,
            detail=f"{stream.rx.buffered:,} bytes of an incomplete frame",
            host=stream.peer_host,
            port=stream.peer_port,
            timeout=self.frame_timeout,
        )
        stream.close(CloseReason.ERROR, error)

    def _queue(self, stream: TcpStream, payload: bytes) -> None:
        try:
            stream.queue(payload)
        except LocalProtocolError as exc:
            self.emit(Failed(exc, stream.conn))

    def _send(self, conn: int, payload: bytes) -> None:
        stream = self._streams.get(conn)
        if stream is None:
            self.emit(Failed(InputError("client #{conn} is no longer connected", conn=conn), conn))
            return
        self._queue(stream, payload)
        self._service(stream, 0)

    def _send_all(self, payload: bytes) -> None:
        for conn in list(self._streams):
            self._send(conn, payload)

    def _disconnect(self, conn: int) -> None:
        stream = self._streams.get(conn)
        if stream is not None:
            stream.close(CloseReason.LOCAL)


@dataclass(slots=True)
class _Waiting:
    """A sent message waiting for its reply: *size* units (bytes, or one frame) of reply, which
    cannot begin before *floor* (what had arrived when it was sent) nor before the reply of the
    message before it ends."""

    index: int
    size: int
    sent_ns: int
    floor: int
    threshold: int = 0  # answered once this much reply has arrived

    def place(self, before: _Waiting | None) -> None:
        start = self.floor if before is None else max(self.floor, before.threshold)
        self.threshold = start + self.size


class TcpEchoClient(Engine):
    """Connects, sends framed messages, receives continuously, and times each reply.

    Each message waits for its own reply: one frame (framing on) or as many bytes as it had (raw),
    counted from what had arrived when it was sent and after the replies of the messages before it.
    A message with no reply within *timeout* seconds is given up (``Unanswered``), so its missing
    reply never makes a later message's reply count as its own.
    """

    def __init__(
        self, host: str, port: int, framing: str = "raw", timeout: float = 5.0, nodelay: bool = False
    ) -> None:
        framed = not isinstance(make_codec(framing), RawCodec)  # InputError before opening any socket
        super().__init__()
        self.framed = framed
        self.host, self.port, self.framing, self.timeout, self.nodelay = host, port, framing, timeout, nodelay
        self.stream: TcpStream | None = None
        self._sent_messages = 0
        self._rx_frames = 0
        self._pending: deque[_Waiting] = deque()  # messages waiting for their reply, oldest first
        self._expiry: Timer | None = None

    def connect(self) -> Connected:
        """Connect within the timeout, trying each address the name resolves to; raises ``NetError``.

        The wait runs on the engine's loop, so ``stop()`` from another thread ends it at once
        (a cancelled connect raises ``LocalProtocolError``).
        """
        infos = resolve(self.host, self.port, socket.SOCK_STREAM, "connect to")
        deadline = time.monotonic() + self.timeout
        try:
            sock = connect_nonblocking(self.loop, infos, deadline, "the connection attempt")
        except OSError as exc:
            raise from_os_error(
                exc, action="connect to", host=self.host, port=self.port, timeout=self.timeout
            ) from None
        try:
            if self.nodelay:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.stream = TcpStream(
                sock, 1, self.framing, self.emit, self.loop, self._on_ready, backpressure=False
            )
        except OSError as exc:  # reset before getpeername()
            sock.close()
            raise from_os_error(exc, action="connect to", host=self.host, port=self.port) from None
        event = Connected(1, self.stream.local, self.stream.peer)
        self.emit(event)
        self.stream.sync()
        return event

    @property
    def connected(self) -> bool:
        return self.stream is not None and not self.stream.closed

    # -- commands (call directly from the owning thread, or via submit/... from another) ---------
    def send(self, payload: bytes) -> int:
        """Queue one message and start sending it; returns its index. Raises ``LocalProtocolError``."""
        stream = self._require_stream()
        if not payload and not self.framed:
            check_message(payload, self.framing)  # raises: explains why an empty raw send is refused
        stream.queue(payload)  # raises LocalProtocolError when the framing cannot carry it
        index = self._sent_messages
        self._sent_messages += 1
        waiting = _Waiting(
            index, 1 if self.framed else len(payload), time.perf_counter_ns(), self._progress(stream)
        )
        waiting.place(self._pending[-1] if self._pending else None)
        self._pending.append(waiting)
        if len(self._pending) == 1:
            self._schedule_expiry()
        stream.on_writable()
        stream.sync()
        return index

    def shutdown_write(self) -> None:
        """Half close: send FIN after the queued bytes; we keep receiving until the peer closes."""
        stream = self._require_stream()
        stream.shutdown_pending = True
        stream.on_writable()
        stream.sync()

    def close(self) -> None:
        """Close the connection and release every socket this client holds (idempotent)."""
        if self.stream is not None:
            self.stream.close(CloseReason.LOCAL)
        self.loop.close()

    def submit(self, payload: bytes) -> None:
        """Thread-safe ``send``: errors arrive as ``Failed`` events."""
        self.call_soon(lambda: self._guarded(lambda: self.send(payload)))

    def submit_shutdown_write(self) -> None:
        self.call_soon(lambda: self._guarded(self.shutdown_write))

    def _guarded(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except SocketLabError as exc:
            self.emit(Failed(exc, 1))

    def _require_stream(self) -> TcpStream:
        if self.stream is None or self.stream.closed:
            raise LocalProtocolError("not connected")
        return self.stream

    # -- I/O ------------------------------------------------------------------------------------
    def pump(self, timeout: float) -> list[Event]:
        """One round of the loop of at most *timeout* seconds; returns the events it produced."""
        self.loop.run_once(timeout)
        return self.take_events()

    def _on_ready(self, mask: int) -> None:
        stream = self.stream
        assert stream is not None
        if mask & READ:
            self._rx_frames += len(stream.on_readable())
            self._check_answers(stream)
        if mask & WRITE:
            stream.on_writable()
        stream.sync()

    def _progress(self, stream: TcpStream) -> int:
        """How much reply has arrived: frames (framing on) or bytes (raw)."""
        return self._rx_frames if self.framed else stream.rx_offset

    def _check_answers(self, stream: TcpStream) -> None:
        progress = self._progress(stream)
        now = time.perf_counter_ns()
        answered = False
        while self._pending and progress >= self._pending[0].threshold:
            waiting = self._pending.popleft()
            self.emit(Answered(stream.conn, waiting.index, (now - waiting.sent_ns) / 1e9))
            answered = True
        if answered:
            self._schedule_expiry()

    def _schedule_expiry(self) -> None:
        """Keep one timer, due when the oldest waiting message runs out of time (call it when the
        oldest changes)."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        if self._pending:
            due = self._pending[0].sent_ns / 1e9 + self.timeout - time.perf_counter_ns() / 1e9
            self._expiry = self.loop.call_later(max(0.0, due), self._expire)

    def _expire(self) -> None:
        """Give up the messages whose reply is overdue; the rest wait for replies from now on."""
        self._expiry = None
        stream = self.stream
        if stream is None or stream.closed:
            return
        now = time.perf_counter_ns()
        limit = int(self.timeout * 1e9)
        gave_up = False
        while self._pending and now - self._pending[0].sent_ns >= limit:
            waiting = self._pending.popleft()
            self.emit(Unanswered(stream.conn, waiting.index, (now - waiting.sent_ns) / 1e9))
            gave_up = True
        if gave_up:
            before: _Waiting | None = None
            for waiting in self._pending:
                waiting.place(before)
                before = waiting
        self._schedule_expiry()

    def _wait_for_reply(self, timeout: float) -> list[Event]:
        """One wait for the reply: a single poll of the socket when nothing is left to send, which
        saves a loop round per message; through ``pump`` otherwise."""
        stream = self._require_stream()
        if stream.outbuf or stream.shutdown_pending:
            return self.pump(timeout)
        if wait_readable(stream.sock, timeout):
            self._rx_frames += len(stream.on_readable())
            self._check_answers(stream)
        return self.take_events()

    def request(self, payload: bytes, timeout: float | None = None) -> tuple[Answered, list[Event]]:
        """Send one message and wait for its reply; returns the ``Answered`` event and all events."""
        limit = self.timeout if timeout is None else timeout
        index = self.send(payload)
        events: list[Event] = []
        deadline = time.monotonic() + limit
        while (left := deadline - time.monotonic()) > 0:
            new = self._wait_for_reply(min(left, TICK_S))
            events += new
            for ev in new:
                if isinstance(ev, Answered) and ev.index == index:
                    return ev, events
                if isinstance(ev, Closed):
                    raise ev.error or LocalProtocolError(
                        f"the server closed the connection before replying to message #{index + 1}"
                    )
        raise TimedOut(
            action="wait for the reply from",
            where=f"{self.host}:{self.port}",
            detail="timed out",
            host=self.host,
            port=self.port,
            timeout=limit,
        )

    # -- the run (the GUI's worker) --------------------------------------------------------------
    def setup(self) -> bool:
        """Connect unless already connected; a failure (not our own stop) is reported."""
        if self.stream is not None:
            return True
        try:
            self.connect()
        except SocketLabError as exc:
            if not self.stopping:
                self.emit(Failed(exc))
            return False
        return True

    @property
    def done(self) -> bool:
        return not self.connected

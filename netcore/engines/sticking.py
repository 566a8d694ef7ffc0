"""Packet sticking (粘包) on demand: both ends of a loopback TCP connection with plain blocking
sockets and the course's calls (``send``, ``sendall``, ``recv(n)``), recording every send call,
every recv chunk and every decoded frame, and saying in words what happened.

The receiver's delay before its first ``recv`` makes merging certain (both sends are already in
its buffer), so every preset gives the same verdict on every run.
"""

from __future__ import annotations

import hashlib
import select
import socket
import struct
import threading
import time

from netcore.errors import (
    ProtocolError,
    RemoteProtocolError,
    SocketLabError,
    from_os_error,
)
from netcore.io.loop import Engine
from netcore.io.platform import bytes_waiting, data_segments_out, wait_until_sent
from netcore.model.events import Failed, ScenarioFinished, ScenarioStepped
from netcore.model.scenario import READY, Call, Cure, Scenario, ScenarioResult, verdict
from netcore.protocols import filehdr
from netcore.protocols.framing import DelimiterCodec, Frame, FramingCodec, JsonHeaderCodec, LengthPrefixCodec


def _codec(scenario: Scenario) -> FramingCodec | None:
    return {
        Cure.LENGTH: LengthPrefixCodec(4, "big"),
        Cure.DELIMITER: DelimiterCodec(scenario.delimiter),
        Cure.JSON: JsonHeaderCodec("!I"),
    }.get(scenario.cure)


def _wire_pieces(scenario: Scenario, message: bytes) -> list[bytes]:
    """What the sender passes to send() for one message, one item per call, as the course writes it."""
    if scenario.cure is Cure.LENGTH:
        return [struct.pack("!I", len(message)), message]
    if scenario.cure is Cure.DELIMITER:
        return [message + scenario.delimiter]
    if scenario.cure is Cure.JSON:
        head = filehdr.encode_header({"data_all": len(message), "md5": hashlib.md5(message).hexdigest()})
        return [head[: filehdr.LENGTH_SIZE], head[filehdr.LENGTH_SIZE :], message]
    return [message]


class StickingSession:
    """One run of a scenario. ``start()`` connects and starts the sender; each ``step()`` is one
    ``recv()`` by the receiver (step mode); ``finish()`` stops and returns the result."""

    def __init__(self, scenario: Scenario, timeout: float = 5.0) -> None:
        self.scenario, self.timeout = scenario, timeout
        self.sends: list[Call] = []
        self.recvs: list[Call] = []
        self.frames: list[Frame] = []
        self._codec = _codec(scenario)
        self._t0 = 0.0
        self._sent_total = 0
        self._sender_done = threading.Event()
        self._aborted = threading.Event()  # wakes the sender from its gaps
        self._sender_error: BaseException | None = None
        self._segments: int | None = None
        self._announce_rtt: float | None = None
        self._announced: int | None = None  # announce-and-wait: the length the receiver read
        self._conn: socket.socket | None = None
        self._client: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._eof = False

    @property
    def expected_bytes(self) -> int:
        """Every byte the sender will put on the wire."""
        s = self.scenario
        if s.cure is Cure.ANNOUNCE:
            return sum(len(str(len(m)).encode()) + len(m) for m in s.messages)
        return sum(len(piece) for m in s.messages for piece in _wire_pieces(s, m))

    def now(self) -> float:
        return time.perf_counter() - self._t0

    # -- lifetime -------------------------------------------------------------------------------
    def start(self) -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            self._client = socket.create_connection(listener.getsockname(), timeout=self.timeout)
            self._conn, _ = listener.accept()
        self._conn.settimeout(self.timeout)
        if self.scenario.nodelay:
            self._client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._send_all, name="sticking-sender", daemon=True)
        self._thread.start()

    def finish(self, abort: bool = False) -> ScenarioResult:
        """End the run and return what happened: wait for the sender, read nothing more, close both
        ends — or with *abort*, close both ends first (waking a sender blocked on a full buffer)."""
        if abort:
            waiting = self.waiting()
            self.abort()
        else:
            if self._thread is not None:
                self._thread.join(self.timeout)
            waiting = self.waiting()
            self.abort()
            if self._sender_error is not None:
                raise self._sender_error
        return self._result(waiting)

    def __enter__(self) -> StickingSession:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()

    def abort(self) -> None:
        """Stop at once: close both ends first (which wakes a sender blocked on a full buffer), then
        wait for the sender."""
        self._aborted.set()
        for sock in (self._conn, self._client):
            if sock is not None:
                sock.close()
        if self._thread is not None:
            self._thread.join(self.timeout)

    def readable(self, timeout: float) -> bool:
        """Whether the receiver's next recv() would return at once (data or the end), waiting at
        most *timeout* seconds."""
        assert self._conn is not None
        return bool(select.select([self._conn], [], [], timeout)[0])

    # -- sender (its own thread) ----------------------------------------------------------------
    def _send_all(self) -> None:
        assert self._client is not None
        sock, s = self._client, self.scenario
        try:
            if s.cure is Cure.ANNOUNCE:
                self._send_announced(sock)
            elif s.sendall:
                data = b"".join(piece for m in s.messages for piece in _wire_pieces(s, m))
                sock.sendall(data)
                self._record_send(data)
            else:
                for i, message in enumerate(s.messages):
                    if i and s.gap_s and self._aborted.wait(s.gap_s):
                        return
                    for piece in _wire_pieces(s, message):
                        self._send(sock, piece)
            wait_until_sent(sock)  # so the segment count is final
            self._segments = data_segments_out(sock)
        except (OSError, SocketLabError) as exc:  # e.g. no READY: the receiver closed or failed
            self._sender_error = exc
        finally:
            self._sender_done.set()

    def _send(self, sock: socket.socket, data: bytes) -> None:
        """send() until all of *data* is out, recording each call (send may take less than asked)."""
        view = memoryview(data)
        while view:
            n = sock.send(view)
            self._record_send(bytes(view[:n]))
            view = view[n:]

    def _record_send(self, data: bytes) -> None:
        self.sends.append(Call(self.now(), self._sent_total, data))
        self._sent_total += len(data)

    def _send_announced(self, sock: socket.socket) -> None:
        for i, message in enumerate(self.scenario.messages):
            if i and self.scenario.gap_s and self._aborted.wait(self.scenario.gap_s):
                return
            started = time.perf_counter()
            self._send(sock, str(len(message)).encode())
            reply = sock.recv(len(READY))
            if reply != READY:
                raise RemoteProtocolError(f"expected {READY!r} from the receiver, got {reply!r}")
            self._announce_rtt = (time.perf_counter() - started) * 1000
            self._send(sock, message)

    # -- receiver (the caller's thread) ---------------------------------------------------------
    @property
    def done(self) -> bool:
        """Nothing more to read: every expected byte arrived, the recv limit is reached, or EOF."""
        limit = self.scenario.max_recvs
        received = sum(c.length for c in self.recvs)
        return (
            self._eof or (limit is not None and len(self.recvs) >= limit) or received >= self.expected_bytes
        )

    @property
    def drained(self) -> bool:
        """Nothing is left to read at all: every expected byte arrived, or EOF (past any recv limit)."""
        return self._eof or sum(c.length for c in self.recvs) >= self.expected_bytes

    def waiting(self) -> int | None:
        """Bytes in the receiver's buffer now (step mode shows this before each step)."""
        return bytes_waiting(self._conn) if self._conn is not None else None

    def step(self, drain: bool = False) -> Call | None:
        """One recv() of the scenario's next size; None when the run is done. With *drain* the
        scenario's recv() limit is passed: None only when everything sent has been read."""
        assert self._conn is not None
        if self.drained if drain else self.done:
            return None
        s = self.scenario
        index = len(self.recvs)
        size = s.recv_sizes[index] if index < len(s.recv_sizes) else s.recv_size
        if s.cure is Cure.ANNOUNCE:
            return self._step_announced(size)
        waiting = bytes_waiting(self._conn)
        data = self._conn.recv(size)
        return self._record_recv(data, waiting)

    def _record_recv(self, data: bytes, waiting: int | None) -> Call:
        offset = sum(c.length for c in self.recvs)
        call = Call(self.now(), offset, data, waiting)
        self.recvs.append(call)
        if not data:
            self._eof = True
        if self._codec is not None:
            try:
                self.frames += [e for e in self._codec.feed(data) if isinstance(e, Frame)]
            except ProtocolError:
                self._codec = None  # the decoder cannot go on; the verdict counts what it recovered
        return call

    def _step_announced(self, size: int) -> Call:
        """The course's first cure, receiver side: read the length, answer recv_ready, read the data."""
        assert self._conn is not None
        waiting = bytes_waiting(self._conn)
        if self._announced is None:
            data = self._conn.recv(size)
            call = self._record_recv(data, waiting)
            try:
                self._announced = int(data.decode("ascii"))
            except ValueError:
                raise RemoteProtocolError(f"expected a length in ASCII digits, got {data!r}") from None
            start = call.offset
            self.frames.append(
                Frame(len(self.frames), data, start, start, start + len(data), start + len(data))
            )
            self._conn.sendall(READY)
            if self._announced == 0:  # an empty message: nothing to read (recv(0) would look like EOF)
                end = start + len(data)
                self.frames.append(Frame(len(self.frames), b"", end, end, end, end))
                self._announced = None
            return call
        data = self._conn.recv(min(size, self._announced - self._pending_payload()))
        call = self._record_recv(data, waiting)
        if self._pending_payload() >= self._announced:
            end = call.offset + call.length
            start = end - self._announced
            payload = b"".join(c.data for c in self.recvs)[start:end]
            self.frames.append(Frame(len(self.frames), payload, start, start, end, end))
            self._announced = None
        return call

    def _pending_payload(self) -> int:
        """Payload bytes received since the last announced length."""
        last_length = self.frames[-1]
        return sum(c.length for c in self.recvs) - last_length.end

    # -- result ---------------------------------------------------------------------------------
    def snapshot(self) -> ScenarioResult:
        """What happened so far, both ends left open (step mode: the scenario's receiver stopped and
        the class may go on reading). The sender gets a moment to finish its count of segments."""
        self._sender_done.wait(0.2)
        return self._result(self.waiting())

    def _result(self, waiting: int | None) -> ScenarioResult:
        s = self.scenario
        frames = tuple(self.frames)
        if s.cure is Cure.ANNOUNCE:
            frames = tuple(f for f in frames if f.index % 2 == 1)  # the payloads, not the announcements
        segments = self._segments
        return ScenarioResult(
            s,
            tuple(self.sends),
            tuple(self.recvs),
            frames,
            waiting,
            segments,
            self._announce_rtt,
            verdict(s, self.sends, self.recvs, frames, waiting),
        )


def run_scenario(
    scenario: Scenario, timeout: float = 5.0, cancel: threading.Event | None = None
) -> ScenarioResult:
    """Run a whole scenario: the receiver waits ``recv_delay_s``, then recv()s until done. Setting
    *cancel* ends it within about 50 ms with what happened so far."""
    cancel = cancel or threading.Event()
    with StickingSession(scenario, timeout) as session:
        if cancel.wait(scenario.recv_delay_s):
            return session.finish(abort=True)
        deadline = time.monotonic() + timeout
        while not session.done and time.monotonic() < deadline:
            while not session.readable(0.05):
                if cancel.is_set():
                    return session.finish(abort=True)
                if time.monotonic() >= deadline:
                    return session.finish()
            if session.step() is None:
                break
            if scenario.recv_gap_s and cancel.wait(scenario.recv_gap_s):
                return session.finish(abort=True)
        return session.finish()


class ScenarioEngine(Engine):
    """Runs a scenario for the GUI's worker: all at once, or one ``recv()`` per ``step()`` call.

    In step mode a scenario whose receiver stops with bytes still to read (``max_recvs``) reports its
    result and stays open: each further step drains one more ``recv()`` until everything sent is read.
    """

    def __init__(self, scenario: Scenario, stepped: bool = False, timeout: float = 5.0) -> None:
        super().__init__()
        self.scenario, self.stepped, self.timeout = scenario, stepped, timeout
        self._session: StickingSession | None = None
        self._draining = False  # the scenario's receiver has stopped; steps read what is left

    def step(self) -> None:
        """Thread-safe: do the receiver's next recv() (step mode)."""
        self.call_soon(self._step)

    def _step(self) -> None:
        session = self._session
        if session is None:
            return
        call = session.step(drain=self._draining)
        if call is not None:
            self.emit(
                ScenarioStepped(
                    call,
                    tuple(session.sends),
                    tuple(session.frames),
                    session.waiting(),
                    draining=self._draining,
                    drained=self._draining and session.drained,
                )
            )
        if self._draining:
            if session.drained:
                self._session = None
                session.abort()
                self.stop()
        elif session.done:
            if session.drained:
                self._finish()
            else:
                self._draining = True
                self.emit(ScenarioFinished(session.snapshot(), draining=True))

    def _finish(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            self.emit(ScenarioFinished(session.finish()))
            self.stop()

    def serve(self) -> None:
        try:
            if not self.stepped:
                self.emit(
                    ScenarioFinished(run_scenario(self.scenario, self.timeout, cancel=self.loop.stop_event))
                )
                return
            self._session = StickingSession(self.scenario, self.timeout)
            self._session.start()
            self.loop.sleep(0.05)  # let the sender's first bytes arrive before showing what is waiting
            self.emit(ScenarioStepped(None, tuple(self._session.sends), (), self._session.waiting()))
            self.flush()
            super().serve()  # each step() is a command run by the loop
        except (OSError, SocketLabError) as exc:
            error = (
                exc
                if isinstance(exc, SocketLabError)
                else from_os_error(exc, action="run the scenario on", host="127.0.0.1", port=0)
            )
            self.emit(Failed(error))

    def close(self) -> None:
        if self._session is not None:
            self._session.abort()
        super().close()

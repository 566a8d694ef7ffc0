"""UDP echo: a server for any number of peers and a client with limits, truncation and probes.

UDP teaches the opposite lesson of TCP: each datagram keeps its boundary (each is reported as its
own frame), and may be lost, duplicated or reordered; one datagram carries at most 65,507 bytes
over IPv4 (65,535 − 20 IP header − 8 UDP header), and over 1,472 bytes it is fragmented on a
1,500-byte MTU; a receive buffer smaller than the datagram loses the rest of it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any, Final

from netcore.engines.serving import PeerTable, ReplyGuard, ReplyMode, ServerEngine, make_reply
from netcore.errors import (
    InputError,
    LocalProtocolError,
    NetError,
    NoUdpReply,
    PortUnreachable,
    SocketLabError,
    from_os_error,
)
from netcore.io.loop import READ, TICK_S, Engine
from netcore.io.platform import MAX_DATAGRAM, recv_datagram, wait_readable, waiting_datagrams
from netcore.io.resolve import resolve
from netcore.io.stream import endpoint_of
from netcore.model.events import (
    Connected,
    Event,
    Failed,
    LargeDatagram,
    ProbeFinished,
    ProbeReply,
    Traffic,
    Truncated,
)
from netcore.model.traffic import Direction
from netcore.protocols.probe import MIN_PROBE_SIZE, ProbeStats, ProbeTracker, decode_probe, encode_probe

MAX_PAYLOAD_IPV4: Final = 65_507  # 65,535 − 20 (IPv4 header) − 8 (UDP header)
MAX_PAYLOAD_IPV6: Final = 65_527  # 65,535 − 8 (UDP header); the IPv6 header is not counted
MTU_PAYLOAD: Final = 1_472  # 1,500 − 20 − 8: the largest datagram that is not fragmented on Ethernet
RECV_SIZE: Final = 65_535
PROBE_BURST: Final = 32  # probes sent per round at most, so replies are read between bursts


def check_datagram_size(size: int, ipv6: bool = False) -> None:
    """Refuse, before sending, a datagram larger than UDP can carry, saying why."""
    limit = MAX_PAYLOAD_IPV6 if ipv6 else MAX_PAYLOAD_IPV4
    if size > limit:
        why = "65,535 − 8 (UDP header)" if ipv6 else "65,535 − 20 (IP header) − 8 (UDP header)"
        raise LocalProtocolError(
            f"{size:,} bytes do not fit in one UDP datagram over {'IPv6' if ipv6 else 'IPv4'}: "
            f"the maximum is {limit:,} = {why}"
        )


class UdpEchoServer(ServerEngine):
    """Answers datagrams from any number of peers: echo / UPPER / prefix / manual reply. The *guard*
    decides which it answers automatically (not itself, not a service port, a rate per peer)."""

    socket_kind = socket.SOCK_DGRAM

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        mode: ReplyMode | str = ReplyMode.ECHO,
        prefix: bytes = b"",
        reuse_addr: bool = False,
        recv_size: int = RECV_SIZE,
        guard: ReplyGuard | None = None,
    ) -> None:
        reply_mode = ReplyMode(mode)
        if not 1 <= recv_size <= RECV_SIZE:
            raise InputError(f"the receive buffer must be 1 to {RECV_SIZE:,} bytes, not {recv_size:,}")
        super().__init__(host, port, reply_mode, prefix, reuse_addr)
        self.recv_size = recv_size
        self.guard = guard or ReplyGuard()
        self._ipv6 = False  # the bound socket's family, set when the loop starts

    def setup(self) -> bool:
        if not super().setup():
            return False
        assert self._sock is not None
        self._ipv6 = self._sock.family == socket.AF_INET6
        return True

    def on_listener(self, _mask: int) -> None:
        for conn, datagram in self.receive_datagrams(self.recv_size, self.mode is not ReplyMode.MANUAL):
            reply = make_reply(self.mode, datagram.data, self.prefix)
            if reply is not None:
                self._send(conn, reply)

    def _send(self, conn: int, payload: bytes) -> None:
        addr = self.peers.addrs.get(conn)
        if addr is None or self._sock is None:
            self.emit(Failed(InputError("no datagram has come from peer #{conn}", conn=conn), conn))
            return
        try:
            check_datagram_size(len(payload), self._ipv6)
            self._sock.sendto(payload, addr)
        except LocalProtocolError as exc:
            self.emit(Failed(exc, conn))
            return
        except OSError as exc:
            self.emit(
                Failed(from_os_error(exc, action="send to", host=addr[0], port=addr[1], udp=True), conn)
            )
            return
        self.emit(self.peers.traffic(Direction.SENT, payload, conn))


class UdpEchoClient(Engine):
    """Sends datagrams to one server and reports every reply with the address it came from.

    With *connected*, the socket is ``connect()``-ed: the kernel then filters replies to that
    address and reports ICMP 'port unreachable' as ``PortUnreachable``; without, a missing server
    looks exactly like a lost datagram (a timeout).
    """

    def __init__(
        self, host: str, port: int, timeout: float = 2.0, connected: bool = False, recv_size: int = RECV_SIZE
    ) -> None:
        if not 1 <= recv_size <= RECV_SIZE:
            raise InputError(f"the receive buffer must be 1 to {RECV_SIZE:,} bytes, not {recv_size:,}")
        super().__init__()
        self.host, self.port, self.timeout, self.connected = host, port, timeout, connected
        self.recv_size = recv_size
        self.sock: socket.socket | None = None
        self._server: Any = None  # the server's socket address, as getaddrinfo gave it
        self._peers = PeerTable()
        self._buf = bytearray(MAX_DATAGRAM)
        self._probe: _ProbeRun | None = None
        self._ipv6 = False
        self.local = ""

    def open(self) -> None:
        """Resolve the server and create the socket (connect() it in connected mode)."""
        family, socktype, proto, _, address = resolve(self.host, self.port, socket.SOCK_DGRAM, "send to")[0]
        sockaddr: Any = address
        try:
            sock = socket.socket(family, socktype, proto)
        except OSError as exc:
            raise from_os_error(exc, action="send to", host=self.host, port=self.port, udp=True) from None
        try:
            if self.connected:
                sock.connect(sockaddr)
            else:
                sock.bind(("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0))
        except OSError as exc:
            sock.close()
            raise from_os_error(exc, action="connect to", host=self.host, port=self.port, udp=True) from None
        sock.setblocking(False)
        self.sock, self._server = sock, sockaddr
        self._ipv6 = family == socket.AF_INET6  # kept: socket.family builds an enum at each call
        self.local = endpoint_of(sock.getsockname())
        conn, _ = self._peers.lookup(sockaddr)
        self.emit(Connected(conn, self.local, endpoint_of(sockaddr)))
        self.loop.watch(sock, READ, self._on_readable)

    @property
    def ipv6(self) -> bool:
        return self._ipv6

    # -- sending --------------------------------------------------------------------------------
    def send(self, payload: bytes) -> None:
        """Send one datagram (an empty one is legal). Raises ``LocalProtocolError`` / ``NetError``."""
        if self.sock is None:
            self.open()
        assert self.sock is not None
        check_datagram_size(len(payload), self.ipv6)
        try:
            if self.connected:
                self.sock.send(payload)
            else:
                self.sock.sendto(payload, self._server)
        except OSError as exc:
            raise from_os_error(exc, action="send to", host=self.host, port=self.port, udp=True) from None
        conn, _ = self._peers.lookup(self._server)
        self.emit(self._peers.traffic(Direction.SENT, payload, conn))
        if len(payload) > MTU_PAYLOAD:
            self.emit(LargeDatagram(conn, len(payload)))

    def submit(self, payload: bytes) -> None:
        """Thread-safe ``send``; errors arrive as ``Failed`` events."""
        self.call_soon(lambda: self._guarded(lambda: self.send(payload)))

    def submit_probe(self, count: int, interval_s: float, size: int = MIN_PROBE_SIZE) -> None:
        """Start a probe in the engine's thread: ``ProbeReply`` per reply, then ``ProbeFinished``."""
        self.call_soon(lambda: self._guarded(lambda: self._start_probe(count, interval_s, size)))

    def _guarded(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except SocketLabError as exc:
            self.emit(Failed(exc, 1))

    # -- receiving ------------------------------------------------------------------------------
    def pump(self, timeout: float) -> list[Event]:
        """One round of the loop of at most *timeout* s (a running probe's timer included)."""
        self.loop.run_once(timeout)
        return self.take_events()

    def _on_readable(self, _mask: int) -> None:
        assert self.sock is not None
        for received in waiting_datagrams(self.sock, self._buf, self.recv_size):
            if isinstance(received, OSError):
                error = from_os_error(received, action="send to", host=self.host, port=self.port, udp=True)
                self.emit(Failed(error, 1))
                return
            if received is None:
                self.emit(Failed(self._unreachable(), 1))
                return
            self._on_datagram(*received)

    def _unreachable(self) -> PortUnreachable:
        where = endpoint_of(self._server) if self._server is not None else f"{self.host}:{self.port}"
        return PortUnreachable(
            action="send to", where=where, detail="port unreachable", host=self.host, port=self.port
        )

    def _on_datagram(self, data: bytes, size: int, addr: Any) -> None:
        received_ns = time.perf_counter_ns()
        conn, new = self._peers.lookup(addr)
        if new:
            self.emit(Connected(conn, self.local, endpoint_of(addr)))
        self.emit(self._peers.traffic(Direction.RECEIVED, data, conn))
        if size > len(data):
            self.emit(Truncated(conn, endpoint_of(addr), len(data), size))
        if self._probe is not None:
            self._probe.on_datagram(data, received_ns, self.emit)

    def request(self, payload: bytes, timeout: float | None = None) -> tuple[Traffic, list[Event]]:
        """Send one datagram and wait for the next one to arrive; returns it and every event."""
        limit = self.timeout if timeout is None else timeout
        self.send(payload)
        assert self.sock is not None
        deadline = time.monotonic() + limit
        # One poll of the socket per wait: no loop round per datagram.
        while wait_readable(self.sock, deadline - time.monotonic()):
            try:
                received = recv_datagram(self.sock, self._buf, self.recv_size)
            except (BlockingIOError, InterruptedError):  # taken by another reader: wait again
                continue
            except OSError as exc:
                raise from_os_error(exc, action="send to", host=self.host, port=self.port, udp=True) from None
            if received is None:
                raise self._unreachable()
            self._on_datagram(*received)
            events = self.take_events()
            reply = next(
                e for e in events if isinstance(e, Traffic) and e.chunk.direction is Direction.RECEIVED
            )
            return reply, events
        raise NoUdpReply(
            action="wait for a reply from",
            where=endpoint_of(self._server),
            detail="timed out",
            host=self.host,
            port=self.port,
            timeout=limit,
        )

    # -- probe ----------------------------------------------------------------------------------
    def _start_probe(self, count: int, interval_s: float, size: int) -> None:
        if self._probe is not None:
            raise LocalProtocolError("a probe is already running")
        if count < 1 or interval_s < 0:
            raise InputError("a probe needs at least 1 datagram and an interval of 0 ms or more")
        check_datagram_size(size, self.ipv6)
        encode_probe(0, 0, size)  # refuse a size under MIN_PROBE_SIZE now
        if self.sock is None:
            self.open()
        self._probe = _ProbeRun(count, interval_s, size, self.timeout)
        self.loop.call_later(0, self._advance_probe)

    def _advance_probe(self) -> None:
        """Send the probes that are due, finish when all are settled, else come back when due."""
        probe = self._probe
        if probe is None:
            return
        now = time.monotonic()
        burst = 0
        while probe.sent < probe.count and now >= probe.next_send and burst < PROBE_BURST:
            burst += 1
            seq = probe.sent
            sent_ns = time.perf_counter_ns()
            try:
                self.send(encode_probe(seq, sent_ns, probe.size))
            except NetError as exc:
                self.emit(Failed(exc, 1))  # e.g. port unreachable in connected mode: keep probing
            probe.tracker.on_sent(seq, sent_ns)
            probe.sent += 1
            probe.next_send += probe.interval_s
        if probe.sent == probe.count and probe.tracker.all_settled(time.perf_counter_ns()):
            self.emit(ProbeFinished(probe.tracker.stats(time.perf_counter_ns())))
            self._probe = None
            return
        self.loop.call_later(max(0.0, probe.next_due() - time.monotonic()), self._advance_probe)

    def probe(
        self, count: int, interval_s: float, size: int = MIN_PROBE_SIZE
    ) -> tuple[ProbeStats, list[Event]]:
        """Run a whole probe in the calling thread (CLI and tests)."""
        self._start_probe(count, interval_s, size)
        events: list[Event] = []
        deadline = time.monotonic() + count * interval_s + self.timeout + 5
        while time.monotonic() < deadline:
            new = self.pump(TICK_S)
            events += new
            for event in new:
                if isinstance(event, ProbeFinished):
                    return event.stats, events
        raise LocalProtocolError("the probe did not finish in time")

    # -- lifetime -------------------------------------------------------------------------------
    def close(self) -> None:
        """Release the socket and the loop (idempotent)."""
        if self.sock is not None:
            if not self.loop.closed:
                self.loop.forget(self.sock)
            self.sock.close()
        self.loop.close()

    def setup(self) -> bool:
        """Open the socket unless open already (the GUI's worker); a failure is reported."""
        if self.sock is None:
            try:
                self.open()
            except NetError as exc:
                self.emit(Failed(exc))
                return False
        return True


class _ProbeRun:
    """State of one probe: what is sent, when the next one is due, what came back."""

    def __init__(self, count: int, interval_s: float, size: int, timeout_s: float) -> None:
        self.count, self.interval_s, self.size = count, interval_s, size
        self.sent = 0
        self.next_send = time.monotonic()
        self.tracker = ProbeTracker(timeout_s)

    def next_due(self) -> float:
        return self.next_send if self.sent < self.count else time.monotonic() + TICK_S

    def on_datagram(self, data: bytes, received_ns: int, emit: Callable[[Event], None]) -> None:
        decoded = decode_probe(data)
        if decoded is None:
            self.tracker.on_unknown()
            return
        status, rtt_ms = self.tracker.on_reply(decoded[0], received_ns, decoded[1])
        emit(ProbeReply(decoded[0], status, rtt_ms))

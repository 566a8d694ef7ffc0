"""Time clients and servers for every protocol of ``netcore.protocols.timeproto``, over TCP and UDP."""

from __future__ import annotations

import dataclasses
import errno
import socket
import time
from typing import Any

from netcore.engines.serving import PeerTable, ReplyGuard, ReplyMode, ServerEngine
from netcore.errors import (
    InputError,
    NoUdpReply,
    RemoteProtocolError,
    SocketLabError,
    from_os_error,
)
from netcore.io.loop import READ, Engine, connect_nonblocking
from netcore.io.platform import MAX_DATAGRAM, recv_datagram
from netcore.io.resolve import resolve
from netcore.io.stream import endpoint_of
from netcore.model.events import (
    Closed,
    CloseReason,
    Connected,
    Failed,
    TimeQueried,
)
from netcore.model.traffic import Direction
from netcore.protocols.timeproto import (
    SNTP_PACKET_SIZE,
    SntpPacket,
    SntpResult,
    TimeProtocol,
    TimeResult,
    check_sntp_reply,
    decode_daytime_reply,
    decode_simple_reply,
    decode_time_reply,
    encode_daytime_reply,
    encode_simple_reply,
    encode_time_reply,
    sntp_request,
    unix_to_ntp,
)

MAX_REPLY = 4096  # no time protocol answers with more; a longer reply is a protocol error


class TimeClient(Engine):
    """Queries a time server once (``query``) or *count* times (``run``, for the GUI's worker)."""

    def __init__(
        self,
        protocol: TimeProtocol | str,
        host: str,
        port: int,
        timeout: float = 2.0,
        count: int = 1,
        interval: float = 1.0,
    ) -> None:
        self.protocol = TimeProtocol(protocol)
        if count < 1 or interval < 0 or timeout <= 0:
            raise InputError("queries need a count of at least 1, an interval ≥ 0 and a timeout > 0")
        super().__init__()
        self.host, self.port, self.timeout, self.count, self.interval = host, port, timeout, count, interval
        self.peers = PeerTable()
        self._buf = bytearray(MAX_DATAGRAM)
        self._deadline = 0.0  # the running query's

    # -- one query ------------------------------------------------------------------------------
    def query(self) -> TimeResult:
        """Ask once; raises ``NetError`` (with a hint), ``RemoteProtocolError`` (naming the fault), or
        ``Cancelled`` when stopped. Every wait, the connect included, runs on the engine's loop."""
        tcp = self.protocol.is_tcp
        kind = socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM
        family, kind, proto, _, address = resolve(self.host, self.port, kind, "query")[0]
        sockaddr: Any = address
        self._deadline = time.monotonic() + self.timeout
        try:
            if tcp:
                sock = connect_nonblocking(
                    self.loop, [(family, kind, proto, "", sockaddr)], self._deadline, "the query"
                )
            else:
                sock = socket.socket(family, kind, proto)
                sock.setblocking(False)
        except OSError as exc:
            raise self._error(exc, sockaddr) from None
        with sock:
            try:
                conn, _ = self.peers.lookup(sockaddr)
                if tcp:
                    return self._query_tcp(sock, conn, sockaddr)
                sock.connect(sockaddr)
                return self._query_udp(sock, conn, sockaddr)
            except OSError as exc:
                raise self._error(exc, sockaddr) from None

    def _error(self, exc: OSError, sockaddr: Any) -> SocketLabError:
        udp = not self.protocol.is_tcp
        if isinstance(exc, TimeoutError) and udp:
            return NoUdpReply(
                action="query",
                where=endpoint_of(sockaddr),
                detail="timed out",
                host=self.host,
                port=self.port,
                timeout=self.timeout,
            )
        return from_os_error(
            exc, action="query", host=self.host, port=self.port, timeout=self.timeout, udp=udp
        )

    def _wait_for_data(self, sock: socket.socket) -> None:
        """Wait on the loop until *sock* can be read, within the query's time; raises ``TimeoutError``,
        or ``Cancelled`` when stopped."""
        if not self.loop.wait(sock, READ, self._deadline, "the query"):
            raise TimeoutError("timed out")

    def _query_tcp(self, sock: socket.socket, conn: int, sockaddr: Any) -> TimeResult:
        """TIME/DAYTIME over TCP: the server speaks first and closes; we read until EOF."""
        t1 = time.time()
        self.emit(Connected(conn, endpoint_of(sock.getsockname()), endpoint_of(sockaddr)))
        data = bytearray()
        while True:
            self._wait_for_data(sock)
            piece = sock.recv(1024)
            if not piece:
                break
            self.emit(self.peers.traffic(Direction.RECEIVED, piece, conn))
            data += piece
            if len(data) > MAX_REPLY:
                raise RemoteProtocolError(f"the server sent more than {MAX_REPLY:,} bytes: not a time reply")
        t4 = time.time()
        self.emit(Closed(conn, endpoint_of(sockaddr), CloseReason.PEER_CLOSED))
        return self._result(bytes(data), t1, t4, endpoint_of(sockaddr))

    def _query_udp(self, sock: socket.socket, conn: int, sockaddr: Any) -> TimeResult:
        t1 = time.time()
        request = sntp_request(t1) if self.protocol is TimeProtocol.SNTP else None
        payload = request.encode() if request is not None else b""
        sock.send(payload)
        self.emit(self.peers.traffic(Direction.SENT, payload, conn))
        self._wait_for_data(sock)
        received = recv_datagram(sock, self._buf, MAX_REPLY + 1)  # one more: a longer one is refused
        if received is None:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "port unreachable")
        data = received.data
        t4 = time.time()
        self.emit(self.peers.traffic(Direction.RECEIVED, data, conn))
        if len(data) > MAX_REPLY:
            raise RemoteProtocolError(f"the server sent more than {MAX_REPLY:,} bytes: not a time reply")
        if request is not None:
            result = check_sntp_reply(data, request, t4)
            return TimeResult(
                self.protocol,
                endpoint_of(sockaddr),
                result.t3,
                t4,
                result.offset,
                result.delay,
                _sntp_text(result),
                result,
            )
        return self._result(data, t1, t4, endpoint_of(sockaddr))

    def _result(self, data: bytes, t1: float, t4: float, server: str) -> TimeResult:
        middle = (t1 + t4) / 2
        if self.protocol in (TimeProtocol.DAYTIME_TCP, TimeProtocol.DAYTIME_UDP):
            return TimeResult(self.protocol, server, middle, t4, None, t4 - t1, decode_daytime_reply(data))
        if self.protocol is TimeProtocol.SIMPLE:
            seconds = decode_simple_reply(data)
        else:
            seconds = decode_time_reply(data)
        text = f"{seconds} s"
        # whole seconds: the server's time lies anywhere in [seconds, seconds + 1)
        return TimeResult(self.protocol, server, seconds + 0.5, t4, seconds + 0.5 - middle, t4 - t1, text)

    # -- the GUI's worker -----------------------------------------------------------------------
    def serve(self) -> None:
        """Query ``count`` times, ``interval`` apart; each result or error is reported as an event."""
        for index in range(self.count):
            if self.stopping:
                return
            try:
                self.emit(TimeQueried(index, self.query()))
            except SocketLabError as exc:
                if not self.stopping:  # else it is our own stop() interrupting the wait
                    self.emit(Failed(exc))
            self.flush()
            if index + 1 < self.count and self.loop.sleep(self.interval):
                return


def _sntp_text(result: SntpResult) -> str:
    packet = result.packet
    text = f"stratum {packet.stratum}, reference {packet.reference_text}"
    return text if result.synchronised else text + ", UNSYNCHRONISED (leap indicator 3): do not trust"


class TimeServer(ServerEngine):
    """Serves one time protocol to many clients, optionally with a deliberate clock offset. Over UDP
    the *guard* decides which datagrams are answered; SNTP answers service ports too (port 123 is
    where NTP clients ask from), as it answers only client requests, never a reply: no loop."""

    def __init__(
        self,
        protocol: TimeProtocol | str,
        host: str = "127.0.0.1",
        port: int = 0,
        offset: float = 0.0,
        stratum: int = 1,
        reference_id: str = "LOCL",
        reuse_addr: bool = False,
        guard: ReplyGuard | None = None,
    ) -> None:
        proto = TimeProtocol(protocol)
        refid = reference_id.encode("ascii", errors="replace")[:4].ljust(4, b"\0")
        if not 1 <= stratum <= 15:
            raise InputError(f"an SNTP server's stratum is 1 to 15, not {stratum}")
        super().__init__(host, port, ReplyMode.MANUAL, b"", reuse_addr)
        self.protocol, self.offset, self.stratum, self.reference_id = proto, offset, stratum, refid
        self.socket_kind = socket.SOCK_STREAM if proto.is_tcp else socket.SOCK_DGRAM
        self.guard = guard or ReplyGuard()
        if proto is TimeProtocol.SNTP:
            self.guard = dataclasses.replace(self.guard, answer_service_ports=True)

    def now(self) -> float:
        """This server's clock: the real time plus the deliberate offset."""
        return time.time() + self.offset

    def reply_for(self, request: bytes) -> bytes | None:
        """The reply to one request (None: not a request we answer)."""
        if self.protocol is TimeProtocol.SNTP:
            return self._sntp_reply(request)
        if self.protocol in (TimeProtocol.TIME_TCP, TimeProtocol.TIME_UDP):
            return encode_time_reply(self.now())
        if self.protocol is TimeProtocol.SIMPLE:
            return encode_simple_reply(self.now())
        return encode_daytime_reply(self.now())

    def _sntp_reply(self, request: bytes) -> bytes | None:
        if len(request) < SNTP_PACKET_SIZE:
            return None
        t2 = self.now()
        query = SntpPacket.decode(request)
        if query.mode != 3:
            return None
        reply = SntpPacket(
            leap=0,
            version=query.version or 4,
            mode=4,
            stratum=self.stratum,
            poll=query.poll,
            precision=-20,
            root_delay=0,
            root_dispersion=int(0.001 * 65536),
            reference_id=self.reference_id,
            reference=unix_to_ntp(t2 - 16),
            origin=query.transmit,
            receive=unix_to_ntp(t2),
            transmit=unix_to_ntp(self.now()),
        )
        return reply.encode()

    def on_listener(self, _mask: int) -> None:
        if self.protocol.is_tcp:
            self._serve_tcp()
        else:
            self._serve_udp()

    def _serve_tcp(self) -> None:
        """TIME/DAYTIME over TCP: send the time as soon as a client connects, then close."""
        for sock, addr in self.accept_clients():
            with sock:
                self._send_time(sock, addr)

    def _send_time(self, sock: socket.socket, addr: Any) -> None:
        """TIME/DAYTIME over TCP: the time in one send; the caller closes."""
        conn, _ = self.peers.lookup(addr)
        self.peers.evict()  # each connection comes from a new port: keep the table bounded
        self.emit(Connected(conn, str(self.address), endpoint_of(addr)))
        reply = self.reply_for(b"")
        assert reply is not None
        try:
            sock.settimeout(1.0)
            sock.sendall(reply)
        except OSError as exc:
            self.emit(
                Closed(
                    conn,
                    endpoint_of(addr),
                    CloseReason.ERROR,
                    from_os_error(exc, action="send to", host=str(addr[0]), port=addr[1]),
                )
            )
            return
        self.emit(self.peers.traffic(Direction.SENT, reply, conn))
        self.emit(Closed(conn, endpoint_of(addr), CloseReason.LOCAL))

    def _serve_udp(self) -> None:
        ignored: dict[int, int] = {}  # peer → datagrams that were not requests, this round
        for conn, datagram in self.receive_datagrams(MAX_REPLY):
            data, addr = datagram.data, datagram.addr
            reply = self.reply_for(data)
            if reply is None:
                ignored[conn] = ignored.get(conn, 0) + 1
                continue
            try:
                assert self._sock is not None
                self._sock.sendto(reply, addr)
            except OSError as exc:
                self.emit(
                    Failed(from_os_error(exc, action="send to", host=str(addr[0]), port=addr[1], udp=True))
                )
                continue
            self.emit(self.peers.traffic(Direction.SENT, reply, conn))
        for conn, count in ignored.items():  # one notice per peer and round, not one per datagram
            junk = f"{count:,} datagram{'s' if count > 1 else ''} that {'are' if count > 1 else 'is'} not"
            detail = f"ignored {junk} an SNTP client request (48+ bytes, mode 3)"
            self.emit(Failed(RemoteProtocolError(detail), conn))

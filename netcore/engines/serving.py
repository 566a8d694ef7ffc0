"""What every built-in server shares: reply modes and opening a listening socket with a hint."""

from __future__ import annotations

import socket
from enum import StrEnum

from netcore.errors import SocketLabError, from_os_error
from netcore.io.loop import Engine
from netcore.io.resolve import resolve
from netcore.model.events import EventSink, Failed, Stopped
from netcore.protocols.address import Address


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

    ``::`` listens on IPv6 and IPv4 both where the system allows it.
    """
    family, socktype, proto, _, sockaddr = resolve(host, port, kind, "listen on", passive=True)[0]
    try:
        sock = socket.socket(family, socktype, proto)
    except OSError as exc:
        raise from_os_error(exc, action="listen on", host=host, port=port) from None
    try:
        if reuse_addr:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and host in ("::", ""):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(sockaddr)
        if kind == socket.SOCK_STREAM:
            sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise from_os_error(exc, action="listen on", host=host, port=port) from None
    return sock


class ServerEngine(Engine):
    """Base of the built-in servers: options, binding with a hint, and manual replies by peer id."""

    socket_kind: int = socket.SOCK_STREAM  # or SOCK_DGRAM

    def __init__(self, host: str, port: int, mode: ReplyMode, prefix: bytes, reuse_addr: bool) -> None:
        super().__init__()
        self.host, self.port, self.mode, self.prefix, self.reuse_addr = host, port, mode, prefix, reuse_addr
        self.address: Address | None = None
        self._sock: socket.socket | None = None

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
        if self._sock is not None:
            self._sock.close()
        self._close_wake()

    def _bind_or_report(self, sink: EventSink) -> Address | None:
        """``bind()`` at the start of ``run``; on failure report ``Failed`` + ``Stopped`` and clean up."""
        try:
            return self.bind()
        except SocketLabError as exc:
            sink([Failed(exc), Stopped()])
            self._close_wake()
            return None

    def send_to(self, conn: int, payload: bytes) -> None:
        """Send *payload* to peer *conn* (the operator's reply in manual mode), thread-safe."""
        self.call_soon(lambda: self._send(conn, payload))

    def _send(self, conn: int, payload: bytes) -> None:
        raise NotImplementedError

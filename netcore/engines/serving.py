"""What every built-in server shares: reply modes and opening a listening socket with a hint."""

from __future__ import annotations

import socket
from enum import StrEnum

from netcore.errors import SocketLabError, from_os_error
from netcore.io.loop import READ, Engine
from netcore.io.platform import prepare_listener
from netcore.io.resolve import resolve
from netcore.model.events import Failed, Listening
from netcore.protocols.address import Address

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
            self.close_connections()
        if self._sock is not None:
            self._sock.close()
        self.loop.close()

    def send_to(self, conn: int, payload: bytes) -> None:
        """Send *payload* to peer *conn* (the operator's reply in manual mode), thread-safe."""
        self.call_soon(lambda: self._send(conn, payload))

    def _send(self, conn: int, payload: bytes) -> None:
        raise NotImplementedError

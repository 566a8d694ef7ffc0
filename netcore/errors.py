"""Typed errors that explain themselves.

Every error has an English ``summary`` (what happened) and ``hint`` (what to do), each made from a
class-level template and ``params``, so the GUI can translate the template by error type and fill in
the same parameters. ``from_os_error`` is the one table that turns an ``OSError`` into a hint.
"""

from __future__ import annotations

import errno
from typing import Any, ClassVar


class SocketLabError(Exception):
    """Base class of every error Socket Lab raises on purpose."""

    summary_template: ClassVar[str] = "{detail}"
    hint_template: ClassVar[str] = ""

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = params
        super().__init__(self.summary)

    @property
    def summary(self) -> str:
        return self.summary_template.format(**self.params)

    @property
    def hint(self) -> str:
        return self.hint_template.format(**self.params)

    def describe(self) -> str:
        """One line for a log or a terminal: summary, then the hint if there is one."""
        return f"{self.summary} — {self.hint}" if self.hint else self.summary


class InputError(SocketLabError, ValueError):
    """The user typed something we cannot use (an address, a port, a payload).

    *detail* is a template filled with *values* (``str.format``; used as is without them), so the
    GUI can show it in the user's language: a literal template is a translation source (context
    "InputError")."""

    summary_template = "{detail}"

    def __init__(self, detail: str, position: int | None = None, **values: Any) -> None:
        super().__init__(
            detail=detail.format(**values) if values else detail,
            position=position,
            template=detail,
            values=values,
        )

    @property
    def position(self) -> int | None:
        pos = self.params["position"]
        return pos if isinstance(pos, int) else None


class ProtocolError(SocketLabError):
    """The bytes on the wire broke a protocol's rules."""


class LocalProtocolError(ProtocolError):
    """We were asked to send something the protocol cannot carry (our side's fault)."""

    hint_template = "This is a local mistake: change what you send or the framing settings."

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail)


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that break the protocol (the peer's fault)."""

    hint_template = "The peer does not speak this framing/protocol, or its data is corrupt."

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail)


class NetError(SocketLabError):
    """An operating-system network error, with a hint a student understands."""

    summary_template = "{action} {where} failed: {detail}"
    hint_template = "Check the address and the port; the system's message says what it refused."

    def __init__(self, *, action: str, where: str, detail: str, errno_: int | None = None, **extra: Any):
        super().__init__(action=action, where=where, detail=detail, errno=errno_, **extra)


class ConnectionRefused(NetError):
    summary_template = "{action} {where} failed: connection refused"
    hint_template = "Nothing is listening on {where} — start the server first, or check the port."


class TimedOut(NetError):
    summary_template = "{action} {where} timed out after {timeout:g} s"
    hint_template = "No answer from {where} — check the host, the port and any firewall between."


class ServerStillHashing(TimedOut):
    """The file server sent the header's length, then no header: it hashes a large file first."""

    hint_template = (
        "{where} sent the header's length, then is still hashing a large file (the md5 comes before "
        "the body) — raise the timeout and fetch it again."
    )


class FetchTooSlow(TimedOut):
    """A fetch that did not end within its overall deadline (a server that drips its reply)."""

    summary_template = (
        "fetching '{name}' from {where} took longer than its deadline of {deadline:g} s "
        "({received:,} bytes received)"
    )
    hint_template = (
        "{where} sends too slowly to finish in time (or a byte at a time on purpose) — try again, "
        "or allow a longer deadline (--deadline S on the command line)."
    )


class AddressInUse(NetError):
    summary_template = "cannot listen on {where}: address already in use"
    hint_template = (
        "Another program, or connections of an earlier run still in TIME_WAIT, hold port {port} — "
        "stop it, choose another port, or enable SO_REUSEADDR (on Linux the earlier run needs it too)."
    )


class AddressNotAvailable(NetError):
    summary_template = "cannot use {where}: address not available"
    hint_template = "{host} is not an address of this machine — bind 127.0.0.1, 0.0.0.0 or ::."


class PermissionDenied(NetError):
    summary_template = "{action} {where} failed: permission denied"
    hint_template = "Ports below 1024 need administrator rights — use a port from 1024 to 65535."


class PortReserved(NetError):
    summary_template = "{action} {where} failed: port {port} is reserved or held exclusively"
    hint_template = (
        "Windows keeps some port ranges for itself (Hyper-V, WSL, Docker — "
        "'netsh interface ipv4 show excludedportrange protocol=tcp' lists them), or another program "
        "holds port {port} exclusively — choose another port."
    )


class HostNotFound(NetError):
    summary_template = "cannot resolve host name '{host}'"
    hint_template = "Check the spelling of '{host}' or type an IP address such as 127.0.0.1."


class NetworkUnreachable(NetError):
    summary_template = "{action} {where} failed: network unreachable"
    hint_template = "This machine has no route to {host} — check the address and your network connection."


class FamilyNotSupported(NetError):
    summary_template = "{action} {where} failed: address family not supported"
    hint_template = "IPv6 (or IPv4) is not available here — try the other address family."


class ConnectionReset(NetError):
    summary_template = "connection with {where} was reset"
    hint_template = (
        "The peer closed abruptly (crashed, or closed with unread data) — this is not a clean close."
    )


class PortUnreachable(NetError):
    summary_template = "{where} answered with ICMP 'port unreachable'"
    hint_template = (
        "Nothing is listening on that UDP port ({where}) — start the UDP server first, or check the port."
    )


class NoUdpReply(NetError):
    summary_template = "no reply from {where} within {timeout:g} s"
    hint_template = (
        "The datagram or its reply was lost, or nothing is listening: plain UDP cannot tell which "
        "(a connected UDP socket reports 'port unreachable')."
    )


class LoopFull(NetError):
    """A server refused a client because this system's selector can watch no more sockets."""

    summary_template = "refused the client {where}: this system's select() watches at most 512 sockets"
    hint_template = (
        "Windows' select() serves at most 512 sockets in one loop — close idle clients, or run the "
        "server on Linux or macOS, which have no such limit."
    )


class BufferBudgetExceeded(NetError):
    """A server closed the client whose buffered bytes would take all its clients' over its budget."""

    summary_template = (
        "closed the client {where}: its {held:,} buffered bytes would exceed the server's buffer "
        "budget of {budget_mib:g} MiB"
    )
    hint_template = (
        "The clients together hold that much in frames not yet complete and replies not yet read — "
        "many large messages at once, or clients holding memory on purpose. Raise the budget only if "
        "the server has the memory."
    )


class ReplyWithheld(SocketLabError):
    """A UDP server did not answer *count* datagrams from *where*, to end a reflection loop or a
    flood; each reason is a subclass with its own templates."""

    def __init__(self, where: str, count: int, port: int, rate: float, burst: int) -> None:
        super().__init__(where=where, count=count, port=port, rate=rate, burst=burst)


class FromOwnAddress(ReplyWithheld):
    summary_template = "did not answer {count:,} datagram(s) from {where}: that is this server's own address"
    hint_template = (
        "A reply would come back to this server and be answered again, forever. A datagram 'from' "
        "the server itself has a forged source address, or was sent from the server's own socket."
    )


class FromServicePort(ReplyWithheld):
    summary_template = (
        "did not answer {count:,} datagram(s) from {where}: port {port} is a service that answers "
        "anything (echo 7, daytime 13, chargen 19, time 37, NTP 123)"
    )
    hint_template = (
        "That service would answer the reply, and the two would answer each other forever (a "
        "reflection loop, usually started with a forged source address). Allow replies to service "
        "ports only when a real client uses one."
    )


class OverReplyRate(ReplyWithheld):
    summary_template = (
        "did not answer {count:,} datagram(s) from {where}: over {rate:,g} replies a second "
        "(bursts of {burst:,})"
    )
    hint_template = (
        "The peer sends faster than the server answers one peer — a flood, or another server that "
        "answers each reply (a reflection loop). Raise the limit if a real client needs more."
    )


class FileFetchError(SocketLabError):
    """A fetch that cannot complete for a reason that is neither the network nor the protocol; each
    case is a subclass with its own templates."""


class FetchCancelled(FileFetchError):
    summary_template = "cancelled"
    hint_template = "Nothing was saved."

    def __init__(self) -> None:
        super().__init__()


class FetchRefused(FileFetchError):
    """The server answered a request with an error header."""

    summary_template = "the server refused '{name}': {reason}"
    hint_template = "Check the name against the server's file list."

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name=name, reason=reason)


class KeyRefused(FetchRefused):
    """The server refused our proof of the shared key, or asks for one."""

    hint_template = "Check the shared key."


class KeyTooShort(InputError):
    """A shared key too short to resist guessing."""

    summary_template = "the shared key has {size} bytes: it needs at least {minimum}"
    hint_template = (
        'Make a random one: python -c "import secrets; print(secrets.token_hex(16))" > key.txt, '
        "and give both sides that file."
    )

    def __init__(self, size: int, minimum: int) -> None:
        SocketLabError.__init__(self, size=size, minimum=minimum, position=None)


class ServerNotProven(FileFetchError):
    """The server did not prove it knows the shared key."""

    summary_template = (
        "the server {host}:{port} could not prove it knows the key — it may be an impostor relaying "
        "your answers"
    )
    hint_template = "Nothing was requested. Check the address, and that both sides use the same key file."

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host=host, port=port)


class TooManyKeyGuesses(FileFetchError):
    """The file server refused an address that sent too many wrong keys."""

    summary_template = (
        "{host} sent {failures} wrong keys within {window:g} s: its attempts are refused for "
        "{left:.0f} s more ({refused} refused so far)"
    )
    hint_template = "Someone may be guessing the key, or a client has the wrong key file."

    def __init__(self, host: str, failures: int, window: float, left: float, refused: int) -> None:
        super().__init__(host=host, failures=failures, window=window, left=left, refused=refused)


class FileAlreadyExists(FileFetchError):
    summary_template = "'{name}' already exists in {folder}"
    hint_template = "Choose another folder, or allow overwriting."

    def __init__(self, name: str, folder: str) -> None:
        super().__init__(name=name, folder=folder)


class FileAppeared(FileFetchError):
    """A file of the same name was created in the destination while the body was arriving."""

    summary_template = "'{name}' appeared in {folder} during the transfer"
    hint_template = "Nothing was overwritten; fetch again into another folder."

    def __init__(self, name: str, folder: str) -> None:
        super().__init__(name=name, folder=folder)


class NotEnoughSpace(FileFetchError):
    summary_template = "'{name}' needs {size:,} bytes but {folder} has {free:,} free"
    hint_template = "Free some space or choose another folder."

    def __init__(self, name: str, folder: str, size: int, free: int) -> None:
        super().__init__(name=name, folder=folder, size=size, free=free)


class BadDestination(FileFetchError):
    summary_template = "cannot create a file in {folder}: {detail}"
    hint_template = "Choose an existing folder you can write to."

    def __init__(self, folder: str, detail: str) -> None:
        super().__init__(folder=folder, detail=detail)


class CannotSave(FileFetchError):
    """The verified file could not be given its name (e.g. a folder has that name)."""

    summary_template = "cannot save '{name}' in {folder}: {detail}"
    hint_template = "Remove what has that name or choose another folder; nothing was saved."

    def __init__(self, name: str, folder: str, detail: str) -> None:
        super().__init__(name=name, folder=folder, detail=detail)


class CannotWrite(FileFetchError):
    summary_template = "cannot write the file: {detail}"
    hint_template = "Free some space or choose another folder; nothing was saved."

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail)


class InternalError(SocketLabError):
    """Something Socket Lab did not expect: a bug, reported instead of silently stopping."""

    summary_template = "internal error: {detail}"
    hint_template = "This is a bug in Socket Lab; please report it with these details."

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail)


def format_endpoint(host: str, port: int) -> str:
    """``127.0.0.1:80`` or ``[::1]:80``."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


_BY_ERRNO: dict[int, type[NetError]] = {
    errno.ECONNREFUSED: ConnectionRefused,
    errno.ETIMEDOUT: TimedOut,
    errno.EADDRINUSE: AddressInUse,
    errno.EADDRNOTAVAIL: AddressNotAvailable,
    errno.EACCES: PermissionDenied,
    errno.EPERM: PermissionDenied,
    errno.ENETUNREACH: NetworkUnreachable,
    errno.EHOSTUNREACH: NetworkUnreachable,
    errno.EAFNOSUPPORT: FamilyNotSupported,
    errno.ECONNRESET: ConnectionReset,
    errno.EPIPE: ConnectionReset,
    errno.ECONNABORTED: ConnectionReset,
}


def from_os_error(
    exc: OSError, *, action: str, host: str, port: int, timeout: float = 0.0, udp: bool = False
) -> NetError:
    """Map an ``OSError`` raised while doing *action* (``connect to``, ``listen on``, ...) to a NetError.

    With *udp*, a refusal is the ICMP 'port unreachable' a connected UDP socket reports.
    """
    import socket  # here, not at the top: the pure modules (and so widgets) never load socket

    where = format_endpoint(host, port)
    common: dict[str, Any] = {
        "action": action,
        "where": where,
        "host": host,
        "port": port,
        "timeout": timeout,
    }
    if isinstance(exc, socket.gaierror):
        return HostNotFound(detail=str(exc.strerror or exc), errno_=exc.errno, **common)
    if isinstance(exc, TimeoutError) and exc.errno is None:
        return TimedOut(detail="timed out", **common)
    from netcore.io import platform  # here too: it imports socket

    cls = _BY_ERRNO.get(exc.errno or 0, NetError)
    if udp and cls is ConnectionRefused:
        cls = PortUnreachable
    if platform.error_kind(exc.errno) == "port reserved":
        cls = PortReserved
    if cls is PermissionDenied and (port >= 1024 or not platform.PRIVILEGED_PORTS):
        cls = NetError
    return cls(detail=exc.strerror or str(exc), errno_=exc.errno, **common)

"""The one address parser: ``host:port``, ``[::1]:port``, a bare host plus a port field."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from netcore.errors import InputError, format_endpoint


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return format_endpoint(self.host, self.port)

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.host


def parse_port(text: str | int) -> int:
    """A port number 0–65535 from text or int, with a clear message otherwise."""
    if isinstance(text, int):
        value = text
    else:
        stripped = text.strip()
        if not stripped:
            raise InputError("the port is empty: type a number from 0 to 65535")
        if not stripped.isdigit():
            raise InputError("port '{port}' is not a number: type a number from 0 to 65535", port=stripped)
        value = int(stripped)
    if not 0 <= value <= 65535:
        raise InputError("port {port} is out of range: ports go from 0 to 65535", port=value)
    return value


def _check_host(host: str) -> str:
    if not host:
        raise InputError("the host is empty: type a name or an address such as 127.0.0.1 or ::1")
    if ":" in host:
        try:
            return str(ipaddress.IPv6Address(host))
        except ValueError as exc:
            raise InputError(
                "'{host}' is not a valid IPv6 address: {reason}", host=host, reason=exc
            ) from None
    if any(ch.isspace() for ch in host):
        raise InputError("host '{host}' contains a space", host=host)
    if host.replace(".", "").isdigit():
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError as exc:
            raise InputError(
                "'{host}' is not a valid IPv4 address: {reason}", host=host, reason=exc
            ) from None
    return host


def parse_address(text: str, default_port: int | str | None = None) -> Address:
    """Parse what a user typed into an address field.

    Accepts ``host``, ``host:port``, ``1.2.3.4:port``, ``[v6]:port``, ``[v6]`` and a bare IPv6
    address (``::1``). A port inside *text* wins over *default_port* (the separate port field).
    """
    s = text.strip()
    port_text: str | None = None
    if s.startswith("["):
        close = s.find("]")
        if close < 0:
            raise InputError("'{text}' opens '[' but never closes it: write [::1]:8000", text=s)
        host, rest = s[1:close], s[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise InputError("unexpected '{rest}' after ']': write [::1]:8000", rest=rest)
            port_text = rest[1:]
        if ":" not in host:
            raise InputError("'[{host}]': square brackets are only for IPv6 addresses", host=host)
    elif s.count(":") == 1:
        host, port_text = s.split(":")
    else:
        host = s
    host = _check_host(host)
    if port_text is not None:
        return Address(host, parse_port(port_text))
    if default_port is None:
        raise InputError("no port given for '{host}': add ':port' or fill in the port field", host=host)
    return Address(host, parse_port(default_port))

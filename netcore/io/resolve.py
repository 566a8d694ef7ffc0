"""The one place that turns a host name and port into socket addresses, with a hint on failure."""

from __future__ import annotations

import socket
from typing import Any

from netcore.errors import from_os_error

AddrInfo = tuple[Any, Any, int, str, Any]  # family, kind, proto, canonical name, socket address


def resolve(host: str, port: int, kind: int, action: str, passive: bool = False) -> list[AddrInfo]:
    """``getaddrinfo`` for *kind* (SOCK_STREAM/SOCK_DGRAM); raises ``HostNotFound`` and friends.

    A name that cannot even be encoded (an empty or over-long label, ``example..com``) raises
    ``UnicodeError`` inside getaddrinfo; it is reported as a host that cannot be found too.
    """
    try:
        return socket.getaddrinfo(
            host or None, port, socket.AF_UNSPEC, kind, 0, socket.AI_PASSIVE if passive else 0
        )
    except UnicodeError as exc:
        raise from_os_error(
            socket.gaierror(socket.EAI_NONAME, str(exc)), action=action, host=host, port=port
        ) from None
    except OSError as exc:
        raise from_os_error(exc, action=action, host=host, port=port) from None

"""Helpers shared by the GUI tests."""

from __future__ import annotations

import socket


def port_is_free(port: int) -> bool:
    """True when a server with SO_REUSEADDR can listen on *port* again (TIME_WAIT is allowed)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
        return True

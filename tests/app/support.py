"""Helpers shared by the GUI tests."""

from __future__ import annotations

import contextlib
import socket
import threading

WAIT_S = 5.0


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


class OneReplyServer:
    """A TCP server on 127.0.0.1 for one connection: it reads the request (unless *read_first* is
    False, as a DAYTIME server), sends *reply* and closes. Use it as a context manager."""

    def __init__(self, reply: bytes, read_first: bool = True) -> None:
        self.reply, self.read_first = reply, read_first
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(WAIT_S)
        self.port: int = self.listener.getsockname()[1]
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="one-reply-server", daemon=True)

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
            with conn:
                conn.settimeout(WAIT_S)
                if self.read_first:
                    conn.recv(4096)
                conn.sendall(self.reply)
                conn.shutdown(socket.SHUT_WR)
                with contextlib.suppress(OSError):
                    while conn.recv(4096):  # until the client closes: no reset under its last bytes
                        pass
        except BaseException as exc:  # the test asserts there was none
            self.failure = exc

    def __enter__(self) -> OneReplyServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._thread.join(WAIT_S + 1)
        self.listener.close()
        assert not self._thread.is_alive(), "the one-reply server did not finish"
        assert self.failure is None, self.failure

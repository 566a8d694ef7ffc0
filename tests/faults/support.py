"""Helpers of the fault tests: bounded waits on a condition, an aborting close (RST), peers that never
answer or trickle bytes, and a network namespace whose loopback can be made to drop a connection's
packets (a peer that vanishes without FIN or RST; Linux only, made by the ``netns`` fixture). The
open descriptors are counted by the ``open_fds`` fixture of tests/conftest.py.

The rules of tests/netcore/support.py hold here too: 127.0.0.1 (or a namespace the test creates),
port 0, every wait bounded, every thread, socket, process and namespace released by its owner.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

from tests.netcore.support import WAIT_S

POLL_S = 0.01  # how often a bounded wait looks at a condition that has no event to wait on


def wait_until(done: Callable[[], bool], what: str, timeout: float = WAIT_S) -> float:
    """Poll *done* until it is true; returns the seconds it took, fails after *timeout*."""
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(POLL_S)
    return time.monotonic() - start


def abort(sock: socket.socket) -> None:
    """Close *sock* with SO_LINGER on and a linger of 0: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@contextlib.contextmanager
def scripted_server(script: Callable[[socket.socket], None]) -> Iterator[int]:
    """A one-connection server on 127.0.0.1 that runs *script(conn)* in a thread; yields its port.
    An exception in the script fails the test."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(WAIT_S)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(WAIT_S)
                script(conn)
        except BaseException as exc:  # handed to the test below
            failures.append(exc)

    thread = threading.Thread(target=run, name="scripted-server", daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        thread.join(WAIT_S)
        listener.close()
    assert not thread.is_alive(), "the scripted server did not finish"
    if failures:
        raise failures[0]


class SilentTcpServer:
    """Listens on 127.0.0.1, accepts every connection and never sends a byte; closes them all at the end."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(POLL_S * 5)
        self.port: int = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-server", daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                self.accepted.append(self.listener.accept()[0])

    def __enter__(self) -> SilentTcpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(WAIT_S)
        assert not self._thread.is_alive(), "the silent server's thread did not stop"
        for sock in self.accepted:
            sock.close()
        self.listener.close()


class Trickle:
    """A slowloris: sends *data* to *sock* one byte every *interval* seconds, in a thread, until the
    data runs out, the peer closes (a send fails) or ``stop``. ``first_byte`` is when it began."""

    def __init__(self, sock: socket.socket, data: bytes, interval: float) -> None:
        self.sock, self.data, self.interval = sock, data, interval
        self.first_byte = 0.0
        self.sent = 0
        self.refused: OSError | None = None  # the error of the send that found the connection closed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slowloris", daemon=True)

    def _run(self) -> None:
        self.first_byte = time.monotonic()
        for byte in self.data:
            try:
                self.sock.send(bytes([byte]))
            except OSError as exc:
                self.refused = exc
                return
            self.sent += 1
            if self._stop.wait(self.interval):
                return

    def start(self) -> Trickle:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(WAIT_S)
        assert not self._thread.is_alive(), "the slowloris thread did not stop"


# -- a namespace whose loopback can drop a connection --------------------------------------------
_CLONE_NEWNET = 0x40000000


def sh(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=WAIT_S, check=False)


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)  # Linux's C library (no CDLL(None) on Windows)
    if libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class Namespace:
    """A network namespace made for one test, with only its loopback, up.

    ``inside()`` makes the sockets this thread creates belong to it (their accepted connections
    follow their listener); ``vanish(port)`` drops every TCP packet from or to *port* there, so both
    ends of a connection see a peer that went silent without FIN or RST.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    @contextlib.contextmanager
    def inside(self) -> Iterator[None]:
        """Sockets created by this thread in this block are the namespace's."""
        with open("/proc/thread-self/ns/net") as home, open(f"/run/netns/{self.name}") as target:
            _setns(target.fileno())
            try:
                yield
            finally:
                _setns(home.fileno())

    def vanish(self, port: int) -> None:
        rules = (
            "table inet fault {\n"
            "  chain input {\n"
            "    type filter hook input priority 0; policy accept;\n"
            f"    tcp sport {port} drop\n"
            f"    tcp dport {port} drop\n"
            "  }\n"
            "}\n"
        )
        result = subprocess.run(
            ["ip", "netns", "exec", self.name, "nft", "-f", "-"],
            input=rules,
            capture_output=True,
            text=True,
            timeout=WAIT_S,
            check=False,
        )
        assert result.returncode == 0, f"nft refused the drop rules: {result.stderr}"

"""The file server while another program swaps a served name under it (issue 17, item 2).

A thread replaces ``victim`` again and again — by a symbolic link to a secret outside the folder, a
FIFO, or a link to /dev/zero — while a client asks for it. The server may answer with the honest
file or a refusal, but never with the secret, and never leaves a serving thread blocked in ``open()``
or hashing an endless file: every request gets its reply and every connection's thread ends.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netcore.engines.filefetch import FileServer
from tests.hostile.support import Served, serving
from tests.netcore.support import WAIT_S, local_of, recv_exactly
from tests.requires import posix

pytestmark = [
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
    posix("swaps a served name for symbolic links and FIFOs"),
]

Recorder = Callable[[str, object], None]  # pytest's record_property: a figure for the report
PUBLIC = b"public bytes, served on purpose\n" * 64
SECRET = b"TOP SECRET, outside the folder!\n" * 64  # the same size as PUBLIC
RUN_S = 3.0  # how long each race runs
MAX_SWAPS = 200_000  # and at most this many swaps


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    """served/ (with ``victim`` and ``original``, two names of the public file) beside secret.bin."""
    (tmp_path / "secret.bin").write_bytes(SECRET)
    served = tmp_path / "served"
    served.mkdir()
    (served / "original").write_bytes(PUBLIC)
    os.link(served / "original", served / "victim")
    return served


class Swapper:
    """A thread that puts *make(tmp)*'s new entry and the public file in turn at ``victim``
    (atomic renames, so the name always exists), until stopped, after MAX_SWAPS or RUN_S."""

    def __init__(self, folder: Path, make: Callable[[Path], None]) -> None:
        self.folder, self.make = folder, make
        self.swaps = 0
        self.failure: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="swapper", daemon=True)

    def _run(self) -> None:
        tmp, victim = self.folder / ".swap", self.folder / "victim"
        deadline = time.monotonic() + RUN_S
        try:
            while not self._stop.is_set() and self.swaps < MAX_SWAPS and time.monotonic() < deadline:
                self.make(tmp)
                os.replace(tmp, victim)
                os.link(self.folder / "original", tmp)
                os.replace(tmp, victim)
                self.swaps += 2
        except BaseException as exc:  # reported by the test's thread
            self.failure = exc

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> Swapper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(WAIT_S)
        assert not self._thread.is_alive(), "the swapper did not stop"
        assert self.failure is None, f"the swapper failed: {self.failure!r}"


def read_reply(sock: socket.socket) -> tuple[dict[str, object], bytes]:
    """One reply: a '!I' length, the JSON header, then data_all bytes of body."""
    (length,) = struct.unpack("!I", recv_exactly(sock, 4))
    header = json.loads(recv_exactly(sock, length))
    size = header["data_all"]
    assert isinstance(size, int)
    return header, recv_exactly(sock, size)


def record(record_property: Recorder, outcomes: Counter[str], swapper: Swapper) -> None:
    """Put the race's figures into the test report (docs/RELIABILITY.md)."""
    record_property("swaps", f"{swapper.swaps:,}")
    record_property("requests", f"{outcomes.total():,}")
    for outcome in ("public", "refused", "secret"):
        record_property(f"replies {outcome}", f"{outcomes[outcome]:,}")


@contextlib.contextmanager
def file_server(folder: Path, name: str) -> Iterator[Served]:
    with serving(FileServer(folder), name) as served:
        yield served
        served.assert_healthy()


@pytest.mark.parametrize("opener", ["walk", "open-and-check"])
def test_a_name_swapped_for_a_link_out_of_the_folder_never_sends_the_secret(
    folders: Path, opener: str, record_property: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While ``victim`` flips between the public file and a link to ../secret.bin, every reply on
    one connection is the public file or a refusal; never a byte of the secret. "open-and-check"
    is the way of systems without ``dir_fd`` (Windows): open by path, then check the handle."""
    if opener == "open-and-check":
        monkeypatch.setattr(os, "supports_dir_fd", frozenset())
    outcomes: Counter[str] = Counter()
    with (
        file_server(folders, "swap-link-server") as served,
        socket.create_connection((served.addr.host, served.addr.port), timeout=WAIT_S) as sock,
        Swapper(folders, lambda tmp: tmp.symlink_to("../secret.bin")) as swapper,
    ):
        while swapper.running:
            sock.sendall(b"victim\n")
            header, body = read_reply(sock)
            if body == SECRET or SECRET[:32] in body:
                outcomes["secret"] += 1
            elif "error" in header:
                outcomes["refused"] += 1
            else:
                assert body == PUBLIC, header
                outcomes["public"] += 1
    record(record_property, outcomes, swapper)
    assert outcomes["secret"] == 0, f"the secret was sent: {dict(outcomes)}"
    assert outcomes["public"] > 0 and outcomes["refused"] > 0, f"no race took place: {dict(outcomes)}"


SPECIALS = {
    "fifo": lambda tmp: os.mkfifo(tmp),
    "dev-zero": lambda tmp: tmp.symlink_to("/dev/zero"),
}


@pytest.mark.parametrize("kind", list(SPECIALS))
def test_a_name_swapped_for_a_fifo_or_dev_zero_never_holds_a_serving_thread(
    folders: Path, kind: str, record_property: Recorder
) -> None:
    """While ``victim`` flips between the public file and a FIFO (whose open() blocks until a
    writer comes) or a link to /dev/zero (endless), each request on its own connection gets its
    reply (the file or a refusal) within WAIT_S, and the connection's serving thread ends."""
    outcomes: Counter[str] = Counter()
    slowest = 0.0
    with (
        file_server(folders, f"swap-{kind}-server") as served,
        Swapper(folders, SPECIALS[kind]) as swapper,
    ):
        for count in itertools.count():
            if not swapper.running:
                break
            since = time.monotonic()
            with socket.create_connection((served.addr.host, served.addr.port), timeout=WAIT_S) as sock:
                peer = local_of(sock)
                sock.sendall(b"victim\nq\n")
                try:
                    header, body = read_reply(sock)
                except TimeoutError:
                    raise AssertionError(f"request {count}: no reply within {WAIT_S} s") from None
            served.tally.close_of(peer, since)  # the serving thread reached its end
            slowest = max(slowest, time.monotonic() - since)
            if "error" in header:
                outcomes["refused"] += 1
            else:
                assert body == PUBLIC, header
                outcomes["public"] += 1
    record(record_property, outcomes, swapper)
    record_property("slowest request", f"{slowest * 1000:.1f} ms")
    assert outcomes["public"] > 0 and outcomes["refused"] > 0, f"no race took place: {dict(outcomes)}"

"""Fixtures of the fault tests: server engines in threads, a folder to serve, a network namespace."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netcore.engines.filefetch import FileServer
from netcore.engines.tcp_echo import TcpEchoServer
from netcore.engines.time_service import TimeServer
from tests.faults.support import Namespace, sh
from tests.netcore.support import EngineThreads, Running
from tests.requires import need_root

BIG_FILE = 64 * 1024 * 1024  # far more than loopback socket buffers hold: a transfer is surely mid-body


@pytest.fixture
def engines() -> Iterator[EngineThreads]:
    """Server engines run in threads; all stopped and joined when the test ends."""
    with EngineThreads() as running:
        yield running


@pytest.fixture
def echo_server(engines: EngineThreads) -> Callable[..., Running[TcpEchoServer]]:
    """Start a TcpEchoServer on 127.0.0.1 port 0 with the given options."""

    def start(**options: object) -> Running[TcpEchoServer]:
        server = TcpEchoServer("127.0.0.1", 0, **options)  # type: ignore[arg-type]
        return Running(server, *engines.start(server, "fault-echo-server"))

    return start


@pytest.fixture
def file_server(engines: EngineThreads, served: Path) -> Callable[..., Running[FileServer]]:
    """Start a FileServer of the ``served`` folder on 127.0.0.1 port 0 with the given options."""

    def start(**options: object) -> Running[FileServer]:
        server = FileServer(served, "127.0.0.1", 0, **options)  # type: ignore[arg-type]
        return Running(server, *engines.start(server, "fault-file-server"))

    return start


@pytest.fixture
def time_server(engines: EngineThreads) -> Callable[[str], Running[TimeServer]]:
    """Start a TimeServer of one protocol on 127.0.0.1 port 0."""

    def start(protocol: str) -> Running[TimeServer]:
        server = TimeServer(protocol, "127.0.0.1", 0)
        return Running(server, *engines.start(server, "fault-time-server"))

    return start


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """A folder with ``small.txt`` and a sparse ``big.bin`` of ``BIG_FILE`` bytes."""
    root = tmp_path / "served"
    root.mkdir()
    (root / "small.txt").write_bytes(b"hello, file fetch\n" * 100)
    with (root / "big.bin").open("wb") as f:
        f.truncate(BIG_FILE)
    return root


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    """An empty destination folder for fetched files."""
    folder = tmp_path / "dest"
    folder.mkdir()
    return folder


@pytest.fixture
def netns() -> Iterator[Namespace]:
    """A fresh network namespace (loopback only); skips, saying why, where one cannot be made."""
    need_root("a network namespace")
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            pytest.skip(f"'{tool}' is not installed (make system-deps)")
    name = f"slab-fault-{os.getpid() % 100_000}-{secrets.token_hex(2)}"
    result = sh("ip", "netns", "add", name)
    if result.returncode != 0:
        pytest.skip(f"'ip netns add' does not work here: {result.stderr.strip()}")
    try:
        up = sh("ip", "-n", name, "link", "set", "lo", "up")
        assert up.returncode == 0, up.stderr
        yield Namespace(name)
    finally:
        sh("ip", "netns", "del", name)
        assert name not in sh("ip", "netns", "list").stdout, f"namespace {name} was left behind"

"""Many clients at once: 1,000 concurrent TCP connections to the echo server, each exchanging its
own messages for a few seconds, every byte checked; 50 concurrent file fetches md5-correct."""

from __future__ import annotations

import hashlib
import os
import selectors
import socket
import time

import pytest

from netcore.engines.filefetch import FetchClient, FileServer
from netcore.engines.tcp_echo import TcpEchoServer
from netcore.model.events import Failed

CONNECTIONS = 1000


@pytest.fixture
def enough_descriptors():
    """Room for both ends of every connection in this process's open-file limit (POSIX only: Windows
    has no such limit to raise, and its select() would not wait on 2,000 sockets anyway)."""
    resource = pytest.importorskip("resource", reason="raises the open-file limit (POSIX only)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * CONNECTIONS + 200  # both ends live in this process
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"the hard open-file limit is {hard}, below the {need} this test needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.slow
def test_1000_concurrent_connections_each_get_their_own_bytes(enough_descriptors, record_property):
    """1,000 clients connected at once exchange messages for ~3 s: each gets back exactly its own
    bytes, the server reports no error and holds all 1,000."""
    events: list = []
    server = TcpEchoServer("127.0.0.1", 0)
    addr = server.bind()
    server.start_thread(events.extend)
    clients: list[socket.socket] = []
    try:
        for _ in range(CONNECTIONS):
            sock = socket.create_connection((addr.host, addr.port), timeout=5)
            sock.setblocking(False)
            clients.append(sock)
        deadline = time.monotonic() + 3.0  # every client keeps exchanging messages for ~3 s
        expected = {i: bytearray() for i in range(CONNECTIONS)}
        got = {i: bytearray() for i in range(CONNECTIONS)}
        rounds = 0
        with selectors.DefaultSelector() as sel:
            for i, sock in enumerate(clients):
                sel.register(sock, selectors.EVENT_READ, i)
            while time.monotonic() < deadline and rounds < 50:
                rounds += 1
                for i, sock in enumerate(clients):
                    message = f"client {i} round {rounds};".encode()
                    sock.sendall(message)
                    expected[i] += message
                settle = time.monotonic() + 10
                while any(len(got[i]) < len(expected[i]) for i in got) and time.monotonic() < settle:
                    for key, _ in sel.select(0.1):
                        got[key.data] += key.fileobj.recv(65536)
        assert all(got[i] == expected[i] for i in got), "a client got bytes that were not its own"
        assert rounds >= 2
        assert not [e for e in events if isinstance(e, Failed)]
        assert server.client_count == CONNECTIONS
        record_property("connections held", CONNECTIONS)
        record_property("messages echoed exactly", f"{CONNECTIONS * rounds:,} in {rounds} rounds")
    finally:
        for sock in clients:
            sock.close()
        server.join()


@pytest.mark.slow
def test_50_concurrent_fetches_of_one_file(tmp_path, record_property):
    """50 clients fetch one 4 MiB file at the same time: no error, every copy's md5 right."""
    import threading

    root = tmp_path / "root"
    root.mkdir()
    body = os.urandom(4 * 1024 * 1024)
    (root / "shared.bin").write_bytes(body)
    digest = hashlib.md5(body).hexdigest()
    server = FileServer(root)
    addr = server.bind()
    server.start_thread(lambda _events: None)
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def fetch(i: int) -> None:
        dest = tmp_path / f"dest{i}"
        dest.mkdir()
        client = FetchClient(addr.host, addr.port, dest, timeout=30)
        try:
            client.connect()
            results[i] = client.fetch("shared.bin").md5
        except BaseException as exc:
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(50)]
    started = time.monotonic()
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        server.join()
    assert not errors, errors[:3]
    assert len(results) == 50 and set(results.values()) == {digest}
    record_property("50 × 4 MiB fetched in", f"{time.monotonic() - started:.2f} s")
    assert all((tmp_path / f"dest{i}" / "shared.bin").read_bytes() == body for i in range(0, 50, 7))

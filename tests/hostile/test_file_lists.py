"""The file server's list ('?') against clients that ask for it too often or get a long one: a
folder of thousands of files is listed whole and read by our own client, a pipeline of thousands
of '?' is refused at once, and the list is made once, not once per request.

Network rules: 127.0.0.1 only, port 0, every loop bounded in count and time, everything stopped.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from netcore.engines.filefetch import MAX_PIPELINED, FetchClient, FileServer
from netcore.errors import RemoteProtocolError
from netcore.model.events import Closed, CloseReason
from tests.netcore.support import WAIT_S, EngineThreads

FILES = 4_000


def test_a_folder_of_4000_files_is_listed_whole_and_read_by_our_client(tmp_path: Path, record_property):
    """The list of 4,000 names is about 100 KB: over the 64 KiB a file header may take, within the
    4 MiB a list may take (our client refused it before, with an unrelated hint)."""
    root = tmp_path / "many"
    root.mkdir()
    for i in range(FILES):
        (root / f"file-{i:05d}-with-a-longish-name.txt").write_bytes(b"x")
    with EngineThreads() as threads:
        addr, _, _ = threads.start(FileServer(root), "file-server-many")
        client = FetchClient(addr.host, addr.port, tmp_path / "dest", timeout=WAIT_S)
        try:
            client.connect()
            names = client.list_files()
            size = client._offsets  # bytes received: the header and its length
        finally:
            client.close()
    record_property("names listed", len(names))
    assert len(names) == FILES and names[0] == "file-00000-with-a-longish-name.txt"
    assert sum(size.values()) > 64 * 1024


def test_thousands_of_pipelined_list_requests_are_refused_at_once(tmp_path: Path, record_property):
    """4,000 '?' in one send: the server answers none of them and closes the connection with a
    reason, instead of walking the folder and sending its list 4,000 times."""
    root = tmp_path / "few"
    root.mkdir()
    for i in range(200):
        (root / f"f{i}.txt").write_bytes(b"x")
    with EngineThreads() as threads:
        server = FileServer(root)
        addr, log, _ = threads.start(server, "file-server-pipeline")
        t0 = time.monotonic()
        with socket.create_connection((addr.host, addr.port), timeout=WAIT_S) as sock:
            sock.sendall(b"?\n" * FILES)
            received = b""
            try:
                while piece := sock.recv(65536):
                    received += piece
            except ConnectionResetError:  # closed with our requests unread: a reset, as TCP does
                pass
        elapsed = time.monotonic() - t0
        (closed,) = log.wait_for(Closed)
    record_property("pipelined '?' requests", FILES)
    record_property("bytes answered before the close", len(received))
    record_property("closed after (ms)", round(elapsed * 1000, 1))
    assert received == b""
    assert closed.reason is CloseReason.ERROR and isinstance(closed.error, RemoteProtocolError)
    assert f"a client may pipeline {MAX_PIPELINED}" in closed.error.summary


def test_the_list_is_made_once_while_the_folder_is_unchanged(tmp_path: Path):
    root = tmp_path / "cached"
    root.mkdir()
    (root / "a.txt").write_bytes(b"a")
    server = FileServer(root)
    first = server.list_files()
    assert server.list_files() is first  # the same list: the folder was not walked again
    (root / "b.txt").write_bytes(b"b")  # the folder changes: its mtime moves
    assert server.list_files() == ["a.txt", "b.txt"]
    server.discard()


def test_the_server_serves_what_it_lists_and_lists_what_it_serves(tmp_path: Path, record_property):
    """``sub/inner.txt`` was served although '?' did not list it. Both ways round now: every name
    the list gives is fetched, and every file of the folder tree (sub-folders included, and names a
    request cannot carry) that is not listed is refused."""
    root = tmp_path / "tree"
    (root / "sub" / "deeper").mkdir(parents=True)
    for relative in (
        "top.txt",
        "名字.txt",
        "with space.txt",
        " lead.txt",
        "trail.txt ",
        "q",
        "?",
        "back\\slash.txt",
        "sub/inner.txt",
        "sub/deeper/deepest.txt",
    ):
        (root / relative).write_bytes(relative.encode())
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    dest = tmp_path / "dest"
    dest.mkdir()
    with EngineThreads() as threads:
        server = FileServer(root)
        addr, _, _ = threads.start(server, "file-server-tree")
        client = FetchClient(addr.host, addr.port, dest, timeout=WAIT_S)
        try:
            client.connect()
            listed = client.list_files()
            for name in listed:  # served: everything listed
                assert client.fetch(name).path.read_bytes() == name.encode(), name
        finally:
            client.close()
        unlisted = [name for name in files if name not in listed]
        served = [name for name in unlisted if not isinstance(server.open_name(name), str)]
    record_property("files in the tree / listed", f"{len(files)} / {len(listed)}")
    assert listed == ["top.txt", "with space.txt", "名字.txt"]
    assert "sub/inner.txt" in unlisted and served == [], f"served but not listed: {served}"
    assert "not those of its sub-folders" in str(server.open_name("sub/inner.txt"))

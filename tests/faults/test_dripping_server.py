"""A file server that drips its reply, one byte well within the client's timeout each time: without
an overall deadline a fetch ran for as long as the server liked (past 45 s at a byte every 2 s).
The fetch ends at its deadline, says so in its error, leaves no file, and the CLI takes --deadline.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from netcore.cli.commands import EXIT_NET
from netcore.engines.filefetch import FETCH_DEADLINE_S, FetchClient
from netcore.errors import FetchTooSlow
from netcore.protocols.filehdr import encode_header
from tests.faults.support import scripted_server
from tests.netcore.support import WAIT_S, cli

DRIP_S = 0.1  # one byte every 0.1 s: the client's timeout (WAIT_S) never runs out
DEADLINE_S = 1.0
SLACK_S = 0.5


def drip(stop: threading.Event) -> object:
    """A script for ``scripted_server``: read the request, then send a valid reply a byte at a time
    until the client leaves (a send fails) or *stop*."""

    def script(conn: socket.socket) -> None:
        conn.recv(4096)
        body = b"x" * 1000
        reply = encode_header({"file_name": "slow", "file_type": "txt", "data_all": len(body)}) + body
        for byte in reply:
            try:
                conn.send(bytes([byte]))
            except OSError:
                return
            if stop.wait(DRIP_S):
                return

    return script


def test_a_fetch_from_a_dripping_server_ends_at_its_deadline(tmp_path: Path, record_property):
    stop = threading.Event()
    with scripted_server(drip(stop)) as port:  # type: ignore[arg-type]
        client = FetchClient("127.0.0.1", port, tmp_path, timeout=WAIT_S, deadline=DEADLINE_S)
        try:
            client.connect()
            start = time.monotonic()
            with pytest.raises(FetchTooSlow) as info:
                client.fetch("slow.txt")
            elapsed = time.monotonic() - start
        finally:
            stop.set()
            client.close()
    record_property("a dripping server's fetch ended after (s), deadline 1 s", f"{elapsed:.2f}")
    assert DEADLINE_S - 0.01 <= elapsed <= DEADLINE_S + SLACK_S, elapsed
    assert f"took longer than its deadline of {DEADLINE_S:g} s" in info.value.summary
    assert info.value.params["received"] > 0
    assert "--deadline" in info.value.hint
    assert list(tmp_path.iterdir()) == [], "no file, no .part"


def test_the_cli_fetch_takes_a_deadline(tmp_path: Path):
    stop = threading.Event()
    with scripted_server(drip(stop)) as port:  # type: ignore[arg-type]
        try:
            proc = cli(
                "fetch",
                "slow.txt",
                "--port",
                str(port),
                "--out",
                str(tmp_path),
                "--deadline",
                "0.5",
                timeout=30,
            )
        finally:
            stop.set()
    assert proc.returncode == EXIT_NET, proc.stderr
    assert "took longer than its deadline of 0.5 s" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_default_deadline_is_stated_in_the_cli_help():
    proc = cli("fetch", "--help", timeout=30)
    assert "--deadline" in proc.stdout and f"default {FETCH_DEADLINE_S:g}" in proc.stdout

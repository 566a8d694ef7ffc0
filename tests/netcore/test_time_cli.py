"""``python -m netcore time-server`` and ``python -m netcore time`` as a user runs them: subprocesses.

The server listens on port 0 of 127.0.0.1 (it prints the port it got) and runs for at most 20 s; it
is terminated and waited for in a finally.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import pytest

from netcore.engines.time_service import TimeServer
from netcore.model.events import Event, Listening
from tests.netcore.support import WAIT_S, NetcoreProcess, cli, free_port

ENV = os.environ | {"PYTHONIOENCODING": "utf-8", "PYTHONUNBUFFERED": "1"}


def netcore(*args: str) -> subprocess.CompletedProcess[str]:
    return cli(*args, timeout=2 * WAIT_S, env=ENV)


class ServerProcess(NetcoreProcess):
    """``python -m netcore time-server`` in a subprocess; its output lines are read by a thread."""

    def __init__(self, *args: str) -> None:
        super().__init__(
            "time-server", "--port", "0", "--duration", "20", *args, stderr=subprocess.STDOUT, env=ENV
        )


@pytest.fixture
def time_server() -> Iterator[Callable[..., int]]:
    """Start ``time-server`` subprocesses; returns the port each one printed it listens on."""
    started: list[ServerProcess] = []

    def start(protocol: str, *args: str) -> int:
        server = ServerProcess("--protocol", protocol, *args)
        started.append(server)
        match = server.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)")
        return int(match.group(1))

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def iso_time(text: str) -> float:
    when = datetime.fromisoformat(text)
    assert when.utcoffset() is not None and when.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    return when.timestamp()


def test_sntp_json(time_server: Callable[..., int]) -> None:
    port = time_server("sntp", "--offset", "3.5")
    done = netcore("time", "--protocol", "sntp", "--port", str(port), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["protocol"] == "sntp"
    assert doc["server"] == f"127.0.0.1:{port}"
    assert doc["offset_s"] == pytest.approx(3.5, abs=0.05)
    assert 0 <= doc["delay_s"] < 0.05
    assert iso_time(doc["server_time"]) == pytest.approx(time.time() + 3.5, abs=1.0)
    assert iso_time(doc["local_time"]) == pytest.approx(time.time(), abs=1.0)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", doc["server_time"])
    assert doc["stratum"] == 1
    assert doc["reference_id"] == "LOCL"
    assert doc["leap"] == 0
    assert doc["synchronised"] is True
    assert doc["text"] == "stratum 1, reference LOCL"
    t1, t2, t3, t4 = doc["t1"], doc["t2"], doc["t3"], doc["t4"]
    assert doc["offset_s"] == pytest.approx(((t2 - t1) + (t3 - t4)) / 2, abs=1e-9)
    assert doc["delay_s"] == pytest.approx((t4 - t1) - (t3 - t2), abs=1e-9)
    fields = doc["fields"]
    assert list(fields) == [
        "LI / version / mode",
        "stratum",
        "poll",
        "precision",
        "root delay",
        "root dispersion",
        "reference ID",
        "reference timestamp",
        "origin timestamp (T1)",
        "receive timestamp (T2)",
        "transmit timestamp (T3)",
    ]
    assert fields["LI / version / mode"] == "LI 0 (no warning), version 4, mode 4 (server)"
    assert fields["stratum"] == "1"
    assert fields["reference ID"] == "LOCL"
    assert iso_time(fields["transmit timestamp (T3)"]) == pytest.approx(t3, abs=0.001)
    assert iso_time(fields["origin timestamp (T1)"]) == pytest.approx(t1, abs=0.001)


def test_sntp_json_several_queries_and_stratum(time_server: Callable[..., int]) -> None:
    port = time_server("sntp", "--stratum", "3", "--refid", "GPS")
    done = netcore("time", "--port", str(port), "--json", "--count", "2", "--interval", "0.01")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["stratum"] == 3
    assert doc["reference_id"] == "71.80.83.0"  # above stratum 1 the reference ID reads as an address
    assert len(doc["queries"]) == 2
    assert all(q["offset_s"] == pytest.approx(0, abs=0.05) for q in doc["queries"])


def test_time_tcp_json(time_server: Callable[..., int]) -> None:
    port = time_server("time-tcp", "--offset", "3.5")
    done = netcore("time", "--protocol", "time-tcp", "--port", str(port), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["protocol"] == "time-tcp"
    assert doc["offset_s"] == pytest.approx(3.5, abs=1.0)  # whole seconds
    assert 0 <= doc["delay_s"] < 0.5
    assert iso_time(doc["server_time"]) == pytest.approx(time.time() + 3.5, abs=1.5)
    assert doc["text"].endswith(" s")
    assert "fields" not in doc
    assert "stratum" not in doc


def test_sntp_human_output(time_server: Callable[..., int]) -> None:
    port = time_server("sntp", "--offset", "3.5")
    done = netcore("time", "--protocol", "sntp", "--port", str(port))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    # the traffic: 48 bytes each way with a hexdump
    assert f"→ send() 48 bytes to 127.0.0.1:{port}" in out
    assert f"← recv() 48 bytes from 127.0.0.1:{port}" in out
    # the field table, one row per byte range
    for span, name, value in (
        ("[ 0– 1)", "LI / version / mode", "LI 0 (no warning), version 4, mode 4 (server)"),
        ("[ 1– 2)", "stratum", "1"),
        ("[ 2– 3)", "poll", "0 (2^0 s)"),
        ("[12–16)", "reference ID", "LOCL"),
        ("[40–48)", "transmit timestamp (T3)", "20"),
    ):
        assert f"    {span} {name:24} {value}" in out, out
    assert re.search(r"T1 \S+  T2 \S+  T3 \S+  T4 \S+", out)
    assert "offset = ((T2 − T1) + (T3 − T4)) / 2;  delay = (T4 − T1) − (T3 − T2)" in out
    match = re.search(r"offset ([+-]\d+\.\d{6}) s · delay (\d+\.\d{3}) ms", out)
    assert match, out
    assert float(match.group(1)) == pytest.approx(3.5, abs=0.05)


def test_time_tcp_human_output(time_server: Callable[..., int]) -> None:
    port = time_server("time-tcp")
    done = netcore("time", "--protocol", "time-tcp", "--port", str(port))
    assert done.returncode == 0, done.stderr
    assert f"← recv() 4 bytes from 127.0.0.1:{port}" in done.stdout
    assert "server says:" in done.stdout
    assert "offset = ((T2" not in done.stdout  # the formulas are SNTP's
    match = re.search(r"offset ([+-]\d+\.\d{6}) s", done.stdout)
    assert match
    assert float(match.group(1)) == pytest.approx(0, abs=1.0)


@pytest.mark.parametrize(
    ("protocol", "kind", "summary", "hint"),
    [
        ("time-tcp", socket.SOCK_STREAM, "failed: connection refused", "start the server first"),
        ("sntp", socket.SOCK_DGRAM, "answered with ICMP 'port unreachable'", "start the UDP server first"),
    ],
)
def test_refused_exits_1_with_a_hint(protocol: str, kind: int, summary: str, hint: str) -> None:
    port = free_port(kind)
    done = netcore("time", "--protocol", protocol, "--port", str(port), "--timeout", "1")
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert lines[0].startswith("error: ") and f"127.0.0.1:{port}" in lines[0] and summary in lines[0]
    assert lines[1].startswith("hint: ") and hint in lines[1]


def test_protocol_error_exits_3() -> None:
    """SNTP asked of a TIME server: a 4-byte answer, named in the error."""
    server = TimeServer("time-udp", "127.0.0.1", 0)
    addr = server.bind()
    listening = threading.Event()

    def sink(events: Sequence[Event]) -> None:
        if any(isinstance(e, Listening) for e in events):
            listening.set()

    thread = server.start_thread(sink, name="test-time-udp-server")
    try:
        assert listening.wait(WAIT_S)
        done = netcore("time", "--protocol", "sntp", "--port", str(addr.port), "--json")
    finally:
        server.join(WAIT_S)
    assert not thread.is_alive()
    assert done.returncode == 3
    assert "error: an SNTP reply has at least 48 bytes, this one has 4" in done.stderr
    assert "hint: " in done.stderr

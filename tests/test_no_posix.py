"""Socket Lab as Windows would import it: the GUI's self-test, every ``python -m netcore`` sub-command
(its ``--help`` and one real run) and the collection of this test suite, each in a subprocess where
``fcntl``, ``termios`` and ``resource`` cannot be imported and Linux-only socket options and pollers
are missing (``python -m tests.no_posix``, see there).

A module that imports a POSIX-only module at import time, or a figure that reads a Linux-only option
without checking first, fails these tests on the Linux machine that tests the product, before a
Windows user meets it.

Network rules as in tests/netcore: only 127.0.0.1, servers on port 0 (the port is read from their
"listening on" line) with a bounded ``--duration``, stopped with Ctrl+C and waited for; every wait is
bounded in time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from netcore.cli.commands import EXIT_OK, build_parser
from tests.netcore.support import ROOT, NetcoreProcess, cli

RUNNER = ("-m", "tests.no_posix")
NO_POSIX_NETCORE = (*RUNNER, "netcore")
SERVER_DURATION = "60"  # an upper bound only: each test stops its servers as soon as it is done
RUN_TIMEOUT = 120


def subcommands() -> list[str]:
    """The sub-commands ``python -m netcore`` has, as its argparse parser knows them."""
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(actions) == 1, "python -m netcore should have one set of sub-commands"
    return list(actions[0].choices)


def no_posix(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m tests.no_posix *args`` run to its end, its output captured as text."""
    return cli(*args, env=env, command=RUNNER)


def netcore(*args: str) -> subprocess.CompletedProcess[str]:
    """A ``python -m netcore`` client run to its end, without POSIX."""
    return cli(*args, timeout=RUN_TIMEOUT, command=NO_POSIX_NETCORE)


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    """The output of a run that must have exited 0 without a traceback."""
    assert result.returncode == EXIT_OK, f"exit {result.returncode}\n{result.stdout[-2000:]}{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


class Server(NetcoreProcess):
    """A ``python -m netcore`` server without POSIX on port 0 of 127.0.0.1; ``port`` is the one it got."""

    def __init__(self, *args: str) -> None:
        super().__init__(
            *args, "--duration", SERVER_DURATION, stderr=subprocess.STDOUT, command=NO_POSIX_NETCORE
        )
        self.port = 0

    def wait_listening(self) -> None:
        match = self.wait_for_line(r"listening on 127\.0\.0\.1:(\d+)", timeout=RUN_TIMEOUT)
        self.port = int(match.group(1))

    def ctrl_c(self) -> str:
        """Stop the server as a user does; it must exit 0 without a traceback. Returns all it printed."""
        code = self.interrupt(timeout=RUN_TIMEOUT)
        out = "".join(self.seen)
        assert code == EXIT_OK, f"{self.name} exited {code}: {out[-2000:]}"
        assert "Traceback" not in out, out
        return out


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Servers a test starts (append them); each is terminated and waited for when the test ends."""
    started: list[Server] = []
    try:
        yield started
    finally:
        for server in reversed(started):
            server.stop()


def start(servers: list[Server], *args: str) -> Server:
    """Start a server (stopped by the ``servers`` fixture) and wait until it listens."""
    server = Server(*args)
    servers.append(server)
    server.wait_listening()
    return server


# -- the runner itself ----------------------------------------------------------------------------
def test_the_runner_refuses_posix_modules():
    """A module that imports termios at import time (the standard library's tty) fails to run."""
    result = no_posix("tty")
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'termios' (as on Windows)" in result.stderr


# -- the GUI --------------------------------------------------------------------------------------
def test_gui_self_test(tmp_path: Path):
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    out = succeeded(no_posix("app", "--self-test", env=env))
    assert out.splitlines()[-1] == "self-test ok"


# -- python -m netcore: --help of every sub-command -----------------------------------------------
@pytest.mark.parametrize("command", subcommands())
def test_help(command: str):
    out = succeeded(netcore(command, "--help"))
    assert out.startswith(f"usage: socketlab-cli {command} ")


def test_top_level_help_lists_every_subcommand():
    out = succeeded(netcore("--help"))
    assert all(command in out for command in subcommands())


# -- python -m netcore: one real run of every sub-command ------------------------------------------
def test_tcp_echo_server_relay_and_tcp_echo(servers: list[Server]):
    server = start(servers, "tcp-echo-server", "--port", "0", "--mode", "upper")
    relay = start(servers, "relay", "--listen", "0", "--to", f"127.0.0.1:{server.port}", "--chunks", "1")
    for port in (server.port, relay.port):
        doc = json.loads(succeeded(netcore("tcp-echo", "--port", str(port), "-m", "hello", "--json")))
        assert doc["peer"] == f"127.0.0.1:{port}"
        assert "".join(c["text"] for c in doc["received"]) == "HELLO"
    out = succeeded(netcore("tcp-echo", "--port", str(server.port), "-m", "hi", "--nodelay"))
    assert " ⇄ " in out and "1 of 1 replies" in out
    server.wait_for("← recv() 5 bytes from")  # the first 'hello', straight from the client
    relay.wait_for("← recv() 5 bytes from")  # the second, which it passed on byte by byte:
    relay.wait_for(f"→ send() 1 bytes to 127.0.0.1:{server.port}")
    relay.ctrl_c()
    server.ctrl_c()


def test_udp_echo_server_and_udp_echo(servers: list[Server]):
    server = start(servers, "udp-echo-server", "--port", "0")
    doc = json.loads(succeeded(netcore("udp-echo", "--port", str(server.port), "-m", "ping", "--json")))
    assert doc["received"]["text"] == "ping" and doc["truncated"] == []
    doc = json.loads(
        succeeded(
            netcore("udp-echo", "--port", str(server.port), "--probe", "5", "--interval", "5", "--json")
        )
    )
    assert doc["sent"] == 5 and doc["received"] + doc["late"] + doc["lost"] + doc["pending"] == 5
    assert doc["duplicates"] == doc["unknown"] == 0
    assert doc["received"] >= 1  # loopback may drop a datagram under load, not all of them
    server.ctrl_c()


def test_time_server_and_time(servers: list[Server]):
    server = start(servers, "time-server", "--port", "0", "--protocol", "sntp", "--offset", "3.5")
    doc = json.loads(succeeded(netcore("time", "--port", str(server.port), "--json")))
    assert doc["offset_s"] == pytest.approx(3.5, abs=0.5)
    out = succeeded(netcore("time", "--port", str(server.port)))
    assert "offset = ((T2 − T1) + (T3 − T4)) / 2" in out
    server.ctrl_c()


def test_file_server_and_fetch(servers: list[Server], tmp_path: Path):
    root, dest = tmp_path / "served", tmp_path / "dest"
    root.mkdir()
    dest.mkdir()
    data = os.urandom(200_000)
    (root / "photo.png").write_bytes(data)
    server = start(servers, "file-server", "--root", str(root), "--port", "0", "--quiet")
    listing = json.loads(succeeded(netcore("fetch", "--list", "--port", str(server.port), "--json")))
    assert listing == {"files": ["photo.png"]}
    args = ("fetch", "photo", "--port", str(server.port), "--out", str(dest), "--json")
    doc = json.loads(succeeded(netcore(*args)))
    assert doc["verified"] is True and doc["md5"] == hashlib.md5(data).hexdigest()
    assert (dest / "photo.png").read_bytes() == data
    server.ctrl_c()


def test_sticking_figures_say_what_is_not_available():
    """Without TCP_INFO the segment count is unknown and said so; without FIONREAD the bytes waiting
    are still counted (by the portable peek)."""
    doc = json.loads(succeeded(netcore("sticking", "--preset", "nodelay-burst", "--json")))
    assert doc["segments"] is None
    assert "cannot be known on this system" in doc["segments_note"]
    out = succeeded(netcore("sticking", "--preset", "big-send-small-recv"))
    assert "how many TCP segments the sender emitted cannot be known on this system" in out
    assert "verdict: 10,240 bytes sent, recv(4096) returned 4,096: 6,144 bytes are still waiting" in out


RUNS = {
    "tcp-echo-server": test_tcp_echo_server_relay_and_tcp_echo,
    "tcp-echo": test_tcp_echo_server_relay_and_tcp_echo,
    "relay": test_tcp_echo_server_relay_and_tcp_echo,
    "udp-echo-server": test_udp_echo_server_and_udp_echo,
    "udp-echo": test_udp_echo_server_and_udp_echo,
    "time-server": test_time_server_and_time,
    "time": test_time_server_and_time,
    "file-server": test_file_server_and_fetch,
    "fetch": test_file_server_and_fetch,
    "sticking": test_sticking_figures_say_what_is_not_available,
}


def test_every_subcommand_has_a_run():
    """A new sub-command needs a real run here (add it to a test above and to RUNS)."""
    assert sorted(RUNS) == sorted(subcommands())


# -- the test suite collects ----------------------------------------------------------------------
def test_the_suite_collects_without_posix_modules():
    """Collecting every test imports every test module: none may need a POSIX-only module to load
    (a test that needs Linux, root or a program skips, saying why, when it runs)."""
    result = no_posix("pytest", "--collect-only", "-q", "-p", "no:cacheprovider", str(ROOT / "tests"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "error" not in result.stdout.splitlines()[-1], result.stdout[-3000:]

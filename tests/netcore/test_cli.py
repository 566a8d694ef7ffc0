"""``python -m netcore``: a real echo server in a subprocess, the client as a subprocess and in-process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from netcore import __version__
from netcore.cli.commands import EXIT_NET, EXIT_OK, EXIT_USAGE, main
from tests.netcore.support import ROOT, RUN_TIMEOUT, NetcoreProcess, cli, free_port


class Server(NetcoreProcess):
    """``python -m netcore tcp-echo-server`` in a subprocess, its stdout read by a thread."""

    def __init__(self, port: int, *extra: str) -> None:
        super().__init__("tcp-echo-server", "--port", str(port), *extra)
        self.port = port


@pytest.fixture(scope="module")
def upper_server() -> Iterator[Server]:
    server = Server(free_port(), "--mode", "upper", "--duration", "20")
    try:
        line = server.wait_for("listening on")
        assert f"127.0.0.1:{server.port}" in line
        yield server
    finally:
        server.stop()


def echo(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return cli("tcp-echo", "--port", str(port), *args)


def test_json_output(upper_server):
    result = echo(upper_server.port, "--message", "hello", "--json")
    assert result.returncode == EXIT_OK, result.stderr
    doc = json.loads(result.stdout)
    assert doc["peer"] == f"127.0.0.1:{upper_server.port}"
    host, _, port = doc["local"].rpartition(":")
    assert host == "127.0.0.1" and int(port) not in (0, upper_server.port)
    assert doc["framing"] == "raw"
    assert [c["hex"] for c in doc["sent"]] == ["68656c6c6f"]
    assert [c["text"] for c in doc["sent"]] == ["hello"]
    assert doc["sent"][0]["offset"] == 0 and doc["sent"][0]["length"] == 5
    # a reply may arrive in more than one recv() chunk: compare what arrived in all of them
    assert "".join(c["hex"] for c in doc["received"]) == "48454c4c4f"
    assert "".join(c["text"] for c in doc["received"]) == "HELLO"
    assert doc["frames_received"] == []
    assert len(doc["rtt_ms"]) == 1
    assert isinstance(doc["rtt_ms"][0], float) and 0 < doc["rtt_ms"][0] < RUN_TIMEOUT * 1000


def test_human_output_has_a_hexdump_and_the_round_trip(upper_server):
    result = echo(upper_server.port, "--message", "hello")
    assert result.returncode == EXIT_OK, result.stderr
    out = result.stdout
    assert "connected:" in out
    assert f"→ send() 5 bytes to 127.0.0.1:{upper_server.port}" in out
    assert "00000000  68 65 6c 6c 6f" in out and "|hello|" in out
    assert "|HELLO|" in out
    assert "reply to message 1: round trip" in out
    assert "1 of 1 replies; round trip min" in out


def test_length4_framing_shows_frames(upper_server):
    result = echo(upper_server.port, "--message", "hello", "--framing", "length4")
    assert result.returncode == EXIT_OK, result.stderr
    assert "00000000  00 00 00 05 68 65 6c 6c  6f" in result.stdout
    assert "frame #1: header 0–4 (4 B), payload 4–9 (5 B)" in result.stdout
    result = echo(upper_server.port, "--message", "hello", "--framing", "length4", "--json")
    assert result.returncode == EXIT_OK, result.stderr
    doc = json.loads(result.stdout)
    assert doc["sent"][0]["hex"] == "0000000568656c6c6f"
    assert doc["frames_received"] == ["48454c4c4f"]


def test_count_gives_one_round_trip_per_message(upper_server):
    result = echo(upper_server.port, "--hex", "61 62", "--count", "3", "--json", "--framing", "length4")
    assert result.returncode == EXIT_OK, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["rtt_ms"]) == 3
    assert doc["frames_received"] == ["4142"] * 3
    assert "".join(c["hex"] for c in doc["sent"]) == "000000026162" * 3
    result = echo(upper_server.port, "--message", "x", "-n", "3")
    assert result.returncode == EXIT_OK, result.stderr
    assert result.stdout.count("round trip ") == 4  # three replies and the summary
    assert "3 of 3 replies" in result.stdout


def test_gbk_message(upper_server):
    result = echo(upper_server.port, "--message", "你好 abc", "--encoding", "gbk", "--json")
    assert result.returncode == EXIT_OK, result.stderr
    doc = json.loads(result.stdout)
    assert doc["sent"][0]["hex"] == "你好 abc".encode("gbk").hex()
    assert "".join(c["text"] for c in doc["received"]) == "你好 ABC"


def test_output_is_utf8_on_a_gbk_console(upper_server):
    """A Chinese Windows console encodes in GBK (cp936), which has no '⇄': the CLI writes UTF-8
    whatever the console's encoding, instead of failing with UnicodeEncodeError."""
    with pytest.raises(UnicodeEncodeError):
        "⇄".encode("gbk")
    env = os.environ | {"PYTHONIOENCODING": "gbk", "PYTHONUTF8": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "netcore", "tcp-echo", "--port", str(upper_server.port), "-m", "你好 ⇄"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert result.returncode == EXIT_OK, result.stderr.decode(errors="replace")
    out = result.stdout.decode("utf-8")  # strict: GBK bytes of 你好 are not valid UTF-8
    assert "connected: 127.0.0.1:" in out and f" ⇄ 127.0.0.1:{upper_server.port}" in out
    assert "1 of 1 replies" in out


def test_connection_refused():
    port = free_port()
    result = echo(port, "--message", "hello", "--timeout", "2")
    assert result.returncode == EXIT_NET == 1
    assert "connection refused" in result.stderr
    assert f"hint: Nothing is listening on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_bad_hex_digit_is_a_usage_error():
    result = echo(free_port(), "--hex", "41 4g")
    assert result.returncode == EXIT_USAGE == 2
    assert "'g' at column 5 is not a hex digit" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tcp-echo", "--port", "99999", "-m", "x"], "port 99999 is out of range"),
        (["tcp-echo", "--port", "abc", "-m", "x"], "port 'abc' is not a number"),
        (["tcp-echo", "--port", "9", "-m", "x", "--count", "0"], "--count/-n: 0 is less than 1"),
        (["tcp-echo", "--port", "9"], "one of the arguments --message/-m --hex is required"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(args, out=io.StringIO())
    assert info.value.code == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_address_in_use(upper_server):
    result = cli("tcp-echo-server", "--port", str(upper_server.port), "--duration", "2")
    assert result.returncode == EXIT_NET
    assert "address already in use" in result.stderr
    assert "SO_REUSEADDR" in result.stderr
    assert str(upper_server.port) in result.stderr
    assert "listening on" not in result.stdout
    assert upper_server.proc.poll() is None  # the first server still runs


def test_version():
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"Socket Lab {__version__}"


# -- in-process ---------------------------------------------------------------------------------
def test_main_in_process_json(upper_server):
    out = io.StringIO()
    code = main(["tcp-echo", "--port", str(upper_server.port), "--message", r"a\r\n", "--json"], out=out)
    assert code == EXIT_OK
    doc = json.loads(out.getvalue())
    assert doc["sent"][0]["hex"] == "610d0a"
    assert "".join(c["hex"] for c in doc["received"]) == "410d0a"
    assert len(doc["rtt_ms"]) == 1


def test_main_in_process_errors(capsys):
    port = free_port()
    out = io.StringIO()
    assert main(["tcp-echo", "--port", str(port), "-m", "hi", "--timeout", "2"], out=out) == EXIT_NET
    assert f"Nothing is listening on 127.0.0.1:{port}" in capsys.readouterr().err
    assert main(["tcp-echo", "--port", str(port), "--hex", "0x4"], out=out) == EXIT_USAGE
    assert "odd number of hex digits" in capsys.readouterr().err
    assert out.getvalue() == ""


def test_main_in_process_server_with_duration():
    out = io.StringIO()
    started = time.monotonic()
    code = main(["tcp-echo-server", "--port", "0", "--duration", "0.3"], out=out)
    assert code == EXIT_OK
    assert time.monotonic() - started < 5
    assert "listening on 127.0.0.1:" in out.getvalue()


def test_a_server_that_listened_exits_0_when_stopped_whatever_it_reported_meanwhile():
    """Errors while serving (accept() out of descriptors, a client's fault) are printed; the exit
    status is 0 when the user stops a server that listened, non-zero only if it never listened."""
    from netcore.cli.commands import PrintQueue
    from netcore.errors import NetError
    from netcore.model.events import Failed, Listening, Stopped

    error = NetError(action="accept on", where="127.0.0.1:1", detail="Too many open files")
    served = PrintQueue(quiet=True)
    served.put([Listening("127.0.0.1", 1, "127.0.0.1:1"), Failed(error), Stopped()])
    assert served.failed is None
    never = PrintQueue(quiet=True)
    never.put([Failed(error), Stopped()])
    assert never.failed is error

"""``python -m netcore sticking`` and ``python -m netcore relay`` as a student runs them: real
subprocesses, real loopback sockets.

Network rules: only 127.0.0.1, ports just found free, every subprocess terminated and waited for in
a finally.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from netcore.cli.commands import EXIT_OK, EXIT_USAGE
from netcore.model.scenario import PRESETS, Cure
from tests.netcore.support import NetcoreProcess as Background
from tests.netcore.support import cli, free_port

TWO_SENDS = "2 messages sent, received as 1 chunk: the receiver cannot tell where 'Hello' ends"
BIG_SEND = "10,240 bytes sent, recv(4096) returned 4,096: 6,144 bytes are still waiting"


def sticking(*args: str) -> subprocess.CompletedProcess[str]:
    return cli("sticking", *args)


# -- sticking -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_as_json(name):
    result = sticking("--preset", name, "--json")
    assert result.returncode == EXIT_OK, result.stderr
    doc = json.loads(result.stdout)
    scenario = PRESETS[name]
    for lane in ("sends", "recvs", "frames"):
        assert isinstance(doc[lane], list)
        for item in doc[lane]:
            assert {"offset", "length", "time", "hex"} <= set(item)
            assert len(bytes.fromhex(item["hex"])) == (
                item["payload_length"] if lane == "frames" else item["length"]
            )
    assert isinstance(doc["verdict"], str) and doc["verdict"]
    sent = b"".join(bytes.fromhex(c["hex"]) for c in doc["sends"])
    received = b"".join(bytes.fromhex(c["hex"]) for c in doc["recvs"])
    assert sent.startswith(received)
    assert len(sent) - len(received) == doc["waiting_after"]
    if scenario.cure is Cure.NONE:
        assert doc["frames"] == []
        assert received.startswith(scenario.messages[0][:1])
    else:
        assert [bytes.fromhex(f["hex"]) for f in doc["frames"]] == list(scenario.messages)
        n = len(scenario.messages)
        assert doc["verdict"].startswith(f"{scenario.cure.label}: {n} of {n} messages recovered")
    if name == "two-sends":
        assert doc["verdict"] == TWO_SENDS
    if name == "big-send-small-recv":
        assert doc["waiting_after"] == 6144
        assert doc["verdict"] == BIG_SEND
    if name in ("nagle-burst", "nodelay-burst") and sys.platform.startswith("linux"):
        # not a fixed count (see test_sticking.test_nagle_and_nodelay_bursts): no more recv()
        # chunks than segments, as each chunk takes whole segments
        chunks = sum(1 for c in doc["recvs"] if c["length"])
        assert 1 <= chunks <= doc["segments"]
    if name == "cure-announce-and-wait":
        assert doc["announce_rtt_ms"] > 0


@pytest.mark.parametrize("name", ["two-sends", "cure-length-prefix"])
def test_human_output_shows_the_three_lanes(name):
    result = sticking("--preset", name)
    assert result.returncode == EXIT_OK, result.stderr
    out = result.stdout
    assert "send() calls:" in out
    assert "recv() chunks:" in out
    if name == "two-sends":
        assert "b'Hello'" in out and "b'World'" in out and "b'HelloWorld'" in out
        assert "(10 bytes were waiting)" in out
        assert out.rstrip().endswith(f"verdict: {TWO_SENDS}")
    else:
        assert "decoded frames:" in out
        assert "frame #1: header 0–4, payload 4–9 (5 B)  b'Hello'" in out
        assert "verdict: length prefix: 4 of 4 messages recovered" in out
    assert "Traceback" not in result.stderr


def test_knobs_override_the_preset():
    result = sticking("--preset", "two-sends", "--recv-delay", "0", "--recv-size", "3", "--json")
    assert result.returncode == EXIT_OK, result.stderr
    doc = json.loads(result.stdout)
    sizes = [c["length"] for c in doc["recvs"]]
    assert all(1 <= n <= 3 for n in sizes) and sum(sizes) == 10 and len(sizes) >= 4
    assert b"".join(bytes.fromhex(c["hex"]) for c in doc["recvs"]) == b"HelloWorld"
    assert doc["verdict"] == (
        f"2 messages sent, received as {len(sizes)} chunks: messages were split across recv() calls"
    )
    messages = ["-m", "a", "-m", "", "-m", "你好"]
    result = sticking("--preset", "cure-delimiter", *messages, "--recv-size", "1", "--json")
    assert result.returncode == EXIT_OK, result.stderr
    doc = json.loads(result.stdout)
    assert [bytes.fromhex(f["hex"]) for f in doc["frames"]] == [b"a", b"", "你好".encode()]
    assert all(c["length"] == 1 for c in doc["recvs"])
    assert doc["verdict"] == "delimiter: 3 of 3 messages recovered from 10 recv() chunks"


def test_announce_with_an_empty_message():
    result = sticking("--framing", "announce", "-m", "a", "-m", "", "-m", "b", "--recv-delay", "0", "--json")
    assert result.returncode == EXIT_OK, result.stderr
    doc = json.loads(result.stdout)
    assert [f["hex"] for f in doc["frames"]] == ["61", "", "62"]
    assert doc["verdict"].startswith("announce and wait: 3 of 3 messages recovered")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "no-such-preset"], "invalid choice: 'no-such-preset'"),
        (["--recv-size", "0"], "--recv-size: 0 is less than 1"),
    ],
)
def test_bad_arguments_exit_2(args, message):
    result = sticking(*args)
    assert result.returncode == EXIT_USAGE == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_delimiter_inside_a_message_is_refused():
    result = sticking("--framing", "delimiter", "-m", r"a\nb")
    assert result.returncode != EXIT_OK
    assert "contains the delimiter" in result.stderr
    assert "Traceback" not in result.stderr


# -- relay --------------------------------------------------------------------------------------
def test_relay_in_front_of_an_echo_server():
    server_port, relay_port = free_port(), free_port()
    to = f"127.0.0.1:{server_port}"
    server = Background("tcp-echo-server", "-p", str(server_port), "--framing", "length4", "--duration", "10")
    relay = Background("relay", "--listen", str(relay_port), "--to", to, "--chunks", "1", "--duration", "10")
    try:
        server.wait_for("listening on")
        assert f"127.0.0.1:{relay_port}" in relay.wait_for("listening on")
        result = cli("tcp-echo", "--port", str(relay_port), "--framing", "length4", "-m", "hello", "--json")
        assert result.returncode == EXIT_OK, result.stderr
        doc = json.loads(result.stdout)
        assert doc["peer"] == f"127.0.0.1:{relay_port}"
        assert [c["hex"] for c in doc["sent"]] == ["0000000568656c6c6f"]
        assert "".join(c["hex"] for c in doc["received"]) == "0000000568656c6c6f"
        assert doc["frames_received"] == ["68656c6c6f"]
        assert len(doc["rtt_ms"]) == 1
        # the relay printed every one-byte send() it made, both ways
        relay.wait_for(f"→ send() 1 bytes to 127.0.0.1:{server_port}")
        assert relay.interrupt() == EXIT_OK
        out = "".join(relay.seen)
        assert out.count(f"→ send() 1 bytes to 127.0.0.1:{server_port}") == 9
        assert out.count("→ send() 1 bytes to 127.0.0.1:") == 18
        assert "← recv() 9 bytes from" in out
    finally:
        relay.stop()
        server.stop()


def test_relay_bad_chunks_exit_2():
    result = cli("relay", "--listen", "0", "--to", "127.0.0.1:9", "--chunks", "zero", "--duration", "1")
    assert result.returncode == EXIT_USAGE
    assert "chunks must be a size in bytes" in result.stderr
    assert "Traceback" not in result.stderr

"""Traffic exports read back: our own parser, and Wireshark's text2pcap + tshark where installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcore.errors import InputError
from netcore.model.traffic import Direction, make_chunk
from netcore.present.export import parse_text2pcap, python_literal, to_json_lines, to_text2pcap


def chunks_of(payloads):
    offsets = {Direction.SENT: 0, Direction.RECEIVED: 0}
    out = []
    for direction, data in payloads:
        out.append(make_chunk(direction, data, offsets[direction], 1, "127.0.0.1:9000"))
        offsets[direction] += len(data)
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(list(Direction)), st.binary(min_size=1, max_size=100)), max_size=12)
)
def test_text_export_parses_back(payloads):
    chunks = chunks_of(payloads)
    assert parse_text2pcap(to_text2pcap(chunks)) == [(c.direction, c.data) for c in chunks]


def test_json_lines_parse_back():
    chunks = chunks_of([(Direction.SENT, b"GET /\r\n"), (Direction.RECEIVED, "你好".encode())])
    rows = [json.loads(line) for line in to_json_lines(chunks)]
    assert [bytes.fromhex(r["hex"]) for r in rows] == [c.data for c in chunks]
    assert [r["direction"] for r in rows] == ["sent", "received"]
    assert rows[1]["peer"] == "127.0.0.1:9000" and rows[1]["offset"] == 0 and rows[0]["length"] == 7


def test_python_literal_round_trips():
    data = bytes(range(256))
    assert eval(python_literal(data)) == data


def test_bad_text_export_is_refused():
    with pytest.raises(InputError, match="line 1"):
        parse_text2pcap("000000 48 65\n")
    with pytest.raises(InputError, match="offset"):
        parse_text2pcap("O 2026-01-01 00:00:00.000000\n000010 48\n")


@pytest.mark.skipif(
    not (shutil.which("text2pcap") and shutil.which("tshark")), reason="needs text2pcap and tshark"
)
def test_wireshark_reads_the_export(tmp_path):
    chunks = chunks_of([(Direction.SENT, b"Hello, Wireshark!" * 3), (Direction.RECEIVED, os.urandom(70))])
    text = tmp_path / "traffic.txt"
    text.write_text(to_text2pcap(chunks))
    pcap = tmp_path / "traffic.pcap"
    subprocess.run(
        ["text2pcap", "-D", "-t", "%Y-%m-%d %H:%M:%S.", "-l", "147", str(text), str(pcap)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-T", "fields", "-e", "data"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.split()
    assert [bytes.fromhex(h) for h in out] == [c.data for c in chunks]

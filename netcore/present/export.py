"""Save traffic for other tools: a text hexdump that Wireshark's "Import from Hex Dump" (text2pcap)
reads, and JSON lines; plus copying bytes as hex, text or a Python literal."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterable, Iterator
from typing import Final

from netcore.errors import InputError
from netcore.model.traffic import Chunk, Direction

# How to turn the text export into a capture: each chunk becomes one packet of a raw-IP-less
# "user" link type; the direction and the time come from the line before each packet.
TEXT2PCAP_HINT: Final = 'text2pcap -D -t "%Y-%m-%d %H:%M:%S." -l 147 traffic.txt traffic.pcap'


def _clock(wall: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(wall)) + f".{int(wall * 1e6) % 1_000_000:06d}"


def to_text2pcap(chunks: Iterable[Chunk]) -> str:
    """Every chunk as one packet: ``I``/``O`` + time, then ``od -Ax -tx1``-style rows from offset 0."""
    lines = [f"# Socket Lab traffic. Convert: {TEXT2PCAP_HINT}"]
    for chunk in chunks:
        lines.append(
            f"# {chunk.direction.value} {len(chunk.data)} bytes, {chunk.peer}, connection #{chunk.conn}, "
            f"stream offset {chunk.offset}"
        )
        lines.append(f"{'O' if chunk.direction is Direction.SENT else 'I'} {_clock(chunk.wall)}")
        data = chunk.data
        for start in range(0, len(data), 16):
            lines.append(f"{start:06x} {data[start : start + 16].hex(' ')}")
        lines.append(f"{len(data):06x}")
    return "\n".join(lines) + "\n"


def parse_text2pcap(text: str) -> list[tuple[Direction, bytes]]:
    """Read back what ``to_text2pcap`` wrote: (direction, bytes) per packet."""
    packets: list[tuple[Direction, bytes]] = []
    current: bytearray | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line or line.startswith("#"):
            continue
        if line[0] in "IO" and line[1:2] == " ":
            current = bytearray()
            packets.append((Direction.SENT if line[0] == "O" else Direction.RECEIVED, b""))
            continue
        offset_text, _, hex_text = line.partition(" ")
        if current is None:
            raise InputError(f"line {number}: hex before any 'I'/'O' line")
        try:
            offset = int(offset_text, 16)
            row = bytes.fromhex(hex_text)
        except ValueError:
            raise InputError(f"line {number}: not an offset and hex bytes: {line!r}") from None
        if offset != len(current):
            raise InputError(f"line {number}: offset {offset:#x}, expected {len(current):#x}")
        current += row
        packets[-1] = (packets[-1][0], bytes(current))
    return packets


def to_json_lines(chunks: Iterable[Chunk]) -> Iterator[str]:
    """One JSON object per chunk: time, direction, peer, connection, stream offset, hex."""
    for chunk in chunks:
        yield json.dumps(
            {
                "time": chunk.wall,
                "mono_ns": chunk.mono_ns,
                "direction": chunk.direction.value,
                "peer": chunk.peer,
                "conn": chunk.conn,
                "offset": chunk.offset,
                "length": len(chunk.data),
                "hex": chunk.data.hex(),
            }
        )


CSV_COLUMNS: Final = ("time", "direction", "event", "peer", "conn", "offset", "length", "hex", "text")


def to_csv(chunks: Iterable[Chunk], encoding: str = "utf-8") -> str:
    """The chunks as CSV with a header row (spreadsheet-friendly: one row per call or event)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for chunk in chunks:
        writer.writerow(
            (
                _clock(chunk.wall),
                chunk.direction.value,
                chunk.mark.value,
                chunk.peer,
                chunk.conn,
                chunk.offset,
                len(chunk.data),
                chunk.data.hex(" "),
                chunk.data.decode(encoding, errors="replace"),
            )
        )
    return out.getvalue()


def python_literal(data: bytes) -> str:
    """``b'...'`` as Python would print it (paste-able into a script)."""
    return repr(bytes(data))

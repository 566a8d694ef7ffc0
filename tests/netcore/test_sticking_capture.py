"""What the wire says: tshark on the loopback interface counts the data segments the nagle-burst
sender emitted, and the count must equal what netcore read from TCP_INFO (``result.segments``).

The scenario listens on a port of its own choosing, so tshark captures the small TCP packets on
127.0.0.1 and the test picks the one connection whose payload is the preset's bytes 'A'…'T'. Marker
connections before and after the run prove the capture is live and has seen everything.

Network rules: only 127.0.0.1; tshark is a subprocess that is always terminated and waited for.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from typing import NoReturn

import pytest

from netcore.engines.sticking import run_scenario
from netcore.model.scenario import preset
from tests.requires import is_root

WAIT_S = 10.0
BURST = b"ABCDEFGHIJKLMNOPQRST"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="loopback capture on Linux")


def skip(reason: str) -> NoReturn:
    print(f"skipping the capture test: {reason}")
    pytest.skip(reason)


def find_tshark() -> str:
    """tshark's path; installs it with apt-get when missing and running as root (as CI does)."""
    path = shutil.which("tshark")
    if path:
        return path
    if not is_root() or not shutil.which("apt-get"):
        skip("tshark is not installed and this user cannot apt-get it")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "tshark"]):
        try:
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
        except subprocess.TimeoutExpired:
            skip(f"{' '.join(argv)} took over 600 s")
        if done.returncode != 0:
            skip(f"{' '.join(argv)} failed: {done.stderr.strip()[-300:]}")
    path = shutil.which("tshark")
    if not path:
        skip("apt-get installed tshark but it is not on PATH")
    return path


class Capture:
    """``tshark -i lo`` printing source port, destination port, length and payload of each data segment."""

    def __init__(self, tshark: str) -> None:
        self.rows: queue.SimpleQueue[tuple[int, int, bytes]] = queue.SimpleQueue()
        self.captured: list[tuple[int, int, bytes]] = []
        self.stderr: list[str] = []
        self._started = threading.Event()
        self.proc = subprocess.Popen(
            [
                tshark,
                "-i",
                "lo",
                "-n",
                "-l",
                "-f",
                "tcp and host 127.0.0.1 and less 400",  # small packets only: skip bulk traffic on lo
                "-s",
                "400",
                "-B",
                "16",
                "-Y",
                "tcp.len>0",
                "-T",
                "fields",
                "-e",
                "tcp.srcport",
                "-e",
                "tcp.dstport",
                "-e",
                "tcp.payload",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
                self.rows.put((int(parts[0]), int(parts[1]), bytes.fromhex(parts[2].replace(":", ""))))

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())
            if "Capturing on" in line:
                self._started.set()

    def wait_started(self) -> bool:
        """tshark needs about 0.5 s before it captures: wait for "Capturing on" on its stderr."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self._started.wait(0.05):
                return True
        return False

    def wait_for_payload(self, *payloads: bytes, timeout: float = WAIT_S) -> bool:
        """Collect rows until a segment carrying one of *payloads* has been captured."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                row = self.rows.get(timeout=left)
            except queue.Empty:
                return False
            self.captured.append(row)
            if any(p in row[2] for p in payloads):
                return True
        return False

    @property
    def dropped(self) -> int:
        """Packets the capture dropped (tshark says so on stderr when it stops)."""
        found = [re.search(r"(\d+) packets? dropped", line) for line in self.stderr]
        return sum(int(m.group(1)) for m in found if m)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        for t in self._threads:
            t.join(5)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


def send_marker() -> bytes:
    """One loopback TCP connection carrying a unique marker (to see that the capture is live)."""
    marker = f"marker-{uuid.uuid4().hex}".encode()
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.create_server(("127.0.0.1", 0)))
        client = stack.enter_context(socket.create_connection(listener.getsockname(), timeout=WAIT_S))
        conn = stack.enter_context(listener.accept()[0])
        client.sendall(marker)
        conn.settimeout(WAIT_S)
        got = b""
        while len(got) < len(marker) and (data := conn.recv(len(marker))):
            got += data
    return marker


@pytest.fixture(scope="module")
def tshark() -> str:
    return find_tshark()


@contextlib.contextmanager
def capturing(tshark: str) -> Iterator[Capture]:
    """A live capture (proved by a marker it has seen); tshark is always stopped on the way out."""
    cap = Capture(tshark)
    try:
        if not cap.wait_started():
            skip(f"tshark cannot capture on lo: {' / '.join(cap.stderr[-3:]) or 'no output'}")
        # "Capturing on" comes a moment before packets do, and tshark prints a packet up to about
        # 0.5 s after it passed: send markers until one of them shows up
        markers = [send_marker()]
        deadline = time.monotonic() + WAIT_S
        while not cap.wait_for_payload(*markers, timeout=0.2):
            if time.monotonic() > deadline:
                skip(f"tshark started but captured nothing on lo: {' / '.join(cap.stderr[-3:])}")
            markers.append(send_marker())
        cap.captured.clear()
        yield cap
    finally:
        cap.stop()


def burst_flows(rows: list[tuple[int, int, bytes]]) -> list[list[bytes]]:
    """The data segments of each (source port, destination port) flow that carried exactly BURST."""
    flows: dict[tuple[int, int], list[bytes]] = defaultdict(list)
    for src, dst, payload in rows:
        flows[src, dst].append(payload)
    return [segments for segments in flows.values() if b"".join(segments) == BURST]


def test_captured_segments_equal_tcp_info(tshark):
    for attempt in range(1, 4):
        with capturing(tshark) as cap:
            result = run_scenario(preset("nagle-burst"))
            assert cap.wait_for_payload(send_marker()), "the capture did not see the marker after the run"
        assert b"".join(c.data for c in result.recvs) == BURST
        flows = burst_flows(cap.captured)
        dropped = cap.dropped
        if len(flows) == 1 and not dropped:
            break
        # other programs on this machine share lo: a flood can make tshark drop packets, and another
        # run of the same burst at the same moment would make the connection ambiguous
        print(f"attempt {attempt}: {len(flows)} connections carried the burst, {dropped} packets dropped")
    else:
        pytest.fail("three captures were ambiguous or dropped packets")
    [segments] = flows
    sizes = [len(s) for s in segments]
    print(f"tshark saw {len(segments)} data segments {sizes}; TCP_INFO says {result.segments}")
    assert isinstance(result.segments, int)
    assert len(segments) == result.segments
    assert f"emitted {len(segments)} segment" in result.segments_note
    assert segments[0] == b"A"  # the first send() goes out at once; Nagle only holds the ones after it

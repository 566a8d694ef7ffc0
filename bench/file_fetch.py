"""File fetch throughput on 127.0.0.1: Socket Lab's FetchClient beside its limits, in one run.

Paths, each server in its own process (so client and server never share a GIL), on port 0:

- md5 in memory: hashlib.md5 over the whole file held in memory — the most a verified fetch can reach;
- disk write: the file written from memory in 1 MiB blocks to the destination folder (for context:
  a fetch writes every byte too);
- netcore warm: FetchClient from FileServer, whose md5 cache already knows the file (what the CLI's
  ``fetch`` does from a running ``file-server``);
- netcore cold: from a fresh FileServer, which hashes the file before it can send the header;
- raw sockets: a ``socket.sendfile`` server and a one-thread ``recv_into`` + md5 + write client;
- course client: the course's ``data += recv(1024)`` loop, from FileServer with ``'<i'``. It is
  quadratic, so it runs on a smaller file (``--course-mib``, default 8) and says so.

The timed paths take turns in rounds and each reports its best round, so a VM that speeds up or slows
down mid-run (this class of machine does) affects all alike. Files live in a temporary folder that is
deleted at the end; every server process is terminated.

Usage: python bench/file_fetch.py [--size-mib 512] [--course-mib 8] [--rounds 3] [--dir DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import mmap
import os
import shutil
import socket
import struct
import tempfile
import time
from collections.abc import Callable
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path

from benchlib import start, stop

from netcore.engines.filefetch import FetchClient, FileServer
from netcore.io.loop import discard_events

MIB = 1024 * 1024
BLOCK = MIB


# -- servers (each in its own process) -----------------------------------------------------------
def netcore_server(root: str, length_format: str, ready: Connection) -> None:
    server = FileServer(root, "127.0.0.1", 0, length_format)
    ready.send(server.bind().port)
    server.run(discard_events)


def raw_server(path: str, ready: Connection) -> None:
    """Per connection: read a request, send the size as '!Q', then the file with socket.sendfile."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        ready.send(listener.getsockname()[1])
        while True:
            conn, _ = listener.accept()
            with conn, open(path, "rb") as f:
                conn.recv(1024)
                conn.sendall(struct.pack("!Q", os.fstat(f.fileno()).st_size))
                conn.sendfile(f)


# -- clients (each returns seconds and the md5 it computed) ---------------------------------------
def netcore_fetch(port: int, name: str, dest: Path) -> tuple[float, str]:
    client = FetchClient("127.0.0.1", port, dest, timeout=30.0)
    started = time.perf_counter()
    try:
        client.connect()
        result = client.fetch(name)
    finally:
        client.close()
    seconds = time.perf_counter() - started
    if not result.verified:
        raise RuntimeError("netcore fetch: the md5 was not verified")
    result.path.unlink()
    return seconds, result.md5


def gui_fetch(port: int, name: str, dest: Path) -> tuple[float, str]:
    """The same fetch through the File fetch tab: its worker thread, batched events, progress bar."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    settings = QSettings(str(dest / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings)
    pane = window.files.client
    pane.address.set_address("127.0.0.1", port)
    pane.dest.setText(str(dest))
    pane.name.setText(name)
    try:
        started = time.perf_counter()
        pane.fetch()
        while pane.runner is not None:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            time.sleep(0.001)
        seconds = time.perf_counter() - started
    finally:
        window.shutdown()
        window.deleteLater()
        QCoreApplication.processEvents()
        (dest / "bench.ini").unlink(missing_ok=True)
        del app
    if "md5 verified" not in pane.verdict.text():
        raise RuntimeError(f"GUI fetch failed: {pane.state.text()}")
    md5 = pane.verdict.text().split("✓ ")[1].split()[0]
    (dest / name).unlink()
    return seconds, md5


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        piece = sock.recv(size - len(data))
        if not piece:
            raise RuntimeError(f"the server closed after {len(data)} of {size} bytes")
        data += piece
    return bytes(data)


def raw_fetch(port: int, dest: Path) -> tuple[float, str]:
    """recv_into one page-aligned buffer, hash it, write it: one thread, no framing beyond the size."""
    buf = mmap.mmap(-1, BLOCK)
    digest = hashlib.md5()
    target = dest / "raw.bin"
    started = time.perf_counter()
    with (
        memoryview(buf) as view,
        socket.create_connection(("127.0.0.1", port), timeout=30) as sock,
        open(target, "wb", buffering=0) as out,
    ):
        sock.sendall(b"file")
        (size,) = struct.unpack("!Q", recv_exactly(sock, 8))
        received = 0
        while received < size:
            n = sock.recv_into(view, min(BLOCK, size - received))
            if n == 0:
                raise RuntimeError(f"raw fetch: closed after {received} of {size} bytes")
            with view[:n] as chunk:
                digest.update(chunk)
                written = 0
                while written < n:
                    written += out.write(chunk[written:])
            received += n
    seconds = time.perf_counter() - started
    buf.close()
    target.unlink()
    return seconds, digest.hexdigest()


def course_fetch(port: int, name: str, dest: Path) -> tuple[float, str]:
    """The course's client, as the course writes it (struct 'i', recv(1024), bytes +=)."""
    started = time.perf_counter()
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.settimeout(600)
    try:
        client.connect(("127.0.0.1", port))
        client.send(name.encode("utf-8"))
        header_len = struct.unpack("i", client.recv(4))[0]
        header = json.loads(client.recv(header_len).decode("utf-8"))
        data = b""
        while len(data) < header["data_all"]:
            data += client.recv(1024)
        md5 = hashlib.md5(data).hexdigest()
        if md5 != header["file_hex"]:
            raise RuntimeError("course client: md5 mismatch")
        saved = dest / ("nb_" + header["file_name"] + "." + header["file_type"])
        with open(saved, "wb") as f:
            f.write(data)
        client.send(b"q")
    finally:
        client.close()
    seconds = time.perf_counter() - started
    saved.unlink()
    return seconds, md5


# -- the limits ----------------------------------------------------------------------------------
def md5_in_memory(data: bytes) -> tuple[float, str]:
    started = time.perf_counter()
    md5 = hashlib.md5(data).hexdigest()
    return time.perf_counter() - started, md5


def disk_write(data: bytes, dest: Path) -> tuple[float, str]:
    target = dest / "write.bin"
    started = time.perf_counter()
    with memoryview(data) as view, open(target, "wb", buffering=0) as out:
        for offset in range(0, len(data), BLOCK):
            with view[offset : offset + BLOCK] as block:
                written = 0
                while written < len(block):
                    written += out.write(block[written:])
    seconds = time.perf_counter() - started
    target.unlink()
    return seconds, ""


def make_file(path: Path, size: int) -> bytes:
    """*size* bytes in which no block repeats (a random MiB, each copy led by its index); returned too."""
    block = bytearray(os.urandom(BLOCK))
    parts = []
    for i in range(size // BLOCK):
        block[:8] = i.to_bytes(8, "big")
        parts.append(bytes(block))
    data = b"".join(parts)
    path.write_bytes(data)
    return data


def filesystem_of(path: Path) -> str:
    """The file system type of *path* from /proc/mounts (the longest mount point that contains it)."""
    try:
        mounts = [line.split()[1:3] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "?"
    real = str(path.resolve())
    best = max(
        (m for m in mounts if real == m[0] or real.startswith(m[0].rstrip("/") + "/")),
        key=lambda m: len(m[0]),
        default=["", "?"],
    )
    return best[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=512, help="the file to fetch (default 512 MiB)")
    parser.add_argument("--course-mib", type=int, default=8, help="the course client's file (default 8 MiB)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every timed path (default 3)")
    parser.add_argument("--dir", help="where the temporary files go (default: the system's temp folder)")
    args = parser.parse_args()
    size, course_size = args.size_mib * MIB, args.course_mib * MIB

    with tempfile.TemporaryDirectory(prefix="socketlab-bench-", dir=args.dir) as tmp:
        root, dest = Path(tmp) / "served", Path(tmp) / "fetched"
        root.mkdir()
        dest.mkdir()
        data = make_file(root / "big.bin", size)
        expected = hashlib.md5(data).hexdigest()
        course_data = data[:course_size]
        (root / "course.bin").write_bytes(course_data)
        course_md5 = hashlib.md5(course_data).hexdigest()
        del course_data

        best: dict[str, float] = {}

        def record(label: str, run: Callable[[], tuple[float, str]], md5: str = expected) -> None:
            seconds, got = run()
            if md5 and got != md5:
                raise RuntimeError(f"{label}: md5 {got}, expected {md5}")
            best[label] = min(best.get(label, float("inf")), seconds)

        warm, warm_port = start(netcore_server, str(root), "!I")
        raw, raw_port = start(raw_server, str(root / "big.bin"))
        try:
            netcore_fetch(warm_port, "big.bin", dest)  # fills the server's md5 cache
            for _ in range(args.rounds):
                record("md5 in memory (the limit)", partial(md5_in_memory, data))
                record(
                    f"disk write ({filesystem_of(dest)}), for context", partial(disk_write, data, dest), ""
                )
                record("netcore fetch, warm md5 cache", partial(netcore_fetch, warm_port, "big.bin", dest))
                record("GUI (File fetch tab), warm md5 cache", partial(gui_fetch, warm_port, "big.bin", dest))
                cold, cold_port = start(netcore_server, str(root), "!I")
                try:
                    record(
                        "netcore fetch, cold md5 cache", partial(netcore_fetch, cold_port, "big.bin", dest)
                    )
                finally:
                    stop(cold)
                record("raw sockets: sendfile → recv_into+md5+write", partial(raw_fetch, raw_port, dest))
        finally:
            stop(warm)
            stop(raw)
        del data

        course, course_port = start(netcore_server, str(root), "<i")
        try:
            course_label = f"course client, data += recv(1024), {args.course_mib} MiB only"
            record(course_label, partial(course_fetch, course_port, "course.bin", dest), course_md5)
        finally:
            stop(course)
        leftovers = sorted(p.name for p in dest.iterdir())
        if leftovers:
            raise RuntimeError(f"files left in the destination: {leftovers}")
        shutil.rmtree(root)

    md5_rate = size / best["md5 in memory (the limit)"] / 1e6
    print(f"{args.size_mib} MiB file on 127.0.0.1, best of {args.rounds} rounds ({os.cpu_count()} CPUs)")
    print(f"{'path':52} {'MiB':>5} {'s':>8} {'MB/s':>8} {'× md5':>6}")
    for label, seconds in best.items():
        mib = args.course_mib if label == course_label else args.size_mib
        rate = mib * MIB / seconds / 1e6
        print(f"{label:52} {mib:5} {seconds:8.3f} {rate:8.1f} {rate / md5_rate:6.2f}")
    warm_rate = size / best["netcore fetch, warm md5 cache"] / 1e6
    raw_rate = size / best["raw sockets: sendfile → recv_into+md5+write"] / 1e6
    course_seconds = best[course_label]
    print(f"netcore warm / md5 in memory: {warm_rate / md5_rate:.2f} (target ≥ 0.8)")
    print(f"netcore warm / raw sockets:   {warm_rate / raw_rate:.2f}")
    gui_rate = size / best["GUI (File fetch tab), warm md5 cache"] / 1e6
    print(f"GUI fetch / CLI fetch:        {gui_rate / warm_rate:.2f} (target ≥ 0.9)")
    print(
        f"the course loop is quadratic: {args.size_mib} MiB would take about "
        f"{course_seconds * (args.size_mib / args.course_mib) ** 2:,.0f} s at this rate of growth"
    )


if __name__ == "__main__":
    main()

"""The file server against hostile requests, with and without a shared key.

tests/netcore/test_filefetch.py refuses each crafted name once (names_outside_the_folder_...,
the_fifo_is_never_opened, a_wrong_key_is_refused...). Here one server per key setting takes hundreds of
random and crafted request streams — traversal names, absolute paths, NUL bytes, over-long and
non-UTF-8 names, glob characters, names of symlinks that leave the folder or loop, a FIFO, wrong and
cut keys, unsigned requests after a right key — while a well-behaved client keeps fetching. Every
reply is parsed and checked: a header that is a JSON object, a body of exactly ``data_all`` bytes
that is a served file, and never a byte of the file kept outside the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netcore.engines.filefetch import FetchClient, FileServer, KeyGuard, request_tag, split_lines
from netcore.errors import RemoteProtocolError
from netcore.model.events import CloseReason
from tests.hostile.strategies import NAMES, cut
from tests.hostile.support import Served, Steady, read_to_end, send_pieces, serving
from tests.netcore.support import WAIT_S, key_answer, local_of, read_header
from tests.requires import posix

pytestmark = [
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
    posix("the served folder holds a FIFO and symbolic links"),
]

KEY = b"a shared key for the hostile tests"
SECRET = b"TOP SECRET: this file lies outside the served folder\n"
SERVED = {
    "hello.txt": b"hello world\n",
    "data.bin": bytes(range(256)) * 12,
    "empty.txt": b"",
    "link_in": b"hello world\n",  # a symlink to hello.txt: it stays inside, so it is served
}
INNER = b"inner\n"  # sub/inner.txt: inside the folder, so it may be fetched though not listed
EXAMPLES = {"no-key": 500, "key": 300}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A served folder with plain files, a subfolder, a FIFO and symlinks in, out and in a loop."""
    base = tmp_path_factory.mktemp("hostile-files")
    (base / "outside").mkdir()
    (base / "outside" / "secret.txt").write_bytes(SECRET)
    folder = base / "served"
    folder.mkdir()
    for name, content in SERVED.items():
        if name != "link_in":
            (folder / name).write_bytes(content)
    (folder / "sub").mkdir()
    (folder / "sub" / "inner.txt").write_bytes(INNER)
    os.mkfifo(folder / "fifo")
    (folder / "link_in").symlink_to("hello.txt")
    (folder / "link_out").symlink_to(base / "outside" / "secret.txt")
    (folder / "secret.txt").symlink_to("../outside/secret.txt")
    (folder / "loop").symlink_to("loop")
    (folder / "cycle.txt").symlink_to("cycle.txt")
    return folder


@pytest.fixture(scope="module", params=list(EXAMPLES))
def file_server(request: pytest.FixtureRequest, root: Path) -> Iterator[tuple[bytes | None, Served]]:
    """One file server per key setting for the whole module."""
    key = KEY if request.param == "key" else None
    server = FileServer(root, key=key, key_guard=KeyGuard(failures=10**6))  # wrong keys from one address
    with serving(server, f"hostile-file-server-{request.param}") as served:
        yield key, served


def parse_replies(stream: bytes) -> list[tuple[dict[str, Any], bytes]]:
    """Every reply in *stream*: a 4-byte '!I' length, a JSON object with data_all ≥ 0, that many
    bytes of body. Nothing may be left over."""
    replies = []
    at = 0
    while at < len(stream):
        (length,) = struct.unpack_from("!I", stream, at)
        header = json.loads(stream[at + 4 : at + 4 + length].decode())
        assert isinstance(header, dict)
        size = header["data_all"]
        assert type(size) is int and size >= 0
        at += 4 + length
        body = stream[at : at + size]
        assert len(body) == size, "a body shorter than its header says"
        replies.append((header, body))
        at += size
    return replies


def check_replies(stream: bytes) -> None:
    """Each reply is a refusal, the file list, or a served file with its md5; no secret leaks."""
    assert SECRET not in stream
    for header, body in parse_replies(stream):
        if "error" in header:
            assert body == b""
        elif "files" in header:
            assert header["files"] == sorted(SERVED)
        else:
            name = header["file_name"] + (f".{header['file_type']}" if header["file_type"] else "")
            assert body == {**SERVED, "inner.txt": INNER}[name]
            assert header["file_hex"] == hashlib.md5(body).hexdigest()


REQUEST_NAMES = st.one_of(
    NAMES,
    st.sampled_from([*SERVED, "?", "hello", "data", "sub", "sub/inner.txt", "fifo", "link_out"]),
    st.sampled_from(["secret.txt", "secret", "loop", "cycle.txt", "cycle", "link_in/x", "q"]),
)


def expected_reply_count(stream: bytes) -> int | None:
    """How many replies the server owes for *stream* sent in one piece, when that can be told: one
    per non-blank line up to a "q" line, if every line is UTF-8 and the whole fits one recv(4096)."""
    if len(stream) > 4096 or not stream.endswith(b"\n"):
        return None
    count = 0
    for line in stream.split(b"\n")[:-1]:
        if not line.strip():
            continue
        try:
            name = line.rstrip(b"\r").decode("utf-8").strip()
        except UnicodeDecodeError:
            return None
        if name == "q":
            break
        count += 1
    return count


@st.composite
def request_stream(draw: st.DrawFn) -> bytes:
    """Names ended by new lines, one name the course's way (a whole send), or bytes that are no name."""
    kind = draw(st.sampled_from(["lines", "one", "bytes", "oversize"]))
    if kind == "lines":
        names = draw(st.lists(REQUEST_NAMES, min_size=1, max_size=6))
        return "".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape")
    if kind == "one":
        return draw(REQUEST_NAMES).encode("utf-8", "surrogateescape")
    if kind == "bytes":
        return draw(st.binary(min_size=1, max_size=300))
    return b"x" * draw(st.integers(8 * 1024 + 1, 12 * 1024))


def signed(session: bytes, stream: bytes) -> bytes:
    """*stream*'s lines as a keyed client sends them: each with its HMAC first."""
    lines, _ = split_lines(stream)
    return b"".join(request_tag(session, seq, line) + line + b"\n" for seq, line in enumerate(lines))


def steady_fetch(served: Served, key: bytes | None, dest: Path) -> Steady:
    """A well-behaved FetchClient that fetches hello.txt again and again and checks every byte."""

    def ask() -> None:
        client = FetchClient(
            served.addr.host, served.addr.port, dest, key=key, timeout=WAIT_S, overwrite=True
        )
        try:
            client.connect()
            result = client.fetch("hello.txt")
        finally:
            client.close()
        assert result.verified
        assert result.path.read_bytes() == SERVED["hello.txt"]

    return Steady(ask, "steady-fetch")


CLEAN = frozenset({(CloseReason.PEER_CLOSED, None), (CloseReason.LOCAL, None)})
PROTOCOL_ERROR = frozenset({(CloseReason.ERROR, RemoteProtocolError)})


def test_file_server_survives_hostile_requests_and_keeps_serving(
    file_server: tuple[bytes | None, Served], tmp_path: Path
) -> None:
    """Hostile names, bytes and keys: every reply is a well-formed refusal, the file list or a served
    file, nothing outside the folder is ever sent, a bad stream or key ends with a clear close, the
    server never dies, and a well-behaved client keeps fetching meanwhile."""
    key, served = file_server
    # (peer, opened at, the closes allowed): checked after the run, since this server reports its
    # events when its accept() loop wakes, up to 50 ms later
    closes: list[tuple[str, float, frozenset[tuple[CloseReason, type | None]]]] = []

    @settings(max_examples=EXAMPLES["key" if key else "no-key"], deadline=None)
    @given(data=st.data(), answer=st.sampled_from(["right", "right", "wrong", "short"]))
    def hit(data: st.DataObject, answer: str) -> None:
        requests = data.draw(request_stream(), label="requests")
        owed = expected_reply_count(requests) if data.draw(st.booleans(), label="whole") else None
        pieces = [requests] if owed is not None else data.draw(cut(requests), label="pieces")
        since = time.monotonic()
        with socket.create_connection((served.addr.host, served.addr.port), timeout=WAIT_S) as sock:
            peer = local_of(sock)
            if key is not None:
                right, session = key_answer(sock, key)
                if answer == "right":
                    sock.sendall(right)
                    proof = read_header(sock)
                    assert set(proof) == {"proof", "data_all"}
                    pieces = [signed(session, requests)] if owed is not None else pieces
                elif answer == "wrong":
                    sock.sendall(right[:32] + data.draw(st.binary(min_size=32, max_size=32)))
                else:
                    sock.sendall(data.draw(st.binary(max_size=len(right) - 1)))
            if key is None or answer == "right":
                send_pieces(sock, pieces)
            with contextlib.suppress(OSError):  # the server may have refused the stream already
                sock.shutdown(socket.SHUT_WR)
            stream, _ = read_to_end(sock)
        check_replies(stream)
        if key is not None and answer == "wrong":
            [(header, _)] = parse_replies(stream)
            assert "wrong key" in header["error"]
            closes.append((peer, since, frozenset({(CloseReason.LOCAL, None)})))
        elif key is not None and answer == "short":
            assert stream == b""
            closes.append((peer, since, PROTOCOL_ERROR))
        elif owed is not None:
            assert len(parse_replies(stream)) == owed
            closes.append((peer, since, CLEAN))
        else:
            closes.append((peer, since, CLEAN | PROTOCOL_ERROR))
        served.assert_healthy()

    with steady_fetch(served, key, tmp_path) as steady:
        hit()
    steady.check(at_least=10)
    for peer, since, allowed in closes:
        outcome = served.tally.close_of(peer, since)
        assert (outcome.reason, outcome.error) in allowed, outcome
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hello.txt"]
    served.assert_healthy()

"""The file-fetch reply header, without a server: length prefix in either byte order, JSON header, body.

A scripted socket stands in for ``FetchClient.sock`` so a reply can be cut at any byte and every cut is
seen by the client as a separate ``recv()``; a real socketpair checks a sample of the cuts. Every
malformed header must raise ``RemoteProtocolError`` with a message that names the fault and leave
nothing (not even a ``.part`` file) in the destination folder.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netcore.engines.filefetch import (
    MAX_NAME_BYTES,
    FetchClient,
    decode_name,
    key_proof,
    request_tag,
    safe_file_name,
    session_key,
    split_lines,
)
from netcore.errors import FileFetchError, RemoteProtocolError
from netcore.io.platform import bytes_waiting
from netcore.model.events import FramesDecoded, Traffic
from netcore.model.traffic import Direction
from netcore.protocols.filehdr import MAX_HEADER, decode_header, detect_length_format, encode_header

# a server or writer thread that dies of an uncaught exception fails the test
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

WAIT_S = 5.0
BODY = bytes(range(256)) * 3 + b"tail"  # 772 bytes: crosses no buffer, long enough to cut in many places


class ScriptedSocket:
    """Plays a reply in fixed pieces: a ``recv`` never returns bytes of two pieces, so every cut is seen."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = deque(p for p in pieces if p)
        self.sent = bytearray()
        self.closed = False

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def recv(self, size: int, flags: int = 0) -> bytes:
        if not self.pieces:
            return b""
        if flags & socket.MSG_PEEK:
            return self.pieces[0][:size]
        piece = self.pieces.popleft()
        if len(piece) > size:
            self.pieces.appendleft(piece[size:])
        return piece[:size]

    def settimeout(self, timeout: float | None) -> None:
        pass

    def recv_into(self, buffer: memoryview, nbytes: int = 0) -> int:
        data = self.recv(nbytes or len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def shutdown(self, how: int) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def client_on() -> Iterator[Callable[..., FetchClient]]:
    """FetchClients wired to a given socket-like object instead of a connection; closed at the end."""
    clients: list[FetchClient] = []

    def make(sock: Any, dest: Path, length_format: str = "auto", overwrite: bool = False) -> FetchClient:
        client = FetchClient("127.0.0.1", 9, dest, length_format, timeout=WAIT_S, overwrite=overwrite)
        client.sock, client.peer = sock, "scripted"
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.close()


def file_header(name: Any = "split.bin", body: bytes = BODY, **extra: Any) -> dict[str, Any]:
    """A header with the whole name in file_name, as some servers send it (file_type then repeats the
    extension, and the client saves the file under file_name alone)."""
    return {
        "file_name": name,
        "file_hex": hashlib.md5(body).hexdigest(),
        "file_type": name.rpartition(".")[2] if isinstance(name, str) and "." in name else "",
        "data_all": len(body),
        **extra,
    }


def padded_header(size: int, body: bytes = BODY) -> dict[str, Any]:
    """A file header whose JSON is exactly *size* bytes (a 'pad' field makes up the difference)."""
    header = file_header("amb.bin", body, pad="")
    missing = size - len(json.dumps(header, ensure_ascii=False).encode())
    assert missing >= 0
    header["pad"] = "x" * missing
    assert len(json.dumps(header, ensure_ascii=False).encode()) == size
    return header


def leftovers(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.iterdir())


# -- the whole reply cut at every byte ---------------------------------------------------------
@pytest.mark.parametrize(
    ("server_format", "client_format"), [("!I", "!I"), ("<i", "<i"), ("!I", "auto"), ("<i", "auto")]
)
def test_a_reply_cut_in_two_at_every_offset_is_fetched(tmp_path, client_on, server_format, client_format):
    reply = encode_header(file_header(), server_format) + BODY
    for cut in range(len(reply) + 1):
        dest = tmp_path / f"cut{cut}"
        dest.mkdir()
        sock = ScriptedSocket([reply[:cut], reply[cut:]])
        client = client_on(sock, dest, client_format)
        result = client.fetch("split.bin")
        assert (result.name, result.size, result.verified) == ("split.bin", len(BODY), True), cut
        assert result.length_format == server_format
        assert result.path.read_bytes() == BODY
        assert leftovers(dest) == ["split.bin"]
        assert bytes(sock.sent) == b"split.bin"
        assert not sock.pieces, f"cut at {cut}: the client left {len(sock.pieces)} pieces unread"


@pytest.mark.parametrize("server_format", ["!I", "<i"])
def test_a_reply_one_byte_per_recv_is_fetched(tmp_path, client_on, server_format):
    reply = encode_header(file_header(), server_format) + BODY
    client = client_on(ScriptedSocket([bytes([b]) for b in reply]), tmp_path)
    result = client.fetch("split.bin")
    assert result.path.read_bytes() == BODY and result.verified and result.length_format == server_format


def test_the_client_reports_every_recv_and_where_header_and_body_lie(tmp_path, client_on):
    head = encode_header(file_header())
    reply = head + BODY
    client = client_on(ScriptedSocket([reply[:2], reply[2:10], reply[10:]]), tmp_path, "!I")
    client.fetch("split.bin")
    events = client.take_events()
    received = [e.chunk for e in events if isinstance(e, Traffic) and e.chunk.direction is Direction.RECEIVED]
    assert b"".join(c.data for c in received) == reply
    assert [c.offset for c in received] == [
        sum(len(c.data) for c in received[:i]) for i in range(len(received))
    ]
    (decoded,) = [e for e in events if isinstance(e, FramesDecoded)]
    header_frame, body_frame = decoded.frames
    assert (header_frame.start, header_frame.payload_start, header_frame.end) == (0, 4, len(head))
    assert (body_frame.start, body_frame.end) == (len(head), len(reply))


@pytest.mark.parametrize("server_format", ["!I", "<i"])
def test_a_reply_over_a_real_socketpair_in_two_sends(tmp_path, client_on, server_format):
    reply = encode_header(file_header(), server_format) + BODY
    head_len = len(reply) - len(BODY)
    for cut in (1, 2, 3, 4, 5, head_len - 1, head_len, head_len + 1, len(reply) - 1):
        ours, theirs = socket.socketpair()
        ours.settimeout(WAIT_S)
        theirs.settimeout(WAIT_S)

        def serve(theirs: socket.socket = theirs, ours: socket.socket = ours, cut: int = cut) -> None:
            theirs.recv(1024)
            theirs.sendall(reply[:cut])
            # the rest only once the client has read the first piece: it got that piece alone
            deadline = time.monotonic() + WAIT_S
            while bytes_waiting(ours) and time.monotonic() < deadline:
                time.sleep(0.001)
            theirs.sendall(reply[cut:])

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        dest = tmp_path / f"cut{cut}"
        dest.mkdir()
        try:
            client = client_on(ours, dest)
            result = client.fetch("split.bin")
            assert result.path.read_bytes() == BODY and result.length_format == server_format
            ends = {
                e.chunk.end
                for e in client.take_events()
                if isinstance(e, Traffic) and e.chunk.direction is Direction.RECEIVED
            }
            assert cut in ends  # a recv() ended where the first piece did
        finally:
            thread.join(WAIT_S)
            ours.close()
            theirs.close()
        assert not thread.is_alive()


# -- auto detection of the byte order ------------------------------------------------------------
def test_detect_length_format_picks_the_only_plausible_reading():
    assert detect_length_format(struct.pack("!I", 100)) == "!I"
    assert detect_length_format(struct.pack("<i", 100)) == "<i"
    assert detect_length_format(struct.pack("!I", MAX_HEADER - 1)) == "!I"
    assert detect_length_format(struct.pack("<i", MAX_HEADER - 1)) == "<i"


@pytest.mark.parametrize(
    ("prefix", "following", "expected"),
    [
        # 00 01 00 00 is 65,536 as '!I' and 256 as '<i'
        (b"\x00\x01\x00\x00", b"{" + b" " * 254 + b"}", "<i"),
        (b"\x00\x01\x00\x00", b'{"pad": "' + b"x" * 300, "!I"),
        # 00 00 01 00 is 256 as '!I' and 65,536 as '<i'
        (b"\x00\x00\x01\x00", b"{" + b" " * 254 + b"}", "!I"),
        (b"\x00\x00\x01\x00", b'{"pad": "' + b"x" * 300, "<i"),
    ],
)
def test_detect_length_format_when_both_readings_fit(prefix, following, expected):
    assert detect_length_format(prefix, following) == expected


@pytest.mark.parametrize("server_format", ["!I", "<i"])
@pytest.mark.parametrize("size", [256, MAX_HEADER])
def test_auto_detection_fetches_the_ambiguous_header_sizes(tmp_path, client_on, server_format, size):
    """Headers of 256 and 65,536 bytes give the prefixes 00 01 00 00 / 00 00 01 00 that fit both orders."""
    reply = encode_header(padded_header(size), server_format) + BODY
    assert reply[:4] in (b"\x00\x01\x00\x00", b"\x00\x00\x01\x00")
    result = client_on(ScriptedSocket([reply[:4], reply[4:]]), tmp_path).fetch("amb.bin")
    assert result.length_format == server_format
    assert result.path.read_bytes() == BODY and result.verified


# -- malformed headers -------------------------------------------------------------------------
def assert_refused(
    tmp_path: Path, client_on: Callable[..., FetchClient], reply: bytes, fmt: str, fragment: str
) -> None:
    dest = tmp_path / "dest"
    dest.mkdir(exist_ok=True)
    sock = ScriptedSocket([reply])
    client = client_on(sock, dest, fmt)
    with pytest.raises(RemoteProtocolError) as caught:
        client.fetch("split.bin")
    assert fragment in caught.value.summary, caught.value.summary
    assert caught.value.hint  # the peer's fault, and the error says so
    assert leftovers(dest) == [], "a refused reply left a file behind"


LENGTH_CASES = [
    # (prefix bytes, client format, fragment of the message)
    (struct.pack("!I", 0), "!I", "header length 0 read as '!I' is outside 1..65,536 bytes"),
    (struct.pack("<i", 0), "<i", "header length 0 read as '<i' is outside 1..65,536 bytes"),
    (struct.pack("!I", 0), "auto", "neither is a header of 1 to 65,536 bytes"),
    (struct.pack("!I", MAX_HEADER + 1), "!I", "header length 65,537 read as '!I'"),
    (struct.pack("<i", MAX_HEADER + 1), "<i", "header length 65,537 read as '<i'"),
    (struct.pack("!I", MAX_HEADER + 1), "auto", "is 65,537 read as '!I'"),
    (struct.pack("<i", MAX_HEADER + 1), "auto", "and 65,537 read as '<i'"),
    (struct.pack("<i", -1), "<i", "header length -1 read as '<i'"),
    (struct.pack("!I", 0xFFFFFFFF), "auto", "ff ff ff ff"),
    (struct.pack("!I", 0xFFFFFFFF), "!I", "header length 4,294,967,295"),
]


@pytest.mark.parametrize(("prefix", "fmt", "fragment"), LENGTH_CASES)
def test_header_lengths_outside_the_limit_are_refused_before_reading(
    tmp_path, client_on, prefix, fmt, fragment
):
    # nothing follows the prefix: a client that tried to read the header would report a closed connection
    assert_refused(tmp_path, client_on, prefix, fmt, fragment)


def with_length(raw: bytes, fmt: str) -> bytes:
    return struct.pack(fmt, len(raw)) + raw


BAD_HEADERS = [
    (b'{"file_name": "\xff.bin", "data_all": 1}', "not valid UTF-8"),
    (b'{"file_name": "a.bin", "data_all": ', "not valid JSON"),
    (b'{"file_name": "a.bin" "data_all": 1}', "not valid JSON"),
    (b"[1, 2, 3]", "must be an object {...}, not list"),
    (b'"a.bin"', "must be an object {...}, not str"),
    (b"42", "must be an object {...}, not int"),
    (b"null", "must be an object {...}, not NoneType"),
    (b'{"file_name": "a.bin"}', "'data_all' must be a whole number ≥ 0, not None"),
    (b'{"file_name": "a.bin", "data_all": -1}', "'data_all' must be a whole number ≥ 0, not -1"),
    (b'{"file_name": "a.bin", "data_all": true}', "'data_all' must be a whole number ≥ 0, not True"),
    (b'{"file_name": "a.bin", "data_all": false}', "'data_all' must be a whole number ≥ 0, not False"),
    (b'{"file_name": "a.bin", "data_all": "10"}', "'data_all' must be a whole number ≥ 0, not '10'"),
    (b'{"file_name": "a.bin", "data_all": 10.0}', "'data_all' must be a whole number ≥ 0, not 10.0"),
    (b'{"file_name": "a.bin", "data_all": null}', "'data_all' must be a whole number ≥ 0, not None"),
    # json.loads raises RecursionError and ValueError for these, not JSONDecodeError
    (b"[" * 60_000, "the JSON header cannot be decoded: maximum recursion depth"),
    (b'{"data_all": 1, "x": ' + b"[" * 3000 + b"]" * 3000 + b"}", "the JSON header cannot be decoded"),
    (b'{"file_name": "a.bin", "data_all": ' + b"9" * 5000 + b"}", "cannot be decoded: Exceeds the limit"),
]


@pytest.mark.parametrize("fmt", ["!I", "<i", "auto"])
@pytest.mark.parametrize(("raw", "fragment"), BAD_HEADERS)
def test_malformed_headers_are_refused(tmp_path, client_on, raw, fragment, fmt):
    reply = with_length(raw, "<i" if fmt == "<i" else "!I") + b"x" * 10
    assert_refused(tmp_path, client_on, reply, fmt, fragment)


BAD_NAMES = [
    "a/b.bin",
    "/etc/passwd",
    "../x.bin",
    "..",
    ".",
    "a\\b.bin",
    "a\0b.bin",
    "x" * (MAX_NAME_BYTES + 1),
    "é" * 128,  # 128 characters but 256 bytes of UTF-8: the limit is in bytes
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=lambda n: repr(n)[:20])
def test_header_file_names_that_would_escape_the_destination_are_refused(tmp_path, client_on, name):
    reply = encode_header(file_header(name)) + BODY
    assert_refused(tmp_path, client_on, reply, "auto", "would escape the destination folder")


@pytest.mark.parametrize("name", ["", 5, None, ["a"]], ids=repr)
def test_header_file_names_that_are_not_names_are_refused(tmp_path, client_on, name):
    reply = encode_header(file_header(name)) + BODY
    assert_refused(tmp_path, client_on, reply, "auto", "'file_name' must be a non-empty string")


WINDOWS_BAD_NAMES = [
    # (name, why: a fragment of the message) — every one a valid name on Linux and macOS
    ("CON", "'CON' is a reserved device name on Windows"),
    ("nul.txt", "'nul' is a reserved device name on Windows"),
    ("com1.tar.gz", "'com1' is a reserved device name on Windows"),
    ("LPT9 .log", "'LPT9 ' is a reserved device name on Windows"),
    ("a<b.bin", "the name contains '<', which Windows does not allow"),
    ("a>b.bin", "the name contains '>'"),
    ("C:x.bin", "the name contains ':'"),
    ('say "hi".txt', "the name contains '\"'"),
    ("a|b.bin", "the name contains '|'"),
    ("why?.bin", "the name contains '?'"),
    ("all*.bin", "the name contains '*'"),
    ("bell\x07.bin", "the name contains U+0007"),
    ("tab\tname.bin", "the name contains U+0009"),
    ("line\x1f.bin", "the name contains U+001F"),
    ("ends with a dot.", "ends with a dot or a space"),
    ("ends with a space ", "ends with a dot or a space"),
    ("invoice\u202egpj.exe", "U+202E, a bidirectional control"),  # shows as invoiceexe.jpg
    ("\u202aleft.txt", "U+202A, a bidirectional control"),
    ("\u2066isolate.txt", "U+2066, a bidirectional control"),
    ("pop\u2069.txt", "U+2069, a bidirectional control"),
    ("zero\u200bwidth.txt", "U+200B, an invisible format character"),
    ("\ufeffbom.txt", "U+FEFF, an invisible format character"),
    ("soft\u00adhyphen.txt", "U+00AD, an invisible format character"),
]


@pytest.mark.parametrize(("name", "why"), WINDOWS_BAD_NAMES, ids=lambda v: ascii(v)[:24])
def test_header_file_names_windows_cannot_hold_are_refused_on_every_system(tmp_path, client_on, name, why):
    reply = encode_header(file_header(name)) + BODY
    assert_refused(tmp_path, client_on, reply, "auto", f"the header's file name {name!r} is refused: ")
    with pytest.raises(RemoteProtocolError, match=re.escape(why)):
        safe_file_name(name)


@pytest.mark.parametrize(
    ("requested", "fields", "saved"),
    [
        ("hello", {"file_name": "hello", "file_type": "png"}, "hello.png"),  # the course's convention
        ("hello", {"file_name": "hello.png", "file_type": "png"}, "hello.png"),  # whole names
        ("hello", {"file_name": "hello.png"}, "hello.png"),
        ("photo", {"file_name": "IMG_1", "file_type": "JPG"}, "photo.JPG"),  # the user's stem
        ("名字", {"file_name": "名字", "file_type": "txt"}, "名字.txt"),
        ("README", {"file_name": "README", "file_type": ""}, "README"),
        ("split", {"file_type": "bin"}, "split.bin"),  # no file_name: the requested name
        ("split", {}, "split"),
        ("archive.tar", {"file_name": "archive.tar", "file_type": "gz"}, "archive.tar"),  # has one
        ("holiday.jpg", {"file_name": ".bashrc"}, "holiday.jpg"),  # never the server's name
        ("holiday.jpg", {"file_name": "holiday", "file_type": "exe"}, "holiday.jpg"),
        ("holiday", {"file_name": ".bashrc"}, "holiday"),  # a dot name has no extension
        ("holiday", {"file_name": "x", "file_type": "jpg exe"}, "holiday"),  # not letters and digits
        (".hidden", {"file_name": ".hidden", "file_type": "cfg"}, ".hidden.cfg"),  # the user's dot
        ("sub/deep.txt", {"file_name": "deep", "file_type": "txt"}, "deep.txt"),
    ],
    ids=repr,
)
def test_the_saved_name_is_the_requested_one(tmp_path, client_on, requested, fields, saved):
    """The user's name (its last part), with the server's extension only when it has none."""
    header = {"file_hex": hashlib.md5(BODY).hexdigest(), "data_all": len(BODY), **fields}
    result = client_on(ScriptedSocket([encode_header(header) + BODY]), tmp_path).fetch(requested)
    assert (result.name, result.path.read_bytes()) == (saved, BODY)
    assert leftovers(tmp_path) == [saved]


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"file_name": "x", "file_type": "/../../etc/passwd"}, "would escape the destination folder"),
        ({"file_name": "..", "file_type": "/x"}, "would escape the destination folder"),
        ({"file_name": "x", "file_type": "b\\c"}, "would escape the destination folder"),
        ({"file_name": "CON", "file_type": "txt"}, "reserved device name on Windows"),
        ({"file_name": "x", "file_type": "exe\u202e"}, "a bidirectional control"),
        ({"file_name": "x", "file_type": 5}, "'file_type' must be a string, not 5"),
        ({"file_name": "x", "file_type": None}, "'file_type' must be a string, not None"),
    ],
    ids=repr,
)
def test_a_bad_file_type_is_refused(tmp_path, client_on, fields, fragment):
    reply = encode_header({"data_all": len(BODY), **fields}) + BODY
    assert_refused(tmp_path, client_on, reply, "auto", fragment)


@pytest.mark.parametrize("escape", [b"\\udcff", b"\\ud800"])
def test_a_header_file_name_with_a_lone_surrogate_is_refused(tmp_path, client_on, escape):
    """Valid JSON (an ASCII escape) that decodes to text no file system name can be made of."""
    raw = b'{"file_name": "' + escape + b'.bin", "data_all": 1}'
    assert_refused(tmp_path, client_on, with_length(raw, "!I") + b"x", "auto", "is not valid Unicode text")


@pytest.mark.parametrize("name", ["é" * 127 + "x", "n" * 251 + ".bin"], ids=["2-byte chars", "ascii"])
def test_a_name_of_exactly_255_bytes_is_fetched(tmp_path, client_on, name):
    """The limit is 255 bytes; the temporary '.NAME.xxxx.part' beside it must not exceed it either."""
    assert len(name.encode()) == MAX_NAME_BYTES
    reply = encode_header(file_header(name)) + BODY
    result = client_on(ScriptedSocket([reply]), tmp_path).fetch(name)
    assert result.path.read_bytes() == BODY
    assert leftovers(tmp_path) == [name]


def test_an_error_header_raises_the_servers_reason(tmp_path, client_on):
    reply = encode_header({"file_name": "nope", "error": "no file named 'nope'", "data_all": 0})
    with pytest.raises(FileFetchError, match="the server refused 'nope': no file named 'nope'") as caught:
        client_on(ScriptedSocket([reply]), tmp_path).fetch("nope")
    assert caught.value.hint
    assert leftovers(tmp_path) == []


# -- the small helpers -------------------------------------------------------------------------
def test_split_lines_and_decode_name():
    assert split_lines(b"hello") == ([b"hello"], b"")  # the course: one recv() is one name
    assert split_lines(b"a.txt\nb.txt\n") == ([b"a.txt", b"b.txt"], b"")
    assert split_lines(b"a.txt\r\nb.t") == ([b"a.txt"], b"b.t")
    assert split_lines(b"\n\n  \na\n") == ([b"a"], b"")
    assert decode_name("名字.txt ".encode()) == "名字.txt"
    with pytest.raises(RemoteProtocolError, match="not valid UTF-8"):
        decode_name(b"\xff\xfe")


def test_the_key_proofs_are_hmac_sha256_of_side_and_both_nonces():
    server, client = bytes(range(32)), bytes(range(32, 64))
    key = b"k" * 16
    proof = key_proof(key, b"client", server, client)
    assert proof == hmac.new(key, b"client" + server + client, hashlib.sha256).digest()
    assert (
        proof != key_proof(key, b"server", server, client) != key_proof(b"j" * 16, b"server", server, client)
    )
    session = session_key(key, server, client)
    assert request_tag(session, 0, b"a") != request_tag(session, 1, b"a")
    assert len(request_tag(session, 0, b"a")) == 64


def test_safe_file_name_keeps_plain_names():
    for name in ("a.bin", "名字.txt", "..a", "a..b", ".hidden", "x" * MAX_NAME_BYTES):
        assert safe_file_name(name) == name


# -- property: any header survives encode → detect → parse ---------------------------------------
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)  # no lone surrogates: not UTF-8
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=10,
)
HEADERS = st.builds(
    lambda name, md5, kind, size, extra: {
        **extra,
        "file_name": name,
        "file_hex": md5,
        "file_type": kind,
        "data_all": size,
    },
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300),
    st.text("0123456789abcdef", min_size=32, max_size=32),
    TEXT,
    st.integers(0, 2**63),
    st.dictionaries(TEXT, JSON_VALUES, max_size=5),
)


@settings(max_examples=300, deadline=None)
@given(header=HEADERS, fmt=st.sampled_from(["!I", "<i"]))
def test_headers_round_trip(header, fmt):
    encoded = encode_header(header, fmt)
    prefix, raw = encoded[:4], encoded[4:]
    assert detect_length_format(prefix, raw) == fmt
    assert struct.unpack(fmt, prefix)[0] == len(raw)
    assert decode_header(raw) == header


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=HEADERS,
    fmt=st.sampled_from(["!I", "<i"]),
    cuts=st.lists(st.integers(0, 2000), max_size=6),
)
def test_any_header_cut_anywhere_is_fetched(tmp_path, client_on, header, fmt, cuts):
    header = {**header, "file_name": "prop", "file_type": "bin", "file_hex": hashlib.md5(BODY).hexdigest()}
    header["data_all"] = len(BODY)
    header.pop("error", None)  # a refusal, tested on its own
    reply = encode_header(header, fmt) + BODY
    points = sorted({min(c, len(reply)) for c in cuts})
    pieces = [reply[a:b] for a, b in zip([0, *points], [*points, len(reply)], strict=True)]
    result = client_on(ScriptedSocket(pieces), tmp_path, overwrite=True).fetch("prop.bin")
    assert result.header == header and result.length_format == fmt
    assert result.path.read_bytes() == BODY
    assert leftovers(tmp_path) == ["prop.bin"]

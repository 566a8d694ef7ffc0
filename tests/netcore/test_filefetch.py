"""Real loopback tests of the file server and client (netcore.engines.filefetch), and the course's programs.

Network rules: only 127.0.0.1 / ::1, port 0, every loop bounded in count and time, every server,
thread, socket and subprocess released in a finally or a fixture; every file under pytest's tmp_path.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netcore.engines import filefetch
from netcore.engines.filefetch import BUFFER_SIZE, FetchClient, FileServer
from netcore.errors import (
    FileFetchError,
    KeyRefused,
    RemoteProtocolError,
    ServerStillHashing,
    TimedOut,
)
from netcore.model.events import Closed, CloseReason, Connected
from netcore.protocols.filehdr import encode_header
from tests.netcore.support import ROOT, WAIT_S, EngineThreads, EventLog, Running, local_of, recv_exactly
from tests.requires import posix

# a server or writer thread that dies of an uncaught exception fails the test
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
special_files = posix("makes a FIFO, symbolic links and a non-UTF-8 file name")

BIG = 256 * 1024 * 1024


# -- helpers ------------------------------------------------------------------------------------
@pytest.fixture
def serve() -> Iterator[Callable[..., Running]]:
    """Start FileServers in threads on port 0; every one is stopped and joined at the end."""
    with EngineThreads("a file server thread") as engines:

        def start(root: Path, host: str = "127.0.0.1", **kwargs: object) -> Running:
            server = FileServer(root, host, 0, **kwargs)  # type: ignore[arg-type]
            return Running(server, *engines.start(server, "test-file-server"))

        yield start


@pytest.fixture
def make_client() -> Iterator[Callable[..., FetchClient]]:
    """FetchClients (not yet connected) that are closed at the end of the test."""
    with contextlib.ExitStack() as stack:

        def make(port: int, dest: Path, host: str = "127.0.0.1", **kwargs: object) -> FetchClient:
            kwargs.setdefault("timeout", WAIT_S)
            client = FetchClient(host, port, dest, **kwargs)  # type: ignore[arg-type]
            stack.callback(client.close)
            return client

        yield make


@pytest.fixture
def fake_server() -> Iterator[Callable[[Callable[[socket.socket], None]], int]]:
    """A one-connection TCP server on 127.0.0.1 that runs *handler(conn)*; returns its port."""
    listeners: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(handler: Callable[[socket.socket], None]) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(WAIT_S)
        listeners.append(listener)

        def run() -> None:
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                with conn:
                    conn.settimeout(WAIT_S)
                    handler(conn)

        thread = threading.Thread(target=run, name="fake-file-server", daemon=True)
        threads.append(thread)
        thread.start()
        return int(listener.getsockname()[1])

    try:
        yield start
    finally:
        for listener in listeners:
            listener.close()
        for thread in threads:
            thread.join(WAIT_S)
            assert not thread.is_alive(), "a fake server thread did not stop"


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as f:
        while block := f.read(BUFFER_SIZE):
            digest.update(block)
    return digest.hexdigest()


def same_bytes(a: Path, b: Path) -> bool:
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            block = fa.read(BUFFER_SIZE)
            if block != fb.read(BUFFER_SIZE):
                return False
            if not block:
                return True


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def read_reply(sock: socket.socket, fmt: str = "!I") -> tuple[dict, bytes]:
    """One reply of our server: the length, the JSON header and data_all body bytes."""
    (length,) = struct.unpack(fmt, recv_exactly(sock, 4))
    header = json.loads(recv_exactly(sock, length))
    return header, recv_exactly(sock, header["data_all"])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "served"
    folder.mkdir()
    return folder


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    folder = tmp_path / "fetched"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """256 MiB that no block repeats (a random MiB with each MiB's index in front), and its md5."""
    folder = tmp_path_factory.mktemp("big")
    path = folder / "big.bin"
    block = bytearray(os.urandom(BUFFER_SIZE))
    digest = hashlib.md5()
    with path.open("wb") as f:
        for i in range(BIG // BUFFER_SIZE):
            block[:8] = i.to_bytes(8, "big")
            digest.update(block)
            f.write(block)
    return path, digest.hexdigest()


# -- fetching ----------------------------------------------------------------------------------
SIZES = [1, 1000, BUFFER_SIZE - 1, BUFFER_SIZE, BUFFER_SIZE + 1, 3 * BUFFER_SIZE + 7]


def test_fetch_files_of_many_sizes_on_one_connection(serve, make_client, root, dest):
    files = {f"f{size}.bin": os.urandom(size) for size in SIZES}
    for name, data in files.items():
        (root / name).write_bytes(data)
    running = serve(root)
    client = make_client(running.addr.port, dest)
    client.connect()
    for name, data in files.items():
        result = client.fetch(name)
        assert (result.name, result.size, result.path) == (name, len(data), dest / name)
        assert result.md5 == hashlib.md5(data).hexdigest() and result.verified
        assert result.length_format == "!I"
        assert result.header["file_type"] == "bin"
        assert result.path.read_bytes() == data
    assert names_in(dest) == sorted(files), "only the fetched files, no .part left"


def test_the_server_sends_each_reply_without_waiting_for_an_ack(serve, make_client, root, dest):
    """Header and body go in two writes: with Nagle's algorithm on, a small file's body waited for
    the client's delayed ACK, about 40 ms a request. The server's client sockets have it off."""
    (root / "small.txt").write_bytes(b"x" * 100)
    running = serve(root)
    client = make_client(running.addr.port, dest)
    client.connect()
    client.fetch("small.txt")
    (served,) = running.server._clients.values()
    assert served.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_fetch_an_empty_file(serve, make_client, root, dest):
    (root / "empty.txt").write_bytes(b"")
    (root / "after.txt").write_bytes(b"after")
    running = serve(root)
    client = make_client(running.addr.port, dest)
    client.connect()
    result = client.fetch("empty.txt")
    assert (result.size, result.md5, result.verified) == (0, hashlib.md5(b"").hexdigest(), True)
    assert result.path.read_bytes() == b""
    assert client.fetch("after.txt").path.read_bytes() == b"after", "the session goes on after it"
    assert names_in(dest) == ["after.txt", "empty.txt"]
    assert running.log.of(Closed) == []


def test_fetch_256_mib(serve, make_client, big_file, dest):
    path, md5 = big_file
    client = make_client(serve(path.parent).addr.port, dest)
    client.connect()
    progress: list[tuple[int, int]] = []
    result = client.fetch("big.bin", lambda done, total: progress.append((done, total)))
    assert (result.size, result.md5, result.verified) == (BIG, md5, True)
    assert same_bytes(path, result.path)
    assert progress[-1] == (BIG, BIG)
    assert all(a[0] < b[0] for a, b in itertools.pairwise(progress)), "progress only grows"
    assert names_in(dest) == ["big.bin"]


def test_fetch_over_ipv6_loopback(serve, make_client, root, dest):
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    (root / "six.txt").write_bytes(b"over ::1")
    running = serve(root, "::1")
    client = make_client(running.addr.port, dest, host="::1")
    client.connect()
    assert client.fetch("six.txt").path.read_bytes() == b"over ::1"


@special_files
def test_list_shows_only_regular_files_inside_the_folder(serve, make_client, root, dest, tmp_path):
    for name in ("b.txt", "a.png", "名字.txt"):
        (root / name).write_bytes(b"x")
    (root / "sub").mkdir()
    (root / "sub" / "deep.txt").write_bytes(b"x")
    os.mkfifo(root / "fifo")
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"secret")
    (root / "out-link.txt").symlink_to(outside)
    (root / "in-link.txt").symlink_to(root / "b.txt")
    (root / os.fsdecode(b"\xff-not-utf8.txt")).write_bytes(b"x")
    running = serve(root)
    client = make_client(running.addr.port, dest)
    client.connect()
    assert client.list_files() == ["a.png", "b.txt", "in-link.txt", "名字.txt"]
    assert client.list_files() == running.server.list_files(), "and again on the same connection"
    assert names_in(dest) == []


def test_a_bare_name_finds_the_only_file_with_that_stem(serve, make_client, root, dest):
    (root / "hello.png").write_bytes(b"\x89PNG hello")
    (root / "hello.tar.gz").write_bytes(b"not a stem match: its stem is hello.tar")
    client = make_client(serve(root).addr.port, dest)
    client.connect()
    result = client.fetch("hello")
    assert (result.name, result.header["file_type"]) == ("hello.png", "png")
    assert (dest / "hello.png").read_bytes() == b"\x89PNG hello"


def test_a_bare_name_with_two_candidates_is_refused(serve, make_client, root, dest):
    (root / "hello.png").write_bytes(b"png")
    (root / "hello.jpg").write_bytes(b"jpg")
    client = make_client(serve(root).addr.port, dest)
    client.connect()
    with pytest.raises(FileFetchError, match="the server refused 'hello': no file named 'hello'"):
        client.fetch("hello")
    assert names_in(dest) == []
    assert client.fetch("hello.jpg").path.read_bytes() == b"jpg", "the full name still works"


def test_an_unknown_name_is_a_clear_error_and_the_connection_stays_usable(serve, make_client, root, dest):
    (root / "there.txt").write_bytes(b"here")
    client = make_client(serve(root).addr.port, dest)
    client.connect()
    with pytest.raises(FileFetchError) as caught:
        client.fetch("nope.txt")
    assert caught.value.summary == "the server refused 'nope.txt': no file named 'nope.txt'"
    assert "file list" in caught.value.hint
    assert names_in(dest) == []
    assert client.fetch("there.txt").path.read_bytes() == b"here"


@pytest.fixture
def hostile_root(root: Path, tmp_path: Path) -> Path:
    """A served folder holding links out of it, a FIFO, a device, a folder and one honest file."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"SECRET")
    (tmp_path / "x").write_bytes(b"SECRET")
    (root / "ok.txt").write_bytes(b"fine")
    (root / "a").mkdir()
    (root / "link.txt").symlink_to(outside / "secret.txt")
    (root / "linkdir").symlink_to(outside)
    (root / "abs-link").symlink_to("/etc/passwd")
    os.mkfifo(root / "fifo")
    with contextlib.suppress(PermissionError):  # root in most containers; skipped as a case otherwise
        os.mknod(root / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    return root


REFUSED = [
    ("../x", "no absolute paths, no '..'"),
    ("/etc/passwd", "no absolute paths, no '..'"),
    ("a/../../x", "no absolute paths, no '..'"),
    ("..", "no absolute paths, no '..'"),
    ("\\etc\\passwd", "no absolute paths"),
    ("C:x", "no absolute paths"),
    ("ok\0.txt", "the name contains a NUL byte"),
    ("x" * 300, "the name is longer than 255 bytes"),
    ("link.txt", "the name leads outside the served folder"),
    ("link", "the name leads outside the served folder"),  # stem lookup finds link.txt
    ("linkdir/secret.txt", "not those of its sub-folders"),
    ("abs-link", "the name leads outside the served folder"),
    ("fifo", "'fifo' is not a regular file"),
    ("null", "'null' is not a regular file"),
    ("a", "'a' is not a regular file"),
    (".", "'.' is not a regular file"),
]


@special_files
@pytest.mark.parametrize(("name", "reason"), REFUSED, ids=lambda v: repr(v)[:24])
def test_names_outside_the_folder_or_not_regular_files_are_refused(
    serve, make_client, hostile_root, dest, name, reason
):
    if name == "null" and not (hostile_root / "null").exists():
        pytest.skip("cannot create a device file here")
    running = serve(hostile_root)
    refusal = running.server.open_name(name)
    assert isinstance(refusal, str) and reason in refusal
    client = make_client(running.addr.port, dest)
    client.connect()
    with pytest.raises(FileFetchError) as caught:
        client.fetch(name)
    assert caught.value.summary == f"the server refused '{name}': {refusal}"
    assert names_in(dest) == [], "nothing of a refused name reaches the destination"
    assert client.fetch("ok.txt").path.read_bytes() == b"fine", "the server answered and goes on"


@special_files
def test_links_that_stay_inside_the_folder_are_followed(serve, make_client, root, dest):
    """Links are resolved by the server itself, one component at a time: relative, absolute, chained,
    through a linked folder or with '..' in the target, they are served while they stay inside."""
    (root / "sub").mkdir()
    (root / "sub" / "deep.txt").write_bytes(b"deep")
    (root / "rel").symlink_to("sub/../sub/deep.txt")
    (root / "abs").symlink_to(root / "sub" / "deep.txt")
    (root / "chain").symlink_to("rel")
    (root / "subdir").symlink_to("sub")
    (root / "sub" / "up").symlink_to("../chain")
    (root / "sub" / "out").symlink_to("../../outside.txt")
    (root / "via-sub").symlink_to("subdir/up")
    (root / "out").symlink_to("subdir/out")
    running = serve(root)
    client = make_client(running.addr.port, dest, overwrite=True)
    client.connect()
    for name in ("rel", "abs", "chain", "via-sub"):
        assert client.fetch(name).path.read_bytes() == b"deep", name
    assert running.server.open_name("out") == "the name leads outside the served folder"
    for name in ("subdir/deep.txt", "sub/up", "subdir/up"):  # served only what it lists: not sub-folders
        assert "not those of its sub-folders" in str(running.server.open_name(name))


@special_files
def test_the_fifo_is_never_opened(serve, make_client, hostile_root, dest):
    """Opening a FIFO for reading would block the server thread until a writer appears."""
    running = serve(hostile_root)
    client = make_client(running.addr.port, dest, timeout=2.0)
    client.connect()
    for _ in range(3):
        with pytest.raises(FileFetchError, match="not a regular file"):
            client.fetch("fifo")
    assert client.list_files() == ["ok.txt"]


# -- the shared key ------------------------------------------------------------------------------
KEY = b"a shared secret of 32 bytes....."


def test_the_right_key_works(serve, make_client, root, dest):
    (root / "k.txt").write_bytes(b"keyed")
    running = serve(root, key=KEY)
    client = make_client(running.addr.port, dest, key=KEY)
    client.connect()
    assert client.fetch("k.txt").path.read_bytes() == b"keyed"
    assert client.list_files() == ["k.txt"]


def test_a_wrong_key_is_refused_and_the_connection_closed(serve, make_client, root, dest):
    (root / "k.txt").write_bytes(b"keyed")
    running = serve(root, key=KEY)
    client = make_client(running.addr.port, dest, key=b"a wrong guess of the key")
    with pytest.raises(KeyRefused, match="wrong key: the HMAC of the challenge does not match"):
        client.connect()
    closed = running.log.wait_for(Closed)
    assert closed[0].reason is CloseReason.LOCAL
    assert names_in(dest) == []


def test_a_client_without_the_key_gets_a_typed_error(serve, make_client, root, dest):
    """It reads the server's nonce header as the reply to its request."""
    (root / "k.txt").write_bytes(b"keyed")
    running = serve(root, key=KEY)
    client = make_client(running.addr.port, dest, timeout=0.3)
    client.connect()
    with pytest.raises(KeyRefused, match="the server asks for a shared key") as caught:
        client.fetch("k.txt")
    assert caught.value.hint
    assert names_in(dest) == []


# -- a server that misbehaves --------------------------------------------------------------------
def test_a_silent_server_is_a_timeout_with_a_hint(fake_server, make_client, dest):
    def handler(conn: socket.socket) -> None:
        conn.recv(1024)
        conn.recv(1024)  # say nothing until the client gives up and closes

    client = make_client(fake_server(handler), dest, timeout=0.3)
    client.connect()
    with pytest.raises(TimedOut) as caught:
        client.fetch("anything")
    assert caught.value.summary.endswith("timed out after 0.3 s")
    assert "No answer from 127.0.0.1:" in caught.value.hint
    assert names_in(dest) == []


def test_a_server_closing_mid_body_leaves_no_file(fake_server, make_client, dest):
    body = os.urandom(400)

    def handler(conn: socket.socket) -> None:
        conn.recv(1024)
        header = {"file_name": "cut.bin", "file_hex": hashlib.md5(body).hexdigest(), "data_all": 1000}
        conn.sendall(encode_header(header) + body)

    client = make_client(fake_server(handler), dest)
    client.connect()
    with pytest.raises(RemoteProtocolError) as caught:
        client.fetch("cut.bin")
    assert "the connection closed after 400 of 1,000 body bytes" in caught.value.summary
    assert names_in(dest) == []


def test_a_server_closing_mid_body_of_a_big_file_leaves_no_file(fake_server, make_client, dest):
    sent = 5 * BUFFER_SIZE + 123

    def handler(conn: socket.socket) -> None:
        conn.recv(1024)
        conn.sendall(encode_header({"file_name": "cut.bin", "data_all": 10 * BUFFER_SIZE}))
        conn.sendall(b"\xab" * sent)

    client = make_client(fake_server(handler), dest)
    client.connect()
    with pytest.raises(RemoteProtocolError, match=f"after {sent:,} of {10 * BUFFER_SIZE:,} body bytes"):
        client.fetch("cut.bin")
    assert names_in(dest) == []


def test_an_md5_mismatch_names_both_digests_and_leaves_no_file(fake_server, make_client, dest):
    body = b"the body the server really sends"
    wrong = "0" * 32

    def handler(conn: socket.socket) -> None:
        conn.recv(1024)
        header = {"file_name": "m.txt", "file_hex": wrong, "file_type": "txt", "data_all": len(body)}
        conn.sendall(encode_header(header, "<i") + body)
        conn.recv(1024)  # until the client closes

    client = make_client(fake_server(handler), dest)
    client.connect()
    with pytest.raises(RemoteProtocolError) as caught:
        client.fetch("m.txt")
    got = hashlib.md5(body).hexdigest()
    assert caught.value.summary == f"md5 mismatch for 'm.txt': expected {wrong}, got {got}"
    assert names_in(dest) == []


def test_a_header_without_md5_is_saved_but_not_verified(fake_server, make_client, dest):
    def handler(conn: socket.socket) -> None:
        conn.recv(1024)
        conn.sendall(encode_header({"file_name": "n.txt", "data_all": 3}) + b"abc")
        conn.recv(1024)

    client = make_client(fake_server(handler), dest)
    client.connect()
    result = client.fetch("n.txt")
    assert (result.verified, result.md5, result.path.read_bytes()) == (
        False,
        hashlib.md5(b"abc").hexdigest(),
        b"abc",
    )


# -- cancel, overwrite, disk full ---------------------------------------------------------------
def test_cancel_from_another_thread_in_the_middle_of_a_big_fetch(serve, make_client, big_file, dest):
    path, _ = big_file
    client = make_client(serve(path.parent).addr.port, dest)
    client.connect()
    under_way = threading.Event()
    progress: list[int] = []

    def on_progress(done: int, total: int) -> None:
        progress.append(done)
        if done >= 8 * BUFFER_SIZE:
            under_way.set()

    def cancel() -> None:
        if under_way.wait(WAIT_S):
            client.stop()

    timer = threading.Thread(target=cancel, name="cancel-timer", daemon=True)
    timer.start()
    try:
        started = time.monotonic()
        with pytest.raises(FileFetchError) as caught:
            client.fetch("big.bin", on_progress)
        assert caught.value.summary == "cancelled" and "Nothing was saved" in caught.value.hint
        assert time.monotonic() - started < WAIT_S
    finally:
        under_way.set()
        timer.join(WAIT_S)
    assert 8 * BUFFER_SIZE <= progress[-1] < BIG, "cancelled in the middle"
    assert names_in(dest) == [], "no file and no .part"


def test_an_existing_file_is_not_overwritten_unless_asked(serve, make_client, root, dest):
    (root / "same.txt").write_bytes(b"new content from the server")
    (dest / "same.txt").write_bytes(b"original")
    port = serve(root).addr.port
    client = make_client(port, dest)
    client.connect()
    with pytest.raises(FileFetchError) as caught:
        client.fetch("same.txt")
    assert caught.value.summary == f"'same.txt' already exists in {dest}"
    assert caught.value.hint == "Choose another folder, or allow overwriting."
    assert (dest / "same.txt").read_bytes() == b"original"
    assert names_in(dest) == ["same.txt"], "no .part left"

    replacing = make_client(port, dest, overwrite=True)
    replacing.connect()
    assert replacing.fetch("same.txt").path.read_bytes() == b"new content from the server"
    assert names_in(dest) == ["same.txt"]


def test_a_missing_destination_folder_is_a_clear_error(serve, make_client, root, tmp_path):
    (root / "a.txt").write_bytes(b"a")
    client = make_client(serve(root).addr.port, tmp_path / "no" / "such")
    client.connect()
    with pytest.raises(FileFetchError, match="No such file or directory") as caught:
        client.fetch("a.txt")
    assert caught.value.hint


DISK_FULL_CHILD = textwrap.dedent(
    """
    import json, resource, signal, sys
    from netcore.errors import SocketLabError
    from netcore.engines.filefetch import FetchClient

    port, dest, name, limit = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    client = FetchClient("127.0.0.1", port, dest, timeout=5.0)
    try:
        client.connect()
        result = client.fetch(name)
        print(json.dumps({"saved": str(result.path), "verified": result.verified}))
    except SocketLabError as exc:
        print(json.dumps({"error": type(exc).__name__, "summary": exc.summary, "hint": exc.hint}))
    finally:
        client.close()
    """
)


@pytest.mark.parametrize(
    ("size", "limit"),
    [
        (3 * BUFFER_SIZE // 2, 6 * BUFFER_SIZE // 5),  # the limit falls inside the last buffer
        (8 * BUFFER_SIZE, 3 * BUFFER_SIZE // 2),  # the write fails while more data keeps coming
    ],
    ids=["in-the-last-buffer", "mid-transfer"],
)
@posix("the child process limits its file size with resource.RLIMIT_FSIZE and ignores SIGXFSZ")
def test_a_full_disk_is_a_clear_error_and_leaves_no_file(serve, root, dest, size, limit):
    """A fetch client process under RLIMIT_FSIZE (the disk "fills" inside the last buffer or while
    more data keeps coming): FileFetchError "cannot write the file" with a hint, and no file or
    .part left in the destination."""
    (root / "full.bin").write_bytes(os.urandom(size))
    running = serve(root)
    proc = subprocess.run(
        [sys.executable, "-c", DISK_FULL_CHILD, str(running.addr.port), str(dest), "full.bin", str(limit)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    outcome = json.loads(proc.stdout)
    assert outcome.get("error") == "CannotWrite", outcome
    assert outcome["summary"] == "cannot write the file: File too large"
    assert "nothing was saved" in outcome["hint"]
    assert names_in(dest) == []


# -- the course's programs -----------------------------------------------------------------------
@pytest.fixture
def course_server() -> Iterator[Callable[[Path], int]]:
    """The course's file server: blocking sockets, recv(1024) for the name, three send() calls with
    struct.pack('i', ...), serving NAME.png from its folder (file_name = NAME, file_type = png);
    'q' or EOF ends a client."""
    stop = threading.Event()
    listeners: list[socket.socket] = []
    conns: list[socket.socket] = []
    threads: list[threading.Thread] = []

    def start(folder: Path) -> int:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.bind(("127.0.0.1", 0))
        server.listen(5)
        server.settimeout(0.1)  # only so the test can stop it; each connection is a blocking socket
        listeners.append(server)

        def run() -> None:
            while not stop.is_set():
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                conn.settimeout(None)
                conns.append(conn)
                with conn:
                    while True:
                        try:
                            name = conn.recv(1024).decode("utf-8")
                        except OSError:
                            break
                        if not name or name == "q":
                            break
                        with open(os.path.join(folder, name + ".png"), "rb") as f:
                            data = f.read()
                        header = {
                            "file_name": name,
                            "file_hex": hashlib.md5(data).hexdigest(),
                            "file_type": "png",
                            "data_all": len(data),
                        }
                        header_bytes = json.dumps(header).encode("utf-8")
                        conn.send(struct.pack("i", len(header_bytes)))
                        conn.send(header_bytes)
                        conn.send(data)

        thread = threading.Thread(target=run, name="course-server", daemon=True)
        threads.append(thread)
        thread.start()
        return int(server.getsockname()[1])

    try:
        yield start
    finally:
        stop.set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(WAIT_S)
            assert not thread.is_alive(), "the course server did not stop"
        for server in listeners:
            server.close()


def test_our_client_fetches_from_the_course_server(course_server, make_client, tmp_path, dest):
    assert struct.pack("i", 1) == struct.pack("<i", 1), "the course's 'i' is little-endian here"
    folder = tmp_path / "course"
    folder.mkdir()
    pictures = {"hello": b"\x89PNG\r\n\x1a\n" + os.urandom(200_000), "cat": os.urandom(3000)}
    for name, data in pictures.items():
        (folder / f"{name}.png").write_bytes(data)
    client = make_client(course_server(folder), dest)
    client.connect()
    for name, data in pictures.items():
        result = client.fetch(name)
        assert (result.name, result.length_format, result.verified) == (f"{name}.png", "<i", True)
        assert result.path.read_bytes() == data
    assert names_in(dest) == ["cat.png", "hello.png"]


def course_client(port: int, names: list[str], folder: Path) -> list[str]:
    """The course's client: send the bare name, unpack 'i', read data_all with recv(1024), check md5,
    save as "nb_" + file_name + "." + file_type; returns the names it saved."""
    saved = []
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.settimeout(WAIT_S)
    client.connect(("127.0.0.1", port))
    try:
        for name in names:
            client.send(name.encode("utf-8"))
            header_len = struct.unpack("i", client.recv(4))[0]
            header = json.loads(client.recv(header_len).decode("utf-8"))
            data = b""
            while len(data) < header["data_all"]:
                piece = client.recv(1024)
                assert piece, "the server closed in the middle of the body"
                data += piece
            assert hashlib.md5(data).hexdigest() == header["file_hex"], "md5 check failed"
            saved_as = "nb_" + header["file_name"] + "." + header["file_type"]
            (folder / saved_as).write_bytes(data)
            saved.append(saved_as)
        client.send(b"q")
        assert client.recv(1024) == b"", "after 'q' the server closes the connection"
    finally:
        client.close()
    return saved


def test_the_course_client_fetches_from_our_server_in_its_byte_order(serve, root, dest):
    files = {"hello.png": os.urandom(150_000), "notes.txt": "课程 notes".encode() * 100}
    for name, data in files.items():
        (root / name).write_bytes(data)
    running = serve(root, length_format="<i")
    assert course_client(running.addr.port, ["hello", "notes.txt", "hello"], dest) == [
        "nb_hello.png",
        "nb_notes.txt",
        "nb_hello.png",
    ]
    for name, data in files.items():
        assert (dest / f"nb_{name}").read_bytes() == data
    closed = running.log.wait_for(Closed)
    assert closed[0].reason is CloseReason.LOCAL and closed[0].error is None


def test_the_course_client_saves_our_files_under_their_own_names(serve, root, dest, make_client, tmp_path):
    """Our server sends the stem in file_name and the extension in file_type, as the course does: the
    course's client saves "nb_" + the real name (not nb_hello.png.png), and our client the real name."""
    files = {
        "hello.png": b"\x89PNG" + os.urandom(5000),
        "archive.tar.gz": os.urandom(3000),
        "名字.txt": "课程".encode() * 50,
        ".hidden.cfg": b"key = value\n",
        "Photo.JPG": os.urandom(100),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    running = serve(root, length_format="<i")
    assert course_client(running.addr.port, list(files), dest) == [f"nb_{name}" for name in files]
    assert names_in(dest) == sorted(f"nb_{name}" for name in files)
    for name, data in files.items():
        assert (dest / f"nb_{name}").read_bytes() == data
    ours = tmp_path / "ours"
    ours.mkdir()
    client = make_client(running.addr.port, ours)
    client.connect()
    for name, data in files.items():
        result = client.fetch(name)
        assert (result.name, result.path.read_bytes()) == (name, data)
    assert names_in(ours) == sorted(files)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("CON.txt", "'CON' is a reserved device name on Windows"),
        ("note:1.txt", "the name contains ':', which Windows does not allow in file names"),
        ("trailing.", "the name ends with a dot or a space"),
        ("invoice\u202etxt.exe", "the name contains U+202E, a bidirectional control"),
    ],
    ids=["reserved", "colon", "trailing-dot", "bidi"],
)
def test_a_served_name_windows_cannot_hold_is_refused_by_our_client(
    serve, make_client, root, dest, name, problem
):
    """A Linux server may hold names Windows cannot: our client refuses them on every system, says
    why, saves nothing, and the session goes on."""
    (root / name).write_bytes(b"fine on Linux")
    (root / "ok.txt").write_bytes(b"ok")
    client = make_client(serve(root).addr.port, dest)
    client.connect()
    with pytest.raises(RemoteProtocolError) as caught:
        client.fetch(name)
    assert caught.value.summary.startswith(f"the header's file name {name!r} is refused: {problem}")
    assert names_in(dest) == []
    client.connect()  # a refused reply leaves an unread body: the client dropped the connection
    assert client.fetch("ok.txt").path.read_bytes() == b"ok"


def test_requests_ended_by_newlines_in_one_send(serve, root):
    (root / "a.txt").write_bytes(b"first")
    (root / "b.txt").write_bytes(b"second")
    running = serve(root)
    with socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S) as sock:
        sock.sendall(b"a.txt\nb.txt\r\n?\nmissing\n")
        assert read_reply(sock) == (
            {
                "file_name": "a",
                "file_hex": hashlib.md5(b"first").hexdigest(),
                "file_type": "txt",
                "data_all": 5,
            },
            b"first",
        )
        header, body = read_reply(sock)
        assert (header["file_name"], header["file_type"], body) == ("b", "txt", b"second")
        assert read_reply(sock) == ({"files": ["a.txt", "b.txt"], "data_all": 0}, b"")
        header, body = read_reply(sock)
        assert header["error"] == "no file named 'missing'" and body == b""
        sock.sendall(b"q\n")
        assert sock.recv(1024) == b""


# -- the md5 cache -------------------------------------------------------------------------------
class CountingHashlib:
    """Stands in for the module's hashlib: counts md5() calls made by server threads (not the test's)."""

    def __init__(self, test_thread: int) -> None:
        self.test_thread = test_thread
        self.server_md5s = 0
        self.sha256 = hashlib.sha256
        self._lock = threading.Lock()

    def md5(self, *args: bytes) -> hashlib._Hash:
        if threading.get_ident() != self.test_thread:
            with self._lock:
                self.server_md5s += 1
        return hashlib.md5(*args)


def test_the_md5_cache_hashes_a_file_once_until_it_changes(serve, make_client, root, dest, monkeypatch):
    counting = CountingHashlib(threading.get_ident())
    monkeypatch.setattr(filefetch, "hashlib", counting)
    path = root / "c.bin"
    path.write_bytes(os.urandom(100_000))
    running = serve(root)
    client = make_client(running.addr.port, dest, overwrite=True)
    client.connect()

    def fetch_md5() -> str:
        result = client.fetch("c.bin")
        assert result.verified and result.md5 == md5_of(path)
        return result.md5

    fetch_md5()
    assert counting.server_md5s == 1
    fetch_md5()
    fetch_md5()
    assert counting.server_md5s == 1, "the second and third fetch used the cached md5"

    st = path.stat()
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    fetch_md5()
    assert counting.server_md5s == 2, "a new mtime means hashing again"

    st = path.stat()
    with path.open("ab") as f:
        f.write(b"more")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime, new size
    fetch_md5()
    assert counting.server_md5s == 3, "a new size means hashing again"
    fetch_md5()
    assert counting.server_md5s == 3


def test_a_same_size_rewrite_with_its_mtime_put_back_is_hashed_again(
    serve, make_client, root, dest, record_property
):
    """As ``cp -p`` or ``rsync -t`` leave it: new bytes, same size, old mtime. The ctime still moves,
    so the second fetch gets the new md5 and the new bytes (was: "md5 mismatch" until a restart)."""
    path = root / "same.bin"
    path.write_bytes(b"A" * 100_000)
    before = path.stat()
    running = serve(root)
    client = make_client(running.addr.port, dest, overwrite=True)
    client.connect()
    assert client.fetch("same.bin").path.read_bytes() == b"A" * 100_000
    # the file system's ctime clock ticks coarsely (a few ms): rewrite until it has moved on, as a
    # later rewrite would find it (two changes within one tick cannot be told apart by any stat)
    deadline = time.monotonic() + WAIT_S
    rewrites = 0
    while path.stat().st_ctime_ns == before.st_ctime_ns and time.monotonic() < deadline:
        path.write_bytes(b"B" * 100_000)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        rewrites += 1
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert after.st_ctime_ns != before.st_ctime_ns, "the ctime did not move within WAIT_S"
    record_property("rewrites until the ctime moved", rewrites)
    result = client.fetch("same.bin")
    assert result.verified and result.path.read_bytes() == b"B" * 100_000


def test_md5_cache_unit(tmp_path, monkeypatch):
    counting = CountingHashlib(-1)  # count every call
    monkeypatch.setattr(filefetch, "hashlib", counting)
    path = tmp_path / "u.bin"
    path.write_bytes(b"abc")
    cache = filefetch.Md5Cache()
    with path.open("rb") as f:
        assert cache.md5(f, os.fstat(f.fileno())) == hashlib.md5(b"abc").hexdigest()
        assert cache.md5(f, os.fstat(f.fileno())) == hashlib.md5(b"abc").hexdigest()
    assert counting.server_md5s == 1
    other = tmp_path / "v.bin"
    other.write_bytes(b"abc")
    with other.open("rb") as f:
        cache.md5(f, os.fstat(f.fileno()))
    assert counting.server_md5s == 2, "another inode is another file"


class FirstBlockWaits:
    """Stands in for the module's hashlib: counts the blocks md5 hashes; the first waits for *go*."""

    def __init__(self) -> None:
        self.blocks = 0
        self.hashing, self.go = threading.Event(), threading.Event()
        self.sha256 = hashlib.sha256

    def md5(self) -> object:
        outer, digest = self, hashlib.md5()

        class Digest:
            def update(self, block: bytes) -> None:
                outer.blocks += 1
                if outer.blocks == 1:
                    outer.hashing.set()
                    outer.go.wait(WAIT_S)
                digest.update(block)

            def hexdigest(self) -> str:
                return digest.hexdigest()

        return Digest()


def test_hashing_stops_when_the_client_has_gone(serve, root, monkeypatch, record_property):
    """A client that asked for a large file and closed its socket while the server hashed it: the
    header's length came at once, the server stops hashing within a few blocks and ends the
    connection as reset (was: its thread hashed the whole file for nobody)."""
    waits = FirstBlockWaits()
    monkeypatch.setattr(filefetch, "hashlib", waits)
    with (root / "large.bin").open("wb") as f:
        f.truncate(256 * BUFFER_SIZE)  # sparse: hashing it costs CPU only
    running = serve(root)
    with socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S) as sock:
        peer = local_of(sock)
        sock.sendall(b"large.bin\n")
        assert len(recv_exactly(sock, 4)) == 4, "the header's length comes before the hashing ends"
        assert waits.hashing.wait(WAIT_S)
    waits.go.set()
    [closed] = running.log.wait_for(Closed, peer=peer)
    record_property("blocks hashed of 256", waits.blocks)
    assert closed.reason is CloseReason.RESET, closed
    assert waits.blocks < 16, f"hashed {waits.blocks} of 256 blocks for a client that had gone"


def test_a_fetch_timing_out_while_the_server_hashes_says_so(serve, make_client, root, dest, monkeypatch):
    """The header's length came, the header not within the client's timeout: the error's hint says
    the server is still hashing a large file (was: "no answer", as from a dead host)."""
    waits = FirstBlockWaits()
    monkeypatch.setattr(filefetch, "hashlib", waits)
    with (root / "large.bin").open("wb") as f:
        f.truncate(256 * BUFFER_SIZE)
    running = serve(root)
    client = make_client(running.addr.port, dest, timeout=0.5)  # the server hashes until go is set
    client.connect()
    try:
        with pytest.raises(ServerStillHashing) as caught:
            client.fetch("large.bin")
    finally:
        waits.go.set()
    assert "still hashing a large file" in caught.value.hint
    assert names_in(dest) == []


def test_a_half_closed_client_still_gets_a_large_file(serve, root):
    """A client that shut down only its sending side (``shutdown(SHUT_WR)``, as ``nc -N`` does)
    while the server hashed still reads the whole reply: only a reset means it has gone."""
    data = os.urandom(3 * BUFFER_SIZE + 7)
    (root / "large.bin").write_bytes(data)
    running = serve(root)
    with socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S) as sock:
        sock.sendall(b"large.bin\n")
        sock.shutdown(socket.SHUT_WR)
        header = {"hashing": {}}
        while "hashing" in header:  # the progress headers of Socket Lab's mode, then the header
            (length,) = struct.unpack("!I", recv_exactly(sock, 4))
            header = json.loads(recv_exactly(sock, length))
        assert header["file_hex"] == hashlib.md5(data).hexdigest()
        assert recv_exactly(sock, header["data_all"]) == data


@pytest.mark.parametrize("use_sendfile", [True, False], ids=["sendfile", "read-and-send"])
def test_bodies_interleave_on_the_one_loop_with_and_without_sendfile(
    serve, make_client, root, dest, use_sendfile
):
    """Two clients fetch large files at once, both ways the server can send a body (Windows has no
    sendfile for sockets: it reads and sends blocks); the second also pipelines three requests."""
    if use_sendfile and not filefetch.HAS_SENDFILE:
        pytest.skip("no os.sendfile for sockets on this system")
    a, b = os.urandom(6 * BUFFER_SIZE + 3), os.urandom(3 * BUFFER_SIZE + 1)
    (root / "a.bin").write_bytes(a)
    (root / "b.bin").write_bytes(b)
    running = serve(root)
    running.server.use_sendfile = use_sendfile
    with (
        socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S) as first,
        socket.create_connection(("127.0.0.1", running.addr.port), timeout=WAIT_S) as second,
    ):
        first.sendall(b"a.bin\n")
        second.sendall(b"b.bin\nb.bin\n?\n")
        for sock, data in ((second, b), (first, a), (second, b)):
            header = {"hashing": {}}
            while "hashing" in header:
                (length,) = struct.unpack("!I", recv_exactly(sock, 4))
                header = json.loads(recv_exactly(sock, length))
            assert header["file_hex"] == hashlib.md5(data).hexdigest()
            assert recv_exactly(sock, header["data_all"]) == data
        (length,) = struct.unpack("!I", recv_exactly(second, 4))
        assert json.loads(recv_exactly(second, length))["files"] == ["a.bin", "b.bin"]


# -- many clients at once ------------------------------------------------------------------------
def test_fifty_concurrent_fetches_of_one_file(serve, root, tmp_path):
    data = os.urandom(2 * BUFFER_SIZE + 99)
    (root / "shared.bin").write_bytes(data)
    expected = hashlib.md5(data).hexdigest()
    running = serve(root)
    results: dict[int, str] = {}
    errors: list[BaseException] = []
    go = threading.Barrier(50, timeout=WAIT_S)

    def fetch(i: int) -> None:
        folder = tmp_path / f"client{i}"
        folder.mkdir()
        client = FetchClient("127.0.0.1", running.addr.port, folder, timeout=WAIT_S * 2)
        try:
            client.connect()
            go.wait()
            result = client.fetch("shared.bin")
            results[i] = md5_of(result.path) if result.verified else "not verified"
        except BaseException as exc:
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=fetch, args=(i,), daemon=True) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S * 4)
    assert not any(t.is_alive() for t in threads), "a fetch did not finish"
    assert errors == []
    assert results == dict.fromkeys(range(50), expected)
    assert len(running.log.wait_for(Connected, 50)) == 50
    assert len(running.log.wait_for(Closed, 50)) == 50


def test_the_server_stops_while_a_client_is_connected(make_client, root, dest):
    """join() must not wait for an idle client's idle timeout (60 s)."""
    (root / "a.txt").write_bytes(b"a")
    server = FileServer(root, "127.0.0.1", 0)
    log = EventLog()
    port = server.bind().port
    thread = server.start_thread(log.sink)
    try:
        client = make_client(port, dest)
        client.connect()
        client.fetch("a.txt")
        log.wait_for(Connected)
    finally:
        started = time.monotonic()
        server.join(WAIT_S)
    assert not thread.is_alive() and time.monotonic() - started < 3.0
    closed = log.wait_for(Closed)
    assert closed[0].peer


def test_closing_the_client_sends_q_and_the_server_ends_the_session(serve, make_client, root, dest):
    (root / "e.txt").write_bytes(b"evented")
    running = serve(root)
    client = make_client(running.addr.port, dest)
    client.connect()
    client.fetch("e.txt")
    client.close()
    closed = running.log.wait_for(Closed)
    assert (closed[0].reason, closed[0].error) == (CloseReason.LOCAL, None)
    assert len(running.log.of(Connected)) == 1

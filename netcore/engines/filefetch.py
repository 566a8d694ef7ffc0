"""File fetch: the course's framed file protocol, verified, fast and safe.

Wire protocol (compatible with the course's programs): the client sends a file name as UTF-8 in one
``send()`` (our server also accepts names ended by ``\\n``; ``q`` ends the session, ``?`` lists the
files); the server answers with a 4-byte header length, a UTF-8 JSON header
(``file_name`` = the stem, ``file_type`` = the extension, ``file_hex`` = md5, ``data_all`` = body
size; ``error`` when it cannot serve), then exactly ``data_all`` bytes; ``netcore.protocols.filehdr``
encodes and decodes it. The course packs the length with ``struct.pack('i', n)`` (little-endian on
common machines); we send ``!I`` unless asked for ``<i``, and the client detects either.
Only the files of the served folder itself are served, exactly those ``?`` lists.

The md5 comes in the header, before the body, so a large file is hashed before its header can go.
Meanwhile, in Socket Lab's ``!I`` mode, the server sends progress headers
``{"hashing": {"done": bytes hashed, "size": file size}}`` (without ``data_all``: no client can take
one for a file) until the real header; in the course's ``<i`` mode only the header's length goes
early, so the course's client reads exactly what it expects. A request, its body included, must end
within the client's ``deadline``.

An optional shared key (Socket Lab's own, of at least 16 bytes) makes both sides prove it before any
request: the server sends a header ``{"nonce": 32 bytes in hex}``; the client answers with its own
32-byte nonce and HMAC-SHA256(key, b"client" + server nonce + client nonce); the server replies
``{"proof": HMAC-SHA256(key, b"server" + server nonce + client nonce)}`` (or ``{"error": ...}``), and
the client goes on only if that proof is right. Every request then starts with 64 hex digits,
HMAC-SHA256(HMAC-SHA256(key, b"session" + both nonces), its 8-byte sequence number + the name), and
ends with ``\n``: a relay that passed one client's answers on cannot send a request of its own. The
server refuses an address for ``KEY_LOCKOUT_S`` after ``KEY_FAILURES`` wrong keys in ``KEY_WINDOW_S``.
The client saves a file under the requested name (``saved_name``), never the header's.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import hmac
import math
import mmap
import os
import queue
import secrets
import shutil
import socket
import stat
import tempfile
import threading
import time
import unicodedata
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Final

from netcore.engines.serving import ReplyMode, ServerEngine
from netcore.errors import (
    BadDestination,
    CannotSave,
    CannotWrite,
    FetchCancelled,
    FetchRefused,
    FetchTooSlow,
    FileAlreadyExists,
    FileAppeared,
    InputError,
    InternalError,
    KeyRefused,
    KeyTooShort,
    LocalProtocolError,
    NotEnoughSpace,
    ProtocolError,
    RemoteProtocolError,
    ServerNotProven,
    ServerStillHashing,
    SocketLabError,
    TimedOut,
    TooManyKeyGuesses,
    format_endpoint,
    from_os_error,
)
from netcore.io.loop import READ, WRITE, Cancelled, Engine, Timer, connect_nonblocking
from netcore.io.platform import (
    HAS_SENDFILE,
    SENDFILE_UNSUPPORTED,
    OutsideFolder,
    open_in_folder,
    peer_state,
    send_file_part,
    windows_name_problem,
)
from netcore.io.resolve import resolve
from netcore.io.stream import endpoint_of
from netcore.model.events import (
    Closed,
    CloseReason,
    Connected,
    Failed,
    FetchFinished,
    FetchHeader,
    FetchProgress,
    FetchStatus,
    FilesListed,
    FramesDecoded,
    Traffic,
)
from netcore.model.fetch import HASHING, WAITING_FOR_HEADER, FetchResult
from netcore.model.traffic import Direction, make_chunk
from netcore.protocols import filehdr
from netcore.protocols.framing import Frame

LENGTH_FORMATS: Final = filehdr.LENGTH_FORMATS
MAX_NAME_BYTES: Final = 255
NONCE_SIZE: Final = 32
MIN_KEY_BYTES: Final = 16
TAG_SIZE: Final = 64  # the hex digits of a request's HMAC
KEY_FAILURES: Final = 5  # wrong keys from one address within KEY_WINDOW_S lock it out
KEY_WINDOW_S: Final = 60.0
KEY_LOCKOUT_S: Final = 60.0
BUFFER_SIZE: Final = 1024 * 1024
PREVIEW_BYTES: Final = 4096  # the first body bytes the client reports, for the hexdump
LIST_CACHE_S: Final = 1.0  # the longest a file list is reused while the folder's mtime is unchanged
MAX_PIPELINED: Final = 64  # requests a client may send before reading the replies
IDLE_TIMEOUT_S: Final = 60.0  # the server closes a client that sends no (whole) request for this long
HASH_SLICE: Final = BUFFER_SIZE  # what the server hashes for one client before the next one's turn
SEND_ROUND: Final = 4 * BUFFER_SIZE  # the most of one body the server sends before the next client's turn
READ_BLOCK: Final = 256 * 1024  # without sendfile: the body is read and sent in blocks of this size
OUT_QUEUE: Final = 64 * 1024  # queued reply headers beyond which a client's next request waits
PROGRESS_S: Final = 0.5  # Socket Lab mode: how often a client waiting for a hash hears how far it is
FETCH_DEADLINE_S: Final = 600.0  # the longest one request may take in all, its reply's body included
HEADER_NOTICE_S: Final = 0.5  # a header's length with no header this long after: "waiting for it"


# -- names -------------------------------------------------------------------------------------
def server_name(header: Mapping[str, Any], requested: str) -> str:
    """The name the server gives the file: its ``file_name`` (else *requested*) joined with its
    ``file_type``, checked by ``safe_file_name``. Information only: ``saved_name`` is what is saved."""
    name, kind = header.get("file_name", requested), header.get("file_type", "")
    if not isinstance(name, str) or not name:
        raise RemoteProtocolError(f"the header's 'file_name' must be a non-empty string, not {name!r}")
    if not isinstance(kind, str):
        raise RemoteProtocolError(f"the header's 'file_type' must be a string, not {kind!r}")
    return safe_file_name(filehdr.whole_name(name, kind))


def saved_name(requested: str, served: str | None = None) -> str:
    """The name a fetch of *requested* saves under: the user's name (its last path component), never
    the server's. Only a requested name with no extension, such as the course's bare ``hello``, gets
    the extension of the server's name *served* (``hello.png``), and only one of letters and digits.
    A dot name is saved only when the user asked for one; ``InputError`` for a name no system can hold."""
    name = requested.replace("\\", "/").rsplit("/", 1)[-1]
    extension = PurePosixPath(served or "").suffix[1:]
    if not PurePosixPath(name).suffix and extension.isalnum():
        name = f"{name}.{extension}"
    return safe_file_name(name, "the requested file name", InputError)


def safe_file_name(
    name: str,
    what: str = "the header's file name",
    error: Callable[[str], SocketLabError] = RemoteProtocolError,
) -> str:
    """*name* (*what* it is, for the message) as a plain name we can create in the destination folder,
    and that is a valid name on Windows too (a file fetched here may be opened there); else *error*."""
    if not _is_utf8(name):  # a JSON escape such as "\udcff" decodes to a lone surrogate
        raise error(f"{what} {name!r} is not valid Unicode text")
    if (
        "\0" in name
        or "/" in name
        or "\\" in name
        or name in (".", "..")
        or len(name.encode()) > MAX_NAME_BYTES
    ):
        raise error(f"{what} {name!r} would escape the destination folder")
    problem = windows_name_problem(name) or _format_character(name)
    if problem:
        raise error(f"{what} {name!r} is refused: {problem}")
    return name


def _format_character(name: str) -> str | None:
    """What is wrong with the first invisible format character (Unicode category Cf) in *name*."""
    char = next((c for c in name if unicodedata.category(c) == "Cf"), None)
    if char is None:
        return None
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return f"the name contains U+{ord(char):04X}, a bidirectional control that can disguise its extension"
    return f"the name contains U+{ord(char):04X}, an invisible format character"


# -- the shared key ----------------------------------------------------------------------------
def check_key(key: bytes | None) -> bytes | None:
    """*key* if it is None or long enough, else ``KeyTooShort``."""
    if key is not None and len(key) < MIN_KEY_BYTES:
        raise KeyTooShort(size=len(key), minimum=MIN_KEY_BYTES)
    return key


def key_proof(key: bytes, side: bytes, server_nonce: bytes, client_nonce: bytes) -> bytes:
    """What *side* (b"client" or b"server") sends to prove it knows *key*."""
    return hmac.new(key, side + server_nonce + client_nonce, hashlib.sha256).digest()


def session_key(key: bytes, server_nonce: bytes, client_nonce: bytes) -> bytes:
    return key_proof(key, b"session", server_nonce, client_nonce)


def request_tag(session: bytes, seq: int, name: bytes) -> bytes:
    """The 64 hex digits that start request number *seq* (from 0) of a keyed session."""
    return hmac.new(session, seq.to_bytes(8, "big") + name, hashlib.sha256).hexdigest().encode()


class KeyGuard:
    """Wrong keys per peer address (thread-safe): after *failures* within *window* seconds, that
    address's attempts are refused for *lockout* seconds, and counted. It remembers *peers* addresses."""

    def __init__(
        self,
        failures: int = KEY_FAILURES,
        window: float = KEY_WINDOW_S,
        lockout: float = KEY_LOCKOUT_S,
        peers: int = 4096,
    ) -> None:
        self.failures, self.window, self.lockout, self.peers = failures, window, lockout, peers
        self.refused = 0
        self._recent: OrderedDict[str, list[float]] = OrderedDict()
        self._locked: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def locked_for(self, host: str, now: float) -> float:
        """Seconds *host* stays locked out (counted as a refused attempt), or 0."""
        with self._lock:
            left = self._locked.get(host, now) - now
            if left > 0:
                self.refused += 1
                return left
            self._locked.pop(host, None)
            return 0.0

    def failed(self, host: str, now: float) -> None:
        with self._lock:
            times = [t for t in self._recent.pop(host, []) if now - t < self.window] + [now]
            if len(times) >= self.failures:
                self._locked[host] = now + self.lockout
                self._locked.move_to_end(host)
            else:
                self._recent[host] = times
            for table in (self._recent, self._locked):
                while len(table) > self.peers:
                    table.popitem(last=False)


# -- server ------------------------------------------------------------------------------------
class Md5Cache:
    """md5 of files by (device, inode, size, mtime, ctime): a second fetch does not hash again.

    The ctime counts: a same-size rewrite whose mtime was put back (``cp -p``, ``rsync -t``,
    ``os.utime``) still changes it, so a rewritten file is never served with its old md5."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[int, int, int, int, int], str] = {}

    @staticmethod
    def _key(st: os.stat_result) -> tuple[int, int, int, int, int]:
        return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns

    def cached(self, st: os.stat_result) -> str | None:
        """The md5 of the file whose ``os.fstat`` is *st*, if known."""
        with self._lock:
            return self._cache.get(self._key(st))

    def store(self, st: os.stat_result, md5: str) -> None:
        """Remember *md5* for the file whose ``os.fstat`` is *st*."""
        with self._lock:
            self._cache[self._key(st)] = md5

    def md5(self, f: BinaryIO, st: os.stat_result) -> str:
        """The md5 of the first ``st.st_size`` bytes of the open file *f*, whose ``os.fstat`` is
        *st*, all at once (the server hashes a large file in slices instead: ``store`` keeps it)."""
        key = self._key(st)
        cached = self.cached(st)
        if cached is not None:
            return cached
        digest = hashlib.md5()
        f.seek(0)
        left = st.st_size
        while left > 0 and (block := f.read(min(BUFFER_SIZE, left))):
            digest.update(block)
            left -= len(block)
        if left:
            raise LocalProtocolError(f"the file shrank by {left:,} bytes while it was hashed")
        value = digest.hexdigest()
        with self._lock:
            self._cache[key] = value
        return value


class FileServer(ServerEngine):
    """Serves the regular files of one folder (never a path outside it) to many clients at once."""

    def __init__(
        self,
        root: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        length_format: str = "!I",
        key: bytes | None = None,
        reuse_addr: bool = False,
        idle_timeout: float = IDLE_TIMEOUT_S,
        key_guard: KeyGuard | None = None,
    ) -> None:
        check_key(key)
        root_path = Path(root).resolve()
        if not root_path.is_dir():
            raise InputError(f"'{root}' is not a folder: the file server serves the files of one folder")
        if length_format not in LENGTH_FORMATS:
            raise InputError(f"the length format must be '!I' or '<i', not {length_format!r}")
        super().__init__(host, port, ReplyMode.MANUAL, b"", reuse_addr)
        self.root, self.length_format, self.key, self.idle_timeout = (
            root_path,
            length_format,
            key,
            idle_timeout,
        )
        self.md5_cache = Md5Cache()
        self.key_guard = key_guard or KeyGuard()
        self.use_sendfile = HAS_SENDFILE  # else bodies are read and sent in blocks
        self._clients: dict[int, _Client] = {}
        self._hashing: list[_Client] = []  # clients whose file is being hashed, in turn
        self._hash_timer: Timer | None = None
        self._sweep: Timer | None = None  # the one timer that closes clients past their deadline
        self._list_cache: tuple[tuple[int, int, int], float, list[str]] | None = None
        self._next_conn = 1
        self._lock = threading.Lock()  # the list cache: list_files() may be called from other threads

    # -- resolving names ------------------------------------------------------------------------
    def list_files(self) -> list[str]:
        """The names a client may fetch: regular files of the folder (symlinks only if they stay inside).

        Only names a request can carry are listed (``requestable``): not one that is not valid UTF-8,
        nor one the request would read otherwise (``q``, ``?``, a new line, spaces at its ends), and
        files in sub-folders are neither listed nor served: the server serves what it lists.
        Made once while the folder is unchanged (its mtime) and at most ``LIST_CACHE_S`` old: a
        client asking '?' thousands of times costs a look-up each, not a walk of the folder each."""
        try:
            st = self.root.stat()
        except OSError:
            return []
        key = (st.st_dev, st.st_ino, st.st_mtime_ns)
        now = time.monotonic()
        with self._lock:
            cached = self._list_cache
        if cached is not None and cached[0] == key and now - cached[1] < LIST_CACHE_S:
            return cached[2]
        names = sorted(p.name for p in self.root.iterdir() if requestable(p.name) and self._inside(p))
        with self._lock:
            self._list_cache = (key, now, names)
        return names

    def _inside(self, path: Path) -> bool:
        try:
            return path.resolve().is_relative_to(self.root) and path.resolve().is_file()
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop, in Python 3.11's resolve()
            return False

    def open_name(self, name: str) -> tuple[BinaryIO, str, os.stat_result] | str:
        """The file a request names, opened once (the caller closes it), with its name and its
        ``os.fstat``; or the reason it is refused (sent back as the header's error). Hashing and
        sending use this one descriptor, so a name swapped after the check changes nothing."""
        if not name:
            return "empty file name"
        if "\0" in name:
            return "the name contains a NUL byte"
        if len(name.encode()) > MAX_NAME_BYTES:
            return f"the name is longer than {MAX_NAME_BYTES} bytes"
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in Path(name).parts:
            return "only names inside the served folder are allowed (no absolute paths, no '..')"
        if "/" in name or "\\" in name:
            return "only the files of the served folder itself are served, not those of its sub-folders"
        if not requestable(name):  # the list leaves such a name out: not served either
            return "a name with spaces at its ends, a new line, or 'q' or '?' alone is not served"
        found = self._open(name, (name,))
        if found is not None:
            return found
        candidates = [
            p for p in self.root.glob(f"{glob_escape(name)}.*") if p.stem == name and requestable(p.name)
        ]
        if len(candidates) == 1:
            found = self._open(name, candidates[0].relative_to(self.root).parts)
        return f"no file named '{name}'" if found is None else found

    def _open(self, name: str, parts: tuple[str, ...]) -> tuple[BinaryIO, str, os.stat_result] | str | None:
        """The regular file *parts* name inside the folder (checked on the opened descriptor), the
        reason it is refused, or None if there is no such file."""
        try:
            fd = open_in_folder(self.root, parts)
        except FileNotFoundError:
            return None
        except (OSError, OutsideFolder) as exc:
            return _refusal(name, exc)
        try:
            st = os.fstat(fd)
        except OSError as exc:
            os.close(fd)
            return _refusal(name, exc)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            return f"'{name}' is not a regular file"
        return open(fd, "rb", buffering=0), parts[-1], st

    # -- the loop -------------------------------------------------------------------------------
    # Every client is served on the engine's one loop: its requests are read when it has nothing
    # pending, a large file is hashed in slices (``HASH_SLICE`` per client per round, all hashing
    # clients in turn), and a reply is sent when the socket is writable (``sendfile`` where the
    # system has it). No thread per client: a client the server cannot serve costs no thread either.
    def on_listener(self, _mask: int) -> None:
        for sock, addr in self.accept_clients():
            # Windows' select() limit: a client being hashed for is not watched now, but will be again
            waiting = 0 if self.loop.room is None else sum(1 for c in self._clients.values() if not c.mask)
            if self.refused_for_room(sock, addr, 1 + waiting):
                continue
            sock.setblocking(False)
            # A reply is a header and then a body, in two writes: with Nagle's algorithm on, the
            # body of a small file waits for the client's delayed ACK (about 40 ms a request).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client = _Client(sock, addr, self._next_conn, self.use_sendfile)
            client.callback = functools.partial(self._on_ready, client)
            self._next_conn += 1
            self._clients[client.conn] = client
            client.deadline = time.monotonic() + self.idle_timeout
            self.emit(Connected(client.conn, str(self.address), client.peer))
            self._guarded(client, self._greet)
        if self._clients and self._sweep is None:
            self._sweep = self.loop.call_later(self._sweep_s, self._check_deadlines)

    def close_connections(self) -> None:
        for client in list(self._clients.values()):
            self._close(client, CloseReason.LOCAL, None)
        if self._sweep is not None:
            self._sweep.cancel()
        if self._hash_timer is not None:
            self._hash_timer.cancel()

    def _guarded(self, client: _Client, step: Callable[[_Client], None]) -> None:
        """Run *step* for *client*; an error of that one client ends its connection, not the server."""
        try:
            step(client)
        except SocketLabError as exc:
            self._close(client, CloseReason.ERROR, exc)
        except OSError as exc:
            reason = CloseReason.RESET if isinstance(exc, ConnectionError) else CloseReason.ERROR
            self._close(
                client, reason, from_os_error(exc, action="serve", host=client.host, port=client.port)
            )
        except Exception as exc:  # a bug: reported, and the other clients are served on
            self._close(client, CloseReason.ERROR, InternalError(f"{type(exc).__name__}: {exc}"))
        else:
            if client.open:
                self._watch(client)

    def _watch(self, client: _Client) -> None:
        """Watch the client for what it waits for now: room to send, or (with nothing to do) a request."""
        if client.closing is not None and not client.out and client.body is None:
            reason, error = client.closing
            self._close(client, reason, error)
            return
        mask = WRITE if client.out or client.body is not None else 0
        if client.reading and client.hashing is None and client.body is None and not client.requests:
            mask |= READ
        if mask != client.mask:
            client.mask = mask
            self.loop.watch(client.sock, mask, client.callback)

    def _on_ready(self, client: _Client, mask: int) -> None:
        if mask & WRITE:
            self._guarded(client, self._pump)
        if mask & READ and client.open:
            self._guarded(client, self._receive)

    def _close(self, client: _Client, reason: CloseReason, error: SocketLabError | None) -> None:
        if not client.open:
            return
        client.open = False
        if client.mask:
            self.loop.forget(client.sock)
        client.sock.close()
        client.drop_work()
        self._clients.pop(client.conn, None)
        self.emit(Closed(client.conn, client.peer, reason, error))

    def _finish(self, client: _Client, reason: CloseReason, error: SocketLabError | None = None) -> None:
        """End the connection once what is queued for it has been sent."""
        client.closing = (reason, error)
        client.reading = False
        client.requests.clear()

    def _report(self, client: _Client, direction: Direction, data: bytes) -> None:
        offset = client.offsets[direction]
        self.emit(Traffic(make_chunk(direction, data, offset, client.conn, client.peer)))
        client.offsets[direction] = offset + len(data)

    def _queue(self, client: _Client, data: bytes) -> None:
        """Send *data* after what is queued (now, as far as the socket takes it)."""
        self._report(client, Direction.SENT, data)
        client.out += data
        if client.body is None:
            self._pump(client)

    def _send_header(self, client: _Client, fields: dict[str, Any]) -> None:
        self._queue(client, filehdr.encode_header({**fields, "data_all": 0}, self.length_format))

    # -- timeouts -------------------------------------------------------------------------------
    @property
    def _sweep_s(self) -> float:
        return max(0.05, min(1.0, self.idle_timeout / 4))

    def _check_deadlines(self) -> None:
        """Close the clients whose deadline has passed (one timer for all clients, not one each)."""
        self._sweep = None
        now = time.monotonic()
        for client in [c for c in self._clients.values() if c.deadline <= now]:
            where: dict[str, Any] = {
                "where": client.peer,
                "host": client.host,
                "port": client.port,
                "timeout": self.idle_timeout,
            }
            if client.out or client.body is not None:
                error = TimedOut(action="send to", detail="the reply made no progress", **where)
            else:
                error = TimedOut(action="wait for a request from", detail="idle too long", **where)
            self._close(client, CloseReason.LOCAL, error)
        if self._clients:
            self._sweep = self.loop.call_later(self._sweep_s, self._check_deadlines)

    # -- receiving ------------------------------------------------------------------------------
    def _greet(self, client: _Client) -> None:
        """A new client: in keyed mode the server's nonce (or the lockout), else wait for requests."""
        if self.key is None:
            client.reading = True
            return
        locked = self.key_guard.locked_for(client.host, time.monotonic())
        if locked:
            error = TooManyKeyGuesses(
                host=client.host,
                failures=self.key_guard.failures,
                window=self.key_guard.window,
                left=locked,
                refused=self.key_guard.refused,
            )
            self._send_header(
                client, {"error": f"too many wrong keys from {client.host}: try again in {locked:.0f} s"}
            )
            self._finish(client, CloseReason.ERROR, error)
            return
        client.nonce = secrets.token_bytes(NONCE_SIZE)
        # the whole answer within the idle timeout, not each byte: a trickle cannot hold the client
        client.keep_deadline = True
        self._send_header(client, {"nonce": client.nonce.hex()})
        client.reading = True

    def _receive(self, client: _Client) -> None:
        want = 2 * NONCE_SIZE - len(client.answer) if client.nonce is not None else 4096
        try:
            data = client.sock.recv(want)
        except (BlockingIOError, InterruptedError):
            return
        if not data:
            if client.nonce is not None:
                raise RemoteProtocolError(
                    f"the connection closed after {len(client.answer)} of {2 * NONCE_SIZE} bytes"
                )
            self._close(client, CloseReason.PEER_CLOSED, None)
            return
        self._report(client, Direction.RECEIVED, data)
        if not client.keep_deadline:
            client.deadline = time.monotonic() + self.idle_timeout
        if client.nonce is not None:
            client.answer += data
            if len(client.answer) == 2 * NONCE_SIZE:
                self._check_answer(client)
            return
        client.pending += data
        if len(client.pending) > 8 * 1024:
            raise RemoteProtocolError("a request longer than 8 KiB: not a file name")
        lines, client.pending = split_lines(client.pending)
        if len(lines) > MAX_PIPELINED:
            raise RemoteProtocolError(
                f"{len(lines):,} requests sent at once: a client may pipeline {MAX_PIPELINED}"
            )
        client.requests.extend(lines)
        self._advance(client)

    def _check_answer(self, client: _Client) -> None:
        """The client's nonce and proof: the server's proof back and a session, or a refusal."""
        assert self.key is not None and client.nonce is not None
        server_nonce, answer = client.nonce, bytes(client.answer)
        client.nonce, client.keep_deadline = None, False
        client_nonce, proof = answer[:NONCE_SIZE], answer[NONCE_SIZE:]
        if not hmac.compare_digest(proof, key_proof(self.key, b"client", server_nonce, client_nonce)):
            self.key_guard.failed(client.host, time.monotonic())
            self._send_header(client, {"error": "wrong key: the HMAC of the challenge does not match"})
            self._finish(client, CloseReason.LOCAL)
            return
        self._send_header(client, {"proof": key_proof(self.key, b"server", server_nonce, client_nonce).hex()})
        client.session = session_key(self.key, server_nonce, client_nonce)

    def _advance(self, client: _Client) -> None:
        """Answer the queued requests in order until one needs time (hashing, a body) or the
        queued output is large enough to wait for the client to read it."""
        while (
            client.requests
            and client.open
            and client.closing is None
            and client.hashing is None
            and client.body is None
            and len(client.out) < OUT_QUEUE
        ):
            line = client.requests.popleft()
            if client.session is not None:
                tag, line = line[:TAG_SIZE], line[TAG_SIZE:]
                if not hmac.compare_digest(tag, request_tag(client.session, client.seq, line)):
                    self._send_header(client, {"error": "the request does not carry this session's key HMAC"})
                    error = RemoteProtocolError(
                        "a keyed request without its session's HMAC (a relayed connection?)"
                    )
                    self._finish(client, CloseReason.ERROR, error)
                    return
                client.seq += 1
            request = decode_name(line)
            if request == "q":
                self._finish(client, CloseReason.LOCAL)
                return
            self._answer(client, request)

    # -- answering ------------------------------------------------------------------------------
    def _answer(self, client: _Client, request: str) -> None:
        if request == "?":
            names = self.list_files()
            try:
                head = filehdr.encode_header(
                    {"files": names, "data_all": 0}, self.length_format, filehdr.MAX_LIST_HEADER
                )
            except LocalProtocolError:
                too_long = f"the list of {len(names):,} names is over {filehdr.MAX_LIST_HEADER:,} bytes"
                head = filehdr.encode_header({"error": too_long, "data_all": 0}, self.length_format)
            self._queue(client, head)
            return
        found = self.open_name(request)
        if isinstance(found, str):
            self._send_header(client, {"file_name": request, "error": found})
            return
        f, name, st = found
        reply = _Reply(
            f, name, st, {**filehdr.name_fields(name), "file_hex": "0" * 32, "data_all": st.st_size}
        )
        md5 = self.md5_cache.cached(st)
        if md5 is None and st.st_size <= HASH_SLICE:
            try:
                md5 = self.md5_cache.md5(f, st)
            except BaseException:
                f.close()
                raise
        if md5 is not None:
            self._send_body(client, reply, md5)
            return
        # Hashing a large file takes a while and the md5 comes before the body: the client hears at
        # once that the server is answering. In Socket Lab's '!I' mode it gets progress headers
        # (``{"hashing": {"done", "size"}}``, no ``data_all``); in the course's '<i' mode only the
        # header's length goes first, so the course's own client reads exactly what it expects.
        client.hashing, reply.digest = reply, hashlib.md5()
        client.deadline = math.inf  # the client waits for us, not we for it
        if self.length_format == "!I":
            self._progress(client, reply)
        else:
            reply.draft = filehdr.encode_header(reply.fields, self.length_format)
            self._queue(client, reply.draft[: filehdr.LENGTH_SIZE])
            reply.sent = filehdr.LENGTH_SIZE
        self._hashing.append(client)
        if self._hash_timer is None:
            self._hash_timer = self.loop.call_later(0, self._hash_round)

    def _progress(self, client: _Client, reply: _Reply) -> None:
        reply.reported = time.monotonic()
        progress = {"hashing": {"done": reply.hashed, "size": reply.st.st_size}}
        self._queue(client, filehdr.encode_header(progress, self.length_format))

    def _hash_round(self) -> None:
        """One slice of every file being hashed, each for its client in turn (then the sockets' turn)."""
        self._hash_timer = None
        for client in self._hashing:
            if client.open and client.hashing is not None:
                self._guarded(client, self._hash_slice)
        self._hashing = [c for c in self._hashing if c.open and c.hashing is not None]
        if self._hashing and self._hash_timer is None and not self.stopping:
            self._hash_timer = self.loop.call_later(0, self._hash_round)

    def _hash_slice(self, client: _Client) -> None:
        reply = client.hashing
        assert reply is not None and reply.digest is not None
        # Stop for a client that has gone. A FIN alone may be a half-close (``nc -N``) whose sender
        # still reads: write to it (the course mode's header bytes up to the md5, or a progress
        # header), and a client that has closed its socket for good answers that with a reset.
        state = peer_state(client.sock)
        if state == "reset":
            raise ConnectionResetError(errno.ECONNRESET, "the client left while its file was hashed")
        if state == "closed" and not reply.poked:
            reply.poked = True
            if reply.draft:
                end = reply.draft.rindex(b'"' + b"0" * 32 + b'"') + 1  # up to the md5's value
                self._queue(client, reply.draft[reply.sent : end])
                reply.sent = end
            else:
                self._progress(client, reply)
        left = reply.st.st_size - reply.hashed
        block = reply.f.read(min(HASH_SLICE, left))
        if not block:
            raise LocalProtocolError(f"the file shrank by {left:,} bytes while it was hashed")
        reply.digest.update(block)
        reply.hashed += len(block)
        if reply.hashed < reply.st.st_size:
            if not reply.draft and not client.out and time.monotonic() - reply.reported >= PROGRESS_S:
                self._progress(client, reply)
            return
        md5 = reply.digest.hexdigest()
        self.md5_cache.store(reply.st, md5)
        client.hashing = None
        client.deadline = time.monotonic() + self.idle_timeout
        self._send_body(client, reply, md5)

    def _send_body(self, client: _Client, reply: _Reply, md5: str) -> None:
        """The header (what the course mode sent early left out), then the body from the one descriptor."""
        reply.f.seek(0)
        client.body = reply  # first: the next request waits until the body is out
        head = filehdr.encode_header({**reply.fields, "file_hex": md5}, self.length_format)
        self._queue(client, head[reply.sent :])
        self._pump(client)

    def _pump(self, client: _Client) -> None:
        """Send what the socket takes now: queued headers, then the body, at most ``SEND_ROUND``
        bytes of it a round (other clients' turn next); the next request once the body is out."""
        sent = 0
        while client.out:
            try:
                n = client.sock.send(client.out)
            except (BlockingIOError, InterruptedError):
                return
            del client.out[:n]
            sent += n
        reply = client.body
        while reply is not None and sent < SEND_ROUND:
            left = reply.st.st_size - reply.offset
            if left == 0:
                reply.f.close()
                client.body = None
                break
            part = client.send_body(reply, left)
            if part is None:  # the socket is full
                break
            if part == 0:
                raise LocalProtocolError(
                    f"sent {reply.offset:,} of {reply.st.st_size:,} bytes of '{reply.name}': the file shrank"
                )
            reply.offset += part
            client.offsets[Direction.SENT] += part
            sent += part
        if sent:
            client.deadline = time.monotonic() + self.idle_timeout
        if client.body is None and client.hashing is None:
            self._advance(client)


class _Reply:
    """One file being answered: its open descriptor, its header fields, and how far hashing
    (``hashed``) and sending (``offset``) have come."""

    __slots__ = (
        "digest",
        "draft",
        "f",
        "fields",
        "hashed",
        "name",
        "offset",
        "poked",
        "reported",
        "sent",
        "st",
    )

    def __init__(self, f: BinaryIO, name: str, st: os.stat_result, fields: dict[str, Any]) -> None:
        self.f, self.name, self.st, self.fields = f, name, st, fields
        self.digest: Any = None  # the md5 being computed, while hashing
        self.draft = b""  # course mode: the header with a placeholder md5, of which `sent` bytes went early
        self.sent = 0
        self.hashed = self.offset = 0
        self.reported = 0.0  # when the last progress header was sent
        self.poked = False  # the client half-closed while hashing and was written to


class _Client:
    """One connection of the file server and what it is doing: reading requests, hashing, sending."""

    def __init__(self, sock: socket.socket, addr: Any, conn: int, use_sendfile: bool) -> None:
        self.sock, self.conn, self.use_sendfile = sock, conn, use_sendfile
        self.peer, self.host, self.port = endpoint_of(addr), str(addr[0]), int(addr[1])
        self.offsets = {Direction.SENT: 0, Direction.RECEIVED: 0}
        self.open, self.reading, self.mask = True, False, 0
        self.deadline, self.keep_deadline = math.inf, False
        self.closing: tuple[CloseReason, SocketLabError | None] | None = None
        self.nonce: bytes | None = None  # keyed mode: the server's nonce, until the client answers
        self.answer = bytearray()
        self.session: bytes | None = None
        self.seq = 0
        self.pending = b""  # the start of a request not yet ended
        self.requests: deque[bytes] = deque()
        self.out = bytearray()  # header bytes not yet sent
        self.hashing: _Reply | None = None
        self.body: _Reply | None = None
        self.unsent = memoryview(b"")  # without sendfile: the part of the last block read not yet sent
        self.callback: Callable[[int], None] = lambda _mask: None

    def send_body(self, reply: _Reply, left: int) -> int | None:
        """Send the next bytes of the body: the count (0 at the file's end), None if the socket is full."""
        if self.use_sendfile:
            try:
                return send_file_part(self.sock, reply.f.fileno(), reply.offset, min(left, SEND_ROUND))
            except (BlockingIOError, InterruptedError):
                return None
            except OSError as exc:
                if exc.errno not in SENDFILE_UNSUPPORTED or reply.offset:
                    raise
                self.use_sendfile = False  # e.g. a file system without sendfile: read and send
        if not self.unsent:
            self.unsent = memoryview(reply.f.read(min(left, READ_BLOCK)))
            if not self.unsent:
                return 0
        try:
            n = self.sock.send(self.unsent)
        except (BlockingIOError, InterruptedError):
            return None
        self.unsent = self.unsent[n:]
        return n

    def drop_work(self) -> None:
        """Close the files this client's replies hold."""
        for reply in (self.hashing, self.body):
            if reply is not None:
                reply.f.close()
        self.hashing = self.body = None
        self.requests.clear()
        self.out.clear()


def _refusal(name: str, exc: OSError | OutsideFolder) -> str:
    """Why the file a request names cannot be opened, as the header's error says it."""
    if isinstance(exc, OutsideFolder):
        return "the name leads outside the served folder"
    if exc.errno == errno.ELOOP:
        return f"cannot follow '{name}': a loop of symbolic links"
    return f"cannot read '{name}': {exc.strerror}"


def requestable(name: str) -> bool:
    """Whether a request can name the file *name* of the served folder, as ``decode_name`` and
    ``split_lines`` read requests: the server lists only these."""
    return (
        _is_utf8(name)
        and name == name.strip()
        and name not in ("q", "?")
        and not any(c in name for c in "\n\r\\/\0")
        and len(name.encode()) <= MAX_NAME_BYTES
    )


def _is_utf8(name: str) -> bool:
    """False for a file name whose bytes are not UTF-8 (Python shows them as lone surrogates)."""
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def split_lines(pending: bytes) -> tuple[list[bytes], bytes]:
    """Requests in what arrived (not yet decoded: ``decode_name``) and what is left: non-blank lines
    ended by \\n, or — the course's way — the whole of a recv()."""
    if b"\n" in pending:
        *lines, rest = pending.split(b"\n")
        return [line.rstrip(b"\r") for line in lines if line.strip()], rest
    return [pending], b""


def decode_name(raw: bytes) -> str:
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise RemoteProtocolError("the requested file name is not valid UTF-8") from None


# -- client ------------------------------------------------------------------------------------
class FetchClient(Engine):
    """Lists or fetches files from a file server.

    A file is saved under the name the user asked for (``saved_name``), never one the server chooses;
    the server's name is only reported (``FetchResult.server_name``).
    A fetched body is streamed to a temporary file in the destination folder while another thread
    hashes and writes the previous buffer; only when size and md5 match is it renamed (atomically,
    never over an existing file unless *overwrite*). Any failure or a cancel leaves no file behind.
    For the GUI's worker, ``run`` does one job: list (``names`` empty) or fetch each of ``names``.
    """

    def __init__(
        self,
        host: str,
        port: int,
        dest: str | Path = ".",
        length_format: str = "auto",
        key: bytes | None = None,
        timeout: float = 5.0,
        overwrite: bool = False,
        names: tuple[str, ...] = (),
        deadline: float = FETCH_DEADLINE_S,
    ) -> None:
        if not deadline > 0:
            raise InputError(f"a fetch's deadline must be above 0 s, not {deadline:g}")
        if length_format not in ("auto", *LENGTH_FORMATS):
            raise InputError(f"the length format must be auto, '!I' or '<i', not {length_format!r}")
        check_key(key)
        super().__init__()
        self.host, self.port, self.dest = host, port, Path(dest)
        self.length_format, self.key, self.timeout, self.overwrite = length_format, key, timeout, overwrite
        self.names = names
        self.sock: socket.socket | None = None
        self.peer = ""
        self._offsets = {Direction.SENT: 0, Direction.RECEIVED: 0}
        self._frames = 0
        self._session: bytes | None = None
        self._seq = 0
        self.deadline = deadline  # seconds a request may take in all, its reply's body included
        self._deadline_at = math.inf
        self._request: tuple[str, int] = ("", 0)  # the name being fetched, and the offset its reply starts at
        self.on_status: Callable[[FetchStatus], None] | None = None  # e.g. the CLI's printer

    # -- connection -----------------------------------------------------------------------------
    def connect(self) -> None:
        """Connect on the engine's loop (``stop()`` cancels at once), then prove the key both ways.
        The transfer itself uses blocking calls with a timeout, which ``stop()`` wakes by shutting
        the socket down."""
        infos = resolve(self.host, self.port, socket.SOCK_STREAM, "connect to")[:1]
        try:
            sock = connect_nonblocking(self.loop, infos, time.monotonic() + self.timeout, "connecting")
        except Cancelled:
            self._check_cancelled()
            raise
        except OSError as exc:
            raise from_os_error(
                exc, action="connect to", host=self.host, port=self.port, timeout=self.timeout
            ) from None
        sock.settimeout(self.timeout)
        self.sock, self.peer = sock, endpoint_of(sock.getpeername())
        self.emit(Connected(1, endpoint_of(sock.getsockname()), self.peer))
        if self.key is not None:
            self._session = self._prove(self.key)

    def _prove(self, key: bytes) -> bytes:
        """Answer the server's nonce with ours and our proof; the session key once the server has
        proved it knows the key too, else ``ServerNotProven`` and nothing is requested."""
        server_nonce = self._handshake("nonce")
        client_nonce = secrets.token_bytes(NONCE_SIZE)
        self._send(client_nonce + key_proof(key, b"client", server_nonce, client_nonce))
        proof = self._handshake("proof")
        if not hmac.compare_digest(proof, key_proof(key, b"server", server_nonce, client_nonce)):
            self._abandon()
            raise ServerNotProven(host=self.host, port=self.port)
        return session_key(key, server_nonce, client_nonce)

    def _handshake(self, field: str) -> bytes:
        """The 32 bytes in hex of the handshake header's *field*, or the server's refusal."""
        header, _ = self._read_header()
        if "error" in header:
            raise KeyRefused("the shared key", str(header["error"]))
        value = header.get(field)
        try:
            raw = bytes.fromhex(value) if isinstance(value, str) else b""
        except ValueError:
            raw = b""
        if len(raw) != NONCE_SIZE:
            raise RemoteProtocolError(f"the key handshake has no '{field}' of {NONCE_SIZE} bytes in hex")
        return raw

    def _wire(self, name: bytes) -> bytes:
        """A request as sent: in a keyed session, its HMAC first and a new line after."""
        if self._session is None:
            return name
        self._seq += 1
        return request_tag(self._session, self._seq - 1, name) + name + b"\n"

    def stop(self) -> None:
        """Cancel (thread-safe): a transfer in progress ends at once and leaves no file."""
        super().stop()
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.sendall(self._wire(b"q"))
            self.sock.close()
            self.sock = None
        self.loop.close()

    def _abandon(self) -> None:
        """After a failed fetch the stream is out of step (an unread body): drop the connection."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _send(self, data: bytes) -> None:
        assert self.sock is not None
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise self._os_error(exc, "send to") from None
        self._report(Direction.SENT, data)

    def _os_error(self, exc: OSError, action: str) -> SocketLabError:
        """An OSError of the connection as a NetError with a hint, or 'cancelled' after ``stop()``.

        The connection is dropped: after a timeout a late reply would be read as the next one's."""
        self._abandon()
        self._check_cancelled()
        return from_os_error(exc, action=action, host=self.host, port=self.port, timeout=self.timeout)

    def _report(self, direction: Direction, data: bytes) -> None:
        self.emit(Traffic(make_chunk(direction, data, self._offsets[direction], 1, self.peer)))
        self._offsets[direction] += len(data)

    def _recv_exactly(self, size: int) -> bytes:
        buf = bytearray()
        while len(buf) < size:
            piece = bytearray(size - len(buf))
            n = self._recv_into(memoryview(piece), len(piece))
            if not n:
                self._check_cancelled()
                raise RemoteProtocolError(
                    f"the server closed the connection after {len(buf)} of {size} bytes "
                    "(a wrong key, or not a file server?)"
                )
            self._report(Direction.RECEIVED, bytes(piece[:n]))
            buf += piece[:n]
        return bytes(buf)

    def _recv_into(self, view: memoryview, count: int) -> int:
        """One ``recv_into``, waiting at most the timeout and never past the request's deadline."""
        sock = self.sock
        assert sock is not None
        left = self._deadline_at - time.monotonic()
        if left <= 0:
            raise self._too_slow()
        limited = left < self.timeout  # the socket's own timeout is the timeout: changed only now
        if limited:
            sock.settimeout(left)
        try:
            return sock.recv_into(view, count)
        except TimeoutError as exc:
            if limited:
                raise self._too_slow() from None
            raise self._os_error(exc, "receive from") from None
        except OSError as exc:
            raise self._os_error(exc, "receive from") from None
        finally:
            if limited and self.sock is not None:
                sock.settimeout(self.timeout)

    def _too_slow(self) -> FetchTooSlow:
        self._abandon()
        name, start = self._request
        return FetchTooSlow(
            action="fetch from",
            where=format_endpoint(self.host, self.port),
            detail="",
            host=self.host,
            port=self.port,
            timeout=self.timeout,
            name=name,
            deadline=self.deadline,
            received=self._offsets[Direction.RECEIVED] - start,
        )

    def _status(self, template: str, **params: Any) -> None:
        """Say what the fetch waits for (an event, and ``on_status``)."""
        status = FetchStatus(self._request[0], template, {"name": self._request[0], **params})
        self.emit(status)
        self.flush()
        if self.on_status is not None:
            self.on_status(status)

    def _check_cancelled(self) -> None:
        if self.stopping:
            raise FetchCancelled()

    def _slow_header(self) -> bool:
        """After a header's length: True (reported) if the rest does not follow within a moment,
        as from a server in the course's mode that hashes a large file first."""
        sock = self.sock
        assert sock is not None
        sock.settimeout(min(HEADER_NOTICE_S, self.timeout))
        try:
            sock.recv(1, socket.MSG_PEEK)  # left for the read that follows
        except TimeoutError:
            self._status(WAITING_FOR_HEADER)
            return True
        except OSError:
            pass  # the read that follows reports it
        finally:
            sock.settimeout(self.timeout)
        return False

    # -- requests -------------------------------------------------------------------------------
    def request(self, name: str, max_header: int = filehdr.MAX_HEADER) -> tuple[dict[str, Any], str]:
        """Send one request and read the reply header (at most *max_header* bytes); returns it and
        the length format it used. The request, its body included, must end within ``deadline``."""
        if not name or "\n" in name:
            raise InputError("a file name cannot be empty or contain a new line (it ends a request)")
        self._deadline_at = time.monotonic() + self.deadline
        self._request = (name, self._offsets[Direction.RECEIVED])
        self._send(self._wire(name.encode()))
        header, fmt = self._read_header(max_header, waiting=name != "?")
        if name != "?":
            self.emit(FetchHeader(name, header))
        if "error" in header:
            reason = str(header["error"])
            raise (KeyRefused if "key" in reason else FetchRefused)(name, reason)
        if "nonce" in header:
            raise KeyRefused(name, "the server asks for a shared key")
        return header, fmt

    def _read_header(
        self, max_header: int = filehdr.MAX_HEADER, waiting: bool = False
    ) -> tuple[dict[str, Any], str]:
        """Read one reply header (reported as frames); returns it and the length format it used.

        Before the header of a large file our server may say how far it has hashed it: in Socket
        Lab's mode with progress headers (``{"hashing": {"done", "size"}}``, no ``data_all``), in the
        course's mode by sending the header's length alone. *waiting* (a file request): either is
        reported as a ``FetchStatus``; a timeout after it is ``ServerStillHashing``."""
        hashing = False
        while True:
            start = self._offsets[Direction.RECEIVED]
            try:
                prefix = self._recv_exactly(filehdr.LENGTH_SIZE)
                raw, fmt = b"", self.length_format
                hashing = hashing or bool(self.sock is not None and waiting and self._slow_header())
                if fmt == "auto":
                    raw = self._recv_exactly(filehdr.detection_bytes(prefix, max_header))
                    fmt = filehdr.detect_length_format(prefix, raw, max_header)
                length = filehdr.header_length(prefix, fmt, max_header)
                raw += self._recv_exactly(length - len(raw))
            except FetchTooSlow:
                raise
            except TimedOut as exc:
                if not hashing:
                    raise
                raise ServerStillHashing(**{k: v for k, v in exc.params.items() if k != "errno"}) from None
            value = filehdr.decode_json_header(raw)
            progress = value.get("hashing") if "data_all" not in value else None
            if not isinstance(progress, dict):
                break
            end = start + filehdr.LENGTH_SIZE + length
            frame = Frame(self._frames, raw, start, start + filehdr.LENGTH_SIZE, end, end)
            self.emit(FramesDecoded(1, Direction.RECEIVED, (frame,)))
            self._frames += 1
            done, size = progress.get("done"), progress.get("size")
            if waiting and isinstance(done, int) and isinstance(size, int) and 0 <= done <= size:
                self._status(HASHING, percent=100 * done / size if size else 100.0, size=size)
            hashing = True
        header = filehdr.decode_header(raw)
        body = start + filehdr.LENGTH_SIZE + length
        size = int(header["data_all"])
        self.emit(
            FramesDecoded(
                1,
                Direction.RECEIVED,
                (  # length | header, then the body
                    Frame(self._frames, raw, start, start + filehdr.LENGTH_SIZE, body, body),
                    Frame(self._frames + 1, b"", body, body, body + size, body + size),
                ),
            )
        )
        self._frames += 2
        return header, fmt

    def list_files(self) -> list[str]:
        """The server's file list, up to ``MAX_LIST_HEADER`` (4 MiB) of names."""
        header, _ = self.request("?", filehdr.MAX_LIST_HEADER)
        files = header.get("files")
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise RemoteProtocolError("the server's list reply has no 'files' list of names")
        return files

    def fetch(self, name: str, on_progress: Callable[[int, int], None] | None = None) -> FetchResult:
        """Fetch one file into the destination folder; see the class docstring for the guarantees."""
        started = time.perf_counter()
        header, fmt = self.request(name)
        try:
            size = int(header["data_all"])
            served = server_name(header, name)
            final = self.dest / saved_name(name, served)
            if final.exists() and not self.overwrite:
                raise FileAlreadyExists(final.name, str(self.dest))
            free = shutil.disk_usage(self.dest).free
            if size > free:
                raise NotEnoughSpace(final.name, str(self.dest), size, free)
            fd, tmp_name = _temp_file(self.dest, final.name)
        except OSError as exc:  # no such folder, not writable, ...
            self._abandon()
            raise BadDestination(str(self.dest), str(exc.strerror or exc)) from None
        except BaseException:
            self._abandon()
            raise
        tmp = Path(tmp_name)
        try:
            digest = self._receive_body(fd, size, on_progress)
            expected = header.get("file_hex")
            got = digest.hexdigest()
            if isinstance(expected, str) and expected.lower() != got:
                raise RemoteProtocolError(f"md5 mismatch for '{final.name}': expected {expected}, got {got}")
            try:
                _publish(tmp, final, self.overwrite)
            except OSError as exc:  # e.g. overwriting is allowed but that name is a folder
                raise CannotSave(final.name, str(self.dest), str(exc.strerror or exc)) from None
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            self._abandon()
            raise
        return FetchResult(
            final.name,
            final,
            size,
            got,
            isinstance(expected, str),
            time.perf_counter() - started,
            header,
            fmt,
            served,
        )

    def _receive_body(self, fd: int, size: int, on_progress: Callable[[int, int], None] | None) -> Any:
        """recv_into reused page-aligned buffers; a writer thread hashes and writes the full ones."""
        assert self.sock is not None
        digest = hashlib.md5()
        free: queue.Queue[mmap.mmap] = queue.Queue()
        for _ in range(3):
            free.put(mmap.mmap(-1, BUFFER_SIZE))
        work: queue.Queue[tuple[mmap.mmap, int] | None] = queue.Queue()
        failure: list[BaseException] = []

        def writer() -> None:
            with os.fdopen(fd, "wb", buffering=0) as out:
                while (item := work.get()) is not None:
                    buf, n = item
                    if not failure:
                        try:
                            with memoryview(buf)[:n] as view:
                                digest.update(view)
                                written = 0  # a write may be short (disk full, RLIMIT_FSIZE): go on
                                while written < n:  # until it raises, never drop the rest silently
                                    written += out.write(view[written:])
                        except OSError as exc:
                            failure.append(exc)
                    free.put(buf)

        thread = threading.Thread(target=writer, name="fetch-writer", daemon=True)
        thread.start()
        received, preview, last_report = 0, 0, 0.0
        try:
            while received < size:
                if failure:
                    break  # the writer failed: reported below as "cannot write", not as a network error
                buf = free.get()
                filled = 0
                with memoryview(buf) as view:
                    while filled < BUFFER_SIZE and received + filled < size:
                        n = self._recv_into(
                            view[filled:], min(BUFFER_SIZE - filled, size - received - filled)
                        )
                        if n == 0:
                            self._check_cancelled()
                            raise RemoteProtocolError(
                                f"the connection closed after {received + filled:,} of {size:,} body bytes"
                            )
                        if preview < PREVIEW_BYTES:
                            self._report(Direction.RECEIVED, bytes(view[filled : filled + n]))
                            preview += n
                        else:
                            self._offsets[Direction.RECEIVED] += n
                        filled += n
                work.put((buf, filled))
                received += filled
                now = time.monotonic()
                if on_progress is not None and (now - last_report >= 0.05 or received == size):
                    on_progress(received, size)
                    last_report = now
        except OSError as exc:
            raise self._os_error(exc, "receive from") from None
        finally:
            work.put(None)
            thread.join()
        if failure:
            problem = failure[0]
            raise CannotWrite(str(problem.strerror if isinstance(problem, OSError) else problem))
        return digest

    # -- the GUI's worker -----------------------------------------------------------------------
    def serve(self) -> None:
        try:
            self.connect()
            if not self.names:
                self.emit(FilesListed(tuple(self.list_files())))
            for name in self.names:

                def progress(done: int, total: int, name: str = name) -> None:
                    self.emit(FetchProgress(name, done, total))
                    self.flush()

                self.emit(FetchFinished(self.fetch(name, progress)))
                self.flush()
        except (SocketLabError, OSError) as exc:
            error = (
                exc
                if isinstance(exc, SocketLabError)
                else from_os_error(exc, action="fetch from", host=self.host, port=self.port)
            )
            if self.stopping and not isinstance(error, ProtocolError):
                error = FetchCancelled()
            self.emit(Failed(error))


def _temp_file(dest: Path, name: str) -> tuple[int, str]:
    # at most 100 bytes of the name: ".NAME.xxxxxxxx.part" must fit the 255-byte limit too
    short = name.encode()[:100].decode("utf-8", "ignore")
    return tempfile.mkstemp(prefix=f".{short}.", suffix=".part", dir=dest)


def _publish(tmp: Path, final: Path, overwrite: bool) -> None:
    """Give the verified temporary file its name atomically, never over an existing file unless
    *overwrite* (a hard link fails if the name exists; without links: check, then rename)."""
    if overwrite:
        os.replace(tmp, final)
        return
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise FileAppeared(final.name, str(final.parent)) from None
    except OSError:
        if final.exists():
            raise FileAppeared(final.name, str(final.parent)) from None
        os.rename(tmp, final)
        return
    tmp.unlink()

"""File fetch: the course's framed file protocol, verified, fast and safe.

Wire protocol (compatible with the course's programs): the client sends a file name as UTF-8 in one
``send()`` (our server also accepts names ended by ``\\n``; ``q`` ends the session, ``?`` lists the
files); the server answers with a 4-byte header length, a UTF-8 JSON header
(``file_name`` = the stem, ``file_type`` = the extension, ``file_hex`` = md5, ``data_all`` = body
size; ``error`` when it cannot serve), then exactly ``data_all`` bytes; ``netcore.protocols.filehdr``
encodes and decodes it. The course packs the length with ``struct.pack('i', n)`` (little-endian on
common machines); we send ``!I`` unless asked for ``<i``, and the client detects either.

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
import hashlib
import hmac
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
from collections import OrderedDict
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
    FileAlreadyExists,
    FileAppeared,
    InputError,
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
    from_os_error,
)
from netcore.io.loop import Cancelled, Engine, connect_nonblocking
from netcore.io.platform import OutsideFolder, open_in_folder, peer_state, windows_name_problem
from netcore.io.resolve import resolve
from netcore.io.stream import endpoint_of
from netcore.model.events import (
    Closed,
    CloseReason,
    Connected,
    Failed,
    FetchFinished,
    FetchProgress,
    FilesListed,
    FramesDecoded,
    Traffic,
)
from netcore.model.fetch import FetchResult
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

    def md5(self, f: BinaryIO, st: os.stat_result, cancelled: Callable[[], bool] | None = None) -> str:
        """The md5 of the first ``st.st_size`` bytes of the open file *f*, whose ``os.fstat`` is
        *st*; raises ``Cancelled`` when *cancelled()* turns true (asked every block)."""
        key = self._key(st)
        cached = self.cached(st)
        if cached is not None:
            return cached
        digest = hashlib.md5()
        f.seek(0)
        left = st.st_size
        while left > 0 and (block := f.read(min(BUFFER_SIZE, left))):
            if cancelled is not None and cancelled():
                raise Cancelled("hashing")
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
        self._clients: dict[int, socket.socket] = {}
        self._list_cache: tuple[tuple[int, int, int], float, list[str]] | None = None
        self._threads: list[threading.Thread] = []
        self._next_conn = 1
        self._lock = threading.Lock()

    # -- resolving names ------------------------------------------------------------------------
    def list_files(self) -> list[str]:
        """The names a client may fetch: regular files of the folder (symlinks only if they stay inside).

        A name that is not valid UTF-8 cannot be requested nor sent in a JSON header: it is left out.
        Made once while the folder is unchanged (its mtime) and at most ``LIST_CACHE_S`` old: a client
        asking '?' thousands of times costs a look-up each, not a walk of the folder each."""
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
        names = sorted(p.name for p in self.root.iterdir() if _is_utf8(p.name) and self._inside(p))
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
        found = self._open(name, Path(name).parts)
        if found is not None:
            return found
        candidates = [
            p for p in self.root.glob(f"{glob_escape(name)}.*") if p.stem == name and _is_utf8(p.name)
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

    # -- loop -----------------------------------------------------------------------------------
    # The loop accepts; each client is served by a thread of its own (blocking sendfile of whole
    # files). ``close`` shuts every client socket down, which wakes a thread blocked on it at once.
    def on_listener(self, _mask: int) -> None:
        for sock, addr in self.accept_clients():
            sock.setblocking(True)
            # A reply is a header and then a body, in two writes: with Nagle's algorithm on, the
            # body of a small file waits for the client's delayed ACK (about 40 ms a request).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                conn = self._next_conn
                self._next_conn += 1
                self._clients[conn] = sock
            thread = threading.Thread(target=self._serve, args=(sock, addr, conn), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def close_connections(self) -> None:
        with self._lock:
            for sock in self._clients.values():
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 2.0  # for all of them together, not 2 s each
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _serve(self, sock: socket.socket, addr: Any, conn: int) -> None:
        peer = endpoint_of(addr)
        self.emit(Connected(conn, str(self.address), peer))
        offsets = {Direction.SENT: 0, Direction.RECEIVED: 0}

        def report(direction: Direction, data: bytes) -> None:
            self.emit(Traffic(make_chunk(direction, data, offsets[direction], conn, peer)))
            offsets[direction] += len(data)

        reason, error = CloseReason.PEER_CLOSED, None
        answering = False  # a timeout while answering is a client that stopped taking the reply
        try:
            sock.settimeout(self.idle_timeout)
            session = None if self.key is None else self._authenticate(sock, str(addr[0]), report)
            if self.key is not None and session is None:
                reason = CloseReason.LOCAL
                return
            pending, seq = b"", 0
            while not self.stopping:
                data = sock.recv(4096)
                if not data:
                    return
                report(Direction.RECEIVED, data)
                pending += data
                if len(pending) > 8 * 1024:
                    raise RemoteProtocolError("a request longer than 8 KiB: not a file name")
                lines, pending = split_lines(pending)
                if len(lines) > MAX_PIPELINED:
                    raise RemoteProtocolError(
                        f"{len(lines):,} requests sent at once: a client may pipeline {MAX_PIPELINED}"
                    )
                for line in lines:
                    if session is not None:
                        line = self._verified(sock, session, seq, line, report)
                        seq += 1
                    request = decode_name(line)
                    if request == "q":
                        reason = CloseReason.LOCAL
                        return
                    answering = True
                    self._answer(sock, request, report)
                    answering = False
        except SocketLabError as exc:
            reason, error = CloseReason.ERROR, exc
        except TimeoutError:
            reason = CloseReason.LOCAL
            where: dict[str, Any] = {
                "where": peer,
                "host": str(addr[0]),
                "port": addr[1],
                "timeout": self.idle_timeout,
            }
            if answering:
                error = TimedOut(action="send to", detail="the reply made no progress", **where)
            else:
                error = TimedOut(action="wait for a request from", detail="idle too long", **where)
        except OSError as exc:
            reason = CloseReason.RESET if isinstance(exc, ConnectionError) else CloseReason.ERROR
            error = from_os_error(exc, action="serve", host=str(addr[0]), port=addr[1])
        finally:
            with self._lock:
                self._clients.pop(conn, None)
            sock.close()
            self.emit(Closed(conn, peer, reason, error))

    def _authenticate(
        self, sock: socket.socket, host: str, report: Callable[[Direction, bytes], None]
    ) -> bytes | None:
        """The session key once the client has proved the key and the server has proved it back;
        None after a wrong key; ``TooManyKeyGuesses`` for an address locked out."""
        assert self.key is not None
        locked = self.key_guard.locked_for(host, time.monotonic())
        if locked:
            error = TooManyKeyGuesses(
                host=host,
                failures=self.key_guard.failures,
                window=self.key_guard.window,
                left=locked,
                refused=self.key_guard.refused,
            )
            self._send_header(
                sock, {"error": f"too many wrong keys from {host}: try again in {locked:.0f} s"}, report
            )
            raise error
        server_nonce = secrets.token_bytes(NONCE_SIZE)
        self._send_header(sock, {"nonce": server_nonce.hex()}, report)
        # the whole answer within the idle timeout, not each byte: a trickle cannot hold the thread
        answer = recv_exactly(sock, 2 * NONCE_SIZE, time.monotonic() + self.idle_timeout)
        sock.settimeout(self.idle_timeout)
        report(Direction.RECEIVED, answer)
        client_nonce, proof = answer[:NONCE_SIZE], answer[NONCE_SIZE:]
        if not hmac.compare_digest(proof, key_proof(self.key, b"client", server_nonce, client_nonce)):
            self.key_guard.failed(host, time.monotonic())
            self._send_header(sock, {"error": "wrong key: the HMAC of the challenge does not match"}, report)
            return None
        self._send_header(
            sock, {"proof": key_proof(self.key, b"server", server_nonce, client_nonce).hex()}, report
        )
        return session_key(self.key, server_nonce, client_nonce)

    def _verified(
        self,
        sock: socket.socket,
        session: bytes,
        seq: int,
        line: bytes,
        report: Callable[[Direction, bytes], None],
    ) -> bytes:
        """The name of a keyed request whose HMAC is right; else a refusal and ``RemoteProtocolError``."""
        tag, name = line[:TAG_SIZE], line[TAG_SIZE:]
        if hmac.compare_digest(tag, request_tag(session, seq, name)):
            return name
        self._send_header(sock, {"error": "the request does not carry this session's key HMAC"}, report)
        raise RemoteProtocolError("a keyed request without its session's HMAC (a relayed connection?)")

    def _send_header(
        self, sock: socket.socket, fields: dict[str, Any], report: Callable[[Direction, bytes], None]
    ) -> None:
        head = filehdr.encode_header({**fields, "data_all": 0}, self.length_format)
        sock.sendall(head)
        report(Direction.SENT, head)

    def _answer(self, sock: socket.socket, request: str, report: Callable[[Direction, bytes], None]) -> None:
        if request == "?":
            names = self.list_files()
            try:
                head = filehdr.encode_header(
                    {"files": names, "data_all": 0}, self.length_format, filehdr.MAX_LIST_HEADER
                )
            except LocalProtocolError:
                too_long = f"the list of {len(names):,} names is over {filehdr.MAX_LIST_HEADER:,} bytes"
                head = filehdr.encode_header({"error": too_long, "data_all": 0}, self.length_format)
            sock.sendall(head)
            report(Direction.SENT, head)
            return
        found = self.open_name(request)
        if isinstance(found, str):
            head = filehdr.encode_header(
                {"file_name": request, "error": found, "data_all": 0}, self.length_format
            )
            sock.sendall(head)
            report(Direction.SENT, head)
            return
        f, name, st = found
        with f:
            head = self._header(sock, f, name, st)
            report(Direction.SENT, head)
            sent = sock.sendfile(f, 0, st.st_size) if st.st_size else 0  # sendfile refuses a count of 0
        if sent != st.st_size:
            raise LocalProtocolError(f"sent {sent:,} of {st.st_size:,} bytes of '{name}': the file shrank")

    def _header(self, sock: socket.socket, f: BinaryIO, name: str, st: os.stat_result) -> bytes:
        """Hash the file and send its header; returns the header.

        Hashing a large file takes a while, and the md5 comes in the header, before the body. So the
        header's first 4 bytes (its length: an md5 is always 32 hex digits) go first, and the client
        sees the server answering. Hashing stops when the client has gone: when its end of the
        connection is closed, the header's bytes up to the md5 follow, to which a client that has
        closed (not only half-closed) its socket answers with a reset."""
        fields = {**filehdr.name_fields(name), "file_hex": "0" * 32, "data_all": st.st_size}
        draft = filehdr.encode_header(fields, self.length_format)
        sent = 0
        if st.st_size > BUFFER_SIZE and self.md5_cache.cached(st) is None:
            sock.sendall(draft[: filehdr.LENGTH_SIZE])
            sent = filehdr.LENGTH_SIZE

        def cancelled() -> bool:
            nonlocal sent
            if self.stopping:
                return True
            state = peer_state(sock)
            if state == "closed" and sent == filehdr.LENGTH_SIZE:
                sent = draft.rindex(b'"' + b"0" * 32 + b'"') + 1  # up to the md5's value
                sock.sendall(draft[filehdr.LENGTH_SIZE : sent])
            return state == "reset"

        try:
            md5 = self.md5_cache.md5(f, st, cancelled)
        except Cancelled:
            if self.stopping:
                raise
            raise ConnectionResetError(
                errno.ECONNRESET, "the client left while its file was hashed"
            ) from None
        head = filehdr.encode_header({**fields, "file_hex": md5}, self.length_format)
        sock.sendall(head[sent:])
        return head


def _refusal(name: str, exc: OSError | OutsideFolder) -> str:
    """Why the file a request names cannot be opened, as the header's error says it."""
    if isinstance(exc, OutsideFolder):
        return "the name leads outside the served folder"
    if exc.errno == errno.ELOOP:
        return f"cannot follow '{name}': a loop of symbolic links"
    return f"cannot read '{name}': {exc.strerror}"


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


def recv_exactly(sock: socket.socket, size: int, deadline: float | None = None) -> bytes:
    """*size* bytes, all before *deadline* (a ``time.monotonic()``) if given, else ``TimeoutError``."""
    buf = bytearray()
    while len(buf) < size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out")
            sock.settimeout(left)
        piece = sock.recv(size - len(buf))
        if not piece:
            raise RemoteProtocolError(f"the connection closed after {len(buf)} of {size} bytes")
        buf += piece
    return bytes(buf)


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
    ) -> None:
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
        assert self.sock is not None
        buf = bytearray()
        while len(buf) < size:
            try:
                piece = self.sock.recv(size - len(buf))
            except OSError as exc:
                raise self._os_error(exc, "receive from") from None
            if not piece:
                self._check_cancelled()
                raise RemoteProtocolError(
                    f"the server closed the connection after {len(buf)} of {size} bytes "
                    "(a wrong key, or not a file server?)"
                )
            self._report(Direction.RECEIVED, piece)
            buf += piece
        return bytes(buf)

    def _check_cancelled(self) -> None:
        if self.stopping:
            raise FetchCancelled()

    # -- requests -------------------------------------------------------------------------------
    def request(self, name: str, max_header: int = filehdr.MAX_HEADER) -> tuple[dict[str, Any], str]:
        """Send one request and read the reply header (at most *max_header* bytes); returns it and
        the length format it used."""
        if not name or "\n" in name:
            raise InputError("a file name cannot be empty or contain a new line (it ends a request)")
        self._send(self._wire(name.encode()))
        header, fmt = self._read_header(max_header)
        if "error" in header:
            reason = str(header["error"])
            raise (KeyRefused if "key" in reason else FetchRefused)(name, reason)
        if "nonce" in header:
            raise KeyRefused(name, "the server asks for a shared key")
        return header, fmt

    def _read_header(self, max_header: int = filehdr.MAX_HEADER) -> tuple[dict[str, Any], str]:
        """Read one reply header (reported as frames); returns it and the length format it used."""
        start = self._offsets[Direction.RECEIVED]
        prefix = self._recv_exactly(filehdr.LENGTH_SIZE)
        raw, fmt = b"", self.length_format
        try:  # our server sends the length first when it hashes a large file: the header follows
            if fmt == "auto":
                raw = self._recv_exactly(filehdr.detection_bytes(prefix, max_header))
                fmt = filehdr.detect_length_format(prefix, raw, max_header)
            length = filehdr.header_length(prefix, fmt, max_header)
            raw += self._recv_exactly(length - len(raw))
        except TimedOut as exc:
            raise ServerStillHashing(**{k: v for k, v in exc.params.items() if k != "errno"}) from None
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
                        n = self.sock.recv_into(
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

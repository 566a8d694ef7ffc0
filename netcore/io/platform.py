"""Every difference between Windows, macOS and Linux that Socket Lab meets, in one place.

Nothing here imports a POSIX-only module (``fcntl``, ``termios``, ``resource``) at module level or
calls a Linux-only function without checking first: a figure that cannot be measured on this system
is ``None``, and the GUI and CLI say "not available on this system". Each difference is explained
where it is handled, so the same words can be shown to the user where they meet it:

- **Listening sockets.** On Linux and macOS a restarted server cannot bind a port whose earlier
  connections are still in TIME_WAIT unless it sets ``SO_REUSEADDR``. On Windows ``SO_REUSEADDR``
  means something else: a second program may bind the same port and steal its traffic. So on Windows
  a listener always sets ``SO_EXCLUSIVEADDRUSE`` (TIME_WAIT does not block a new listener there) and
  the SO_REUSEADDR option is ignored.
- **UDP and ICMP.** On Windows, ``recvfrom`` on an *unconnected* UDP socket raises
  ``ConnectionResetError`` when an earlier datagram was answered with ICMP "port unreachable";
  Linux and macOS report that only on connected sockets. ``recv_datagram`` returns None for it,
  so a server never reports it as its own failure and a client says "port unreachable".
- **Truncated datagrams.** Linux flags them (``MSG_TRUNC``), Windows raises ``WSAEMSGSIZE``, macOS
  says nothing. ``recv_datagram`` reads every datagram into a buffer of the largest UDP size and
  keeps what the user's buffer would hold, so truncation is seen, with the real size, everywhere.
- **select() limits.** Windows' ``select()`` handles at most 512 sockets; Linux (epoll) and macOS
  (kqueue) have no such limit. ``MAX_LOOP_SOCKETS`` is that limit, and servers refuse clients
  beyond it politely instead of failing the whole loop.
- **Error codes.** Windows reports socket errors as WSA codes; ``WSAEACCES`` (10013) on bind means
  the port is reserved by the system or held exclusively by another program, not "below 1024".
  Only Linux and the BSDs reserve ports below 1024 for administrators (macOS stopped in 10.14).
- **Measurements.** Bytes waiting to be read (FIONREAD) work everywhere; bytes not yet sent
  (TIOCOUTQ) on Linux, TCP's own segment count (TCP_INFO) and the boot-time clock on Linux only;
  ``mallopt`` with glibc only.
- **File names.** A file fetched on Linux may be opened on Windows, so names received from a peer
  are checked against Windows' rules on every system.
- **Opening a served file.** A name checked first and opened later can be swapped for a symbolic
  link (or a FIFO) in between. Where ``os.open`` takes ``dir_fd`` (Linux, macOS), ``open_in_folder``
  walks the name one component at a time from the folder's descriptor with ``O_NOFOLLOW`` and
  resolves each symbolic link itself, never above the folder; ``O_NONBLOCK`` keeps a FIFO from
  blocking the open. Windows has neither: the file is opened by path, then the system is asked
  where the opened handle really is (``GetFinalPathNameByHandleW``), which must be inside the folder.
- **Sending a file.** Linux and macOS copy a file to a socket in the kernel (``os.sendfile``);
  Windows has no ``os.sendfile`` for sockets (``HAS_SENDFILE`` is False there): the file server
  reads and sends blocks instead. ``send_file_part`` sends one part on a non-blocking socket.
- **Console text.** A Chinese Windows console encodes in GBK (cp936), which cannot print ``⇄`` or
  ``−``; the CLI writes UTF-8 everywhere.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import select
import selectors
import socket
import struct
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final, NamedTuple, TextIO

WINDOWS: Final = sys.platform == "win32"
MACOS: Final = sys.platform == "darwin"
LINUX: Final = sys.platform.startswith("linux")

# -- the loop ---------------------------------------------------------------------------------------
# Windows' select() stops at FD_SETSIZE = 512 sockets (as CPython builds it); the others have none.
MAX_LOOP_SOCKETS: Final[int | None] = 512 if WINDOWS else None


# What a non-blocking connect() answers while it is under way: EINPROGRESS on POSIX,
# WSAEWOULDBLOCK (10035) on Windows.
CONNECT_PENDING: Final = frozenset({0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, 10035})


def new_selector() -> selectors.BaseSelector:
    """The best selector this system has (epoll, kqueue, or select() on Windows)."""
    return selectors.DefaultSelector()


def wait_readable(sock: socket.socket, timeout: float) -> bool:
    """Wait up to *timeout* seconds until *sock* can be read, in one system call: poll() where the
    system has it (no limit on descriptor numbers, unlike POSIX select()), select() on Windows."""
    make_poller = getattr(select, "poll", None)  # not on Windows
    if make_poller is not None:
        poller = make_poller()
        poller.register(sock, getattr(select, "POLLIN", 1))
        return bool(poller.poll(max(0.0, timeout) * 1000))
    return bool(select.select([sock], [], [], max(0.0, timeout))[0])


def peer_state(sock: socket.socket) -> str:
    """Without blocking: "reset" when the peer reset the connection (or it failed otherwise),
    "closed" when the peer closed its sending side (it may still read: a FIN alone cannot tell),
    else "open" (nothing waiting, or bytes waiting: they are left for the next receive)."""
    if not wait_readable(sock, 0):
        return "open"
    try:
        if sock.recv(1, socket.MSG_PEEK):
            return "open"
    except OSError:
        return "reset"
    # after a FIN, Linux's recv() says end of file even once a reset came: the error is pending
    return "reset" if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) else "closed"


# -- listening sockets ------------------------------------------------------------------------------
def prepare_listener(sock: socket.socket, reuse_addr: bool, dual_stack: bool) -> None:
    """Set the options a listening socket needs on this system, before ``bind``."""
    if WINDOWS:
        exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
        if exclusive is not None:
            sock.setsockopt(socket.SOL_SOCKET, exclusive, 1)
    elif reuse_addr:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sock.family == socket.AF_INET6:
        # explicit on every system: Windows and the BSDs default to IPv6 only, Linux to both
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if dual_stack else 1)


def detect_dead_peer(sock: socket.socket, timeout: float) -> None:
    """Make the kernel drop a peer that vanished without FIN or RST about *timeout* seconds after it
    last answered: keepalive probes a silent connection (every system), and TCP_USER_TIMEOUT (Linux)
    bounds how long sent data may stay unacknowledged. A peer that is only quiet answers the probes
    from its kernel and stays connected. Options this system lacks are skipped."""
    step = max(1, round(timeout / 3))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    idle = "TCP_KEEPALIVE" if MACOS else "TCP_KEEPIDLE"  # macOS names the idle time TCP_KEEPALIVE
    options = ((idle, step), ("TCP_KEEPINTVL", step), ("TCP_KEEPCNT", 2))
    for name, value in (*options, ("TCP_USER_TIMEOUT", round(timeout * 1000))):
        option = getattr(socket, name, None)
        if option is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, option, value)


# -- UDP --------------------------------------------------------------------------------------------
MAX_DATAGRAM: Final = 65_535


class Datagram(NamedTuple):
    data: bytes  # the first bytes, as many as the user's receive buffer holds
    size: int  # the datagram's real size: more than len(data) means it was truncated
    addr: Any  # the sender


def recv_datagram(sock: socket.socket, buf: bytearray, keep: int) -> Datagram | None:
    """One datagram, the same on every system; None when the system reports, as an error on this
    receive, an ICMP 'port unreachable' for an earlier datagram (Windows does so even on an
    unconnected socket; Linux and macOS on connected sockets only). *buf* must hold
    ``MAX_DATAGRAM`` bytes. Raises ``BlockingIOError`` when nothing is waiting."""
    try:
        size, addr = sock.recvfrom_into(buf, MAX_DATAGRAM)
    except (ConnectionResetError, ConnectionRefusedError):  # WSAECONNRESET / ECONNREFUSED
        return None
    return Datagram(bytes(buf[: min(size, keep)]), size, addr)


def waiting_datagrams(
    sock: socket.socket, buf: bytearray, keep: int, limit: int = 256
) -> Iterator[Datagram | OSError | None]:
    """The datagrams waiting now, at most *limit* (so a flood cannot starve the loop): each as
    ``recv_datagram`` gives it, or the ``OSError`` its receive raised (the caller decides whether
    to go on)."""
    for _ in range(limit):
        try:
            yield recv_datagram(sock, buf, keep)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            yield exc


# -- measurements -----------------------------------------------------------------------------------
def _ioctl_int(sock: socket.socket, request_name: str) -> int | None:
    """An integer ioctl on a POSIX socket (``termios.FIONREAD``, ...), or None where unavailable."""
    if sys.platform == "win32":
        return None
    try:
        import fcntl  # POSIX only
        import termios  # POSIX only
    except ImportError:
        return None
    request = getattr(termios, request_name, None)
    if request is None:
        return None
    try:
        raw = fcntl.ioctl(sock.fileno(), request, b"\0\0\0\0")
    except (OSError, ValueError):  # ValueError: the socket is closed (fileno() is -1)
        return None
    return int(struct.unpack("i", raw)[0])


def _peek_count(sock: socket.socket, limit: int = 1 << 20) -> int | None:
    """Bytes waiting, counted by a MSG_PEEK receive (at most *limit*) after a zero-time readiness
    check, so it never blocks: the portable way, used where FIONREAD is not available."""
    try:
        if sock.fileno() < 0:
            return None
        if not select.select([sock], [], [], 0)[0]:
            return 0
        return len(sock.recv(limit, socket.MSG_PEEK))
    except OSError:
        return None


def bytes_waiting(sock: socket.socket) -> int | None:
    """Bytes in the socket's receive buffer (FIONREAD), on every system; None if the socket is gone."""
    count = _ioctl_int(sock, "FIONREAD")
    return count if count is not None else _peek_count(sock)


def bytes_unsent(sock: socket.socket) -> int | None:
    """Bytes in the send buffer not yet acknowledged (Linux TIOCOUTQ); None on other systems."""
    return _ioctl_int(sock, "TIOCOUTQ") if LINUX else None


_TCP_INFO_DATA_SEGS_OUT: Final = 156  # offset of tcpi_data_segs_out in Linux's struct tcp_info


def data_segments_out(sock: socket.socket) -> int | None:
    """TCP segments carrying data that *sock* has sent (Linux ``tcpi_data_segs_out``); None elsewhere."""
    option = getattr(socket, "TCP_INFO", None)
    if not LINUX or option is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, option, 256)
    except OSError:
        return None
    if len(info) < _TCP_INFO_DATA_SEGS_OUT + 4:
        return None
    return int(struct.unpack_from("I", info, _TCP_INFO_DATA_SEGS_OUT)[0])


HAS_SENDFILE: Final = sys.platform != "win32" and hasattr(os, "sendfile")
# sendfile() refused for this file (a file system without it): read and send instead
SENDFILE_UNSUPPORTED: Final = frozenset(
    {errno.EINVAL, errno.ENOSYS, getattr(errno, "ENOTSUP", -1), getattr(errno, "EOPNOTSUPP", -1)}
)


def send_file_part(sock: socket.socket, fd: int, offset: int, count: int) -> int:
    """Send up to *count* bytes of the file *fd* from *offset* (its position is left alone) to the
    non-blocking *sock*, in the kernel; the bytes sent, 0 at the file's end; ``BlockingIOError`` when
    the socket is full. Only where ``HAS_SENDFILE``."""
    if sys.platform == "win32":
        raise OSError(errno.ENOSYS, "no sendfile for sockets on Windows")
    return os.sendfile(sock.fileno(), fd, offset, count)


def wait_until_sent(sock: socket.socket, limit_s: float = 2.0) -> None:
    """Wait (at most *limit_s*) until the kernel has sent all queued bytes, where it can tell (Linux);
    elsewhere return at once."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        unsent = bytes_unsent(sock)
        if not unsent:
            return
        time.sleep(0.001)


def process_age(pid: int) -> float | None:
    """Seconds since process *pid* started, from /proc and the boot-time clock (Linux); else None."""
    if sys.platform != "linux":
        return None
    try:
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def raise_open_files_limit(wanted: int) -> int | None:
    """Raise this process's soft limit of open files towards *wanted* (up to the hard limit) and
    return the new limit; None where there is no such limit to change (Windows)."""
    if sys.platform == "win32":
        return None
    import resource  # POSIX only

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    new = max(soft, wanted) if hard == resource.RLIM_INFINITY else min(hard, max(soft, wanted))
    resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return new


def peak_memory_mib() -> float | None:
    """This process's peak resident memory in MiB (POSIX); None where not measured (Windows)."""
    if sys.platform == "win32":
        return None
    import resource  # POSIX only

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if MACOS else peak / 1024  # macOS counts bytes, Linux KiB


M_TRIM_THRESHOLD: Final = -1  # glibc's mallopt() parameter


def keep_freed_heap(limit: int) -> bool:
    """Ask glibc to keep up to *limit* bytes of freed heap for reuse instead of returning it to the
    kernel at once (a flood's receive buffers are then reused, not faulted in again). False where
    this is not glibc (Windows, macOS, musl)."""
    if not LINUX:
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_TRIM_THRESHOLD, limit))


# -- error codes ------------------------------------------------------------------------------------
WSAEACCES: Final = 10013  # Windows: the port is reserved (excluded port range) or held exclusively
# Only these systems reserve ports below 1024 for administrators.
PRIVILEGED_PORTS: Final = not (WINDOWS or MACOS)


def error_kind(code: int | None) -> str | None:
    """A name for an error code that means something different on this system, else None."""
    if code == WSAEACCES:
        return "port reserved"
    if code in (errno.EACCES, errno.EPERM):
        return "privileged port" if PRIVILEGED_PORTS else "permission"
    return None


# -- file names -------------------------------------------------------------------------------------
_WINDOWS_RESERVED: Final = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)
_WINDOWS_FORBIDDEN: Final = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def windows_name_problem(name: str) -> str | None:
    """Why *name* cannot be a file name on Windows (checked on every system: a file fetched here may
    be opened there), or None when it can."""
    if not name:
        return "the name is empty"
    bad = _WINDOWS_FORBIDDEN.search(name)
    if bad:
        char = bad.group()
        shown = repr(char) if char.isprintable() else f"U+{ord(char):04X}"
        return f"the name contains {shown}, which Windows does not allow in file names"
    if name[-1] in ". ":
        return "the name ends with a dot or a space, which Windows removes"
    if name.split(".")[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        return f"'{name.split('.')[0]}' is a reserved device name on Windows"
    return None


# -- opening a file inside a folder ------------------------------------------------------------------
MAX_SYMLINKS: Final = 40  # as Linux allows in one path: more is a loop


class OutsideFolder(Exception):
    """The name, or a symbolic link on its way, leads outside the folder."""


def open_in_folder(folder: Path, parts: Sequence[str]) -> int:
    """A read-only descriptor of the file that *parts* (path components, no '..') name inside
    *folder* (an absolute real path), following symbolic links only while they stay inside, and
    never blocking on a FIFO; the caller checks what it is (``os.fstat``) and closes it. Raises
    ``OutsideFolder``, or ``OSError`` (ELOOP for a loop of links)."""
    if sys.platform != "win32" and os.open in os.supports_dir_fd:
        return _open_beneath(folder, parts)
    return _open_and_check(folder, parts)


if sys.platform != "win32":

    def _open_beneath(folder: Path, parts: Sequence[str]) -> int:
        """Walk from the folder's descriptor with ``O_NOFOLLOW`` on every component: a link is read
        (``readlink``) and its target walked the same way, '..' steps back to the descriptor held
        for the parent, so no swap between two steps can lead outside."""
        base = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
        dirs = [os.open(folder, base | os.O_DIRECTORY)]
        todo = list(reversed(parts))
        links = 0
        try:
            while todo:
                part = todo.pop()
                if part in ("", "."):
                    continue
                if part == "..":
                    if len(dirs) == 1:
                        raise OutsideFolder(part)
                    os.close(dirs.pop())
                    continue
                try:
                    fd = os.open(part, base | (os.O_DIRECTORY if todo else 0), dir_fd=dirs[-1])
                except OSError as exc:  # a link: ELOOP, ENOTDIR with O_DIRECTORY, EMLINK (FreeBSD)
                    if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                        raise
                    links += 1
                    if links > MAX_SYMLINKS:
                        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), part) from None
                    try:
                        target = os.readlink(part, dir_fd=dirs[-1])
                    except OSError as not_link:
                        if not_link.errno != errno.EINVAL:
                            raise
                        if exc.errno == errno.ENOTDIR:  # no link: a file where a folder should be
                            raise exc from None
                        todo.append(part)  # no longer a link (swapped meanwhile): open it again
                        continue
                    if target.startswith("/"):  # absolute: only a path inside the folder is followed
                        if not Path(target).is_relative_to(folder):
                            raise OutsideFolder(target) from None
                        target = str(Path(target).relative_to(folder))
                        while len(dirs) > 1:
                            os.close(dirs.pop())
                    todo.extend(reversed(target.split("/")))
                    continue
                if not todo:
                    return fd
                dirs.append(fd)
            return dirs.pop()  # the name ends on a folder ('.', 'sub/..'): the caller refuses it
        finally:
            for fd in dirs:
                os.close(fd)


def _open_and_check(folder: Path, parts: Sequence[str]) -> int:
    """Open by path (following links), then ask the system where the opened handle really is: a
    swap before or after the open cannot make a file outside *folder* pass."""
    fd = os.open(folder.joinpath(*parts), os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        real = handle_path(fd)
        if real is None or not Path(os.path.normcase(real)).is_relative_to(os.path.normcase(folder)):
            raise OutsideFolder(real or "")
    except BaseException:
        os.close(fd)
        raise
    return fd


def handle_path(fd: int) -> str | None:
    """The real path of the file open as *fd*, as the system knows it (Windows'
    GetFinalPathNameByHandleW, Linux's /proc/self/fd), or None where it cannot be known."""
    if sys.platform == "win32":
        import ctypes
        import msvcrt

        buf = ctypes.create_unicode_buffer(32_768)
        size = ctypes.windll.kernel32.GetFinalPathNameByHandleW(msvcrt.get_osfhandle(fd), buf, len(buf), 0)
        if not 0 < size < len(buf):
            return None
        path = buf.value
        if path.startswith("\\\\?\\UNC\\"):
            return "\\" + path[len("\\\\?\\UNC") :]
        return path.removeprefix("\\\\?\\")
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return None


# -- console ----------------------------------------------------------------------------------------
def utf8_output(*streams: TextIO) -> None:
    """Make *streams* (default: stdout and stderr) write UTF-8, whatever the console's code page."""
    for stream in streams or (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        encoding = (getattr(stream, "encoding", "") or "").lower().replace("-", "")
        if reconfigure is not None and encoding != "utf8":
            with contextlib.suppress(ValueError, OSError):
                reconfigure(encoding="utf-8", errors="replace")

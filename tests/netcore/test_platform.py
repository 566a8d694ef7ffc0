"""netcore.io.platform: each Windows and macOS branch with the system's behaviour simulated on this
machine (a socket that raises what Windows raises, a select() limit of 512, Windows' error codes),
and the portable measurements checked against Linux's own on real loopback sockets."""

from __future__ import annotations

import errno
import io
import socket
import sys
from typing import Any

import pytest

from netcore.engines.relay import ChunkPlan, RechunkRelay
from netcore.engines.sticking import run_scenario
from netcore.engines.tcp_echo import TcpEchoServer
from netcore.engines.udp_echo import UdpEchoServer
from netcore.errors import LoopFull, NetError, PermissionDenied, PortReserved, from_os_error
from netcore.io import loop as loop_module
from netcore.io import platform
from netcore.model.events import Connected, Event, Failed, Traffic, Truncated
from netcore.model.scenario import preset
from netcore.model.traffic import Direction
from tests.netcore.support import WAIT_S, EngineThreads


class RecordingSocket:
    """Stands in for a socket where only the calls matter (options on another system)."""

    def __init__(self, family: int = socket.AF_INET) -> None:
        self.family = family
        self.options: list[tuple[int, int, int]] = []

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self.options.append((level, option, value))


# -- listeners ------------------------------------------------------------------------------------
def test_windows_listener_is_exclusive_and_ignores_so_reuseaddr(monkeypatch):
    monkeypatch.setattr(platform, "WINDOWS", True)
    monkeypatch.setattr(socket, "SO_EXCLUSIVEADDRUSE", 0x7FFFFFFB, raising=False)  # -5 as Windows has it
    sock = RecordingSocket(socket.AF_INET6)
    platform.prepare_listener(sock, reuse_addr=True, dual_stack=True)  # type: ignore[arg-type]
    assert (socket.SOL_SOCKET, 0x7FFFFFFB, 1) in sock.options
    assert not any(opt == socket.SO_REUSEADDR for _, opt, _ in sock.options)
    assert (socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0) in sock.options


@pytest.mark.parametrize("reuse", [False, True])
def test_posix_listener_sets_so_reuseaddr_only_when_asked_and_v6only_explicitly(reuse):
    sock = RecordingSocket(socket.AF_INET6)
    platform.prepare_listener(sock, reuse_addr=reuse, dual_stack=False)  # type: ignore[arg-type]
    assert ((socket.SOL_SOCKET, socket.SO_REUSEADDR, 1) in sock.options) is reuse
    assert (socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1) in sock.options  # set, whatever the default


def test_macos_keepalive_idle_time_goes_by_its_own_name(monkeypatch):
    monkeypatch.setattr(platform, "MACOS", True)
    monkeypatch.setattr(socket, "TCP_KEEPALIVE", 0x10, raising=False)
    monkeypatch.delattr(socket, "TCP_USER_TIMEOUT", raising=False)  # Linux only
    sock = RecordingSocket()
    platform.detect_dead_peer(sock, 9.0)  # type: ignore[arg-type]
    assert (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1) in sock.options
    assert (socket.IPPROTO_TCP, 0x10, 3) in sock.options  # idle 3 s of 9
    assert all(opt != getattr(socket, "TCP_KEEPIDLE", -1) for _, opt, _ in sock.options)


# -- UDP ------------------------------------------------------------------------------------------
class _Raises:
    def __init__(self, exc: OSError) -> None:
        self.exc, self.type = exc, socket.SOCK_DGRAM

    def recvfrom_into(self, *_args: Any) -> Any:
        raise self.exc


@pytest.mark.parametrize("exc", [ConnectionResetError(10054, "WSAECONNRESET"), ConnectionRefusedError()])
def test_recv_datagram_reads_an_icmp_report_as_port_unreachable(exc):
    assert platform.recv_datagram(_Raises(exc), bytearray(10), 10) is None  # type: ignore[arg-type]


def test_udp_server_ignores_windows_reset_after_port_unreachable_and_keeps_serving(monkeypatch):
    """On Windows an unconnected UDP socket's recvfrom raises ConnectionResetError when an earlier
    reply hit a closed port: simulated on the server's real socket, once."""
    original = socket.socket.recvfrom_into
    raised: list[int] = []

    def windows_recvfrom_into(self: socket.socket, *args: Any) -> Any:
        if self.type == socket.SOCK_DGRAM and self.getsockname()[1] == port and not raised:
            raised.append(1)
            raise ConnectionResetError(10054, "An existing connection was forcibly closed")
        return original(self, *args)

    with EngineThreads() as threads:
        server = UdpEchoServer()
        addr, log, _ = threads.start(server, "udp-windows")
        port = addr.port
        monkeypatch.setattr(socket.socket, "recvfrom_into", windows_recvfrom_into)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(WAIT_S)
            client.sendto(b"hello", (addr.host, addr.port))
            assert client.recvfrom(100)[0] == b"hello"  # the reset was read first, then this
        log.wait_until(lambda ev: bool(_received(ev)), what="the datagram reported")  # same round
        assert raised and server.unreachable == 1
        assert not log.of(Failed)


def test_udp_truncation_is_reported_with_the_real_size_without_msg_trunc(monkeypatch):
    """What Linux says with MSG_TRUNC, every system says: the datagram is read whole and cut."""
    monkeypatch.delattr(socket, "MSG_TRUNC", raising=False)
    with EngineThreads() as threads:
        addr, log, _ = threads.start(UdpEchoServer(recv_size=10), "udp-trunc")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(WAIT_S)
            client.sendto(b"x" * 100, (addr.host, addr.port))
            assert client.recvfrom(200)[0] == b"x" * 10
        (received,) = _received(log.wait_until(lambda ev: bool(_received(ev)), what="the datagram"))
        assert len(received.chunk.data) == 10
        (truncated,) = log.wait_for(Truncated)
        assert (truncated.kept, truncated.size) == (10, 100)


def _received(events: list[Event]) -> list[Traffic]:
    return [e for e in events if isinstance(e, Traffic) and e.chunk.direction is Direction.RECEIVED]


# -- select() limit -------------------------------------------------------------------------------
def test_a_600_client_server_under_windows_select_limit_refuses_the_rest_politely(monkeypatch):
    """512 sockets in one select(): the loop's wake-up socket and the listener take two, so 510
    clients are served and the others are closed at once, each with a LoopFull notice."""
    if platform.raise_open_files_limit(1400) is None or platform.raise_open_files_limit(1400) < 1300:
        pytest.skip("needs 1,300 open files (600 clients and their 510 server sides)")
    monkeypatch.setattr(loop_module, "MAX_LOOP_SOCKETS", 512)
    clients: list[socket.socket] = []
    with EngineThreads() as threads:
        addr, log, _ = threads.start(TcpEchoServer(), "tcp-512")
        try:
            for _ in range(600):
                clients.append(socket.create_connection((addr.host, addr.port), timeout=WAIT_S))
            log.wait_until(lambda ev: sum(isinstance(e, (Connected, Failed)) for e in ev) >= 600, what="600")
            assert len(log.of(Connected)) == 510
            refusals = [e.error for e in log.of(Failed)]
            assert len(refusals) == 90 and all(isinstance(r, LoopFull) for r in refusals)
            assert "512" in refusals[0].summary
            served, refused = clients[:510], clients[510:]
            for c in refused:  # closed at once: EOF, not a hang
                assert c.recv(10) == b""
            served[-1].sendall(b"still echoing")
            assert served[-1].recv(100) == b"still echoing"
        finally:
            for c in clients:
                c.close()


# -- error codes ----------------------------------------------------------------------------------
def test_wsaeacces_means_a_reserved_port_not_a_privileged_one():
    error = from_os_error(OSError(10013, "forbidden"), action="listen on", host="0.0.0.0", port=50000)
    assert isinstance(error, PortReserved)
    assert "excludedportrange" in error.hint and "1024" not in error.hint


@pytest.mark.parametrize("privileged", [True, False])
def test_ports_below_1024_are_named_only_where_the_system_reserves_them(monkeypatch, privileged):
    monkeypatch.setattr(platform, "PRIVILEGED_PORTS", privileged)
    error = from_os_error(OSError(errno.EACCES, "denied"), action="listen on", host="0.0.0.0", port=80)
    assert isinstance(error, PermissionDenied) is privileged
    assert isinstance(error, NetError)
    assert ("1024" in error.hint) is privileged


# -- file names -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["CON", "con.txt", "NUL", "COM1.log", "lpt9", "a<b", "a>b", 'a"b', "a:b", "a|b", "a?b", "a*b", "a\\b",
     "a/b", "tab\there", "end.", "end ", ""],
)  # fmt: skip
def test_names_windows_cannot_hold_are_refused_on_every_system(name):
    assert platform.windows_name_problem(name) is not None


@pytest.mark.parametrize("name", ["hello.png", "CONSOLE.txt", "com10", "报告.pdf", ".bashrc", "a b.txt"])
def test_ordinary_names_pass_the_windows_check(name):
    assert platform.windows_name_problem(name) is None


# -- measurements ---------------------------------------------------------------------------------
def test_bytes_waiting_by_peek_agrees_with_fionread():
    a, b = socket.socketpair()
    with a, b:
        assert platform.bytes_waiting(a) == 0
        b.sendall(b"x" * 1000)
        fionread = platform._ioctl_int(a, "FIONREAD")
        peeked = platform._peek_count(a)
        assert peeked == 1000
        assert fionread in (None, 1000)  # None only where the system has no FIONREAD ioctl
        assert a.recv(2000) == b"x" * 1000  # the peek consumed nothing


@pytest.mark.skipif(sys.platform != "linux", reason="compares with Linux's TCP_INFO and TIOCOUTQ")
def test_packet_sticking_without_linux_measurements_says_what_is_not_available(monkeypatch):
    """As on Windows: no TCP_INFO segment count, no TIOCOUTQ, no FIONREAD ioctl — the scenario
    still runs, counts waiting bytes by peeking, and says the segment count is not available."""
    monkeypatch.setattr(platform, "LINUX", False)
    monkeypatch.setattr(platform, "_ioctl_int", lambda _sock, _name: None)
    result = run_scenario(preset("two-sends"), timeout=WAIT_S)
    assert result.segments is None
    assert "cannot be known on this system" in result.segments_note
    assert result.recvs and result.recvs[0].waiting == 10  # "Hello" + "World", by MSG_PEEK


def test_linux_only_figures_are_none_elsewhere(monkeypatch):
    monkeypatch.setattr(platform, "LINUX", False)
    a, b = socket.socketpair()
    with a, b:
        assert platform.bytes_unsent(a) is None
        assert platform.data_segments_out(a) is None
    assert platform.keep_freed_heap(1 << 20) is False
    monkeypatch.setattr(sys, "platform", "win32")
    assert platform.process_age(1) is None
    assert platform.peak_memory_mib() is None
    assert platform.raise_open_files_limit(10) is None


def test_cli_text_is_utf8_on_a_gbk_console():
    raw = io.BytesIO()
    console = io.TextIOWrapper(raw, encoding="gbk")
    platform.utf8_output(console)
    console.write("client ⇄ server, −1 s, 你好")
    console.flush()
    assert raw.getvalue().decode("utf-8") == "client ⇄ server, −1 s, 你好"


def test_the_relay_refuses_a_client_when_the_loop_has_no_room_for_both_its_sockets(monkeypatch):
    """Each relayed client needs two sockets in the loop (its own and the target's)."""
    monkeypatch.setattr(loop_module, "MAX_LOOP_SOCKETS", 5)  # wake-up + listener + one pair + 1
    with EngineThreads() as threads:
        target, _, _ = threads.start(TcpEchoServer(), "relay-target")
        relay_addr, log, _ = threads.start(RechunkRelay(str(target), ChunkPlan(4)), "relay-5")
        with socket.create_connection((relay_addr.host, relay_addr.port), timeout=WAIT_S) as first:
            log.wait_for(Connected, count=2)  # the client and the target leg: a pair
            with socket.create_connection((relay_addr.host, relay_addr.port), timeout=WAIT_S) as second:
                assert second.recv(10) == b""  # closed at once
                (refusal,) = log.wait_for(Failed)
                assert isinstance(refusal.error, LoopFull)
            first.sendall(b"still relayed")
            got = b""
            while len(got) < 13:
                piece = first.recv(100)
                assert piece
                got += piece
            assert got == b"still relayed"

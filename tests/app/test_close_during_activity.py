"""Closing the window while every kind of work is under way (issue 8).

Each test starts real activity through the real widgets, waits until it is really running, closes the
window and checks: the close returns promptly, no Python exception (pytest-qt's capture is on, and
``sys.excepthook`` / ``threading.excepthook`` are watched too), no Qt warning about threads, no worker
QThread or Python thread left, no socket left open, every listening port can be listened on again,
and every test-side peer of a connection sees EOF or a reset.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import socket
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QtMsgType
from pytestqt.logging import _QtMessageCapture
from pytestqt.qtbot import QtBot

import netcore.engines.filefetch
from app.main_window import MainWindow
from app.panes import EnginePane
from app.workers import EngineRunner, running_runners
from netcore.protocols.timeproto import TimeProtocol
from tests.app.support import port_is_free
from tests.requires import linux

pytestmark = linux("counts this process's sockets in /proc/self/fd")

CLOSE_LIMIT_S = 3.0  # "the close returns promptly"
WAIT_MS = 5000  # the longest any wait for activity to get under way
FETCH_SIZE = 128 * 1024 * 1024


# -- watching for trouble ----------------------------------------------------------------------
def socket_fds() -> set[str]:
    """This process's open sockets, as /proc/self/fd link targets ("socket:[inode]")."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith("socket:"):
                found.add(target)
    return found


def live_threads() -> set[threading.Thread]:
    """Python threads still running (dummy entries for foreign threads never go away: left out)."""
    return {t for t in threading.enumerate() if t.is_alive() and not isinstance(t, threading._DummyThread)}


class Watch:
    """What was there before the window, and every uncaught exception since."""

    def __init__(
        self,
        qtlog: _QtMessageCapture,
        capfd: pytest.CaptureFixture[str],
        record: Callable[[str, object], None],
    ) -> None:
        self.qtlog, self.capfd, self.record = qtlog, capfd, record
        self.threads = live_threads()
        self.sockets = socket_fds()
        self.exceptions: list[str] = []
        self.started: list[str] = []  # the engine of every runner started, in order

    def hook(self, previous: Callable[..., Any], exc_type: type[BaseException], *_: Any) -> None:
        self.exceptions.append(exc_type.__name__)
        previous(exc_type, *_)

    def thread_hook(self, previous: Callable[..., Any], args: Any) -> None:
        self.exceptions.append(f"{args.exc_type.__name__} in thread {args.thread}")
        previous(args)

    def back_to_baseline(self) -> bool:
        return live_threads() <= self.threads and socket_fds() <= self.sockets

    def check(self) -> None:
        assert not self.exceptions
        thread_warnings = [
            r.message
            for r in self.qtlog.records
            if r.type in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
            and ("thread" in r.message.lower() or "destroyed" in r.message.lower())
        ]
        assert not thread_warnings
        err = self.capfd.readouterr().err
        assert "Traceback" not in err and "QThread" not in err, err


@pytest.fixture
def watch(
    request: pytest.FixtureRequest,
    qtlog: _QtMessageCapture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    record_property: Callable[[str, object], None],
) -> Watch:
    """Baselines taken before any window exists, exception hooks chained in front of pytest-qt's."""
    assert request.node.get_closest_marker("qt_no_exception_capture") is None
    assert not request.config.getini("qt_no_exception_capture")
    assert isinstance(sys.excepthook, functools.partial)  # pytest-qt's capture is installed
    assert sys.excepthook.func.__module__ == "pytestqt.exceptions"
    w = Watch(qtlog, capfd, record_property)
    monkeypatch.setattr(sys, "excepthook", functools.partial(w.hook, sys.excepthook))
    monkeypatch.setattr(threading, "excepthook", functools.partial(w.thread_hook, threading.excepthook))
    original_start = EngineRunner.start

    def start(runner: EngineRunner) -> None:
        w.started.append(type(runner.engine).__name__)
        original_start(runner)

    monkeypatch.setattr(EngineRunner, "start", start)
    return w


@pytest.fixture
def cleanup() -> Iterator[contextlib.ExitStack]:
    """Test-side sockets and helper threads, released after the window (fixtures end in reverse)."""
    with contextlib.ExitStack() as stack:
        yield stack


@pytest.fixture
def window(qtbot: QtBot, settings: Any, watch: Watch, cleanup: contextlib.ExitStack) -> Iterator[MainWindow]:
    """The real main window, shown; after the test it is closed (again) and deleted."""
    win = MainWindow(settings)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()  # harmless after a passing test; stops everything after a failing one
    win.deleteLater()


# -- test-side peers ---------------------------------------------------------------------------
class PeerServer:
    """A test-side TCP server for one client: it floods it, or echoes to it, until the client goes.

    ``closed`` is set when the client's end is gone (EOF, reset or broken pipe); a peer that is
    still connected after 10 s of silence counts as not closed."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.port: int = self.listener.getsockname()[1]
        self.sent = 0
        self.closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"test-{mode}-peer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with contextlib.suppress(OSError), self.listener.accept()[0] as conn:
            conn.settimeout(10)
            try:
                if self.mode == "flood":
                    block = b"flood!" * 10_000
                    while True:
                        self.sent += conn.send(block)
                while data := conn.recv(65536):
                    conn.sendall(data)
                self.closed.set()
            except (BrokenPipeError, ConnectionResetError):
                self.closed.set()

    def stop(self) -> None:
        self.listener.close()
        self._thread.join(15)


def sees_end(sock: socket.socket, limit_s: float = 3.0) -> bool:
    """True when *sock*'s peer has closed (EOF or reset) within *limit_s*; data before it is drained."""
    deadline = time.monotonic() + limit_s
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        pass
    return False


def udp_port_free(port: int) -> bool:
    """No socket is bound to UDP *port* (no SO_REUSEADDR here: a bound socket with it would share)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def connect(stack: contextlib.ExitStack, port: int) -> socket.socket:
    """A test-side TCP client of 127.0.0.1:*port*, closed at the end of the test."""
    return stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))


def local_port(pane: EnginePane) -> int:
    """The local port of a client pane's socket, from its 'local ⇄ peer' endpoints."""
    return int(pane.endpoints.split(" ⇄ ")[0].rsplit(":", 1)[1])


# -- starting each tab's activity ----------------------------------------------------------------
@dataclass
class Activity:
    """What closing the window must release: ports to listen on again, peers that must see EOF."""

    tcp_ports: list[int] = field(default_factory=list)
    udp_ports: list[int] = field(default_factory=list)
    peers: list[socket.socket] = field(default_factory=list)
    peer_servers: list[PeerServer] = field(default_factory=list)
    checks: list[Callable[[], None]] = field(default_factory=list)

    def add(self, other: Activity) -> None:
        for name in ("tcp_ports", "udp_ports", "peers", "peer_servers", "checks"):
            getattr(self, name).extend(getattr(other, name))


def start_server(qtbot: QtBot, pane: Any) -> int:
    pane.address.set_address("127.0.0.1", 0)
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening on" in pane.state.text(), timeout=WAIT_MS)
    return int(pane.server.address.port)


def busy_tcp(qtbot: QtBot, win: MainWindow, stack: contextlib.ExitStack, transfer: str) -> Activity:
    """TCP echo: three test clients on the server pane; the client pane mid-transfer."""
    page = win.tcp_echo
    port = start_server(qtbot, page.server)
    activity = Activity(tcp_ports=[port])
    for i in range(3):
        sock = connect(stack, port)
        sock.sendall(b"client %d" % i)
        assert sock.recv(100) == b"client %d" % i
        activity.peers.append(sock)
    if transfer == "flood":  # a peer floods the client pane
        flood = PeerServer("flood")
        stack.callback(flood.stop)
        activity.peer_servers.append(flood)
        page.client.address.set_address("127.0.0.1", flood.port)
    qtbot.mouseClick(page.client.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(page.client.send_button.isEnabled, timeout=WAIT_MS)
    if transfer == "repeat":  # the client pane repeats a 4 KiB message every millisecond
        page.client.payload.edit.setPlainText("x" * 4096)
        page.client.repeat.interval.setValue(1)
        page.client.repeat.count.setValue(0)
        qtbot.mouseClick(page.client.repeat.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(page.client.rtts) >= 50, timeout=WAIT_MS)
        activity.checks.append(lambda: assert_repeat_stopped(win))
    else:
        qtbot.waitUntil(lambda: page.client.bytes_in > 4_000_000, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: page.server.clients.count() == 3 + (transfer == "repeat"), timeout=WAIT_MS)
    return activity


def assert_repeat_stopped(win: MainWindow) -> None:
    assert not win.tcp_echo.client.repeat.button.isChecked()


def busy_udp(qtbot: QtBot, win: MainWindow, sending: str = "probe") -> Activity:
    """UDP echo: the client pane probes the server pane, or repeats a send, every millisecond."""
    page = win.udp_echo
    port = start_server(qtbot, page.server)
    if sending == "probe":
        page.client.probe_count.setValue(100_000)
        page.client.probe_interval.setValue(1)
        qtbot.mouseClick(page.client.probe_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(page.client.plot.points("rtt")) >= 20, timeout=WAIT_MS)
    else:
        page.client.repeat.interval.setValue(1)
        page.client.repeat.count.setValue(0)
        qtbot.mouseClick(page.client.repeat.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.client.bytes_in >= 20 * len(b"Hello, UDP!"), timeout=WAIT_MS)
    return Activity(udp_ports=[port, local_port(page.client)])


def busy_time(qtbot: QtBot, win: MainWindow, protocol: TimeProtocol) -> Activity:
    """Time: the client pane queries the server pane again and again, 20 ms apart."""
    page = win.time
    page.server.protocol.setCurrentIndex(page.server.protocol.findData(protocol.value))
    port = start_server(qtbot, page.server)
    page.client.count.setValue(100_000)
    page.client.interval.setValue(0.02)
    qtbot.mouseClick(page.client.query_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(page.client.plot.points("delay")) >= 5, timeout=WAIT_MS)
    return Activity(tcp_ports=[port]) if protocol.is_tcp else Activity(udp_ports=[port])


class SlowMd5:
    """hashlib.md5 that takes 20 ms per update in the fetch client's writer thread (about 50 MB/s),
    so a fetch is still under way when the window closes; elsewhere (the server's md5) full speed."""

    def __init__(self) -> None:
        self._digest = hashlib.md5()

    def update(self, data: Any) -> None:
        if threading.current_thread().name == "fetch-writer":
            time.sleep(0.02)
        self._digest.update(data)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def busy_files(
    qtbot: QtBot,
    win: MainWindow,
    stack: contextlib.ExitStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Activity:
    """File fetch: a 128 MiB fetch in progress, and a second, idle client on the file server."""
    monkeypatch.setattr(netcore.engines.filefetch, "hashlib", types.SimpleNamespace(md5=SlowMd5))
    root, dest = tmp_path / "root", tmp_path / "dest"
    root.mkdir()
    dest.mkdir()
    with (root / "huge.bin").open("wb") as f:
        f.truncate(FETCH_SIZE)  # sparse: instant to make
    page = win.files
    page.server.root.setText(str(root))
    page.client.dest.setText(str(dest))
    port = start_server(qtbot, page.server)
    qtbot.waitUntil(lambda: page.client.files.count() == 1 and page.client.runner is None, timeout=WAIT_MS)
    idle = connect(stack, port)
    page.client.name.setText("huge.bin")
    qtbot.mouseClick(page.client.fetch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: 50 < page.client.progress.value() < 500, timeout=WAIT_MS)

    def nothing_saved() -> None:
        assert list(dest.iterdir()) == []  # neither huge.bin nor a .part left behind
        assert page.client.progress.value() < 1000

    return Activity(tcp_ports=[port], peers=[idle], checks=[nothing_saved])


def busy_sticking(qtbot: QtBot, win: MainWindow, stack: contextlib.ExitStack, scenario: str) -> Activity:
    """Packet sticking: a scenario half-way through in step mode, and the relay mid-relay."""
    page = win.sticking
    pane = page.scenario
    if scenario == "preset":  # 10,240 bytes, read 4,096 per step
        pane.preset.setCurrentIndex(pane.preset.findData("big-send-small-recv"))
        pane.max_recvs.setValue(0)
    else:  # 64 sends of 64 KiB: more than the socket buffers hold, so the sender is blocked
        pane.generate_count.setValue(64)
        pane.generate_size.setValue(65536)
        qtbot.mouseClick(pane.generate_button, Qt.MouseButton.LeftButton)
        pane.recv_size.setValue(65536)
    qtbot.mouseClick(pane.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "bytes waiting" in pane.details.text(), timeout=WAIT_MS)
    qtbot.mouseClick(pane.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "1 recv() call(s) so far" in pane.details.text(), timeout=WAIT_MS)
    assert pane.runner is not None  # half-way: more steps to go

    echo = PeerServer("echo")
    stack.callback(echo.stop)
    relay = win.relay.server
    relay.target.setText(f"127.0.0.1:{echo.port}")
    relay.chunks.setCurrentText("1")
    relay.delay.setValue(50)
    port = start_server(qtbot, relay)
    client = connect(stack, port)
    client.sendall(b"r" * 200)  # comes back one byte every 50 ms: 10 s of relaying
    assert client.recv(1) == b"r"
    return Activity(tcp_ports=[port], peers=[client], peer_servers=[echo])


# -- closing and checking ------------------------------------------------------------------------
def close_and_check(qtbot: QtBot, win: MainWindow, activity: Activity, watch: Watch) -> None:
    """Close the window and check everything the module docstring promises."""
    panes = [pane for page in win.pages() for pane in page.panes()]
    assert any(pane.runner is not None for pane in panes)
    engines_before = len(watch.started)
    started = time.perf_counter()
    win.close()
    elapsed = time.perf_counter() - started
    assert not win.isVisible()
    assert elapsed < CLOSE_LIMIT_S
    assert not running_runners()  # close waited for every worker thread
    assert [p for p in activity.tcp_ports if not port_is_free(p)] == []
    assert [p for p in activity.udp_ports if not udp_port_free(p)] == []
    assert [s.getsockname() for s in activity.peers if not sees_end(s)] == []
    assert [s.mode for s in activity.peer_servers if not s.closed.wait(3)] == []
    for sock in activity.peers:
        sock.close()
    for server in activity.peer_servers:
        server.stop()
    qtbot.waitUntil(lambda: all(pane.runner is None for pane in panes), timeout=3000)  # finished handled
    qtbot.waitUntil(watch.back_to_baseline, timeout=3000)
    qtbot.wait(300)  # and nothing starts again afterwards (timers, late events)
    assert not running_runners() and all(pane.runner is None for pane in panes)
    assert watch.started[engines_before:] == []
    assert watch.back_to_baseline()
    for check in activity.checks:
        check()
    watch.check()
    watch.record("window closed in", f"{elapsed * 1000:.0f} ms")


@pytest.mark.parametrize("transfer", ["flood", "repeat"])
def test_closing_during_a_tcp_transfer_with_clients_connected_is_clean(
    qtbot: QtBot,
    window: MainWindow,
    watch: Watch,
    cleanup: contextlib.ExitStack,
    transfer: str,
) -> None:
    """TCP client mid-transfer (flooded by a peer, or repeating sends) and its server with clients:
    prompt close, no thread or socket left, port free, every peer sees EOF."""
    activity = busy_tcp(qtbot, window, cleanup, transfer)
    close_and_check(qtbot, window, activity, watch)


@pytest.mark.parametrize("sending", ["probe", "repeat"])
def test_closing_during_a_udp_probe_or_repeat_is_clean(
    qtbot: QtBot,
    window: MainWindow,
    watch: Watch,
    sending: str,
) -> None:
    """UDP probe or repeated send running against the UDP server pane: prompt close, no thread or
    socket left (the repeat opens no new socket afterwards), the server's and the client's ports free."""
    activity = busy_udp(qtbot, window, sending)
    close_and_check(qtbot, window, activity, watch)


@pytest.mark.parametrize("protocol", [TimeProtocol.SNTP, TimeProtocol.TIME_TCP], ids=["sntp", "time-tcp"])
def test_closing_during_repeated_time_queries_is_clean(
    qtbot: QtBot,
    window: MainWindow,
    watch: Watch,
    protocol: TimeProtocol,
) -> None:
    """Time client querying every 20 ms and the time server (UDP and TCP): prompt close, no thread or
    socket left, the server's port free."""
    activity = busy_time(qtbot, window, protocol)
    close_and_check(qtbot, window, activity, watch)


def test_closing_during_a_large_file_fetch_is_clean(
    qtbot: QtBot,
    window: MainWindow,
    watch: Watch,
    cleanup: contextlib.ExitStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 128 MiB fetch half-way and the file server with another client: prompt close, no thread or
    socket left, port free, the other client sees EOF, no partial file saved."""
    activity = busy_files(qtbot, window, cleanup, tmp_path, monkeypatch)
    close_and_check(qtbot, window, activity, watch)


@pytest.mark.parametrize(
    "scenario",
    [
        "preset",
        "blocked-sender",
    ],
)
def test_closing_during_a_stepped_scenario_and_a_relay_is_clean(
    qtbot: QtBot,
    window: MainWindow,
    watch: Watch,
    cleanup: contextlib.ExitStack,
    scenario: str,
) -> None:
    """Scenario half-way in step mode (small, or with its sender blocked on full buffers) and the relay
    mid-relay: prompt close, no thread or socket left, relay port free, both relay peers see EOF."""
    activity = busy_sticking(qtbot, window, cleanup, scenario)
    close_and_check(qtbot, window, activity, watch)


SERVERS: dict[str, tuple[Callable[[MainWindow], Any], str]] = {
    "tcp-echo": (lambda win: win.tcp_echo.server, "tcp"),
    "udp-echo": (lambda win: win.udp_echo.server, "udp"),
    "time": (lambda win: win.time.server, "udp"),
    "file": (lambda win: win.files.server, "tcp"),
    "relay": (lambda win: win.relay.server, "tcp"),
}


@pytest.mark.parametrize("server", list(SERVERS))
def test_closing_the_moment_a_server_starts_is_clean(
    qtbot: QtBot,
    window: MainWindow,
    watch: Watch,
    tmp_path: Path,
    server: str,
) -> None:
    """Start server clicked and the window closed before it reports Listening: prompt close, its port
    free, no thread or socket left, and nothing (e.g. the file list) starts after the close."""
    pane_of, transport = SERVERS[server]
    pane = pane_of(window)
    if server == "file":
        pane.root.setText(str(tmp_path))
    pane.address.set_address("127.0.0.1", 0)
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    port = int(pane.server.address.port)
    activity = Activity(tcp_ports=[port]) if transport == "tcp" else Activity(udp_ports=[port])
    close_and_check(qtbot, window, activity, watch)


def test_closing_with_all_five_tabs_busy_is_clean(
    qtbot: QtBot,
    window: MainWindow,
    watch: Watch,
    cleanup: contextlib.ExitStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """All five tabs busy at once (flood, probe, time queries, fetch, stepped scenario and relay):
    prompt close, no thread or socket left, every port free, every peer sees EOF."""
    activity = Activity()
    activity.add(busy_tcp(qtbot, window, cleanup, "flood"))
    activity.add(busy_udp(qtbot, window))
    activity.add(busy_time(qtbot, window, TimeProtocol.SNTP))
    activity.add(busy_files(qtbot, window, cleanup, tmp_path, monkeypatch))
    activity.add(busy_sticking(qtbot, window, cleanup, "preset"))
    close_and_check(qtbot, window, activity, watch)

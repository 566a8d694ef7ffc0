"""Our time client and server against programs we did not write: chronyd, ntplib and xinetd.

Peers run as subprocesses on 127.0.0.1 only, with their configuration, pid and log files in the test's
temporary directory; each is terminated and waited for in a finally. chronyd runs with ``-x``: it never
touches the system clock. A missing program is installed with apt-get when we are root (as
``make system-deps`` does); otherwise its tests are skipped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from netcore.engines.time_service import TimeClient, TimeServer
from netcore.errors import NoUdpReply, PortUnreachable, SocketLabError
from netcore.model.events import Event, Listening
from netcore.protocols.timeproto import (
    ServerUnsynchronised,
    SntpPacket,
    TimeResult,
    describe_sntp_fields,
    sntp_request,
)
from tests.requires import is_root

WAIT_S = 5.0
SNTP_TOLERANCE_S = 0.05
_install_attempts: dict[str, str | None] = {}  # program → its path, or None: missing for good


# -- helpers ------------------------------------------------------------------------------------
def which(program: str) -> str | None:
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")


def need(program: str, package: str) -> str:
    """The path of *program*; installs *package* with apt-get if we are root, else skips the test."""
    if program not in _install_attempts:
        _install_attempts[program] = which(program)
        if _install_attempts[program] is None and is_root() and shutil.which("apt-get"):
            env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
            install = ["apt-get", "install", "-y", "-qq", package]
            for commands in ([install], [["apt-get", "update", "-qq"], install]):
                for command in commands:
                    with contextlib.suppress(subprocess.SubprocessError, OSError):
                        subprocess.run(command, env=env, capture_output=True, timeout=600, check=False)
                if (path := which(program)) is not None:
                    _install_attempts[program] = path
                    break
    path = _install_attempts[program]
    if path is None:
        why = "apt-get could not install it" if is_root() else "we are not root to apt-get it"
        pytest.skip(f"{program} (Debian package {package}) is not installed and {why}")
    return path


def need_root(program: str) -> None:
    if not is_root():
        pytest.skip(f"{program} needs root to run here")


def free_port(kinds: tuple[int, ...] = (socket.SOCK_STREAM,)) -> int:
    """A port free right now on 127.0.0.1 for every socket kind in *kinds* (bounded tries)."""
    for _ in range(50):
        with contextlib.ExitStack() as stack:
            first = stack.enter_context(socket.socket(socket.AF_INET, kinds[0]))
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            try:
                for kind in kinds[1:]:
                    stack.enter_context(socket.socket(socket.AF_INET, kind)).bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no port free for both TCP and UDP after 50 tries")


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(WAIT_S)


def query(protocol: str, port: int, timeout: float = 2.0) -> TimeResult:
    client = TimeClient(protocol, "127.0.0.1", port, timeout)
    try:
        return client.query()
    finally:
        client.close()


def first_answer(
    protocol: str, port: int, proc: subprocess.Popen[bytes], log: Path, expect: type[Exception] | None = None
) -> tuple[TimeResult | None, Exception | None, float]:
    """Query until the peer answers (bounded by WAIT_S): (result, the answer's error, seconds taken).

    'Port unreachable' and silence mean it is still starting; any other error is its answer.
    """
    started = time.monotonic()
    deadline = started + WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{name(proc)} exited with {proc.returncode}: {read(log)}")
        try:
            return query(protocol, port, timeout=0.2), None, time.monotonic() - started
        except (PortUnreachable, NoUdpReply):
            time.sleep(0.005)
        except SocketLabError as exc:
            if expect is None or not isinstance(exc, expect):
                raise
            return None, exc, time.monotonic() - started
    raise AssertionError(f"{name(proc)} did not answer within {WAIT_S} s: {read(log)}")


def name(proc: subprocess.Popen[bytes]) -> str:
    args = proc.args
    return Path(str(args[0] if isinstance(args, list) else args)).name


def read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-2000:]
    except OSError:
        return "(no log)"


# -- chronyd ------------------------------------------------------------------------------------
@pytest.fixture
def start_chronyd(
    tmp_path: Path,
) -> Iterator[Callable[[int | None], tuple[int, subprocess.Popen[bytes], Path]]]:
    """Start chronyd on a free UDP port of 127.0.0.1 as a local clock of *stratum* (None: no source)."""
    chronyd = need("chronyd", "chrony")
    need_root("chronyd")
    procs: list[subprocess.Popen[bytes]] = []

    def start(stratum: int | None) -> tuple[int, subprocess.Popen[bytes], Path]:
        port = free_port((socket.SOCK_DGRAM,))
        run = tmp_path / f"chrony-{len(procs)}"
        run.mkdir()
        conf = run / "chrony.conf"
        lines = [
            f"port {port}",
            "bindaddress 127.0.0.1",
            "allow 127.0.0.1",
            "cmdport 0",
            "bindcmdaddress /",
            f"pidfile {run / 'chronyd.pid'}",
            f"driftfile {run / 'chrony.drift'}",
        ]
        if stratum is not None:
            lines.append(f"local stratum {stratum}")
        conf.write_text("\n".join(lines) + "\n")
        log = run / "chronyd.log"
        with log.open("wb") as out:
            # -x: never adjust the system clock; -d: stay in the foreground, log to stderr;
            # -u root: keep root so it can write its pid and drift files in our 0700 temporary directory
            proc = subprocess.Popen(
                [chronyd, "-x", "-d", "-u", "root", "-f", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        procs.append(proc)
        return port, proc, log

    try:
        yield start
    finally:
        for proc in procs:
            stop_process(proc)


def test_chronyd_local_stratum_7(
    start_chronyd: Callable[..., tuple[int, subprocess.Popen[bytes], Path]],
) -> None:
    port, proc, log = start_chronyd(7)
    result, _, took = first_answer("sntp", port, proc, log)
    assert result is not None
    assert took < WAIT_S  # about 20 ms here
    assert result.sntp is not None
    packet = result.sntp.packet
    assert (packet.leap, packet.version, packet.mode) == (0, 4, 4)
    assert packet.stratum == 7
    assert packet.reference_text == "127.127.1.1"  # chrony's reference ID for its local clock
    assert result.sntp.synchronised
    assert result.text == "stratum 7, reference 127.127.1.1"
    assert result.offset == pytest.approx(0, abs=SNTP_TOLERANCE_S)
    assert 0 <= result.delay < SNTP_TOLERANCE_S
    assert result.server_time == pytest.approx(time.time(), abs=0.5)
    fields = {name: value for _, _, name, value in describe_sntp_fields(packet)}
    assert fields["LI / version / mode"] == "LI 0 (no warning), version 4, mode 4 (server)"
    assert fields["stratum"] == "7"
    # a few more in a row: chronyd has no rate limit unless configured, so none is a kiss-of-death
    for _ in range(5):
        again = query("sntp", port)
        assert again.offset == pytest.approx(0, abs=SNTP_TOLERANCE_S)
        assert again.sntp is not None
        assert again.sntp.packet.stratum == 7


def test_chronyd_without_a_source_is_flagged_unsynchronised(
    start_chronyd: Callable[..., tuple[int, subprocess.Popen[bytes], Path]],
) -> None:
    port, proc, log = start_chronyd(None)
    result, error, _ = first_answer("sntp", port, proc, log, expect=ServerUnsynchronised)
    assert result is None, f"an unsynchronised chronyd was trusted: {result}"
    assert isinstance(error, ServerUnsynchronised)
    assert "not synchronised" in error.summary
    assert "leap indicator 3 (unsynchronised)" in error.summary
    assert "do not trust" in error.hint
    # what chronyd really sent: LI 3, stratum 0, no kiss code
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(WAIT_S)
        request = sntp_request(time.time())
        sock.sendto(request.encode(), ("127.0.0.1", port))
        reply = SntpPacket.decode(sock.recv(1024))
    assert (reply.leap, reply.mode, reply.stratum, reply.reference_id) == (3, 4, 0, bytes(4))
    assert reply.origin == request.transmit


# -- ntplib against our SNTP server -------------------------------------------------------------
@pytest.fixture
def our_sntp_server() -> Iterator[Callable[..., int]]:
    servers: list[TimeServer] = []

    def start(**kwargs: object) -> int:
        server = TimeServer("sntp", "127.0.0.1", 0, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        addr = server.bind()
        listening = threading.Event()

        def sink(events: Sequence[Event]) -> None:
            if any(isinstance(e, Listening) for e in events):
                listening.set()

        server.start_thread(sink, name="test-sntp-server")
        assert listening.wait(WAIT_S)
        return addr.port

    try:
        yield start
    finally:
        for server in servers:
            server.join(WAIT_S)
        for server in servers:
            assert server._thread is not None
            assert not server._thread.is_alive()


def test_ntplib_agrees_with_our_client(our_sntp_server: Callable[..., int]) -> None:
    ntplib = pytest.importorskip("ntplib", reason="ntplib is in the dev extra: pip install -e '.[dev]'")
    port = our_sntp_server()
    stats = ntplib.NTPClient().request("127.0.0.1", port=port, version=4, timeout=2)
    ours = query("sntp", port)
    assert ours.offset is not None
    assert stats.offset == pytest.approx(ours.offset, abs=0.01)
    assert stats.offset == pytest.approx(0, abs=SNTP_TOLERANCE_S)
    assert 0 <= stats.delay < SNTP_TOLERANCE_S
    assert (stats.leap, stats.version, stats.mode, stats.stratum) == (0, 4, 4, 1)
    assert stats.ref_id == int.from_bytes(b"LOCL", "big")
    assert ntplib.ref_id_to_text(stats.ref_id, stats.stratum) == "uncalibrated local clock"  # LOCL, to ntplib
    assert stats.tx_time == pytest.approx(time.time(), abs=0.5)


def test_ntplib_sees_our_deliberate_offset(our_sntp_server: Callable[..., int]) -> None:
    ntplib = pytest.importorskip("ntplib", reason="ntplib is in the dev extra: pip install -e '.[dev]'")
    port = our_sntp_server(offset=3.5, stratum=2)
    client = ntplib.NTPClient()
    stats = client.request("127.0.0.1", port=port, version=4, timeout=2)
    assert stats.offset == pytest.approx(3.5, abs=SNTP_TOLERANCE_S)
    assert stats.stratum == 2
    assert stats.tx_time == pytest.approx(time.time() + 3.5, abs=0.5)
    # an older client version is answered in kind
    v3 = client.request("127.0.0.1", port=port, version=3, timeout=2)
    assert v3.version == 3
    assert v3.offset == pytest.approx(3.5, abs=SNTP_TOLERANCE_S)
    ours = query("sntp", port)
    assert ours.offset == pytest.approx(stats.offset, abs=0.01)


# -- xinetd serving TIME and DAYTIME ------------------------------------------------------------
XINETD_SERVICE = """\
service {name}
{{
    type        = INTERNAL UNLISTED
    id          = {name}-{kind}
    socket_type = {kind}
    protocol    = {protocol}
    port        = {port}
    bind        = 127.0.0.1
    wait        = {wait}
    user        = root
}}
"""


@pytest.fixture(scope="module")
def xinetd_ports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    """xinetd's built-in TIME and DAYTIME services over TCP and UDP: {"time": port, "daytime": port}."""
    xinetd = need("xinetd", "xinetd")
    need_root("xinetd")
    run = tmp_path_factory.mktemp("xinetd")
    ports = {"time": free_port((socket.SOCK_STREAM, socket.SOCK_DGRAM))}
    ports["daytime"] = free_port((socket.SOCK_STREAM, socket.SOCK_DGRAM))
    assert ports["daytime"] != ports["time"]
    conf = run / "xinetd.conf"
    conf.write_text(
        "".join(
            XINETD_SERVICE.format(name=name, kind=kind, protocol=protocol, port=port, wait=wait)
            for name, port in ports.items()
            for kind, protocol, wait in (("stream", "tcp", "no"), ("dgram", "udp", "yes"))
        )
    )
    log = run / "xinetd.log"
    # -filelog: its own log in our directory (without it, it logs to syslog, which may not exist;
    # its -d debug mode needs a terminal)
    proc = subprocess.Popen(
        [
            xinetd,
            "-dontfork",
            "-stayalive",
            "-filelog",
            str(log),
            "-pidfile",
            str(run / "pid"),
            "-f",
            str(conf),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + WAIT_S
        while "Started working" not in read(log):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"xinetd did not start (exit {proc.poll()}): {read(log)}")
            time.sleep(0.01)
        assert "Started working: 4 available services" in read(log), read(log)
        yield ports
    finally:
        stop_process(proc)


@pytest.mark.parametrize("protocol", ["time-tcp", "time-udp"])
def test_xinetd_time(xinetd_ports: dict[str, int], protocol: str) -> None:
    result = query(protocol, xinetd_ports["time"])
    assert result.offset == pytest.approx(0, abs=1.0)  # RFC 868 counts whole seconds
    assert result.server_time == pytest.approx(time.time(), abs=1.5)
    assert result.text.endswith(" s")
    assert 0 <= result.delay < 0.5


@pytest.mark.parametrize("protocol", ["daytime-tcp", "daytime-udp"])
def test_xinetd_daytime(xinetd_ports: dict[str, int], protocol: str) -> None:
    result = query(protocol, xinetd_ports["daytime"])
    assert result.text.strip()
    assert result.offset is None
    # xinetd says e.g. '22 NOV 2026 05:58:30 UTC'
    said = datetime.strptime(result.text, "%d %b %Y %H:%M:%S %Z").replace(tzinfo=UTC)
    assert said.timestamp() == pytest.approx(time.time(), abs=2.0)

"""Every "Python equivalent" script runs against our own servers and does what the tab does."""

from __future__ import annotations

import ast
import re
import shlex
import socket
import subprocess
import sys
import time

import pytest

from netcore.engines.filefetch import FileServer
from netcore.engines.tcp_echo import TcpEchoServer
from netcore.engines.time_service import TimeServer
from netcore.engines.udp_echo import UdpEchoServer
from netcore.errors import InputError
from netcore.model.scenario import PRESETS
from netcore.present import pycode
from netcore.protocols.address import Address
from netcore.protocols.timeproto import TimeProtocol
from tests.netcore.support import free_port


def run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def serve():
    servers = []

    def start(server):
        addr = server.bind()
        server.start_thread(lambda _events: None)
        servers.append(server)
        return addr

    yield start
    for server in servers:
        server.join()


@pytest.mark.parametrize("framing", ["raw", "line", "length4"])
def test_tcp_client(serve, framing):
    addr = serve(TcpEchoServer(mode="upper", framing=framing))
    assert run(pycode.tcp_client(addr.host, addr.port, "hello 你好".encode(), framing)).strip() == repr(
        "HELLO 你好".encode()
    )


@pytest.mark.parametrize("connected", [False, True])
def test_udp_client(serve, connected):
    addr = serve(UdpEchoServer(mode="upper"))
    assert "b'PING'" in run(pycode.udp_client(addr.host, addr.port, b"ping", 2.0, connected))


def one_line_code(command: str) -> str:
    """The code of a "connect to me" command, checked to read the same in cmd.exe, PowerShell and sh:
    python -c and one argument in double quotes, with no double quote inside nor a character that
    one of those shells expands there (bash's ! history, cmd's %, PowerShell's $ and backquote)."""
    program, option, code = shlex.split(command)
    assert (program, option) == ("python", "-c") and command == f'python -c "{code}"'
    assert not set(code) & set('"!%$`\n'), code
    return code


@pytest.mark.parametrize("udp", [False, True])
def test_connect_one_liner_reaches_the_server(serve, udp):
    """The "connect to me" command of an echo server gets its reply."""
    server = UdpEchoServer(mode="upper") if udp else TcpEchoServer(mode="upper")
    addr = serve(server)
    assert "b'HELLO'" in run(one_line_code(pycode.connect_one_liner(addr.host, addr.port, udp)))


@pytest.mark.parametrize("protocol", list(TimeProtocol))
def test_connect_one_liner_asks_a_time_server_in_its_protocol(serve, protocol):
    """SNTP answers only a mode-3 request, TIME and DAYTIME over TCP only speak: each one-liner
    gets the time and prints it as this machine's clock reads it (one server, one clock)."""
    addr = serve(TimeServer(protocol))
    command = pycode.connect_one_liner(addr.host, addr.port, not protocol.is_tcp, protocol)
    before = time.time()
    out = run(one_line_code(command)).strip()
    if protocol in (TimeProtocol.DAYTIME_TCP, TimeProtocol.DAYTIME_UDP):
        assert time.strftime("%Y", time.gmtime(before)) in out
    else:
        shown = time.mktime(time.strptime(out, "%a %b %d %H:%M:%S %Y"))
        assert before - 2 <= shown <= time.time() + 2


@pytest.mark.parametrize("length_format", ["!I", "<i"])
def test_connect_one_liner_lists_a_file_servers_files(serve, tmp_path, length_format):
    (tmp_path / "hello.png").write_bytes(b"x" * 10)
    (tmp_path / "notes.txt").write_bytes(b"y")
    addr = serve(FileServer(tmp_path, length_format=length_format))
    command = pycode.connect_one_liner(addr.host, addr.port, False, pycode.FILES, length_format)
    assert sorted(ast.literal_eval(run(one_line_code(command)))) == ["hello.png", "notes.txt"]


@pytest.mark.parametrize("protocol", list(TimeProtocol))
def test_time_client(serve, protocol):
    addr = serve(TimeServer(protocol))
    out = run(pycode.time_client(protocol, addr.host, addr.port))
    assert out.strip()
    if protocol is TimeProtocol.SNTP:
        offset = float(out.split("offset ")[1].split()[0])
        assert abs(offset) < 0.1


@pytest.mark.parametrize("length_format", ["!I", "<i"])
def test_fetch_client(serve, tmp_path, length_format):
    body = bytes(range(256)) * 1000
    (tmp_path / "hello.png").write_bytes(body)
    addr = serve(FileServer(tmp_path, length_format=length_format))
    out = run(pycode.fetch_client(addr.host, addr.port, "hello", length_format))
    assert out.strip() == f"hello.png {len(body)} bytes, md5 ok"


def test_sticking_two_sends_merge_in_the_script():
    out = run(pycode.sticking(PRESETS["two-sends"]))
    assert "recv() returned 10 bytes: b'HelloWorld'" in out


def test_unsupported_settings_say_so():
    with pytest.raises(InputError):
        pycode.tcp_client("127.0.0.1", 1, b"x", "json")
    with pytest.raises(InputError):
        pycode.sticking(PRESETS["cure-announce-and-wait"])


@pytest.mark.parametrize("host", ["127.0.0.1", "::"])  # "::": an IPv4 client gets in, as in the app
def test_relay_script_relays_one_byte_per_send(serve, host):
    if host == "::" and not socket.has_ipv6:
        pytest.skip("this system has no IPv6")
    target = serve(TcpEchoServer())
    listen = Address(host, free_port())
    code = pycode.relay(listen, target, 1, 0, 64, 0.0)
    relay = subprocess.Popen([sys.executable, "-u", "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while True:  # until the script listens
            try:
                client = socket.create_connection(("127.0.0.1", listen.port), timeout=5)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline and relay.poll() is None  # still starting
        with client:
            client.sendall(b"hello")
            got = b""
            while len(got) < 5:
                got += client.recv(5)
        assert got == b"hello"
    finally:
        relay.terminate()
        out, _ = relay.communicate(timeout=10)
    sends = re.findall(r"(\d+) bytes: b'(.)'", out)  # both directions, one byte per send() each way
    assert sorted(sends) == sorted(("1", c) for c in "hello" * 2)  # printed before each send()

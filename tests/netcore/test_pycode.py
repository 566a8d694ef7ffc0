"""Every "Python equivalent" script runs against our own servers and does what the tab does."""

from __future__ import annotations

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


@pytest.mark.parametrize("udp", [False, True])
def test_connect_one_liner_reaches_the_server(serve, udp):
    """The "connect to me" command: python -c and one argument in double quotes, no double quote
    inside (so cmd.exe, PowerShell and sh read it alike), and it gets the server's reply."""
    server = UdpEchoServer(mode="upper") if udp else TcpEchoServer(mode="upper")
    addr = serve(server)
    command = pycode.connect_one_liner(addr.host, addr.port, udp)
    program, option, code = shlex.split(command)
    assert (program, option) == ("python", "-c") and command == f'python -c "{code}"' and '"' not in code
    assert "b'HELLO'" in run(code)


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

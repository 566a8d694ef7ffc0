"""The "Python equivalent" of each tab: the minimal standard-library code a student would write to
do what the current settings do. Every generator returns a complete script that prints what it got."""

from __future__ import annotations

from netcore.errors import InputError
from netcore.model.scenario import Cure, Scenario
from netcore.protocols.address import Address
from netcore.protocols.timeproto import TimeProtocol


def _addr(host: str, port: int) -> str:
    return f"({host!r}, {port})"


def tcp_client(host: str, port: int, message: bytes, framing: str = "raw") -> str:
    """Connect, send one message with the framing, read one reply."""
    if framing == "raw":
        send, receive = (
            "sock.sendall(message)",
            "reply = sock.recv(65536)  # up to 65536 bytes: maybe not all!",
        )
    elif framing == "line":
        send = 'sock.sendall(message + b"\\n")'
        receive = (
            'reply = b""\nwhile not reply.endswith(b"\\n"):  # read until the delimiter\n'
            "    chunk = sock.recv(4096)\n    if not chunk:\n        break\n    reply += chunk\n"
            "reply = reply[:-1]"
        )
    elif framing == "length4":
        send = 'sock.sendall(struct.pack("!I", len(message)) + message)'
        receive = (
            '(size,) = struct.unpack("!I", recv_exactly(sock, 4))  # the 4-byte header first\n'
            "reply = recv_exactly(sock, size)"
        )
    else:
        raise InputError(
            "no Python equivalent is written for the framing '{framing}' (raw, line, length4)",
            framing=framing,
        )
    return f'''import socket
import struct


def recv_exactly(sock, n):
    """recv() returns up to n bytes: loop until exactly n have arrived."""
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return bytes(data)


message = {message!r}
with socket.create_connection({_addr(host, port)}, timeout=5) as sock:
    {send}
{_indent(receive)}
print(reply)
'''


def udp_client(host: str, port: int, message: bytes, timeout: float = 2.0, connected: bool = False) -> str:
    """Send one datagram, wait for one reply."""
    if connected:
        send = f"sock.connect({_addr(host, port)})\n    sock.send(message)\n    reply = sock.recv(65535)"
        where = "server"
    else:
        send = f"sock.sendto(message, {_addr(host, port)})\n    reply, server = sock.recvfrom(65535)"
        where = "server"
    return f"""import socket

message = {message!r}
with socket.socket(socket.AF_INET6 if ":" in {host!r} else socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.settimeout({timeout!r})  # UDP may lose the datagram: never wait forever
    {send}
print(reply{", " + where if not connected else ""})
"""


def time_client(protocol: TimeProtocol, host: str, port: int) -> str:
    """Ask a time server once and print the time (and, for SNTP, offset and delay)."""
    if protocol is TimeProtocol.SNTP:
        return f"""import socket
import struct
import time

NTP_DELTA = 2208988800  # seconds from 1900 to 1970


def to_unix(stamp):
    seconds, fraction = stamp >> 32, stamp & 0xFFFFFFFF
    era = 0 if seconds & 0x80000000 else 1  # after 2036-02-07 the 32-bit seconds wrap
    return seconds + era * 2**32 - NTP_DELTA + fraction / 2**32


with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.settimeout(2)
    t1 = time.time()
    stamp = (int(t1) + NTP_DELTA) << 32 | int((t1 % 1) * 2**32)
    request = struct.pack("!B47x", (0 << 6) | (4 << 3) | 3)[:40] + struct.pack("!Q", stamp)
    sock.sendto(request, {_addr(host, port)})
    reply = sock.recv(48)
    t4 = time.time()
first, stratum = reply[0], reply[1]
origin, receive, transmit = struct.unpack("!QQQ", reply[24:48])
assert first & 7 == 4 and origin == stamp, "not a server reply to our request"
t2, t3 = to_unix(receive), to_unix(transmit)
print("stratum", stratum, "server time", time.ctime(t3))
print("offset", ((t2 - t1) + (t3 - t4)) / 2, "delay", (t4 - t1) - (t3 - t2))
"""
    if protocol is TimeProtocol.SIMPLE:
        ask = f"sock.sendto(b'', {_addr(host, port)})\n    data = sock.recv(4)"
        decode = '(seconds,) = struct.unpack("!I", data)  # Unix time, big-endian'
        kind = "SOCK_DGRAM"
    elif protocol in (TimeProtocol.TIME_TCP, TimeProtocol.TIME_UDP):
        decode = '(seconds,) = struct.unpack("!I", data)\nseconds -= 2208988800  # RFC 868 counts from 1900'
        kind = "SOCK_STREAM" if protocol.is_tcp else "SOCK_DGRAM"
        ask = (
            f"sock.connect({_addr(host, port)})\n    data = sock.recv(4)"
            if protocol.is_tcp
            else f"sock.sendto(b'', {_addr(host, port)})\n    data = sock.recv(4)"
        )
    else:
        kind = "SOCK_STREAM" if protocol.is_tcp else "SOCK_DGRAM"
        ask = (
            f"sock.connect({_addr(host, port)})\n    data = sock.recv(1024)"
            if protocol.is_tcp
            else f"sock.sendto(b'', {_addr(host, port)})\n    data = sock.recv(1024)"
        )
        return f"""import socket

with socket.socket(socket.AF_INET, socket.{kind}) as sock:
    sock.settimeout(2)
    {ask}
print(data.decode("ascii", "replace").strip())  # DAYTIME: a line of text, any format
"""
    return f"""import socket
import struct
import time

with socket.socket(socket.AF_INET, socket.{kind}) as sock:
    sock.settimeout(2)
    {ask}
{decode}
print(seconds, time.ctime(seconds))
"""


def fetch_client(host: str, port: int, name: str, length_format: str = "auto") -> str:
    """The course's file client, done right: exact reads, md5 check, no quadratic ``data +=``."""
    fmt = "<i" if length_format == "<i" else "!I"
    return f"""import hashlib
import json
import socket
import struct


def recv_exactly(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(min(n - len(data), 1 << 20))
        if not chunk:
            raise ConnectionError(f"closed after {{len(data)}} of {{n}} bytes")
        data += chunk
    return bytes(data)


with socket.create_connection({_addr(host, port)}, timeout=10) as sock:
    sock.sendall({name!r}.encode())
    (header_length,) = struct.unpack({fmt!r}, recv_exactly(sock, 4))
    header = json.loads(recv_exactly(sock, header_length))
    if "error" in header:
        raise SystemExit(header["error"])
    body = recv_exactly(sock, header["data_all"])
    sock.sendall(b"q")
assert hashlib.md5(body).hexdigest() == header["file_hex"], "md5 mismatch"
name, kind = header["file_name"], header.get("file_type", "")  # the stem and the extension
if kind and not name.endswith("." + kind):  # (some servers send the whole name in file_name)
    name += "." + kind
print(name, len(body), "bytes, md5 ok")
"""


def sticking(scenario: Scenario) -> str:
    """Both ends of the scenario in one script: a receiver thread and a sender, as the course writes."""
    messages = list(scenario.messages)
    if scenario.cure is Cure.LENGTH:
        send = '        conn.send(struct.pack("!I", len(m)))\n        conn.send(m)'
    elif scenario.cure is Cure.DELIMITER:
        send = f"        conn.send(m + {scenario.delimiter!r})"
    elif scenario.cure is Cure.NONE:
        send = "        conn.send(m)"
    else:
        raise InputError(
            "no Python equivalent is written for the '{cure}' cure yet",
            cure=scenario.cure.label,
        )
    sender = (
        "    conn.sendall(b''.join(messages))"
        if scenario.sendall and scenario.cure is Cure.NONE
        else f"    for m in messages:\n{send}\n        time.sleep({scenario.gap_s!r})"
    )
    return f"""import socket
import struct
import threading
import time

messages = {messages!r}
server = socket.create_server(("127.0.0.1", 0))


def receiver():
    conn, _ = server.accept()
    time.sleep({scenario.recv_delay_s!r})  # let the sends pile up in the receive buffer
    while chunk := conn.recv({scenario.recv_size}):
        print("recv() returned", len(chunk), "bytes:", chunk)


thread = threading.Thread(target=receiver)
thread.start()
with socket.create_connection(server.getsockname()) as conn:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, {int(scenario.nodelay)})
{sender}
thread.join()
server.close()
"""


ECHO, FILES = "echo", "files"  # the servers a "connect to me" one-liner can talk to, besides time


def connect_one_liner(
    host: str, port: int, udp: bool, service: TimeProtocol | str = ECHO, length_format: str = "!I"
) -> str:
    """The command a student types to reach the server at host:port: ``python -c "..."``, one line
    that asks what that server answers and prints the answer.

    *service*: ECHO (TCP, or UDP when *udp*) sends b'hello'; a ``TimeProtocol`` asks as its client
    does (SNTP: a 48-byte mode-3 request, the transmit time printed; TIME/DAYTIME over TCP: connect
    and read; over UDP and the course's SIMPLE: an empty datagram); FILES sends '?' and prints the
    list header, its length packed as *length_format* ('!I' or the course's '<i').
    Inside it quotes only with single quotes and uses no ``!``, ``%``, ``$`` or backquote, so it runs
    the same in cmd.exe, PowerShell and a POSIX shell (bash's history expansion included)."""
    family = "socket.AF_INET6" if ":" in host else "socket.AF_INET"
    where = _addr(host, port)
    tcp = f"s = socket.create_connection({where}, 5)"
    udp_socket = f"s = socket.socket({family}, socket.SOCK_DGRAM); s.settimeout(5)"
    since_1900 = "print(time.ctime(t - 2208988800 + (t < 2**31) * 2**32))"  # the era rule after 2036
    if service == ECHO:
        code = (
            f"import socket; {udp_socket}; s.sendto(b'hello', {where}); print(s.recvfrom(65535))"
            if udp
            else f"import socket; {tcp}; s.sendall(b'hello'); print(s.recv(65536))"
        )
    elif service == FILES:
        fmt = "<i" if length_format == "<i" else ">I"
        code = (
            f"import json, socket, struct; {tcp}; s.sendall(b'?'); f = s.makefile('rb'); "
            f"(n,) = struct.unpack('{fmt}', f.read(4)); h = json.loads(f.read(n)); print(h.get('files', h))"
        )
    elif service is TimeProtocol.SNTP:
        code = (
            f"import socket, struct, time; {udp_socket}; s.sendto(bytes([0x23]) + bytes(47), {where}); "
            f"(t,) = struct.unpack('>I', s.recv(48)[40:44]); {since_1900}"
        )
    elif isinstance(service, TimeProtocol):
        ask = tcp if service.is_tcp else f"{udp_socket}; s.sendto(b'', {where})"
        if service in (TimeProtocol.DAYTIME_TCP, TimeProtocol.DAYTIME_UDP):
            code = f"import socket; {ask}; print(s.recv(1024).decode('ascii', 'replace').strip())"
        else:  # 4 bytes: seconds since 1970 (the course's SIMPLE) or since 1900 (RFC 868 TIME)
            show = "print(time.ctime(t))" if service is TimeProtocol.SIMPLE else since_1900
            code = f"import socket, struct, time; {ask}; (t,) = struct.unpack('>I', s.recv(4)); {show}"
    else:
        raise InputError(f"no one-liner is written for the service '{service}'")
    return f'python -c "{code}"'


def relay(
    listen: Address, target: Address, size: int | None, seed: int, max_size: int, delay_s: float
) -> str:
    """A re-chunking relay: every client gets a connection to *target*; each direction is copied in
    sends of *size* bytes (None: random sizes 1..*max_size* from *seed*), *delay_s* apart."""
    chunk = (
        f"lambda: {size}  # bytes per send()"
        if size is not None
        else f"lambda: rng.randint(1, {max_size})  # replayable from the seed"
    )
    family = ", family=socket.AF_INET6" if ":" in listen.host else ""
    if listen.host in ("::", ""):
        family += ", dualstack_ipv6=True"  # as the app listens on "::": IPv4 clients too
    return f"""import random
import socket
import threading
import time

LISTEN = {_addr(listen.host, listen.port)}
TARGET = {_addr(target.host, target.port)}
rng = random.Random({seed})
chunk_size = {chunk}


def pump(src, dst):
    # copy src to dst, cut into other pieces than were sent
    while data := src.recv(65536):
        while data:
            n = chunk_size()
            piece, data = data[:n], data[n:]
            print(f"{{len(piece)}} bytes: {{piece!r}}")
            dst.sendall(piece)
            time.sleep({delay_s!r})
    dst.shutdown(socket.SHUT_WR)


def relay(client):
    with client, socket.create_connection(TARGET) as server:
        back = threading.Thread(target=pump, args=(server, client))
        back.start()
        pump(client, server)
        back.join()


with socket.create_server(LISTEN{family}) as listener:
    while True:
        client, _ = listener.accept()
        threading.Thread(target=relay, args=(client,)).start()
"""


def _indent(code: str) -> str:
    return "\n".join("    " + line if line else line for line in code.splitlines())

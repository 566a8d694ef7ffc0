"""The file server's keyed mode against a relay, a key guesser and a short key (issue 17, item 3).

A fake server in the middle passes the real server's nonce to a client that holds the key and the
client's answer back: the client refuses the fake (it cannot prove the key) and the fake, though the
real server took the relayed answer, gets nothing private (its own requests carry no session HMAC).
A guesser from one address is locked out after KEY_FAILURES wrong keys while a client with the key
still gets in; a 15-byte key is refused with the hint that says how to make one.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from netcore.cli.commands import EXIT_USAGE
from netcore.engines.filefetch import KEY_FAILURES, MIN_KEY_BYTES, FetchClient, FileServer
from netcore.errors import KeyTooShort, RemoteProtocolError, ServerNotProven, TooManyKeyGuesses
from netcore.protocols.filehdr import encode_header
from tests.hostile.support import FakeTcpServer, Served, read_to_end, serving
from tests.netcore.support import WAIT_S, cli, read_header

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

KEY = b"the shared key of the keyed tests"
PRIVATE = b"PRIVATE: only for those who hold the key\n"
GUESSER = "127.0.0.2"  # loopback too: another address for the server's per-address count
LOCKED_ATTEMPTS = 50


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A keyed file server of a folder with one private file."""
    root = tmp_path / "served"
    root.mkdir()
    (root / "private.txt").write_bytes(PRIVATE)
    with serving(FileServer(root, key=KEY), "keyed-file-server") as running:
        yield running


def relay(served: Served, haul: list[bytes]) -> FakeTcpServer:
    """A fake server that passes the real server's first message to its client and the client's
    answer back, answers the client with a proof of its own making, then asks the real server for
    the list and the private file; *haul* gets all the real server sent it after the answer."""

    def handle(client: socket.socket) -> None:
        with socket.create_connection((served.addr.host, served.addr.port), timeout=WAIT_S) as real:
            client.sendall(real.recv(4096))  # the real nonce (or, before, the 32-byte challenge)
            real.sendall(client.recv(4096))  # the key holder's answer
            client.sendall(encode_header({"proof": os.urandom(32).hex(), "data_all": 0}))
            real.sendall(b"?\nprivate.txt\n")
            real.shutdown(socket.SHUT_WR)
            haul.append(read_to_end(real)[0])

    fake = FakeTcpServer()
    fake.expect(handle)
    return fake


def test_a_relaying_fake_server_is_refused_and_gets_nothing_private(
    served: Served, tmp_path: Path, record_property
) -> None:
    """The key holder refuses the fake server and saves nothing; the fake gets no list, no file."""
    dest = tmp_path / "dest"
    dest.mkdir()
    haul: list[bytes] = []
    fake = relay(served, haul)
    client = FetchClient("127.0.0.1", fake.port, dest, key=KEY, timeout=WAIT_S)
    try:
        with pytest.raises(ServerNotProven, match="may be an impostor relaying your answers") as caught:
            client.connect()
        fake.wait_done()
    finally:
        client.close()
        fake.close()
    [stolen] = haul
    assert PRIVATE not in stolen and b"private.txt" not in stolen, stolen
    refusal = {"error": "the request does not carry this session's key HMAC", "data_all": 0}
    assert stolen.endswith(encode_header(refusal))  # after the real server's proof, which it kept
    assert list(dest.iterdir()) == []
    assert caught.value.hint
    served.tally.wait_count("Closed")
    assert served.tally.error_count(RemoteProtocolError) == 1
    record_property("relay: bytes the fake got after the answer", len(stolen))
    record_property("relay: private bytes leaked", 0)


def guess(port: int) -> bool:
    """One wrong key from GUESSER: True if the server checked it, False if it refused the address."""
    with socket.socket() as sock:
        sock.settimeout(WAIT_S)
        sock.bind((GUESSER, 0))
        sock.connect(("127.0.0.1", port))
        first = read_header(sock)
        if "error" in first:
            assert first["error"].startswith(f"too many wrong keys from {GUESSER}")
            return False
        sock.sendall(os.urandom(64))
        assert "wrong key" in read_header(sock)["error"]
        return True


def test_a_key_guesser_is_locked_out_while_a_key_holder_gets_in(
    served: Served, tmp_path: Path, record_property
) -> None:
    """After KEY_FAILURES wrong keys the guesser's attempts are refused unchecked, counted and
    reported; a client with the key from another address fetches meanwhile."""
    with socket.socket() as probe:
        try:
            probe.bind((GUESSER, 0))
        except OSError:
            pytest.skip(f"this system gives no loopback address {GUESSER} to bind")
    started = time.perf_counter()
    checked_before = sum(guess(served.addr.port) for _ in range(KEY_FAILURES))
    before_s = time.perf_counter() - started
    started = time.perf_counter()
    checked_after = sum(guess(served.addr.port) for _ in range(LOCKED_ATTEMPTS))
    after_s = time.perf_counter() - started
    assert (checked_before, checked_after) == (KEY_FAILURES, 0)

    client = FetchClient(served.addr.host, served.addr.port, tmp_path, key=KEY, timeout=WAIT_S)
    try:
        client.connect()
        assert client.fetch("private.txt").path.read_bytes() == PRIVATE
    finally:
        client.close()
    served.tally.wait_count("Closed", KEY_FAILURES + LOCKED_ATTEMPTS + 1)
    assert served.tally.error_count(TooManyKeyGuesses) == LOCKED_ATTEMPTS
    assert served.engine.key_guard.refused == LOCKED_ATTEMPTS  # type: ignore[attr-defined]
    served.assert_healthy()
    record_property("guesses checked per second before the lockout", f"{checked_before / before_s:.0f}")
    record_property("guesses checked per second after", f"{checked_after / after_s:.0f}")
    record_property("attempts refused while locked out", LOCKED_ATTEMPTS)


def test_a_15_byte_key_is_refused_with_the_hint_in_engines_and_cli(tmp_path: Path, record_property) -> None:
    """Engines raise KeyTooShort; the CLI exits with a usage error; both say how to make a key."""
    short = b"k" * (MIN_KEY_BYTES - 1)
    how = 'python -c "import secrets; print(secrets.token_hex(16))" > key.txt'
    for make in (lambda: FileServer(tmp_path, key=short), lambda: FetchClient("127.0.0.1", 9, key=short)):
        with pytest.raises(KeyTooShort, match="has 15 bytes: it needs at least 16") as caught:
            make()
        assert how in caught.value.hint
    FileServer(tmp_path, key=short + b"k")
    key_file = tmp_path / "key.txt"
    key_file.write_bytes(short + b"\n")
    for command in (
        ("fetch", "x", "--port", "9", "--key-file", str(key_file)),
        ("file-server", "--root", str(tmp_path), "--port", "0", "--key-file", str(key_file)),
    ):
        proc = cli(*command, timeout=WAIT_S * 4)
        assert proc.returncode == EXIT_USAGE, proc.stderr
        assert "15 bytes" in proc.stderr and how in proc.stderr
    record_property("shortest key accepted (bytes)", MIN_KEY_BYTES)

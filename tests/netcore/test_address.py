"""Tests of the address parser in netcore.protocols.address."""

from __future__ import annotations

import dataclasses

import pytest

from netcore.errors import InputError
from netcore.protocols.address import Address, parse_address, parse_port


@pytest.mark.parametrize(
    ("text", "default", "host", "port"),
    [
        ("127.0.0.1:8000", None, "127.0.0.1", 8000),
        ("  127.0.0.1:8000  ", None, "127.0.0.1", 8000),
        ("localhost:80", None, "localhost", 80),
        ("example.com:443", 80, "example.com", 443),  # a port in the text wins over the port field
        ("[::1]:8000", None, "::1", 8000),
        ("[::1]:8000", 9, "::1", 8000),
        ("[::1]", 8000, "::1", 8000),
        ("[0:0::1]:53", None, "::1", 53),  # IPv6 is normalised
        ("[2001:DB8::1]:1", None, "2001:db8::1", 1),
        ("::1", 8000, "::1", 8000),
        ("::", "7", "::", 7),
        ("fe80::1", 22, "fe80::1", 22),
        ("127.0.0.1", 8001, "127.0.0.1", 8001),
        ("localhost", "9000", "localhost", 9000),
        ("my-host.example", 1, "my-host.example", 1),
        ("0.0.0.0:0", None, "0.0.0.0", 0),
        ("10.0.0.1:65535", None, "10.0.0.1", 65535),
        ("127.0.0.1: 80 ", None, "127.0.0.1", 80),
    ],
)
def test_parse_address_accepts(text: str, default: int | str | None, host: str, port: int) -> None:
    assert parse_address(text, default) == Address(host, port)


@pytest.mark.parametrize(
    ("text", "default", "fragment"),
    [
        ("127.0.0.1", None, "no port given for '127.0.0.1'"),
        ("localhost", None, "fill in the port field"),
        ("::1", None, "no port given for '::1'"),
        ("[::1]", None, "no port given"),
        ("1.2.3.999:80", None, "'1.2.3.999' is not a valid IPv4 address"),
        ("1.2.3:80", None, "not a valid IPv4 address"),
        ("256.0.0.1", 80, "not a valid IPv4 address"),
        ("[127.0.0.1]:80", None, "square brackets are only for IPv6"),
        ("[localhost]:80", None, "square brackets are only for IPv6"),
        ("[::1:80", None, "never closes"),
        ("[::1]80", None, "unexpected '80' after ']'"),
        ("[::g]:80", None, "'::g' is not a valid IPv6 address"),
        ("1:2:3:4:5:6:7:8:9", 80, "not a valid IPv6 address"),
        (":80", None, "the host is empty"),
        ("", 80, "the host is empty"),
        ("   ", 80, "the host is empty"),
        ("my host:80", None, "contains a space"),
        ("127.0.0.1:", None, "the port is empty"),
        ("127.0.0.1:abc", None, "port 'abc' is not a number"),
        ("127.0.0.1:65536", None, "port 65536 is out of range"),
        ("127.0.0.1:-1", None, "is not a number"),
        ("[::1]:99999", None, "out of range"),
        ("localhost", 70000, "out of range"),
        ("localhost", "x", "not a number"),
    ],
)
def test_parse_address_rejects(text: str, default: int | str | None, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_address(text, default)
    assert fragment in str(info.value)
    assert info.value.summary == str(info.value)


@pytest.mark.parametrize(
    ("text", "value"), [("0", 0), ("65535", 65535), (" 8000 ", 8000), (0, 0), (65535, 65535), ("080", 80)]
)
def test_parse_port_accepts(text: str | int, value: int) -> None:
    assert parse_port(text) == value


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (-1, "port -1 is out of range"),
        (65536, "port 65536 is out of range"),
        ("65536", "port 65536 is out of range"),
        ("-1", "port '-1' is not a number"),
        ("abc", "port 'abc' is not a number"),
        ("80.5", "is not a number"),
        ("0x50", "is not a number"),
        ("", "the port is empty"),
        ("   ", "the port is empty"),
    ],
)
def test_parse_port_rejects_with_the_range(text: str | int, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        parse_port(text)
    message = str(info.value)
    assert fragment in message
    assert "from 0 to 65535" in message


def test_address_str_and_family() -> None:
    assert str(Address("127.0.0.1", 80)) == "127.0.0.1:80"
    assert str(Address("::1", 80)) == "[::1]:80"
    assert str(parse_address("[2001:db8::1]:8080")) == "[2001:db8::1]:8080"
    assert str(parse_address("localhost", 1)) == "localhost:1"
    assert parse_address("::1", 1).is_ipv6
    assert not parse_address("127.0.0.1", 1).is_ipv6
    assert not parse_address("localhost", 1).is_ipv6


def test_address_round_trips_through_its_text() -> None:
    for text in ["127.0.0.1:80", "[::1]:8000", "[fe80::1]:0", "example.com:65535"]:
        assert str(parse_address(text)) == text
        assert parse_address(str(parse_address(text))) == parse_address(text)


def test_address_is_frozen_and_hashable() -> None:
    addr = Address("::1", 80)
    with pytest.raises(dataclasses.FrozenInstanceError):
        addr.port = 81  # type: ignore[misc]
    assert {addr, Address("::1", 80)} == {addr}

"""Tests of netcore.errors: the error classes, their hints, and the OSError → NetError table."""

from __future__ import annotations

import errno
import inspect
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from netcore import errors
from netcore.engines.serving import open_listener
from netcore.errors import (
    AddressInUse,
    AddressNotAvailable,
    ConnectionRefused,
    ConnectionReset,
    FamilyNotSupported,
    HostNotFound,
    InputError,
    LocalProtocolError,
    NetError,
    NetworkUnreachable,
    PermissionDenied,
    ProtocolError,
    RemoteProtocolError,
    SocketLabError,
    TimedOut,
    format_endpoint,
    from_os_error,
)


def os_error(code: int) -> OSError:
    return OSError(code, os.strerror(code))


def test_refused_hint_names_the_endpoint_and_what_to_do() -> None:
    err = from_os_error(os_error(errno.ECONNREFUSED), action="connect to", host="127.0.0.1", port=8001)
    assert type(err) is ConnectionRefused
    assert err.summary == "connect to 127.0.0.1:8001 failed: connection refused"
    assert "Nothing is listening on 127.0.0.1:8001" in err.hint
    assert "start the server" in err.hint
    assert err.describe() == f"{err.summary} — {err.hint}"
    assert str(err) == err.summary
    assert err.params["errno"] == errno.ECONNREFUSED


def test_ipv6_endpoint_is_bracketed() -> None:
    err = from_os_error(os_error(errno.ECONNREFUSED), action="connect to", host="::1", port=80)
    assert "Nothing is listening on [::1]:80" in err.hint
    assert format_endpoint("::1", 80) == "[::1]:80"
    assert format_endpoint("localhost", 80) == "localhost:80"


def test_etimedout_and_timeout_error() -> None:
    err = from_os_error(os_error(errno.ETIMEDOUT), action="connect to", host="10.1.2.3", port=80, timeout=5)
    assert type(err) is TimedOut
    assert err.summary == "connect to 10.1.2.3:80 timed out after 5 s"
    assert "No answer from 10.1.2.3:80" in err.hint and "firewall" in err.hint

    err = from_os_error(TimeoutError(), action="receive from", host="h", port=1, timeout=2.5)
    assert type(err) is TimedOut
    assert err.summary == "receive from h:1 timed out after 2.5 s"
    assert err.params["detail"] == "timed out"

    err = from_os_error(TimeoutError("timed out"), action="recv", host="h", port=2, timeout=0.25)
    assert type(err) is TimedOut and "0.25 s" in err.summary


def test_address_in_use_hint() -> None:
    err = from_os_error(os_error(errno.EADDRINUSE), action="listen on", host="0.0.0.0", port=8000)
    assert type(err) is AddressInUse
    assert err.summary == "cannot listen on 0.0.0.0:8000: address already in use"
    assert "SO_REUSEADDR" in err.hint and "TIME_WAIT" in err.hint and "port 8000" in err.hint


def test_address_not_available_hint() -> None:
    err = from_os_error(os_error(errno.EADDRNOTAVAIL), action="listen on", host="10.9.8.7", port=8000)
    assert type(err) is AddressNotAvailable
    assert "10.9.8.7:8000" in err.summary
    assert err.hint.startswith("10.9.8.7 is not an address of this machine")
    assert "127.0.0.1" in err.hint


@pytest.mark.parametrize("code", [errno.EACCES, errno.EPERM])
def test_permission_denied_only_for_privileged_ports(code: int) -> None:
    low = from_os_error(os_error(code), action="listen on", host="0.0.0.0", port=80)
    assert type(low) is PermissionDenied
    assert "below 1024" in low.hint and "1024 to 65535" in low.hint
    edge = from_os_error(os_error(code), action="listen on", host="0.0.0.0", port=1023)
    assert type(edge) is PermissionDenied

    high = from_os_error(os_error(code), action="send to", host="255.255.255.255", port=1024)
    assert type(high) is NetError
    assert "1024" not in high.hint
    assert os.strerror(code) in high.summary and os.strerror(code) not in high.hint  # said once, not twice
    assert high.summary == f"send to 255.255.255.255:1024 failed: {os.strerror(code)}"


@pytest.mark.parametrize("code", [errno.ENETUNREACH, errno.EHOSTUNREACH])
def test_unreachable(code: int) -> None:
    err = from_os_error(os_error(code), action="connect to", host="203.0.113.5", port=80)
    assert type(err) is NetworkUnreachable
    assert "no route to 203.0.113.5" in err.hint
    assert err.summary == "connect to 203.0.113.5:80 failed: network unreachable"


@pytest.mark.parametrize("code", [errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED])
def test_reset(code: int) -> None:
    err = from_os_error(os_error(code), action="receive from", host="127.0.0.1", port=9)
    assert type(err) is ConnectionReset
    assert err.summary == "connection with 127.0.0.1:9 was reset"
    assert "not a clean close" in err.hint


def test_family_not_supported() -> None:
    err = from_os_error(os_error(errno.EAFNOSUPPORT), action="listen on", host="::", port=80)
    assert type(err) is FamilyNotSupported
    assert "[::]:80" in err.summary and "other address family" in err.hint


def test_dns_failure() -> None:
    exc = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    err = from_os_error(exc, action="connect to", host="no-such-host.invalid", port=80)
    assert type(err) is HostNotFound
    assert err.summary == "cannot resolve host name 'no-such-host.invalid'"
    assert "'no-such-host.invalid'" in err.hint and "127.0.0.1" in err.hint
    assert err.params["detail"] == "Name or service not known"
    assert err.params["errno"] == socket.EAI_NONAME


def test_unknown_errno_is_a_plain_net_error_with_its_message() -> None:
    err = from_os_error(os_error(errno.EIO), action="send to", host="h", port=5)
    assert type(err) is NetError
    assert err.summary == f"send to h:5 failed: {os.strerror(errno.EIO)}"
    err = from_os_error(OSError("odd"), action="send to", host="h", port=5)
    assert type(err) is NetError and "odd" in err.summary


# Sample values for the parameters of error classes with their own constructor, by parameter name.
SAMPLE_PARAMS = {
    **{"name": "a.txt", "reason": "no", "folder": "/tmp/x", "detail": "d", "size": 9, "free": 1},
    **{"where": "h:1", "count": 3, "port": 7, "rate": 1000.0, "burst": 100},
    **{"host": "h", "minimum": 16, "failures": 5, "window": 60.0, "left": 42.0, "refused": 2},
}


def _error_classes() -> Iterator[type[SocketLabError]]:
    for _, obj in inspect.getmembers(errors, inspect.isclass):
        if issubclass(obj, SocketLabError):
            yield obj


def test_every_error_class_derives_from_the_base_and_explains_itself() -> None:
    classes = set(_error_classes())
    assert {
        InputError,
        ProtocolError,
        LocalProtocolError,
        RemoteProtocolError,
        NetError,
        ConnectionRefused,
        TimedOut,
        AddressInUse,
        AddressNotAvailable,
        PermissionDenied,
        HostNotFound,
        NetworkUnreachable,
        FamilyNotSupported,
        ConnectionReset,
    } <= classes
    for cls in classes:
        parameters = inspect.signature(cls).parameters
        if cls.summary_template == "{detail}" and "detail" not in parameters and "params" not in parameters:
            continue  # an abstract base (ReplyWithheld): only its subclasses, with templates, are raised
        if issubclass(cls, NetError):
            extras: dict[type, dict[str, Any]] = {
                errors.BufferBudgetExceeded: {"held": 5, "budget_mib": 256.0},
                errors.FetchTooSlow: {"name": "f.txt", "deadline": 600.0, "received": 5},
            }
            extra = extras.get(cls, {})
            err: SocketLabError = cls(
                action="connect to", where="h:1", detail="d", host="h", port=1, timeout=1.0, **extra
            )
        elif cls in (InputError, LocalProtocolError, RemoteProtocolError):
            err = cls("something broke")  # type: ignore[call-arg]
        elif "params" not in parameters:  # a constructor of its own: named parameters
            err = cls(**{name: SAMPLE_PARAMS[name] for name in parameters})
        else:
            err = cls(detail="something broke")
        assert isinstance(err, SocketLabError) and isinstance(err, Exception)
        assert err.summary and "{" not in err.summary, cls
        assert "{" not in err.hint, cls
        assert err.describe().startswith(err.summary)
        if err.hint:
            assert err.describe() == f"{err.summary} — {err.hint}"


def test_net_errors_from_the_table_are_net_errors() -> None:
    for code in (
        errno.ECONNREFUSED,
        errno.ETIMEDOUT,
        errno.EADDRINUSE,
        errno.EADDRNOTAVAIL,
        errno.EACCES,
        errno.ENETUNREACH,
        errno.ECONNRESET,
        errno.EAFNOSUPPORT,
        errno.EIO,
    ):
        err = from_os_error(os_error(code), action="connect to", host="127.0.0.1", port=80)
        assert isinstance(err, NetError) and isinstance(err, SocketLabError)
        assert err.hint and err.summary and "127.0.0.1" in err.describe()


def test_protocol_errors_say_whose_fault() -> None:
    local, remote = LocalProtocolError("too big"), RemoteProtocolError("bad length")
    assert isinstance(local, ProtocolError) and isinstance(remote, ProtocolError)
    assert local.summary == "too big" and remote.summary == "bad length"
    assert "local mistake" in local.hint
    assert "peer" in remote.hint
    assert remote.describe() == f"bad length — {remote.hint}"


def test_input_error() -> None:
    err = InputError("bad port", position=3)
    assert isinstance(err, ValueError)
    assert err.position == 3
    assert InputError("x").position is None
    assert err.hint == ""
    assert err.describe() == "bad port"
    assert str(err) == "bad port"


# -- real loopback checks -----------------------------------------------------------------------
def test_connecting_to_a_closed_port_is_refused() -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.settimeout(5)
    try:
        with pytest.raises(OSError) as info:
            client.connect(("127.0.0.1", port))
    finally:
        client.close()
    err = from_os_error(info.value, action="connect to", host="127.0.0.1", port=port)
    assert type(err) is ConnectionRefused
    assert f"Nothing is listening on 127.0.0.1:{port}" in err.hint


@pytest.mark.parametrize("reuse_addr", [False, True])
def test_binding_a_port_held_by_a_listener_is_address_in_use(reuse_addr: bool) -> None:
    holder = open_listener("127.0.0.1", 0, socket.SOCK_STREAM, reuse_addr)
    try:
        port = holder.getsockname()[1]
        with pytest.raises(AddressInUse) as info:
            open_listener("127.0.0.1", port, socket.SOCK_STREAM, reuse_addr)
        assert info.value.params["port"] == port
        assert f"127.0.0.1:{port}" in info.value.summary
        assert "SO_REUSEADDR" in info.value.hint
    finally:
        holder.close()
    # Once the holder is gone the port can be listened on again.
    again = open_listener("127.0.0.1", port, socket.SOCK_STREAM, True)
    again.close()


def test_binding_a_udp_port_held_by_another_socket_is_address_in_use() -> None:
    holder = open_listener("127.0.0.1", 0, socket.SOCK_DGRAM, False)
    try:
        port = holder.getsockname()[1]
        with pytest.raises(AddressInUse):
            open_listener("127.0.0.1", port, socket.SOCK_DGRAM, False)
    finally:
        holder.close()


def test_binding_an_address_this_machine_does_not_have() -> None:
    with pytest.raises(AddressNotAvailable) as info:
        open_listener("192.0.2.1", 0, socket.SOCK_STREAM, False)  # TEST-NET-1, never local
    assert "192.0.2.1 is not an address of this machine" in info.value.hint

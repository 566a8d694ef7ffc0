""" "Connect to me": the choice of addresses over made-up interfaces, the interfaces the OS reports
(checked against ``ip -j addr``), and real servers on 0.0.0.0 / :: in the window."""

from __future__ import annotations

import ast
import ipaddress
import json
import shlex
import shutil
import socket
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFontMetricsF, QGuiApplication

from app.connect_to_me import (
    LOOPBACK,
    RUNNING,
    UP,
    VIRTUAL,
    WARNED_KEY,
    InterfaceAddress,
    machine_addresses,
    student_addresses,
)
from app.main_window import MainWindow
from netcore.protocols.timeproto import TimeProtocol

LIVE = frozenset({UP, RUNNING})


def iface(name: str, address: str, *flags: str) -> InterfaceAddress:
    return InterfaceAddress(name, frozenset(flags) if flags else LIVE, address)


MADE_UP = [
    iface("lo", "127.0.0.1", UP, RUNNING, LOOPBACK),
    iface("lo", "::1", UP, RUNNING, LOOPBACK),
    iface("docker0", "172.17.0.1"),
    iface("eth0", "fe80::1%eth0"),
    iface("eth0", "2001:db8::20"),
    iface("eth0", "192.168.1.20"),
    iface("wlan0", "10.0.0.7", UP),  # up but not running: no cable, no Wi-Fi
    iface("eth1", "10.1.1.1", RUNNING),  # running but down
    iface("Wi-Fi", "169.254.3.4"),
    iface("vEthernet (WSL)", "172.20.0.1"),
    iface("vmx", "192.168.56.1", UP, RUNNING, VIRTUAL),
    iface("eth0:1", "192.168.1.20"),  # the same address twice: listed once
    iface("odd", "not an address"),
    iface("eth2", "10.9.9.9"),
]


def addresses(entries: list[InterfaceAddress]) -> list[str]:
    return [entry.address for entry in entries]


def test_ipv4_wildcard_lists_ipv4_real_cards_first_loopback_last():
    assert addresses(student_addresses(MADE_UP, "0.0.0.0")) == [
        "192.168.1.20",  # real cards in the OS's order
        "10.9.9.9",
        "172.17.0.1",  # virtual adapters (by name, or by the flag)
        "172.20.0.1",
        "192.168.56.1",
        "169.254.3.4",  # link-local IPv4
        "127.0.0.1",  # this machine only
    ]


def test_dual_stack_wildcard_adds_ipv6_after_ipv4_never_link_local():
    chosen = addresses(student_addresses(MADE_UP, "::"))
    assert chosen[:3] == ["192.168.1.20", "10.9.9.9", "2001:db8::20"]
    assert chosen[-2:] == ["127.0.0.1", "::1"]
    assert not any(a.startswith("fe80") for a in chosen)
    assert student_addresses(MADE_UP, "") == student_addresses(MADE_UP, "::")


def test_the_first_interface_with_an_address_names_it():
    chosen = student_addresses(MADE_UP, "0.0.0.0")
    assert chosen[0] == iface("eth0", "192.168.1.20")


@pytest.mark.parametrize("host", ["127.0.0.1", "192.168.1.20", "::1", "localhost"])
def test_a_specific_address_is_not_a_wildcard(host):
    assert student_addresses(MADE_UP, host) == []


def test_only_loopback_is_still_listed():
    only = [iface("lo", "127.0.0.1", UP, RUNNING, LOOPBACK), iface("eth0", "fe80::2%2")]
    assert addresses(student_addresses(only, "::")) == ["127.0.0.1"]


# -- what the OS reports ---------------------------------------------------------------------------
def ip_addr() -> list[dict]:
    ip = shutil.which("ip")
    if ip is None:
        pytest.skip("needs the 'ip' command (iproute2, Linux) to know independently what the OS reports")
    return json.loads(subprocess.run([ip, "-j", "addr"], capture_output=True, check=True, text=True).stdout)


def test_interfaces_and_addresses_match_ip_addr():
    reported = ip_addr()
    expected = {(link["ifname"], info["local"]) for link in reported for info in link.get("addr_info", [])}
    ours = {(entry.interface, entry.address.partition("%")[0]) for entry in machine_addresses()}
    assert ours == expected
    up = {link["ifname"] for link in reported if "UP" in link["flags"]}
    assert {entry.interface for entry in machine_addresses() if UP in entry.flags} == {
        name for name, _ in expected if name in up
    }
    loopback = {link["ifname"] for link in reported if "LOOPBACK" in link["flags"]}
    assert {entry.interface for entry in machine_addresses() if LOOPBACK in entry.flags} == {
        name for name, _ in expected if name in loopback
    }


def test_student_addresses_of_this_machine_match_ip_addr():
    """Every address of an interface that is up with its link up, except IPv6 link-local; the
    loopback ones last."""
    usable = [
        (info["local"], "LOOPBACK" in link["flags"])
        for link in ip_addr()
        if {"UP", "LOWER_UP"} <= set(link["flags"])
        for info in link.get("addr_info", [])
        if not (info["family"] == "inet6" and ipaddress.ip_address(info["local"]).is_link_local)
    ]
    chosen = student_addresses(machine_addresses(), "::")
    assert sorted(addresses(chosen)) == sorted(address for address, _ in usable)
    loopbacks = {address for address, is_loopback in usable if is_loopback}
    assert set(addresses(chosen)[len(chosen) - len(loopbacks) :]) == loopbacks
    ipv4 = [address for address, _ in usable if ipaddress.ip_address(address).version == 4]
    assert sorted(addresses(student_addresses(machine_addresses(), "0.0.0.0"))) == sorted(ipv4)


# -- in the window ---------------------------------------------------------------------------------


def start(qtbot, pane, host):
    pane.address.set_address(host, 0)
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening on" in pane.state.text(), timeout=10000)
    return pane.server.address.port


def shown(row):
    """Whether the row shows in its pane (on whichever tab: only one tab is on screen)."""
    return row.isVisibleTo(row.parentWidget())


def stop(qtbot, pane):
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.runner is None, timeout=10000)


def test_wildcard_server_lists_addresses_with_its_port_and_warns_once(qtbot, window, settings):
    pane = window.tcp_echo.server
    row = pane.connect_to_me
    assert not shown(row)
    port = start(qtbot, pane, "0.0.0.0")
    assert port != 0
    qtbot.waitUntil(lambda: shown(row), timeout=10000)
    with socket.create_connection(("127.0.0.1", port), timeout=10):  # it is the real, listening port
        pass
    expected = addresses(student_addresses(machine_addresses(), "0.0.0.0"))
    assert [row.choice.itemData(i) for i in range(row.choice.count())] == expected
    assert expected[-1] == "127.0.0.1"
    assert row.port_label.text() == f"port {port}"
    warning = row.warning
    assert warning is not None and warning.isVisible()
    assert "0.0.0.0" in warning.text() and "Windows Firewall" in warning.informativeText()
    assert settings.value(WARNED_KEY) in (True, "true")
    warning.close()
    stop(qtbot, pane)
    assert not shown(row)
    start(qtbot, pane, "0.0.0.0")
    qtbot.waitUntil(lambda: shown(row), timeout=10000)
    assert row.warning is warning  # no second warning
    stop(qtbot, pane)


def test_the_warning_is_remembered_between_runs(qtbot, settings):
    """Another server pane, in a window started later with the same settings: no warning."""
    settings.setValue(WARNED_KEY, True)
    settings.sync()
    again = QSettings(settings.fileName(), QSettings.Format.IniFormat)
    win = MainWindow(again)
    qtbot.addWidget(win)
    pane = win.time.server
    start(qtbot, pane, "0.0.0.0")
    qtbot.waitUntil(lambda: shown(pane.connect_to_me), timeout=10000)
    assert pane.connect_to_me.warning is None
    stop(qtbot, pane)
    win.close()


def test_a_specific_address_shows_no_row(qtbot, window):
    pane = window.tcp_echo.server
    start(qtbot, pane, "127.0.0.1")
    assert not shown(pane.connect_to_me)
    assert pane.connect_to_me.warning is None
    stop(qtbot, pane)


def test_large_view_shows_address_and_port_fits_1024x768_and_copies(qtbot, window):
    pane = window.tcp_echo.server
    port = start(qtbot, pane, "0.0.0.0")
    row = pane.connect_to_me
    qtbot.waitUntil(lambda: shown(row), timeout=10000)
    row.warning.close()
    row.choice.setCurrentIndex(row.choice.count() - 1)  # 127.0.0.1, on every machine
    qtbot.mouseClick(row.big_button, Qt.MouseButton.LeftButton)
    dialog = row.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=10000)
    assert dialog.host.text() == "127.0.0.1"
    assert dialog.port_label.text() == f"port {port}"
    assert dialog.width() <= 1024 and dialog.height() <= 768
    for label in (dialog.host, dialog.port_label):
        assert label.font().pixelSize() >= 60  # readable from the back row
        assert QFontMetricsF(label.font()).horizontalAdvance(label.text()) <= label.width()
        assert label.textFormat() is Qt.TextFormat.PlainText
        assert label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert not dialog.code.isVisible()
    dialog.show_code.setChecked(True)
    assert dialog.code.isVisible()
    assert f"create_connection(('127.0.0.1', {port}), 5)" in dialog.code.text()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == f"127.0.0.1:{port}"
    stop(qtbot, pane)
    assert not dialog.isVisible()  # no stale address on the projector


def test_large_view_keeps_fitting_when_zoomed_and_opens_once(qtbot, window):
    pane = window.tcp_echo.server
    start(qtbot, pane, "0.0.0.0")
    row = pane.connect_to_me
    qtbot.waitUntil(lambda: shown(row), timeout=10000)
    row.show_large()
    first = row.dialog
    row.show_large()
    assert not first.isVisible() and row.dialog.isVisible()
    before = row.dialog.host.font().pixelSize()
    window.presentation.zoom_in()  # sets every widget's font in points
    host = row.dialog.host
    assert host.font().pixelSize() == before
    assert QFontMetricsF(host.font()).horizontalAdvance(host.text()) <= host.width()
    stop(qtbot, pane)


def test_udp_server_on_dual_stack_offers_a_datagram_one_liner(qtbot, window):
    pane = window.udp_echo.server
    port = start(qtbot, pane, "::")
    row = pane.connect_to_me
    qtbot.waitUntil(lambda: shown(row), timeout=10000)
    assert addresses(student_addresses(machine_addresses(), "::")) == [
        row.choice.itemData(i) for i in range(row.choice.count())
    ]
    row.show_large()
    dialog = row.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=10000)
    assert dialog.transport.text() == "UDP server at"
    assert "SOCK_DGRAM" in dialog.code.text() and f", {port}))" in dialog.code.text()
    dialog.close()
    stop(qtbot, pane)


def run_one_liner(command: str) -> str:
    """Run the code of a "connect to me" command as a student's Python would."""
    program, option, code = shlex.split(command)
    assert (program, option) == ("python", "-c")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def one_liner_of(qtbot, pane) -> str:
    row = pane.connect_to_me
    qtbot.waitUntil(lambda: shown(row), timeout=10000)
    row.choice.setCurrentIndex(row.choice.count() - 1)  # loopback: reachable on every machine
    row.show_large()
    row.dialog.show_code.setChecked(True)
    return row.dialog.code.text()


def test_time_servers_one_liner_asks_in_its_protocol(qtbot, window):
    """An SNTP server answers only a 48-byte mode-3 request: the one-liner sends one and prints the
    server's time (b'hello' would get no answer, and the student a timeout)."""
    pane = window.time.server
    pane.protocol.setCurrentIndex(pane.protocol.findData(TimeProtocol.SNTP.value))
    pane.clock_offset.setValue(86_400)  # a day ahead: the time shown is the server's
    start(qtbot, pane, "0.0.0.0")
    out = run_one_liner(one_liner_of(qtbot, pane))
    shown_at = time.mktime(time.strptime(out, "%a %b %d %H:%M:%S %Y"))
    assert abs(shown_at - (time.time() + 86_400)) < 60
    stop(qtbot, pane)


def test_file_servers_one_liner_lists_its_files(qtbot, window, tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "lesson.txt").write_text("hi")
    pane = window.files.server
    pane.root.setText(str(folder))
    pane.length_format.setCurrentIndex(pane.length_format.findData("<i"))  # the course's byte order
    start(qtbot, pane, "0.0.0.0")
    assert ast.literal_eval(run_one_liner(one_liner_of(qtbot, pane))) == ["lesson.txt"]
    stop(qtbot, pane)

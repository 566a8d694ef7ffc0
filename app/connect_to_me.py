""" "Connect to me": while a server listens on every interface (0.0.0.0 or ::), its pane lists the
addresses of this machine that students on the LAN can use, shows the chosen one in type big
enough for the back row, and warns once that the server can now be reached from the network.

The choice of addresses is a pure function (``student_addresses``) over what the OS reports
(``machine_addresses``, a thin call of Qt's ``QNetworkInterface``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import NamedTuple

from PySide6.QtCore import QEvent, QSettings, QSize, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QGuiApplication, QResizeEvent
from PySide6.QtNetwork import QNetworkInterface
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.settings import bool_value
from netcore.present import pycode
from widgets import style
from widgets.plain_text import PlainLabel

UP, RUNNING, LOOPBACK, VIRTUAL = "up", "running", "loopback", "virtual"
WILDCARDS = ("0.0.0.0", "::", "")
WARNED_KEY = "connect_to_me/warned"  # the "reachable from the network" warning has been shown
# Names of the virtual adapters that hypervisors, containers and VPNs add: students cannot reach
# them, so they go after the real network cards (still listed: a name is only a hint).
VIRTUAL_NAMES = (
    "docker",
    "br-",
    "veth",
    "virbr",
    "vbox",
    "virtualbox",
    "vmnet",
    "vmware",
    "vethernet",
    "hyper-v",
)


class InterfaceAddress(NamedTuple):
    """One address of one network interface, as the OS reports it."""

    interface: str  # the name people see: "eth0", "Wi-Fi", "Ethernet 2"
    flags: frozenset[str]  # UP, RUNNING, LOOPBACK, VIRTUAL
    address: str  # "192.168.1.20", "fe80::1%eth0"


def student_addresses(entries: Iterable[InterfaceAddress], listen_host: str) -> list[InterfaceAddress]:
    """The addresses another machine can use to reach a server listening on *listen_host*, best
    first; none unless *listen_host* is a wildcard.

    0.0.0.0 is reached by IPv4 only; :: (dual stack, as Socket Lab listens) by both, IPv4 first in
    each group below (shorter to type). Only interfaces that are up and running count. IPv6
    link-local addresses (fe80::/10) are never listed: they need a zone (``%eth0``, ``%12``) that
    names an interface of the machine that connects, not this one, so what we could show would not
    work for the student.
    The order: real network cards, then virtual adapters, then IPv4 link-local (169.254.x.x: two
    PCs without a DHCP server), then loopback last (this machine only); the OS's order otherwise.
    """
    if listen_host not in WILDCARDS:
        return []
    versions = {4} if listen_host == "0.0.0.0" else {4, 6}
    chosen: dict[str, tuple[tuple[bool, bool, bool, int, int], InterfaceAddress]] = {}
    for index, entry in enumerate(entries):
        if not {UP, RUNNING} <= entry.flags:
            continue
        try:
            ip = ipaddress.ip_address(entry.address.partition("%")[0])
        except ValueError:
            continue
        if ip.version not in versions or ip.is_multicast or ip.is_unspecified:
            continue
        if ip.version == 6 and ip.is_link_local:
            continue
        loopback = LOOPBACK in entry.flags or ip.is_loopback
        virtual = VIRTUAL in entry.flags or entry.interface.lower().startswith(VIRTUAL_NAMES)
        key = (loopback, ip.is_link_local, virtual, ip.version, index)
        if str(ip) not in chosen or key < chosen[str(ip)][0]:
            chosen[str(ip)] = (key, InterfaceAddress(entry.interface, entry.flags, str(ip)))
    return [entry for _, entry in sorted(chosen.values())]


def machine_addresses() -> list[InterfaceAddress]:
    """Every address of every interface of this machine, from the OS (through Qt)."""
    flag = QNetworkInterface.InterfaceFlag
    found = []
    for iface in QNetworkInterface.allInterfaces():
        flags = {
            name
            for name, bit in ((UP, flag.IsUp), (RUNNING, flag.IsRunning), (LOOPBACK, flag.IsLoopBack))
            if iface.flags() & bit
        }
        if iface.type() == QNetworkInterface.InterfaceType.Virtual:
            flags.add(VIRTUAL)
        name = iface.humanReadableName() or iface.name()
        for entry in iface.addressEntries():
            found.append(InterfaceAddress(name, frozenset(flags), entry.ip().toString()))
    return found


OneLiner = Callable[[str, int], str]
"""(host, port) → the Python one-liner a student types to ask the listening server what it answers."""


def host_port(host: str, port: int) -> str:
    """host:port as people write it: [IPv6]:port."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class BigText(PlainLabel):
    """A selectable plain-text label whose font grows to fill its width (up to *max_px* high)."""

    def __init__(self, text: str, max_px: int, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.max_px = max_px
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )

    def sizeHint(self) -> QSize:
        return QSize(200, self.max_px)

    def minimumSizeHint(self) -> QSize:  # the font follows the size, never the other way round
        return QSize(20, 20)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def changeEvent(self, event: QEvent) -> None:
        """Fit again when the font is set from outside (View ▸ Zoom sets every widget's font)."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.fit()

    def fit(self) -> None:
        """The largest pixel size at which the text fits the label's width and height."""
        font = QFont(self.font())
        font.setPixelSize(100)
        width = QFontMetricsF(font).horizontalAdvance(self.text() or " ")
        room = self.contentsRect()
        size = min(self.max_px, room.height() * 0.8, 100 * room.width() * 0.95 / max(width, 1.0))
        font.setPixelSize(max(8, int(size)))
        if font != self.font():
            self.setFont(font)


class ConnectToMeDialog(QDialog):
    """The chosen address and port in type readable from the back row, selectable as text, and the
    Python one-liner a student can type."""

    def __init__(
        self,
        addresses: list[InterfaceAddress],
        index: int,
        port: int,
        udp: bool,
        one_liner: OneLiner,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.port, self.udp, self.one_liner = port, udp, one_liner
        self.setWindowTitle(self.tr("Connect to me"))
        self.choice = QComboBox(self)
        for entry in addresses:
            self.choice.addItem(self.tr("{0} ({1})").format(entry.address, entry.interface), entry.address)
        self.transport = PlainLabel(self)
        self.transport.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.transport.font()
        font.setPixelSize(32)
        self.transport.setFont(font)
        self.host = BigText("", 200, self)
        self.port_label = BigText(self.tr("port {0}").format(port), 160, self)
        self.show_code = QCheckBox(self.tr("Show the Python one-liner"), self)
        self.code = PlainLabel(self)
        self.code.setWordWrap(True)
        self.code.setFont(style.mono_font(14))
        self.code.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.copy_button = QPushButton(self.tr("&Copy address"), self)
        self.copy_button.setToolTip(self.tr("Copy address:port to the clipboard"))
        self.full_button = QPushButton(self.tr("&Full screen"), self)
        self.full_button.setCheckable(True)
        close = QPushButton(self.tr("Close"), self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_code)
        buttons.addStretch(1)
        for button in (self.copy_button, self.full_button, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.choice)
        layout.addWidget(self.transport)
        layout.addWidget(self.host, 5)
        layout.addWidget(self.port_label, 4)
        layout.addWidget(self.code)
        layout.addLayout(buttons)
        self.choice.currentIndexChanged.connect(self._show_choice)
        self.show_code.toggled.connect(self.code.setVisible)
        self.copy_button.clicked.connect(self.copy)
        self.full_button.toggled.connect(self._full_screen)
        close.clicked.connect(self.close)
        self.code.setVisible(False)
        self.choice.setCurrentIndex(index)
        self._show_choice()
        screen = (parent.screen() or QGuiApplication.primaryScreen()).availableGeometry()
        self.resize(min(960, screen.width() - 20), min(680, screen.height() - 40))

    def address(self) -> str:
        return str(self.choice.currentData())

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(host_port(self.address(), self.port))

    def _show_choice(self) -> None:
        host = self.address()
        self.host.setText(host)
        self.transport.setText(self.tr("UDP server at") if self.udp else self.tr("TCP server at"))
        self.code.setText(self.one_liner(host, self.port))

    def _full_screen(self, on: bool) -> None:
        if on:
            self.showFullScreen()
        else:
            self.showNormal()


class ConnectToMe(QWidget):
    """The row a server pane shows while it listens on a wildcard address: this machine's addresses
    for students, and a button to show the chosen one large."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings: QSettings | None = None  # where the warning is remembered (the pane's)
        self.warned = False  # the warning was shown (when there are no settings to remember it)
        self.warning: QMessageBox | None = None
        self.dialog: ConnectToMeDialog | None = None
        self.addresses: list[InterfaceAddress] = []
        self.port, self.udp = 0, False
        self.one_liner: OneLiner = lambda host, port: pycode.connect_one_liner(host, port, self.udp)
        self.choice = QComboBox(self)
        self.choice.setToolTip(
            self.tr("This machine's addresses on the network: students connect to one of these")
        )
        self.port_label = PlainLabel(self)
        self.big_button = QPushButton(self.tr("Show &large"), self)
        self.big_button.setToolTip(self.tr("Show the address and port in very large type for the class"))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(PlainLabel(self.tr("Connect to me"), self))
        row.addWidget(self.choice, 1)
        row.addWidget(self.port_label)
        row.addWidget(self.big_button)
        self.big_button.clicked.connect(self.show_large)
        self.hide()

    def show_listening(self, host: str, port: int, udp: bool, one_liner: OneLiner | None = None) -> None:
        """The server listens on host:port: list the addresses if *host* is a wildcard, else hide.
        *one_liner* writes the command that asks this server (default: an echo server's)."""
        if host not in WILDCARDS:
            self.hide()
            return
        self.addresses = student_addresses(machine_addresses(), host)
        self.port, self.udp = port, udp
        if one_liner is not None:
            self.one_liner = one_liner
        self.choice.clear()
        for entry in self.addresses:
            self.choice.addItem(self.tr("{0} ({1})").format(entry.address, entry.interface), entry.address)
        self.port_label.setText(self.tr("port {0}").format(port))
        self.big_button.setEnabled(bool(self.addresses))
        self.show()
        self.warn_once(host)

    def stopped(self) -> None:
        """The server has stopped: hide the row and close the big view."""
        self.hide()
        if self.dialog is not None:
            self.dialog.close()

    def show_large(self) -> None:
        """Open the big view of the chosen address (in place of one already open)."""
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        self.dialog = ConnectToMeDialog(
            self.addresses, self.choice.currentIndex(), self.port, self.udp, self.one_liner, self.window()
        )
        self.dialog.show()

    def warn_once(self, host: str) -> None:
        """Say, once per user, that the server is now reachable from other machines and what the
        firewall's question means."""
        if self.warned or (self.settings is not None and bool_value(self.settings, WARNED_KEY, False)):
            return
        self.warned = True
        if self.settings is not None:
            self.settings.setValue(WARNED_KEY, True)
        box = QMessageBox(
            QMessageBox.Icon.Warning, self.tr("Reachable from the network"), "", parent=self.window()
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(
            self.tr(
                "The server listens on {0}: on every network interface of this machine. Other "
                "computers on the same network (the students' PCs, but anyone else on it too) can now "
                "connect to it. Listen on 127.0.0.1 when only this machine should."
            ).format(host or "::")
        )
        box.setInformativeText(
            self.tr(
                "The first time a program listens on the network, Windows Firewall asks whether to "
                "allow it. In a classroom on a private network, allow it on private networks. On a "
                "public network (a café, a hotel, a station) do not allow it. If students cannot "
                "connect, the firewall is the usual reason (Windows Security → Firewall → Allow an "
                "app; macOS: System Settings → Network → Firewall)."
            )
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.warning = box
        box.open()

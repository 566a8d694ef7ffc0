"""The File fetch tab: the course's framed file protocol — ask for a file by name, get a 4-byte
length, a JSON header and the body, verified with md5 — and a built-in file server."""

from __future__ import annotations

import json
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.panes import ClientPane, ClientServerPage, ServerPane, labelled_row
from app.resources import resource_path
from app.settings import bool_value, int_value, str_value
from netcore.engines.filefetch import LENGTH_FORMATS, FetchClient, FileServer
from netcore.errors import InputError, SocketLabError
from netcore.model.events import Event, FetchFinished, FetchHeader, FetchProgress, FetchStatus, FilesListed
from netcore.model.fetch import FetchResult
from netcore.present import pycode
from netcore.protocols.address import Address
from widgets import style, units
from widgets.plain_text import PlainLabel

FILE_PORT = 8080


def folder_row(parent: QWidget, edit: QLineEdit, title: str) -> QHBoxLayout:
    """A folder field with a Browse… button."""
    button = QPushButton(QCoreApplication.translate("FilePage", "Browse…"), parent)

    def browse() -> None:
        chosen = QFileDialog.getExistingDirectory(parent, title, edit.text())
        if chosen:
            edit.setText(chosen)

    button.clicked.connect(browse)
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    return row


def key_edit(parent: QWidget) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(QCoreApplication.translate("FilePage", "no key"))
    edit.setToolTip(
        QCoreApplication.translate(
            "FilePage",
            "Shared key, at least 16 bytes: both sides send a random nonce and prove the key with "
            "HMAC-SHA256 over both; each request carries an HMAC too",
        )
    )
    return edit


def status_text(status: FetchStatus) -> str:
    """What a fetch waits for (the server hashing, a header to come), in the user's language."""
    return QCoreApplication.translate("FetchStatus", status.template).format(**status.params)


class FetchPane(ClientPane):
    """File list, fetch with progress (bytes, %, MB/s, ETA) and cancel, the header and the md5 check."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.address.port.setValue(FILE_PORT)
        self.client: FetchClient | None = None
        self.dest = QLineEdit(
            str(Path.home() / "Downloads" if (Path.home() / "Downloads").is_dir() else Path.home()), self
        )
        self.dest.setToolTip(self.tr("Where fetched files are saved"))
        self.length_format = QComboBox(self)
        self.length_format.addItem(self.tr("auto-detect"), "auto")
        for fmt in LENGTH_FORMATS:
            self.length_format.addItem(fmt, fmt)
        self.length_format.setToolTip(
            self.tr(
                "Byte order of the 4-byte header length: '!I' (network order, what "
                "we teach) or '<i' (the course's struct.pack('i'))"
            )
        )
        self.key = key_edit(self)
        self.overwrite = QCheckBox(self.tr("Overwrite existing files"), self)
        self.refresh_button = QPushButton(self.tr("&List files"), self)
        self.files = QListWidget(self)
        self.files.setToolTip(self.tr("Double-click a file to fetch it"))
        self.name = QLineEdit(self)
        self.name.setPlaceholderText(self.tr("file name, e.g. hello (finds hello.png)"))
        self.fetch_button = QPushButton(self.tr("F&etch"), self)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress_text = PlainLabel(self)
        self.progress_text.setWordWrap(True)  # "the server is hashing …" with a long name: never wider
        self.header = QPlainTextEdit(self)
        self.header.setReadOnly(True)
        self.header.setPlaceholderText(self.tr("The decoded JSON header appears here"))
        self.verdict = PlainLabel(self)
        self.verdict.setWordWrap(True)
        big = self.verdict.font()
        big.setBold(True)
        self.verdict.setFont(big)
        self._started = 0.0
        self.set_state(self.tr("List the server's files, or type a name and press Fetch"))

        form = QFormLayout()
        form.addRow(self.tr("Server"), self.address)
        form.addRow(self.tr("Save in"), folder_row(self, self.dest, self.tr("Save fetched files in")))
        options = labelled_row(self, self.tr("Length"), self.length_format, self.tr("Key"), stretch=False)
        options.addWidget(self.key, 1)
        options.addWidget(self.overwrite)
        form.addRow(options)
        fetch_row = QHBoxLayout()
        fetch_row.addWidget(self.refresh_button)
        fetch_row.addWidget(self.name, 1)
        fetch_row.addWidget(self.fetch_button)
        fetch_row.addWidget(self.cancel_button)
        fetch_row.addWidget(self.clear_button)
        top = QWidget(self)
        top_layout = QHBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.files, 1)
        top_layout.addWidget(self.header, 2)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(top)
        splitter.addWidget(self.view)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(fetch_row)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_text)
        layout.addWidget(self.verdict)
        layout.addWidget(self.state)
        layout.addWidget(splitter, 1)

        self.refresh_button.clicked.connect(self.list_files)
        self.fetch_button.clicked.connect(self.fetch)
        self.name.returnPressed.connect(self.fetch)
        self.files.itemDoubleClicked.connect(lambda _item: self.fetch())
        self.files.currentTextChanged.connect(self.name.setText)
        self.cancel_button.clicked.connect(self.stop)
        self._set_busy(False)

    # -- actions --------------------------------------------------------------------------------
    def _start(self, names: tuple[str, ...]) -> None:
        if self.runner is not None or self.shut_down:  # e.g. our server's Listening after the close
            return
        try:
            addr = self.address.address()
            dest = Path(self.dest.text()).expanduser()
            if names and not dest.is_dir():
                raise InputError(self.tr("'{0}' is not a folder: choose where to save").format(dest))
            key = self.key.text().encode() or None
            client = FetchClient(
                addr.host,
                addr.port,
                dest,
                str(self.length_format.currentData()),
                key,
                overwrite=self.overwrite.isChecked(),
                names=names,
            )
        except SocketLabError as exc:
            self.show_error(exc)
            return
        self.client = client
        self.view.clear()
        self._started = time.monotonic()
        self._set_busy(True)
        self.start_engine(client)

    def list_files(self) -> None:
        self.set_state(self.tr("Asking for the file list…"))
        self._start(())

    def fetch(self) -> None:
        name = self.name.text().strip()
        if not name:
            self.set_state(self.tr("Type or choose a file name first"), error=True)
            return
        self.progress.setValue(0)
        self.progress_text.clear()
        self.verdict.clear()
        self.header.clear()
        self.set_state(self.tr("Fetching '{0}'…").format(name))
        self._start((name,))

    # -- events ---------------------------------------------------------------------------------
    def handle_event(self, event: Event) -> None:
        if isinstance(event, FilesListed):
            self.files.clear()
            self.files.addItems(list(event.files))
            self.set_state(self.tr("{0} file(s) on the server").format(len(event.files)))
        elif isinstance(event, FetchProgress):
            self._show_progress(event.received, event.total)
        elif isinstance(event, FetchStatus):
            self.progress_text.setText(status_text(event))
        elif isinstance(event, FetchHeader):  # a refusal's header too: what the server said
            self.header.setPlainText(json.dumps(dict(event.header), ensure_ascii=False, indent=2))
        elif isinstance(event, FetchFinished):
            self._show_result(event.result)
        else:
            super().handle_event(event)

    def _show_progress(self, received: int, total: int) -> None:
        self.progress.setValue(1000 if total == 0 else int(1000 * received / total))
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = received / elapsed
        eta = (total - received) / rate if rate > 0 else 0.0
        self.progress_text.setText(
            self.tr("{0:,} of {1:,} bytes · {2:.0f} % · {3} · {4:.1f} s left").format(
                received, total, 100 * received / total if total else 100, units.rate(rate), eta
            )
        )

    def _show_result(self, result: FetchResult) -> None:
        self._show_progress(result.size, result.size)
        self.header.setPlainText(json.dumps(result.header, ensure_ascii=False, indent=2))
        if result.verified:
            self.verdict.setStyleSheet(f"color: {style.OK_FG.name()};")
            self.verdict.setText(
                self.tr("md5 verified ✓ {0} — saved {1} ({2:,} bytes, {3}); header length was '{4}'").format(
                    result.md5,
                    result.path,
                    result.size,
                    units.rate(result.mb_per_s * 1e6),
                    result.length_format,
                )
            )
        else:
            self.verdict.setStyleSheet("")
            self.verdict.setText(
                self.tr("saved {0} ({1:,} bytes) — the header had no md5, so it was not verified").format(
                    result.path, result.size
                )
            )
        if result.server_name != result.name:
            self.verdict.setText(
                self.verdict.text()
                + "\n"
                + self.tr("The server calls it '{0}': saved under the name you asked for.").format(
                    result.server_name
                )
            )
        self.set_state(self.tr("Done"))

    def show_error(self, error: SocketLabError) -> None:
        super().show_error(error)
        self.verdict.setStyleSheet(f"color: {style.ERROR_FG.name()};")
        self.verdict.setText(self.tr("Not saved: nothing was written to the destination folder."))

    def engine_finished(self) -> None:
        self.client = None
        self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        self.fetch_button.setEnabled(not busy)
        self.refresh_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)

    # -- settings -------------------------------------------------------------------------------
    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("file/client/host", self.address.host.text())
        settings.setValue("file/client/port", self.address.port.value())
        settings.setValue("file/client/dest", self.dest.text())
        settings.setValue("file/client/overwrite", self.overwrite.isChecked())

    def load_settings(self, settings: QSettings) -> None:
        self.address.set_address(
            str_value(settings, "file/client/host", "127.0.0.1"),
            int_value(settings, "file/client/port", FILE_PORT),
        )
        self.dest.setText(str_value(settings, "file/client/dest", self.dest.text()))
        self.overwrite.setChecked(bool_value(settings, "file/client/overwrite", False))


class FileServerPane(ServerPane):
    """Serves one folder (never a path outside it), with the course's or the network byte order."""

    settings_group = "file/server"
    default_port = FILE_PORT

    def build(self) -> None:
        self.root = QLineEdit(str(resource_path("samples")), self)
        self.root.setToolTip(self.tr("The folder to serve: only its regular files can be fetched"))
        self.length_format = QComboBox(self)
        self.length_format.addItem(self.tr("'!I' network order"), "!I")
        self.length_format.addItem(self.tr("'<i' like the course's struct.pack('i')"), "<i")
        self.key = key_edit(self)
        self.form.addRow(self.tr("Serve folder"), folder_row(self, self.root, self.tr("Folder to serve")))
        row = labelled_row(self, self.tr("Length"), self.length_format, self.tr("Key"), stretch=False)
        row.addWidget(self.key, 1)
        self.form.addRow(row)

    def option_widgets(self) -> list[QWidget]:
        return [*super().option_widgets(), self.root, self.length_format, self.key]

    def make_server(self, addr: Address) -> FileServer:
        key = self.key.text().encode() or None
        return FileServer(
            self.root.text(),
            addr.host,
            addr.port,
            str(self.length_format.currentData()),
            key,
            self.reuse.isChecked(),
        )

    def one_liner(self, host: str, port: int) -> str:
        """Ask the running server for its list ('?'), its header length packed as it packs it."""
        server = self.server
        fmt = (
            server.length_format if isinstance(server, FileServer) else str(self.length_format.currentData())
        )
        return pycode.connect_one_liner(host, port, False, pycode.FILES, fmt)

    def save_settings(self, settings: QSettings) -> None:
        super().save_settings(settings)
        settings.setValue("file/server/root", self.root.text())
        settings.setValue("file/server/length_format", self.length_format.currentData())

    def load_settings(self, settings: QSettings) -> None:
        super().load_settings(settings)
        self.root.setText(str_value(settings, "file/server/root", self.root.text()))
        index = self.length_format.findData(str_value(settings, "file/server/length_format", "!I"))
        self.length_format.setCurrentIndex(max(0, index))


class FilePage(ClientServerPage):
    client: FetchPane
    server: FileServerPane

    def python_code(self) -> str:
        addr = self.client.address.address()
        name = self.client.name.text().strip() or "hello"
        return pycode.fetch_client(addr.host, addr.port, name, str(self.client.length_format.currentData()))

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(FetchPane(), FileServerPane(), parent)
        self.server.listening.connect(
            lambda *_: self.client.list_files() if self.client.runner is None else None
        )

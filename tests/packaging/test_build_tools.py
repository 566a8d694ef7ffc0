"""The pieces of the build: icons drawn from the SVG, the archive allow-list comparison, and the
executable's entry point choosing GUI or command line."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import app.main
import netcore.cli
from app import frozen
from tools import archive, build, icons

ROOT = Path(__file__).resolve().parents[2]
SVG = ROOT / "resources" / "icons" / "socketlab.svg"


def png_size(png: bytes) -> tuple[int, int]:
    from PySide6.QtGui import QImage

    assert png.startswith(icons.PNG_SIGNATURE)
    image = QImage.fromData(png, "PNG")
    assert not image.isNull()
    return image.width(), image.height()


def test_ico_holds_every_size_as_png(qapp, tmp_path):
    data = icons.write_icons(SVG, tmp_path)[".ico"].read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind, count) == (0, 1, len(icons.ICO_SIZES))
    for index, size in enumerate(icons.ICO_SIZES):
        width, height, _, _, planes, bits, length, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * index
        )
        assert (width, height) == ((0, 0) if size == 256 else (size, size))
        assert (planes, bits) == (1, 32)
        assert png_size(data[offset : offset + length]) == (size, size)
    assert offset + length == len(data)


def test_icns_blocks_follow_apples_types(qapp, tmp_path):
    data = icons.write_icons(SVG, tmp_path)[".icns"].read_bytes()
    assert data[:4] == b"icns" and struct.unpack_from(">I", data, 4)[0] == len(data)
    found, position = [], 8
    while position < len(data):
        kind, length = data[position : position + 4], struct.unpack_from(">I", data, position + 4)[0]
        found.append((kind, png_size(data[position + 8 : position + length])[0]))
        position += length
    assert found == list(icons.ICNS_TYPES)


def test_icon_is_drawn_not_blank(qapp):
    from PySide6.QtGui import QColor, QImage

    image = QImage.fromData(icons.render_png(SVG, 64), "PNG")
    assert image.pixelColor(0, 0).alpha() == 0  # transparent corner (rounded square)
    assert image.pixelColor(32, 4) == QColor("#1e3a5f")  # the icon's background


def test_allowlist_comparison_names_each_difference(tmp_path):
    listed = tmp_path / "linux.txt"
    listed.write_text("# comment\nlibQt6Core.so.6\n\nlibgtk-3.so.0  # must go\nPySide6/x.so\n")
    allowed = archive.read_allowlist(listed)
    assert allowed == {"libQt6Core.so.6", "libgtk-3.so.0", "PySide6/x.so"}
    assert archive.differences(allowed, ["libQt6Core.so.6", "libgtk-3.so.0", "PySide6/x.so"]) == []
    assert archive.differences(allowed, ["libQt6Core.so.6", "PySide6/x.so", "libepoxy.so.0"]) == [
        "not in the allow-list: libepoxy.so.0",
        "in the allow-list but not built: libgtk-3.so.0",
    ]


def test_allowlist_text_reads_back(tmp_path):
    contents = archive.Contents(("a.so", "b/c.qm"), 12)
    path = tmp_path / "list.txt"
    path.write_text(archive.allowlist_text("linux", contents), encoding="utf-8")
    assert archive.read_allowlist(path) == {"a.so", "b/c.qm"}


def test_committed_linux_allowlist_has_no_gtk_and_keeps_qtnetwork():
    allowed = archive.read_allowlist(archive.ALLOWLIST_DIR / "linux.txt")
    assert not [name for name in allowed if "gtk" in name or "gdk" in name or "platformthemes" in name]
    assert "PySide6/QtNetwork.abi3.so" in allowed


def test_folder_contents_lists_files_and_links(tmp_path, monkeypatch):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "libQt6Core.so.6").write_bytes(b"x")
    try:
        (tmp_path / "libQt6Core.so.6").symlink_to("lib/libQt6Core.so.6")
    except OSError:  # Windows, without the privilege to make links
        pytest.skip("cannot make symbolic links here")
    (tmp_path / "socketlab").write_bytes(b"x")
    modules = {"socketlab": archive.Contents((), 7)}
    monkeypatch.setattr(archive, "onefile_contents", lambda executable: modules[executable.name])
    expected = ("lib/libQt6Core.so.6", "libQt6Core.so.6", "socketlab")
    assert archive.folder_contents(tmp_path, tmp_path / "socketlab") == archive.Contents(expected, 7)


@pytest.mark.parametrize(
    "executable, argv, expected",
    [
        ("/opt/socketlab", ["--self-test"], "gui"),
        ("/opt/socketlab", [], "gui"),
        ("C:/Socket Lab/socketlab.exe", ["--version"], "gui"),
        ("C:/Socket Lab/socketlab-cli.exe", ["tcp-echo", "--port", "9000"], "cli"),
        ("C:/Socket Lab/socketlab-cli.exe", ["--version"], "cli"),
        ("C:/Socket Lab/SOCKETLAB-CLI.EXE", ["--self-test"], "gui"),
        ("C:/Socket Lab/socketlab-cli.exe", ["--startup-time"], "gui"),
    ],
)
def test_frozen_entry_chooses_gui_or_command_line(monkeypatch, executable, argv, expected):
    called = []
    monkeypatch.setattr(app.main, "main", lambda args: called.append(("gui", args)) or 0)
    monkeypatch.setattr(netcore.cli, "main", lambda args: called.append(("cli", args)) or 0)
    assert frozen.main(executable, argv) == 0
    assert called == [(expected, argv)]


def test_system_names_and_steps():
    assert [build.system(p) for p in ("win32", "darwin", "linux")] == ["windows", "macos", "linux"]
    assert build.parse_args(["lint", "--platform", "darwin"]).platform == "darwin"
    assert build.parse_args(["test", "--", "-k", "icons"]).pytest_args == ["-k", "icons"]
    assert build.Build("windows").runs.name == "socketlab-cli.exe"
    assert build.Build("macos").runs.parts[-3:] == ("Contents", "MacOS", "socketlab")

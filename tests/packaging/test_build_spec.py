"""build.spec per system: the spec runs with PyInstaller's classes replaced by recorders and
``sys.platform`` set to each system, so the Windows and macOS builds are checked here too."""

from __future__ import annotations

import struct
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "build.spec"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

# What PySide6's hooks would collect, by system, with the names each system uses.
BINARIES = {
    "win32": [
        "Qt6Core.dll",
        "Qt6Gui.dll",
        "Qt6Network.dll",
        "opengl32sw.dll",
        "libEGL.dll",
        "Qt6Pdf.dll",
        "PySide6/translations/qtbase_zh_CN.qm",
        "PySide6/translations/qtbase_de.qm",
        "libssl-3-x64.dll",
        "libcrypto-3-x64.dll",
        "PySide6/plugins/platforms/qwindows.dll",
    ],
    "darwin": [
        "PySide6/Qt/lib/QtCore.framework/QtCore",
        "PySide6/Qt/lib/QtPdf.framework/QtPdf",
        "PySide6/Qt/lib/QtNetwork.framework/QtNetwork",
        "PySide6/Qt/translations/qtbase_zh_CN.qm",
        "PySide6/Qt/translations/qt_help_zh_CN.qm",
    ],
    "linux": [
        "PySide6/Qt/lib/libQt6Core.so.6",
        "PySide6/Qt/lib/libQt6Network.so.6",
        "PySide6/Qt/lib/libQt6Pdf.so.6",
        "PySide6/Qt/lib/libQt6WaylandClient.so.6",
        "libssl.so.3",
        "libcrypto.so.3",
        "PySide6/Qt/translations/qtbase_zh_CN.qm",
        "PySide6/Qt/translations/qtbase_ja.qm",
    ],
}
KEPT = {
    "win32": [
        "Qt6Core.dll",
        "Qt6Gui.dll",
        "Qt6Network.dll",
        "PySide6/translations/qtbase_zh_CN.qm",
        "libcrypto-3-x64.dll",
        "PySide6/plugins/platforms/qwindows.dll",
    ],
    "darwin": [
        "PySide6/Qt/lib/QtCore.framework/QtCore",
        "PySide6/Qt/lib/QtNetwork.framework/QtNetwork",
        "PySide6/Qt/translations/qtbase_zh_CN.qm",
    ],
    "linux": [
        "PySide6/Qt/lib/libQt6Core.so.6",
        "PySide6/Qt/lib/libQt6Network.so.6",
        "libcrypto.so.3",
        "PySide6/Qt/translations/qtbase_zh_CN.qm",
    ],
}
# The Qt plugins found in each system's PySide6 (by type), and those the build must ship.
PLUGINS = {
    "win32": {
        "platforms": ["qwindows.dll", "qoffscreen.dll", "qminimal.dll", "qdirect2d.dll"],
        "styles": ["qmodernwindowsstyle.dll"],
        "imageformats": ["qsvg.dll", "qjpeg.dll", "qgif.dll", "qpdf.dll"],
        "iconengines": ["qsvgicon.dll"],
        "tls": ["qschannelbackend.dll", "qopensslbackend.dll"],
        "networkinformation": ["qnetworklistmanager.dll"],
    },
    "darwin": {
        "platforms": ["libqcocoa.dylib", "libqoffscreen.dylib", "libqminimal.dylib"],
        "styles": ["libqmacstyle.dylib"],
        "imageformats": ["libqsvg.dylib", "libqjpeg.dylib", "libqicns.dylib"],
        "iconengines": ["libqsvgicon.dylib"],
        "platformthemes": [],
        "tls": ["libqsecuretransportbackend.dylib"],
    },
    "linux": {
        "platforms": [
            "libqxcb.so",
            "libqoffscreen.so",
            "libqwayland-egl.so",
            "libqeglfs.so",
            "libqminimal.so",
        ],
        "platformthemes": ["libqgtk3.so", "libqxdgdesktopportal.so"],
        "imageformats": ["libqsvg.so", "libqjpeg.so", "libqtiff.so", "libqwebp.so"],
        "iconengines": ["libqsvgicon.so"],
        "platforminputcontexts": [
            "libcomposeplatforminputcontextplugin.so",
            "libibusplatforminputcontextplugin.so",
        ],
        "xcbglintegrations": ["libqxcb-glx-integration.so"],
        "tls": ["libqopensslbackend.so"],
    },
}
SHIPPED_PLUGINS = {
    "win32": {
        "platforms/qwindows.dll",
        "platforms/qoffscreen.dll",
        "styles/qmodernwindowsstyle.dll",
        "imageformats/qsvg.dll",
        "iconengines/qsvgicon.dll",
    },
    "darwin": {
        "platforms/libqcocoa.dylib",
        "platforms/libqoffscreen.dylib",
        "styles/libqmacstyle.dylib",
        "imageformats/libqsvg.dylib",
        "iconengines/libqsvgicon.dylib",
    },
    "linux": {
        "platforms/libqxcb.so",
        "platforms/libqoffscreen.so",
        "imageformats/libqsvg.so",
        "iconengines/libqsvgicon.so",
        "platforminputcontexts/libcomposeplatforminputcontextplugin.so",
        "platforminputcontexts/libibusplatforminputcontextplugin.so",
    },
}


def run_spec(monkeypatch, tmp_path, platform, qapp, onedir=False):
    """Execute build.spec as PyInstaller would on *platform*; return the calls it made and the
    plugins PyInstaller's Qt hooks would then collect."""
    qt = pytest.importorskip("PyInstaller.utils.hooks.qt")
    monkeypatch.setattr(
        qt.QtLibraryInfo,
        "collect_plugins",
        lambda self, kind: [
            (f"/qt/plugins/{kind}/{name}", f"plugins/{kind}") for name in PLUGINS[platform][kind]
        ],
    )
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("SOCKETLAB_ONEDIR", "1" if onedir else "0")
    calls: list[SimpleNamespace] = []

    def recorder(kind):
        def record(*args, **kwargs):
            call = SimpleNamespace(kind=kind, args=args, kwargs=kwargs, pure=[], scripts=[], datas=[])
            call.binaries = [(name, "/src/" + name, "BINARY") for name in BINARIES[platform]]
            calls.append(call)
            return call

        return record

    namespace = {"SPECPATH": str(ROOT), "workpath": str(tmp_path)}
    namespace.update({kind: recorder(kind) for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")})
    exec(compile(SPEC.read_bytes(), str(SPEC), "exec"), namespace)
    shipped = {
        f"{kind}/{Path(src).name}"
        for kind in PLUGINS[platform]
        for src, _ in qt.QtLibraryInfo.collect_plugins(None, kind)
    }
    return calls, shipped


def only(calls, kind):
    found = [call for call in calls if call.kind == kind]
    assert len(found) == 1, f"{kind} called {len(found)} times"
    return found[0]


def binary_names(exe_call):
    return [entry[0] for entry in exe_call.args[2]]


def check_common(calls, platform, shipped):
    analysis = only(calls, "Analysis")
    assert analysis.args[0] == [str(ROOT / "app" / "frozen.py")]
    assert "PySide6.QtNetwork" in analysis.kwargs["hiddenimports"]  # QNetworkInterface: LAN addresses
    assert not any("QtNetwork" in name for name in analysis.kwargs["excludes"])
    assert {"tkinter", "unittest", "PySide6.QtQml"} <= set(analysis.kwargs["excludes"])
    assert shipped == SHIPPED_PLUGINS[platform]


def test_windows_makes_a_windowed_exe_and_its_console_twin(monkeypatch, tmp_path, qapp):
    calls, shipped = run_spec(monkeypatch, tmp_path, "win32", qapp)
    check_common(calls, "win32", shipped)
    exes = [call for call in calls if call.kind == "EXE"]
    assert [(exe.kwargs["name"], exe.kwargs["console"]) for exe in exes] == [
        ("socketlab", False),
        ("socketlab-cli", True),
    ]
    assert not [call for call in calls if call.kind in ("COLLECT", "BUNDLE")]
    for exe in exes:
        assert binary_names(exe) == KEPT["win32"]
        assert exe.kwargs["strip"] is False and exe.kwargs["upx"] is False
        icon = Path(exe.kwargs["icon"])
        assert icon.name == "socketlab.ico"
        assert struct.unpack("<HHH", icon.read_bytes()[:6]) == (0, 1, 7)
        resource = Path(exe.kwargs["version"]).read_text(encoding="utf-8")
        assert f"StringStruct('ProductVersion', '{VERSION}')" in resource
        assert "StringStruct('ProductName', 'Socket Lab')" in resource


def recorder_of(name):
    return lambda *args, **kwargs: (name, args, kwargs)


def test_windows_version_resource_is_what_pyinstaller_reads(monkeypatch, tmp_path, qapp):
    calls, _ = run_spec(monkeypatch, tmp_path, "win32", qapp)
    text = Path(calls[-1].kwargs["version"]).read_text(encoding="utf-8")
    # PyInstaller eval()s the text with its versioninfo classes (Windows only); the same names here.
    names = ("VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable", "StringStruct", "VarFileInfo")
    made = {name: recorder_of(name) for name in (*names, "VarStruct")}
    info = eval(text, made)
    fixed = info[2]["ffi"][2]
    numbers = tuple(int(part) for part in VERSION.split("."))
    assert fixed["filevers"][: len(numbers)] == numbers and len(fixed["filevers"]) == 4


def test_macos_makes_an_app_bundle(monkeypatch, tmp_path, qapp):
    calls, shipped = run_spec(monkeypatch, tmp_path, "darwin", qapp)
    check_common(calls, "darwin", shipped)
    exe = only(calls, "EXE")
    assert exe.kwargs["exclude_binaries"] is True and exe.kwargs["console"] is False
    assert exe.kwargs["strip"] is False
    collect = only(calls, "COLLECT")
    assert [entry[0] for entry in collect.args[1]] == KEPT["darwin"]
    bundle = only(calls, "BUNDLE")
    assert bundle.args == (collect,)
    assert bundle.kwargs["name"] == "Socket Lab.app"
    assert bundle.kwargs["bundle_identifier"] == "org.socketlab.SocketLab"
    assert bundle.kwargs["version"] == VERSION
    plist = bundle.kwargs["info_plist"]
    assert plist["NSHighResolutionCapable"] is True
    assert plist["CFBundleShortVersionString"] == VERSION
    icon = Path(bundle.kwargs["icon"])
    assert icon.name == "socketlab.icns" and icon.read_bytes()[:4] == b"icns"


def test_linux_makes_one_stripped_file_without_toolkit_themes(monkeypatch, tmp_path, qapp):
    calls, shipped = run_spec(monkeypatch, tmp_path, "linux", qapp)
    check_common(calls, "linux", shipped)
    assert not any(plugin.startswith("platformthemes/") for plugin in shipped)
    exe = only(calls, "EXE")
    assert exe.kwargs["name"] == "socketlab" and exe.kwargs["console"] is False
    assert exe.kwargs["strip"] is True and exe.kwargs["icon"] is None
    assert binary_names(exe) == KEPT["linux"]
    assert not [call for call in calls if call.kind in ("COLLECT", "BUNDLE")]


def test_linux_one_folder(monkeypatch, tmp_path, qapp):
    calls, _ = run_spec(monkeypatch, tmp_path, "linux", qapp, onedir=True)
    assert only(calls, "EXE").kwargs["exclude_binaries"] is True
    collect = only(calls, "COLLECT")
    assert collect.kwargs["name"] == "socketlab-folder" and collect.kwargs["strip"] is True
    assert not [call for call in calls if call.kind == "BUNDLE"]

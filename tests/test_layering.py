"""The layering rules of DESIGN.md, enforced: netcore never imports Qt; widgets never import
networking modules; only app joins them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QT_MODULES = ("PySide6", "PyQt5", "PyQt6", "shiboken6")
NETWORK_MODULES = ("socket", "selectors", "asyncio", "ssl", "socketserver")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package, forbidden", [("netcore", QT_MODULES), ("widgets", NETWORK_MODULES)])
def test_no_forbidden_import_statement(package: str, forbidden: tuple[str, ...]) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files found in {package}"
    offenders = {str(f.relative_to(ROOT)): sorted(imported_modules(f) & set(forbidden)) for f in files}
    assert not {k: v for k, v in offenders.items() if v}


def test_detector_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom PySide6.QtCore import Qt\ndef f():\n    import socket\n")
    assert {"os", "PySide6", "socket"} <= imported_modules(sample)


def _modules_after_import(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return set(out.stdout.split())


def test_netcore_loads_no_qt_at_run_time() -> None:
    code = "\n".join(
        "import " + ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in sorted((ROOT / "netcore").rglob("*.py"))
        if p.stem not in ("__init__", "__main__")
    )
    loaded = _modules_after_import(code)
    assert "netcore.engines.tcp_echo" in loaded
    assert not {m for m in loaded if m.split(".")[0] in QT_MODULES}


def test_widgets_load_no_socket_at_run_time() -> None:
    code = "\n".join(
        f"import widgets.{p.stem}" for p in sorted((ROOT / "widgets").glob("*.py")) if p.stem != "__init__"
    )
    loaded = _modules_after_import(code)
    assert "widgets.hexdump_view" in loaded and "PySide6.QtWidgets" in loaded
    assert not (loaded & set(NETWORK_MODULES))


# What each part of netcore may import from netcore (docs/ARCHITECTURE.md): the codecs and the pure
# data never reach for a socket, an engine or the command line.
NETCORE_ALLOWED = {
    "protocols": {"errors", "protocols"},
    "model": {"errors", "protocols", "model"},
    "io": {"errors", "protocols", "model", "io"},
    "engines": {"errors", "protocols", "model", "io", "engines"},
    "present": {"errors", "protocols", "model", "present"},
    "cli": {"errors", "protocols", "model", "io", "engines", "present", "cli", "__init__"},
}


def netcore_parts_imported(path: Path) -> set[str]:
    """The parts of netcore (``io``, ``model``, ``errors``, …) that *path* imports, anywhere in it."""
    parts: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("netcore"):
            names = node.module.split(".")[1:2] or [alias.name for alias in node.names]
            parts.update(names)
        elif isinstance(node, ast.Import):
            parts.update(a.name.split(".")[1] for a in node.names if a.name.startswith("netcore."))
    return {"__init__" if p == "__version__" else p for p in parts}


@pytest.mark.parametrize("part", sorted(NETCORE_ALLOWED))
def test_netcore_parts_import_only_the_layers_below(part: str) -> None:
    files = sorted((ROOT / "netcore" / part).rglob("*.py"))
    assert files
    offenders = {
        str(f.relative_to(ROOT)): sorted(netcore_parts_imported(f) - NETCORE_ALLOWED[part]) for f in files
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_netcore_layer_detector_sees_every_form(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from netcore.engines.tcp_echo import X\nimport netcore.io.loop\nfrom netcore import errors\n"
        "def f():\n    from netcore.cli import main\n"
    )
    assert netcore_parts_imported(sample) == {"engines", "io", "errors", "cli"}

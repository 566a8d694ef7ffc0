"""Refresh ``socketlab_*.ts`` from the sources (``make translations-update``): every ``tr()`` and
``translate()`` text in app/ and widgets/, plus what netcore says that the GUI translates by type —
each error class's own summary/hint templates (context = that class), the actions its errors name
(context "Action"), the literal templates of its ``InputError``s (context "InputError"), the
packet-sticking verdict's templates (context "Verdict") and what a file fetch says it waits for
(context "FetchStatus"). Then translate the new entries (``pyside6-linguist``) and commit the .ts."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("zh_CN",)
TEMPLATE_ATTRS = ("summary_template", "hint_template")
sys.path.insert(0, str(ROOT))

import netcore  # noqa: E402
from netcore.errors import SocketLabError  # noqa: E402
from netcore.model import fetch, scenario  # noqa: E402


def error_classes() -> Iterator[type[SocketLabError]]:
    """Every SocketLabError subclass in netcore (importing each module so all are defined)."""
    for module in pkgutil.walk_packages(netcore.__path__, prefix="netcore."):
        if not module.name.endswith("__main__"):  # __main__ would run the CLI
            importlib.import_module(module.name)
    pending: list[type[SocketLabError]] = [SocketLabError]
    while pending:
        cls = pending.pop()
        yield cls
        pending.extend(cls.__subclasses__())


def error_texts() -> Iterator[tuple[str, str]]:
    """(context, source) for each template an error class defines itself; "{detail}" alone is data."""
    for cls in error_classes():
        for attr in TEMPLATE_ATTRS:
            text = cls.__dict__.get(attr)
            if isinstance(text, str) and text and text != "{detail}":
                yield cls.__name__, text


def action_texts() -> Iterator[tuple[str, str]]:
    """("Action", text) for each literal ``action="..."`` netcore passes to an error."""
    for path in sorted((ROOT / "netcore").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument":
                continue  # argparse's action=, not an error's
            for keyword in node.keywords:
                value = keyword.value
                if (
                    keyword.arg == "action"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    yield "Action", value.value


def input_error_texts() -> Iterator[tuple[str, str]]:
    """("InputError", template) for each literal template netcore raises an ``InputError`` with."""
    for path in sorted((ROOT / "netcore").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "InputError"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                yield "InputError", node.args[0].value


def verdict_texts() -> Iterator[tuple[str, str]]:
    """("Verdict", template) for each template of the packet-sticking verdict and segment count."""
    for template in scenario.templates():
        yield "Verdict", template


def status_texts() -> Iterator[tuple[str, str]]:
    """("FetchStatus", template) for each thing a file fetch can say it waits for."""
    for template in fetch.STATUS_TEMPLATES:
        yield "FetchStatus", template


def netcore_source() -> str:
    """A Python file that marks the netcore texts for lupdate."""
    texts = sorted(
        set(error_texts())
        | set(action_texts())
        | set(input_error_texts())
        | set(verdict_texts())
        | set(status_texts())
    )
    return "".join(f"QT_TRANSLATE_NOOP({context!r}, {text!r})\n" for context, text in texts)


def update(ts_dir: Path) -> None:
    """Merge the current source texts into the .ts files in *ts_dir*, dropping vanished ones."""
    lupdate = Path(sys.executable).with_name("pyside6-lupdate")
    sources = sorted(str(p) for folder in ("app", "widgets") for p in (ROOT / folder).glob("*.py"))
    with tempfile.TemporaryDirectory() as tmp:
        marks = Path(tmp) / "netcore_texts.py"
        marks.write_text(netcore_source(), encoding="utf-8")
        for language in LANGUAGES:
            ts = ts_dir / f"socketlab_{language}.ts"
            subprocess.run(
                [
                    str(lupdate),
                    *sources,
                    str(marks),
                    "-ts",
                    str(ts),
                    "-locations",
                    "none",
                    "-no-obsolete",
                    "-target-language",
                    language,
                ],
                check=True,
                capture_output=True,
            )


if __name__ == "__main__":
    update(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent)

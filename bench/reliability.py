"""Build docs/RELIABILITY.md from what actually ran: the reliability tests (their names, docstrings,
outcomes and the figures they record with pytest's ``record_property``) and the load benchmarks'
printed output. ``make reliability`` runs it; nothing in the report is typed by hand."""

from __future__ import annotations

import argparse
import ast
import base64
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "docs" / "RELIABILITY.md"

# (section title, pytest selection) — the headings, in its order.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Flood into the GUI", ("tests/load/test_gui_flood.py",)),
    ("Many clients", ("tests/load/test_many_clients.py",)),
    (
        "Faults",
        (
            "tests/faults",
            "tests/netcore/test_filefetch.py::test_a_full_disk_is_a_clear_error_and_leaves_no_file",
        ),
    ),
    ("Closing the window during activity", ("tests/app/test_close_during_activity.py",)),
    ("Hostile input", ("tests/hostile",)),
)
HYPOTHESIS_STATISTICS = "hypothesis-statistics-"
BENCHMARKS: tuple[tuple[str, ...], ...] = (("bench/gui_flood.py", "--mib", "1024"), ("bench/load.py",))


@dataclass
class Case:
    """One test (one parametrisation) as it ran."""

    node: str
    outcome: str
    seconds: float
    figures: list[tuple[str, str]] = field(default_factory=list)


def docstring(path: Path, function: str) -> str:
    """The first line of a test function's docstring, or its name spelt out."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function:
            doc = ast.get_docstring(node)
            if doc:
                return " ".join(doc.split("\n\n")[0].split())
    return function.removeprefix("test_").replace("_", " ")


def figure(name: str, value: str) -> tuple[str, str]:
    """One recorded property as (name, value); Hypothesis' own statistics become an example count."""
    if not name.startswith(HYPOTHESIS_STATISTICS):
        return name, value
    statistics = base64.b64decode(value).decode("utf-8", "replace")
    examples = sum(int(n) for n in re.findall(r"(\d+) passing", statistics))
    return "hypothesis examples", f"{examples:,}"


def run_tests(selection: tuple[str, ...]) -> list[Case]:
    """Run one section's tests with a JUnit report; one Case per test that ran."""
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-o",
                "junit_family=legacy",  # the family that keeps record_property's figures
                f"--junitxml={junit}",
                *selection,
            ],
            cwd=ROOT,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
            check=False,
            timeout=1800,
        )
        root = ET.parse(junit).getroot()
        plugin_figures = {  # Hypothesis' plugin reports a decorated test's statistics suite-wide
            name.removeprefix(HYPOTHESIS_STATISTICS): figure(name, p.get("value", ""))
            for suite in root.iter("testsuite")
            for p in suite.findall("properties/property")
            if (name := p.get("name", "")).startswith(HYPOTHESIS_STATISTICS)
        }
        cases = []
        for case in root.iter("testcase"):
            module = case.get("classname", "").replace(".", "/") + ".py"
            outcome = "passed"
            for tag in ("failure", "error", "skipped"):
                if case.find(tag) is not None:
                    outcome = {"failure": "FAILED", "error": "ERROR", "skipped": "skipped"}[tag]
            figures = [figure(p.get("name", ""), p.get("value", "")) for p in case.iter("property")]
            node = f"{module}::{case.get('name')}"
            if node in plugin_figures:
                figures.append(plugin_figures[node])
            cases.append(Case(node, outcome, float(case.get("time", 0)), figures))
        return cases


def run_benchmark(command: tuple[str, ...]) -> str:
    result = subprocess.run(
        [sys.executable, *command], cwd=ROOT, capture_output=True, text=True, check=False, timeout=1800
    )
    if result.returncode != 0:  # Qt's warnings on stderr only matter when the benchmark failed
        return f"{result.stdout}{result.stderr}(exit {result.returncode})".strip()
    return result.stdout.strip()


def row(case: Case) -> str:
    path, _, name = case.node.partition("::")
    function = name.split("[")[0]
    figures = "; ".join(f"{k}: {v}" for k, v in case.figures) or "—"
    cells = (f"`{name}`", docstring(ROOT / path, function), figures, f"{case.outcome} ({case.seconds:.1f} s)")
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def main() -> int:
    argparse.ArgumentParser(description=__doc__).parse_args()
    lines = [
        "# Reliability",
        "",
        "Generated by `make reliability` (`bench/reliability.py`) from the tests and benchmarks as they ran",
        f"on {datetime.date.today().isoformat()} ({platform.machine()}, {os.cpu_count()} CPUs, Python"
        f" {platform.python_version()}). Do not edit by hand: rerun it.",
        "",
    ]
    failed = 0
    for title, selection in SECTIONS:
        cases = run_tests(selection)
        failed += sum(c.outcome in ("FAILED", "ERROR") for c in cases)
        lines += [f"## {title}", "", "| case | what is checked | measured | result |", "|---|---|---|---|"]
        lines += [row(c) for c in cases]
        lines.append("")
    lines += ["## Benchmarks", ""]
    for command in BENCHMARKS:
        lines += [f"`python {' '.join(command)}`:", "", "```", run_benchmark(command), "```", ""]
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {REPORT.relative_to(ROOT)}; {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The CI workflow parses, builds on the three systems, and runs nothing that exists only in YAML:
every ``run`` is a Makefile target or a ``python -m tools.build`` step that runs here too."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tools import build

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "build.yml"


def load_workflow(path: Path = WORKFLOW) -> dict:
    """The workflow: YAML written as JSON after its leading ``#`` comment lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return json.loads("\n".join(line for line in lines if not line.startswith("#")))


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z0-9_.-]+):", text, flags=re.MULTILINE))


def expand(command: str, values: dict[str, str]) -> str:
    """*command* with ``${{ matrix.X }}`` replaced by the matrix entry's values."""
    return re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda match: values[match.group(1)], command)


def check_run(command: str) -> None:
    """Fail unless *command* is one Makefile target or one tools.build step with valid arguments."""
    assert "\n" not in command and not set("&|;`$<>") & set(command), f"shell logic in {command!r}"
    words = shlex.split(command)
    if words[0] == "sudo":
        words = words[1:]
    if words[0] == "make":
        assert len(words) == 2 and words[1] in makefile_targets(), f"no Makefile target: {command!r}"
        return
    assert words[:3] == ["python", "-m", "tools.build"], f"not a tools.build step: {command!r}"
    try:
        build.parse_args(words[3:])
    except SystemExit:
        raise AssertionError(f"tools.build does not take {command!r}") from None


def test_matrix_names_the_three_systems_with_their_mypy_platform():
    job = load_workflow()["jobs"]["build"]
    entries = job["strategy"]["matrix"]["include"]
    assert {entry["os"]: entry["platform"] for entry in entries} == {
        "windows-latest": "win32",
        "macos-latest": "darwin",
        "ubuntu-latest": "linux",
    }
    assert job["runs-on"] == "${{ matrix.os }}"


def test_every_run_step_exists_in_the_makefile_or_tools():
    job = load_workflow()["jobs"]["build"]
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert all("run" in step or "uses" in step for step in job["steps"])
    for entry in job["strategy"]["matrix"]["include"]:
        for command in runs:
            check_run(expand(command, entry))
    steps = [shlex.split(command)[3] for command in runs if command.startswith("python -m tools.build")]
    assert steps == ["venv", "lint", "test", "dist", "dist-test", "package"]
    assert "--platform ${{ matrix.platform }}" in runs[steps.index("lint") + 1]


def test_artifacts_are_the_packages():
    steps = load_workflow()["jobs"]["build"]["steps"]
    upload = [step for step in steps if step.get("uses", "").startswith("actions/upload-artifact")]
    assert len(upload) == 1 and upload[0]["with"]["path"] == "dist/packages/"


@pytest.mark.parametrize(
    "command",
    [
        "python -m tools.build lint && rm -rf /",
        "make no-such-target",
        "python -m tools.build deploy",
        "pip install x",
    ],
)
def test_the_check_refuses_what_is_not_a_step(command):
    with pytest.raises(AssertionError):
        check_run(command)

"""The build and check steps, the same on every system: ``python -m tools.build STEP``.

CI (.github/workflows/build.yml) runs exactly these steps, and the Makefile's ``dist`` targets call
them, so a Windows developer without ``make`` runs what CI runs:

    python -m tools.build venv          # .venv with Socket Lab, the test tools and PyInstaller
    python -m tools.build lint          # ruff, ruff format --check, mypy --platform <this system>
    python -m tools.build test          # the test suite offscreen, then the self-test from source
    python -m tools.build dist          # the executable(s) with PyInstaller (build.spec)
    python -m tools.build dist-test     # their --version and --self-test, contents vs allow-list
    python -m tools.build package       # dist/packages/: the executables archived for download
    python -m tools.build allowlist     # rewrite tools/allowlist/<system>.txt from the current build

Every step creates .venv first when it is missing; the tools run from it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Sequence
from ctypes.util import find_library
from pathlib import Path

from tools import archive

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
TS = ROOT / "resources" / "i18n" / "socketlab_zh_CN.ts"


def system(platform: str = sys.platform) -> str:
    """``windows``, ``macos`` or ``linux``: the name used in file names and allow-lists."""
    return {"win32": "windows", "darwin": "macos"}.get(platform, "linux")


def project_version() -> str:
    """The version in pyproject.toml."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    return str(tomllib.loads(text)["project"]["version"])


def venv_bin(platform: str = sys.platform) -> Path:
    """The folder of the virtual environment's programs."""
    return ROOT / ".venv" / ("Scripts" if platform == "win32" else "bin")


def venv_python() -> Path:
    """The virtual environment's Python."""
    return venv_bin() / ("python.exe" if sys.platform == "win32" else "python")


def run(*command: str | Path, env: dict[str, str] | None = None, capture: bool = False) -> str:
    """Run *command* in the repository, its output shown as it comes (and returned, with
    *capture*); exit on failure."""
    words = [str(part) for part in command]
    print("+", " ".join(words), flush=True)
    done = subprocess.run(
        words,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE if capture else None,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    if capture:
        print(done.stdout, end="", flush=True)
    if done.returncode != 0:
        raise SystemExit(f"exit status {done.returncode}: {' '.join(words)}")
    return done.stdout or ""


def python(*args: str | Path, env: dict[str, str] | None = None) -> str:
    """Run the virtual environment's Python with *args*."""
    return run(venv_python(), *args, env=env)


def ensure_venv() -> None:
    """Create .venv with Socket Lab (editable), its test tools and PyInstaller, unless it exists."""
    if not venv_python().exists():
        run(sys.executable, "-m", "venv", ROOT / ".venv")
        python("-m", "pip", "install", "--quiet", "--upgrade", "pip")
        python("-m", "pip", "install", "--quiet", "-e", ".[dev,dist]")
    elif subprocess.run([venv_python(), "-c", "import PyInstaller"], capture_output=True).returncode != 0:
        python("-m", "pip", "install", "--quiet", "-e", ".[dist]")


def translations() -> None:
    """Compile the Chinese catalogue (.ts → .qm) when the .qm is missing or older."""
    qm = TS.with_suffix(".qm")
    if not qm.exists() or qm.stat().st_mtime < TS.stat().st_mtime:
        lrelease = venv_bin() / ("pyside6-lrelease.exe" if sys.platform == "win32" else "pyside6-lrelease")
        run(lrelease, "-silent", TS, "-qm", qm)


def step_venv(_: argparse.Namespace) -> None:
    ensure_venv()
    translations()


def step_lint(args: argparse.Namespace) -> None:
    python("-m", "ruff", "check", ".")
    python("-m", "ruff", "format", "--check", ".")
    python("-m", "mypy", "--platform", args.platform)


def step_test(args: argparse.Namespace) -> None:
    translations()
    offscreen = {"QT_QPA_PLATFORM": "offscreen"}
    python("-m", "pytest", *args.pytest_args, env=offscreen)
    python("-m", "app", "--self-test", env=offscreen)


def step_dist(args: argparse.Namespace) -> None:
    translations()
    env = {"SOCKETLAB_ONEDIR": "1"} if args.folder else {"SOCKETLAB_ONEDIR": "0"}
    python("-m", "PyInstaller", "--noconfirm", "--clean", "build.spec", env=env)


class Build:
    """Where the executables of one kind of build are."""

    def __init__(self, name: str, folder: bool = False) -> None:
        self.name = name
        if name == "windows":
            self.runs, self.contents = DIST / "socketlab-cli.exe", DIST / "socketlab.exe"
            self.shipped = [DIST / "socketlab.exe", DIST / "socketlab-cli.exe"]
        elif name == "macos":
            app = DIST / "Socket Lab.app"
            self.runs, self.contents, self.shipped = app / "Contents" / "MacOS" / "socketlab", app, [app]
        elif folder:
            self.runs, self.contents = DIST / "socketlab-folder" / "socketlab", DIST / "socketlab-folder"
            self.shipped = [self.contents]
        else:
            self.runs = self.contents = DIST / "socketlab"
            self.shipped = [self.runs]
        # The allow-list is of what users download: the Linux one-folder build is for measuring.
        self.allowlist = None if folder and name == "linux" else archive.ALLOWLIST_DIR / f"{name}.txt"

    def read(self) -> archive.Contents:
        """The files (and module count) the build carries."""
        if self.contents.is_dir():
            return archive.folder_contents(self.contents, self.runs)
        return archive.onefile_contents(self.contents)


def step_dist_test(args: argparse.Namespace) -> None:
    build = Build(system(), args.folder)
    if not build.runs.exists():
        raise SystemExit(f"{build.runs} is missing: run `python -m tools.build dist` first")
    offscreen = {"QT_QPA_PLATFORM": "offscreen"}
    version = run(build.runs, "--version", env=offscreen, capture=True).strip()
    if version != f"Socket Lab {project_version()}":
        raise SystemExit(f"--version printed {version!r}, pyproject.toml says {project_version()}")
    if "self-test ok" not in run(build.runs, "--self-test", env=offscreen, capture=True):
        raise SystemExit("the executable's self-test failed")
    contents = build.read()
    print(*(f"  {name}" for name in contents.files), sep="\n")
    files = [file for path in build.shipped for file in (path.rglob("*") if path.is_dir() else [path])]
    size = sum(file.stat().st_size for file in files if file.is_file() and not file.is_symlink()) / 1e6
    print(f"{build.contents.name}: {len(contents.files)} files, {contents.modules} modules, {size:.1f} MB")
    listing = DIST / f"contents-{build.name}{'-folder' if args.folder else ''}.txt"
    listing.write_text(archive.allowlist_text(build.name, contents), encoding="utf-8")
    if build.allowlist is None:
        return
    if not build.allowlist.exists():
        print(f"warning: no allow-list {build.allowlist.relative_to(ROOT)} for this system yet;")
        print(f"review {listing.relative_to(ROOT)} and commit it there")
        return
    if build.name == "linux":  # the check matters where a desktop's libraries could leak in
        gtk = find_library("gtk-3")
        print(f"GTK 3 on this machine: {gtk or 'no (make system-deps installs it to check it stays out)'}")
    problems = archive.differences(archive.read_allowlist(build.allowlist), contents.files)
    for line in problems:
        print(line)
    if problems:
        raise SystemExit(
            f"the executable differs from {build.allowlist.relative_to(ROOT)}: keep it out in build.spec, "
            "or after review `python -m tools.build allowlist`"
        )
    print(f"contents identical to {build.allowlist.relative_to(ROOT)} ({len(contents.files)} entries)")


def step_allowlist(_: argparse.Namespace) -> None:
    build = Build(system())
    assert build.allowlist is not None
    build.allowlist.parent.mkdir(exist_ok=True)
    build.allowlist.write_text(archive.allowlist_text(build.name, build.read()), encoding="utf-8")
    print(f"wrote {build.allowlist.relative_to(ROOT)}")


def step_package(_: argparse.Namespace) -> None:
    name = system()
    build = Build(name)
    out = DIST / "packages"
    out.mkdir(exist_ok=True)
    stem = f"socketlab-{project_version()}-{name}"
    if name == "macos":  # ditto keeps the bundle's symbolic links and permissions
        run("ditto", "-c", "-k", "--sequesterRsrc", "--keepParent", build.shipped[0], out / f"{stem}.zip")
    elif name == "windows":
        with zipfile.ZipFile(out / f"{stem}.zip", "w", zipfile.ZIP_DEFLATED) as package:
            for path in build.shipped:
                package.write(path, path.name)
    else:  # a tar keeps the executable bit, which a zip download loses
        with tarfile.open(out / f"{stem}.tar.gz", "w:gz") as package:
            package.add(build.shipped[0], build.shipped[0].name)
    for listing in DIST.glob("contents-*.txt"):
        shutil.copy(listing, out / listing.name)
    print(*sorted(path.name for path in out.iterdir()), sep="\n")


STEPS = {
    "venv": step_venv,
    "lint": step_lint,
    "test": step_test,
    "dist": step_dist,
    "dist-test": step_dist_test,
    "package": step_package,
    "allowlist": step_allowlist,
}


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.build", description=__doc__.split("\n\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    for name in STEPS:
        step = steps.add_parser(name)
        if name == "lint":
            step.add_argument(
                "--platform", default=sys.platform, help="mypy's --platform (default: this one)"
            )
        if name == "test":
            step.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
        if name in {"dist", "dist-test"}:
            step.add_argument("--folder", action="store_true", help="the one-folder build (Linux)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    ensure_venv()
    STEPS[args.step](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

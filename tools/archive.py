"""What went into the executable, compared with the allow-list kept in tools/allowlist/<system>.txt.

A one-file executable is read with PyInstaller's archive reader (the same as ``pyi-archive_viewer``):
its CArchive holds every library, plugin and data file, plus the PYZ of Python modules. A one-folder
build (macOS) has the same files on disk, and its PYZ inside the executable. The allow-list names
every library, plugin and data file, one per line (``#`` starts a comment); Python modules in the
PYZ are only counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ALLOWLIST_DIR = Path(__file__).resolve().parent / "allowlist"
# CArchive entry kinds that are files on the user's disk: binary, symbolic link, data.
FILE_KINDS = frozenset({"b", "n", "x"})


@dataclass(frozen=True, slots=True)
class Contents:
    """The files an executable carries, and how many Python modules."""

    files: tuple[str, ...]
    modules: int


def onefile_contents(executable: Path) -> Contents:
    """The CArchive's files and the PYZ's module count of a one-file executable."""
    from PyInstaller.archive.readers import CArchiveReader

    archive = CArchiveReader(str(executable))
    files, modules = [], 0
    for name, (*_, kind) in archive.toc.items():
        if kind in FILE_KINDS:
            files.append(name.replace("\\", "/"))
        elif kind == "z":
            modules += len(archive.open_embedded_archive(name).toc)
    return Contents(tuple(sorted(files)), modules)


def folder_contents(folder: Path, executable: Path) -> Contents:
    """The files of a one-folder build (or an .app), and the module count of the PYZ that
    PyInstaller appends to its *executable*."""
    files = sorted(
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_symlink() or not path.is_dir()
    )
    return Contents(tuple(files), onefile_contents(executable).modules)


def read_allowlist(path: Path) -> set[str]:
    """The names in an allow-list file: one per line, blank lines and ``#`` comments ignored."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line}


def differences(allowed: Iterable[str], found: Iterable[str]) -> list[str]:
    """One line per difference between the allow-list and what was built; empty when identical."""
    allowed, found = set(allowed), set(found)
    return [f"not in the allow-list: {name}" for name in sorted(found - allowed)] + [
        f"in the allow-list but not built: {name}" for name in sorted(allowed - found)
    ]


def allowlist_text(system: str, contents: Contents) -> str:
    """An allow-list file for *system* holding exactly *contents*' files."""
    header = (
        f"# Every library, plugin and data file in the {system} executable (tools/archive.py).\n"
        "# `python -m tools.build dist-test` fails when the build differs from this list; after a\n"
        "# reviewed change, `python -m tools.build allowlist` rewrites it from the current build.\n"
    )
    return header + "".join(f"{name}\n" for name in contents.files)

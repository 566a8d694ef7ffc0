"""Saved messages and send history, as pure data: the JSON codec and the file (no Qt).

One file holds the saved messages every message box shares and each box's history of the last
``HISTORY_LIMIT`` messages sent. A message is what the payload box holds (text, text or hex,
encoding, escapes), so it sends the same bytes when it is loaded again; a saved message may also
carry the destination it was saved for (host and port, as Packet Sender's packets do). Version 1
files (no destinations) are read as messages without one and written as version 2. The file is written
atomically (a temporary file, then ``os.replace``). A file that cannot be read — broken, or written
by a newer version — is reported, the list in memory is kept, and the file is left alone until the
user changes the list; then it is first renamed aside, so nothing in it is lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from netcore.protocols.payload import ENCODINGS, PayloadMode, parse_payload

FORMAT = "socketlab-messages"
VERSION = 2  # 2: a saved message may carry "host" and "port"
HISTORY_LIMIT = 100
FILE_NAME = "saved_messages.json"
NAME_LENGTH = 32  # a default name is the message's first characters


@dataclass(frozen=True)
class Message:
    """What a payload box holds; *name* is empty for a history entry."""

    text: str
    mode: PayloadMode = PayloadMode.TEXT
    encoding: str = "utf-8"
    escapes: bool = True
    name: str = ""
    host: str = ""  # the destination it was saved for ("": none); only saved messages have one
    port: int = 0

    def destination(self) -> tuple[str, int] | None:
        return (self.host, self.port) if self.host else None

    def payload(self) -> bytes:
        """The bytes this message sends (``InputError`` if the text does not parse)."""
        return parse_payload(self.text, self.mode, self.encoding, self.escapes)

    def same_content(self, other: Message) -> bool:
        return replace(self, name="") == replace(other, name="")

    def default_name(self) -> str:
        """The first line of the text, shortened: a name to offer when saving."""
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return first if len(first) <= NAME_LENGTH else first[: NAME_LENGTH - 1] + "…"


class Problem(StrEnum):
    BROKEN = "broken"  # not JSON, or not our format
    NEWER = "newer"  # written by a newer version of Socket Lab
    UNREADABLE = "unreadable"  # the OS refused (permissions, a folder, …)


class MessageFileError(Exception):
    """The file cannot be used; *detail* says where (English, for the report's second line)."""

    def __init__(self, problem: Problem, path: Path, detail: str = "", version: int = 0) -> None:
        super().__init__(f"{path}: {problem.value}: {detail}")
        self.problem, self.path, self.detail, self.version = problem, path, detail, version


@dataclass
class Contents:
    """What one file holds."""

    messages: list[Message] = field(default_factory=list)
    history: dict[str, list[Message]] = field(default_factory=dict)


# -- the codec --------------------------------------------------------------------------------------
def _message_json(message: Message, named: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": message.name} if named else {}
    out.update(text=message.text, mode=message.mode.value, encoding=message.encoding, escapes=message.escapes)
    if named and message.host:
        out.update(host=message.host, port=message.port)
    return out


def encode(contents: Contents) -> str:
    """*contents* as the file's JSON text."""
    data = {
        "format": FORMAT,
        "version": VERSION,
        "messages": [_message_json(m, True) for m in contents.messages],
        "history": {box: [_message_json(m, False) for m in items] for box, items in contents.history.items()},
    }
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


class _Bad(ValueError):
    """One wrong value; the message says where."""


def _message(item: object, where: str, named: bool) -> Message:
    if not isinstance(item, dict):
        raise _Bad(f"{where} is not an object")

    def get(key: str, kind: type, default: object) -> Any:
        value = item.get(key, default)
        if not isinstance(value, kind):
            raise _Bad(f"{where}.{key} should be {kind.__name__}")
        return value

    text = get("text", str, None)
    mode, encoding = get("mode", str, PayloadMode.TEXT.value), get("encoding", str, "utf-8")
    if mode not in {m.value for m in PayloadMode}:
        raise _Bad(f"{where}.mode '{mode}' is neither text nor hex")
    if encoding not in ENCODINGS:
        raise _Bad(f"{where}.encoding '{encoding}' is not one of {', '.join(ENCODINGS)}")
    name = get("name", str, "") if named else ""
    host, port = (get("host", str, ""), get("port", int, 0)) if named else ("", 0)
    if isinstance(port, bool) or (host and not 1 <= port <= 65535):
        raise _Bad(f"{where}.port should be 1 to 65535 with a host")
    return Message(
        text, PayloadMode(mode), encoding, get("escapes", bool, True), name, host, port if host else 0
    )


def decode(text: str, path: Path = Path("-")) -> Contents:
    """The file's JSON text → ``Contents``, or ``MessageFileError`` (broken or newer)."""
    try:
        data = json.loads(text)
    except ValueError as exc:  # JSONDecodeError, or a number too long to convert
        raise MessageFileError(Problem.BROKEN, path, str(exc)) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise MessageFileError(Problem.BROKEN, path, f"not a {FORMAT} file")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise MessageFileError(Problem.BROKEN, path, "no version number")
    if version > VERSION:
        raise MessageFileError(Problem.NEWER, path, f"version {version}", version)
    try:
        messages, history = data.get("messages", []), data.get("history", {})
        if not isinstance(messages, list):
            raise _Bad("messages is not a list")
        if not isinstance(history, dict) or not all(isinstance(v, list) for v in history.values()):
            raise _Bad("history is not an object of lists")
        return Contents(
            [_message(m, f"messages[{i}]", True) for i, m in enumerate(messages)],
            {
                str(box): [_message(m, f"history.{box}[{i}]", False) for i, m in enumerate(items)][
                    -HISTORY_LIMIT:
                ]
                for box, items in history.items()
            },
        )
    except _Bad as exc:
        raise MessageFileError(Problem.BROKEN, path, str(exc)) from None


# -- the file ---------------------------------------------------------------------------------------
def write_atomic(path: Path, text: str) -> None:
    """Write *text* to *path* so a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read(path: Path) -> Contents:
    """The file's contents; a missing file is empty. ``MessageFileError`` if it cannot be used."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Contents()
    except OSError as exc:
        raise MessageFileError(Problem.UNREADABLE, path, exc.strerror or str(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageFileError(Problem.BROKEN, path, str(exc)) from None
    return decode(text, path)


class MessageStore:
    """The saved messages and histories in memory, and their file.

    Every change the user makes is written at once (``OSError`` reaches the caller). If the file
    could not be read at ``load``, ``problem`` says why and the history is not written; the first
    change the user makes renames that file aside (``set_aside``) before writing a new one.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.contents = Contents()
        self.problem: MessageFileError | None = None
        self.set_aside: Path | None = None  # where the unreadable file went

    @property
    def messages(self) -> list[Message]:
        return self.contents.messages

    def load(self) -> None:
        """Read the file; on failure keep what is in memory and set ``problem``."""
        try:
            self.contents = read(self.path)
        except MessageFileError as exc:
            self.problem = exc
        else:
            self.problem = None

    def save(self) -> None:
        """Write the file (after renaming an unreadable one aside)."""
        if self.problem is not None and self.path.exists():
            aside = self.path.with_name(
                f"{self.path.stem}.{self.problem.problem.value}-{time.strftime('%Y%m%d-%H%M%S')}.json"
            )
            os.replace(self.path, aside)
            self.set_aside = aside
        self.problem = None
        write_atomic(self.path, encode(self.contents))

    # -- saved messages -------------------------------------------------------------------------
    def add(self, message: Message) -> None:
        self.messages.append(message)
        self.save()

    def rename(self, index: int, name: str) -> None:
        self.messages[index] = replace(self.messages[index], name=name)
        self.save()

    def remove(self, index: int) -> None:
        del self.messages[index]
        self.save()

    def move(self, index: int, to: int) -> None:
        """Move the message at *index* so it ends up at *to*."""
        self.messages.insert(to, self.messages.pop(index))
        self.save()

    def import_file(self, path: Path) -> int:
        """Append the messages of an exported file that are not here yet; returns how many.
        ``MessageFileError`` leaves the list as it was."""
        new = [m for m in read(path).messages if m not in self.messages]
        if new:
            self.messages.extend(new)
            self.save()
        return len(new)

    def export_file(self, path: Path) -> None:
        """Write the saved messages (no history) to *path*."""
        write_atomic(path, encode(Contents(list(self.messages))))

    # -- history --------------------------------------------------------------------------------
    def history(self, box: str) -> list[Message]:
        """*box*'s messages sent, oldest first."""
        return self.contents.history.get(box, [])

    def record(self, box: str, message: Message) -> bool:
        """Add a sent message to *box*'s history (not again if it is the last one); True if the
        history changed. Written unless the file could not be read."""
        items = self.contents.history.setdefault(box, [])
        message = replace(message, name="")
        if items and items[-1] == message:
            return False
        items.append(message)
        del items[:-HISTORY_LIMIT]
        if self.problem is None:
            self.save()
        return True

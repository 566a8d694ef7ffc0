"""Saved messages and send history, as pure data: the JSON codec and the file (no Qt).

One file holds the saved messages every message box shares and each box's history of the last
``HISTORY_LIMIT`` messages sent. A message is what the payload box holds (text, text or hex,
encoding, escapes), so it sends the same bytes when it is loaded again; a saved message may also
carry the destination it was saved for (host and port, as Packet Sender's packets do). Version 1
files (no destinations) are read as messages without one and written as version 2. The file is written
atomically (a temporary file, then ``os.replace``). A file that cannot be read — broken, or written
by a newer version — is reported, the list in memory is kept, and the file is left alone until the
user changes the list; then it is first renamed aside, so nothing in it is lost.

Two windows of Socket Lab may share the file (a teacher runs one as the server, one as the client):
before each change the store reads the file again and, if the other one has written it since, starts
from what it wrote, so neither window's change overwrites the other's.
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


def read_text(path: Path) -> str | None:
    """The file's text; None if it is missing. ``MessageFileError`` if it cannot be read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MessageFileError(Problem.UNREADABLE, path, exc.strerror or str(exc)) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageFileError(Problem.BROKEN, path, str(exc)) from None


def read(path: Path) -> Contents:
    """The file's contents; a missing file is empty. ``MessageFileError`` if it cannot be used."""
    text = read_text(path)
    return Contents() if text is None else decode(text, path)


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
        self._known: str | None = None  # the file's text as this store last read or wrote it

    @property
    def messages(self) -> list[Message]:
        return self.contents.messages

    def load(self) -> None:
        """Read the file; on failure keep what is in memory and set ``problem``."""
        try:
            text = read_text(self.path)
            self.contents = Contents() if text is None else decode(text, self.path)
        except MessageFileError as exc:
            self.problem = exc
        else:
            self.problem, self._known = None, text

    def refresh(self) -> bool:
        """Before a change: if another window has written the file since this store last read or
        wrote it, take what it wrote (nothing changes while the file cannot be used, or is gone).
        True if the contents changed."""
        if self.problem is not None:
            return False
        try:
            text = read_text(self.path)
            if text is None or text == self._known:
                return False
            contents = decode(text, self.path)
        except MessageFileError:
            return False  # the next write replaces it, as before
        self.contents, self._known = contents, text
        return True

    def _find(self, message: Message, index: int) -> int | None:
        """Where *message* (at *index* before ``refresh``) is now; None if it has gone."""
        if 0 <= index < len(self.messages) and self.messages[index] == message:
            return index
        return self.messages.index(message) if message in self.messages else None

    def save(self) -> None:
        """Write the file (after renaming an unreadable one aside)."""
        if self.problem is not None and self.path.exists():
            aside = self.path.with_name(
                f"{self.path.stem}.{self.problem.problem.value}-{time.strftime('%Y%m%d-%H%M%S')}.json"
            )
            os.replace(self.path, aside)
            self.set_aside = aside
        self.problem = None
        text = encode(self.contents)
        write_atomic(self.path, text)
        self._known = text

    # -- saved messages -------------------------------------------------------------------------
    # Each change starts from the file as it is now (``refresh``); a message chosen by its index
    # in the list as shown is looked up again, in case another window has changed the list.
    def add(self, message: Message) -> None:
        self.refresh()
        self.messages.append(message)
        self.save()

    def rename(self, index: int, name: str) -> None:
        message = self.messages[index]
        self.refresh()
        if (at := self._find(message, index)) is not None:
            self.messages[at] = replace(message, name=name)
        self.save()

    def remove(self, index: int) -> None:
        message = self.messages[index]
        self.refresh()
        if (at := self._find(message, index)) is not None:
            del self.messages[at]
        self.save()

    def move(self, index: int, to: int) -> None:
        """Move the message at *index* so it ends up at *to*."""
        message = self.messages[index]
        self.refresh()
        if (at := self._find(message, index)) is not None:
            self.messages.insert(min(to, len(self.messages) - 1), self.messages.pop(at))
        self.save()

    def import_file(self, path: Path) -> int:
        """Append the messages of an exported file that are not here yet; returns how many.
        ``MessageFileError`` leaves the list as it was."""
        incoming = read(path).messages
        self.refresh()
        new = [m for m in incoming if m not in self.messages]
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
        contents changed. Written unless the file could not be read."""
        message = replace(message, name="")
        if self.history(box)[-1:] == [message]:
            return False  # a repeat: not even a look at the file (it may come every millisecond)
        refreshed = self.refresh()
        items = self.contents.history.setdefault(box, [])
        if items and items[-1] == message:
            return refreshed
        items.append(message)
        del items[:-HISTORY_LIMIT]
        if self.problem is None:
            self.save()
        return True

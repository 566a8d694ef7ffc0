"""The saved-messages file without Qt: codec round trip, a broken or newer file, atomic writes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netcore.protocols.payload import ENCODINGS, PayloadMode
from widgets import message_store
from widgets.message_store import (
    HISTORY_LIMIT,
    Contents,
    Message,
    MessageFileError,
    MessageStore,
    Problem,
    decode,
    encode,
)

destinations = st.one_of(st.just(("", 0)), st.tuples(st.text(min_size=1), st.integers(1, 65535)))
messages = st.builds(
    lambda text, mode, encoding, escapes, name, where: Message(text, mode, encoding, escapes, name, *where),
    text=st.text(),
    mode=st.sampled_from(list(PayloadMode)),
    encoding=st.sampled_from(ENCODINGS),
    escapes=st.booleans(),
    name=st.text(),
    where=destinations,
)
unnamed = messages.map(lambda m: Message(m.text, m.mode, m.encoding, m.escapes))


@given(
    st.lists(messages, max_size=8),
    st.dictionaries(st.text(min_size=1), st.lists(unnamed, max_size=HISTORY_LIMIT), max_size=3),
)
def test_codec_round_trip(saved, history):
    contents = Contents(saved, history)
    assert decode(encode(contents)) == contents


def stored(tmp_path: Path, *names: str) -> MessageStore:
    store = MessageStore(tmp_path / "saved_messages.json")
    for name in names:
        store.add(Message(f"text of {name}\\r\\n", name=name))
    return store


def reloaded(store: MessageStore) -> MessageStore:
    again = MessageStore(store.path)
    again.load()
    assert again.problem is None
    return again


def test_changes_are_kept_in_the_file(tmp_path):
    store = stored(tmp_path, "a", "b", "c")
    store.move(2, 0)
    store.rename(1, "A")
    store.remove(2)
    assert [m.name for m in reloaded(store).messages] == ["c", "A"]
    assert reloaded(store).messages[0].payload() == b"text of c\r\n"


def test_history_keeps_the_last_hundred_and_skips_a_repeat(tmp_path):
    store = stored(tmp_path)
    for i in range(HISTORY_LIMIT + 20):
        assert store.record("box", Message(str(i)))
    assert not store.record("box", Message(str(HISTORY_LIMIT + 19)))
    history = reloaded(store).history("box")
    assert [m.text for m in history] == [str(i) for i in range(20, HISTORY_LIMIT + 20)]
    assert reloaded(store).history("other") == []


@pytest.mark.parametrize(
    "content, problem",
    [
        (b'{"format": "socketlab-messages", "version": 1, "messages": [', Problem.BROKEN),
        (b"\xff\xfe not utf-8", Problem.BROKEN),
        (b'{"format": "socketlab-messages", "version": 1, "messages": [{"name": "x"}]}', Problem.BROKEN),
        (
            b'{"format": "socketlab-messages", "version": 1, "messages": [{"text": "x", "mode": "b64"}]}',
            Problem.BROKEN,
        ),
        (b'{"format": "something else", "version": 1}', Problem.BROKEN),
        (b'{"format": "socketlab-messages", "version": 7, "messages": [], "future": true}', Problem.NEWER),
    ],
)
def test_an_unusable_file_is_reported_kept_and_set_aside_on_the_next_change(tmp_path, content, problem):
    store = stored(tmp_path, "mine")
    store.path.write_bytes(content)
    store.load()
    assert store.problem is not None and store.problem.problem is problem
    assert [m.name for m in store.messages] == ["mine"]  # the list in memory is not lost
    store.record("box", Message("sent"))  # history is not written over the file
    assert store.path.read_bytes() == content
    store.add(Message("new", name="new"))  # the user changes the list: now the file is written
    assert store.set_aside is not None and store.set_aside.read_bytes() == content
    assert [m.name for m in reloaded(store).messages] == ["mine", "new"]


def test_a_newer_file_says_its_version(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"format": "socketlab-messages", "version": 3}))
    with pytest.raises(MessageFileError) as caught:
        message_store.read(path)
    assert caught.value.problem is Problem.NEWER and caught.value.version == 3


def test_import_adds_new_messages_and_a_broken_file_changes_nothing(tmp_path):
    store = stored(tmp_path, "a", "b")
    other = stored(tmp_path / "other", "b", "c")
    exported = tmp_path / "export.json"
    other.export_file(exported)
    assert store.import_file(exported) == 1
    assert [m.name for m in reloaded(store).messages] == ["a", "b", "c"]
    exported.write_text("{broken")
    before = store.path.read_bytes()
    with pytest.raises(MessageFileError):
        store.import_file(exported)
    assert [m.name for m in store.messages] == ["a", "b", "c"]
    assert store.path.read_bytes() == before


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_file(tmp_path, monkeypatch):
    store = stored(tmp_path, "a")
    before = store.path.read_bytes()

    def no_room(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_room)
    with pytest.raises(OSError):
        store.add(Message("b", name="b"))
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved_messages.json"]


@pytest.mark.skipif(sys.platform == "win32", reason="Windows cannot replace a file that is open")
def test_the_file_is_replaced_not_rewritten_in_place(tmp_path):
    store = stored(tmp_path, "a")
    reader = store.path.open("rb")  # a reader of the old file keeps seeing all of it
    store.add(Message("b", name="b"))
    with reader:
        assert [m["name"] for m in json.loads(reader.read())["messages"]] == ["a"]
    assert [m.name for m in reloaded(store).messages] == ["a", "b"]


def test_two_windows_sharing_the_file_never_overwrite_each_others_changes(tmp_path):
    """A teacher runs two Socket Labs (server and client): a message one saves is not lost when the
    other, loaded earlier, sends something (its history write) or changes its own list."""
    first = reloaded(stored(tmp_path, "a", "b"))
    second = reloaded(first)  # both windows started with [a, b]
    first.add(Message("c", name="c"))
    assert second.record("tcp_client", Message("sent by the other window"))
    assert [m.name for m in reloaded(first).messages] == ["a", "b", "c"]
    first.remove(0)  # [b, c] on disk; the other window still shows [a, b, c]
    second.rename(1, "B")  # the row it shows as "b"
    assert [m.name for m in reloaded(first).messages] == ["B", "c"]
    first.add(Message("d", name="d"))  # [B, c, d] on disk; the other window shows [B, c]
    second.move(1, 0)  # "c" to the top
    assert [m.name for m in reloaded(first).messages] == ["c", "B", "d"]
    assert [m.text for m in reloaded(first).history("tcp_client")] == ["sent by the other window"]


def test_a_change_made_after_a_failed_write_keeps_what_was_not_written(tmp_path, monkeypatch):
    """A store whose last write failed keeps its list: the file, unchanged since, is not re-read."""
    store = stored(tmp_path, "a")

    def no_room(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", no_room)
        with pytest.raises(OSError):
            store.add(Message("b", name="b"))
    store.add(Message("c", name="c"))
    assert [m.name for m in reloaded(store).messages] == ["a", "b", "c"]


def test_a_repeated_send_does_not_read_the_file(tmp_path, monkeypatch):
    """A repeat sends the same message every few milliseconds: its history entry is already there."""
    store = stored(tmp_path, "a")
    store.record("udp_client", Message("ping"))
    reads = []
    monkeypatch.setattr(message_store, "read_text", lambda path: reads.append(path))
    assert not store.record("udp_client", Message("ping"))
    assert reads == []


def test_a_version_1_file_is_read_without_destinations_and_written_as_version_2(tmp_path):
    path = tmp_path / "saved_messages.json"
    v1 = {
        "format": "socketlab-messages",
        "version": 1,
        "messages": [{"name": "hi", "text": "hello", "mode": "text", "encoding": "utf-8", "escapes": True}],
        "history": {"tcp_client": [{"text": "x", "mode": "text", "encoding": "utf-8", "escapes": True}]},
    }
    path.write_text(json.dumps(v1), encoding="utf-8")
    store = MessageStore(path)
    store.load()
    assert store.problem is None
    assert store.messages == [Message("hello", name="hi")] and store.messages[0].destination() is None
    store.add(Message("ping", name="to the lab", host="192.168.1.20", port=9000))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == 2
    assert data["messages"][0] == v1["messages"][0]  # unchanged, no destination added
    assert data["messages"][1]["host"] == "192.168.1.20" and data["messages"][1]["port"] == 9000
    assert data["history"] == v1["history"]
    assert reloaded(store).messages[1].destination() == ("192.168.1.20", 9000)


@pytest.mark.parametrize("port", [0, 70000, True, "9000"])
def test_a_destination_without_a_usable_port_is_a_broken_file(port):
    item = {"name": "x", "text": "x", "host": "10.0.0.1", "port": port}
    text = json.dumps({"format": "socketlab-messages", "version": 2, "messages": [item]})
    with pytest.raises(MessageFileError) as caught:
        decode(text)
    assert caught.value.problem is Problem.BROKEN and "port" in caught.value.detail

"""The server's connection list: its bookkeeping, and the table through the real TCP and UDP echo
panes with real loopback clients (bytes, states, send to all, disconnect, one connection's view)."""

from __future__ import annotations

import contextlib
import socket
import struct

from PySide6.QtCore import Qt

from netcore.model.events import Closed, CloseReason, Connected, PeerShutdown, Traffic
from netcore.model.traffic import Direction, TrafficStore, make_chunk
from widgets.connection_table import ConnectionBook, ConnState

WAIT_MS = 10000


def chunk(conn: int, direction: Direction, data: bytes, offset: int = 0) -> Traffic:
    return Traffic(make_chunk(direction, data, offset, conn, f"127.0.0.1:{5000 + conn}"))


# -- bookkeeping ---------------------------------------------------------------------------------
def test_book_counts_bytes_by_stream_offset_and_follows_states():
    book = ConnectionBook()
    book.apply([Connected(1, "s", "a:1"), Connected(2, "s", "b:2"), Connected(3, "s", "c:3")])
    book.apply([chunk(1, Direction.RECEIVED, b"hello"), chunk(1, Direction.SENT, b"hel")])
    # A flood dropped the chunks before this one: the offset still gives the true count.
    book.apply([chunk(1, Direction.SENT, b"lo!", offset=100), chunk(9, Direction.RECEIVED, b"x")])
    book.apply([PeerShutdown(2), Closed(3, "c:3", CloseReason.RESET)])
    rows = {row.conn: row for row in book.rows}
    assert (rows[1].bytes_in, rows[1].bytes_out, rows[1].state) == (5, 103, ConnState.OPEN)
    assert rows[2].state is ConnState.HALF_CLOSED
    assert rows[3].state is ConnState.RESET
    assert (book.open_count, book.closed_count) == (2, 1)
    book.apply([Closed(2, "b:2", CloseReason.PEER_CLOSED), Closed(2, "b:2", CloseReason.LOCAL)])
    assert rows[2].state is ConnState.CLOSED and rows[2].reason is CloseReason.PEER_CLOSED
    assert book.closed_count == 2


def test_book_ages_out_the_oldest_closed_rows_and_counts_them():
    book = ConnectionBook(max_closed=3)
    book.apply([Connected(conn, "s", f"p:{conn}") for conn in range(1, 11)])
    book.apply([Closed(conn, f"p:{conn}", CloseReason.PEER_CLOSED) for conn in (2, 4, 6, 8, 10)])
    assert book.age_out() == 2
    assert book.aged_out == 2
    assert [row.conn for row in book.rows] == [1, 3, 5, 6, 7, 8, 9, 10]  # 2 and 4 went, open ones stay
    assert (book.open_count, book.closed_count) == (5, 3)


def test_store_only_keeps_one_connections_chunks_and_frames():
    store = TrafficStore()
    for conn, data in ((1, b"aa"), (2, b"bbb"), (1, b"cccc")):
        store.append(make_chunk(Direction.RECEIVED, data, 0, conn, "p"))
    one = store.only(lambda c: c.conn == 1)
    assert [one.chunk(i).data for i in range(len(one))] == [b"aa", b"cccc"]
    assert one.byte_count == 6 and one.base == 0 and one.end == 6


# -- through the real panes ----------------------------------------------------------------------
def start_server(qtbot, pane, manual: bool = False) -> int:
    pane.address.set_address("127.0.0.1", 0)
    if manual:
        pane.mode.setCurrentIndex(pane.mode.findData("manual"))
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening on" in pane.state.text(), timeout=WAIT_MS)
    return pane.server.address.port


def table_texts(pane) -> list[tuple[str, ...]]:
    model = pane.connections.model
    return [model.row_texts(row) for row in range(model.rowCount())]


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        piece = sock.recv(size - len(data))
        if not piece:
            break
        data += piece
    return data


def test_tcp_table_shows_each_client_bytes_and_state(qtbot, window):
    pane = window.tcp_echo.server
    port = start_server(qtbot, pane)
    messages = [b"alice\n", b"bob says hi\n", b"carol\n" * 3]
    with contextlib.ExitStack() as stack:
        clients = []
        for message in messages:
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
            sock.sendall(message)
            assert recv_exactly(sock, len(message)) == message  # the echo
            clients.append(sock)
        qtbot.waitUntil(lambda: len(table_texts(pane)) == 3, timeout=WAIT_MS)
        qtbot.waitUntil(
            lambda: (
                [(t[3], t[4], t[5]) for t in table_texts(pane)]
                == [(str(len(m)), str(len(m)), "open") for m in messages]
            ),
            timeout=WAIT_MS,
        )
        assert [t[1] for t in table_texts(pane)] == [f"127.0.0.1:{c.getsockname()[1]}" for c in clients]
        # bob closes cleanly, carol resets (SO_LINGER 0): the rows say so
        clients[1].close()
        carol = clients[2]
        carol.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        carol.close()
        qtbot.waitUntil(
            lambda: [t[5] for t in table_texts(pane)] == ["open", "closed by peer", "reset"],
            timeout=WAIT_MS,
        )
        assert "1 open · 2 closed" in pane.connections.summary.text()
        assert pane.body.tabText(1) == "Connections (1 open)"
        # and the log has a row for each event, with the peer and the reason
        log = pane.view.log_model
        events = [log.row_texts(r) for r in range(log.rowCount()) if log.row_texts(r)[4] == ""]
        peers = [t[1] for t in table_texts(pane)]
        assert [(e[2], e[3]) for e in events] == [
            *(("← accept()", peer) for peer in peers),
            ("← FIN", peers[1]),
            ("← RST", peers[2]),
        ]
        assert "closed by the peer" in events[3][5] and "reset" in events[4][5]


def test_choosing_a_row_shows_only_its_traffic_and_the_combined_view_marks_boundaries(qtbot, window):
    pane = window.tcp_echo.server
    port = start_server(qtbot, pane)
    view = pane.view
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as a,
        socket.create_connection(("127.0.0.1", port), timeout=5) as b,
    ):
        for sock, message in ((a, b"first"), (b, b"second!"), (a, b"third")):
            sock.sendall(message)
            assert recv_exactly(sock, len(message)) == message
            qtbot.waitUntil(lambda m=message: any(c.data == m for c in view.chunks()), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: view.log_model.rowCount() == 8, timeout=WAIT_MS)
        # two accept() rows, then each message and its echo; a marked boundary wherever the
        # connection changes from one row to the next
        log = view.log_model
        assert [log.row_texts(row)[2] for row in range(2)] == ["← accept()", "← accept()"]
        conns = [view.store.chunk(row).conn for row in range(8)]
        assert conns == [1, 2, 1, 1, 2, 2, 1, 1]
        assert [log.starts_connection(row) for row in range(8)] == [
            conns[row] != conns[row - 1] if row else False for row in range(8)
        ]
        hexm = view.hex_model
        b_row = next(row for row in range(8) if view.store.chunk(row).data == b"second!")
        b_start = view.store.chunk_start(b_row)  # the first byte b sent: after a's echo
        info = hexm.row_bytes(hexm.row_of(b_start))[b_start % 16]
        assert info is not None and hexm.starts_connection(info)
        after = hexm.row_bytes(hexm.row_of(b_start + 1))[(b_start + 1) % 16]
        assert after is not None and not hexm.starts_connection(after)
        # choose b's row: the log and the hexdump show its traffic only; a double click shows the log
        pane.body.setCurrentWidget(pane.connections)
        pane.connections.table.selectRow(1)
        rect = pane.connections.table.visualRect(pane.connections.model.index(1, 1))
        viewport = pane.connections.table.viewport()
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())  # a press comes first
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        assert pane.body.currentWidget() is view
        assert view.only_conn == 2
        assert [log.row_texts(row)[5] for row in range(log.rowCount())][1:] == ["second!", "second!"]
        assert hexm.store.read(hexm.store.base, 100) == b"second!second!"
        assert pane.clients.currentData() == 2  # and it is the peer a reply goes to
        assert "Connection #2 only" in view.status.text()
        # b's new traffic shows; a's does not
        a.sendall(b"more from a")
        b.sendall(b"more from b")
        assert recv_exactly(b, 11) == b"more from b" and recv_exactly(a, 11) == b"more from a"
        qtbot.waitUntil(lambda: len(view.store) == 12, timeout=WAIT_MS)
        assert [log.row_texts(row)[5] for row in range(log.rowCount())][-2:] == ["more from b"] * 2
        assert log.rowCount() == 5
        qtbot.mouseClick(pane.connections.show_all, Qt.MouseButton.LeftButton)
        assert view.only_conn is None and log.rowCount() == 12


def test_send_to_all_and_disconnect_one(qtbot, window):
    pane = window.tcp_echo.server
    port = start_server(qtbot, pane, manual=True)
    with contextlib.ExitStack() as stack:
        clients = [
            stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5)) for _ in range(3)
        ]
        qtbot.waitUntil(lambda: len(table_texts(pane)) == 3, timeout=WAIT_MS)
        pane.reply.edit.setPlainText("\\q")  # an unknown escape: refused, and said
        qtbot.mouseClick(pane.send_all_button, Qt.MouseButton.LeftButton)
        error = pane.state.text()
        pane.reply.edit.setPlainText("to everyone\\n")
        qtbot.mouseClick(pane.send_all_button, Qt.MouseButton.LeftButton)
        for sock in clients:
            assert recv_exactly(sock, 12) == b"to everyone\n"
        assert pane.state.text() != error  # sent: the error is over, as after a single reply
        assert "to everyone\\n" in [m.text for m in pane.saved.store.history(pane.saved.history_key)]
        qtbot.waitUntil(lambda: [t[4] for t in table_texts(pane)] == ["12"] * 3, timeout=WAIT_MS)
        # disconnect the second one, chosen in the table
        pane.connections.table.selectRow(1)
        qtbot.mouseClick(pane.kick_button, Qt.MouseButton.LeftButton)
        assert clients[1].recv(100) == b""
        qtbot.waitUntil(lambda: [t[5] for t in table_texts(pane)][1] == "closed here", timeout=WAIT_MS)
        assert [t[5] for t in table_texts(pane)] == ["open", "closed here", "open"]


def test_udp_table_lists_peers_and_send_to_all_reaches_them(qtbot, window):
    pane = window.udp_echo.server
    port = start_server(qtbot, pane, manual=True)
    with contextlib.ExitStack() as stack:
        peers = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) for _ in range(2)]
        for i, sock in enumerate(peers):
            sock.settimeout(5)
            sock.sendto(b"x" * (i + 1), ("127.0.0.1", port))
        qtbot.waitUntil(lambda: [t[3] for t in table_texts(pane)] == ["1", "2"], timeout=WAIT_MS)
        pane.reply.edit.setPlainText("all")
        qtbot.mouseClick(pane.send_all_button, Qt.MouseButton.LeftButton)
        for sock in peers:
            assert sock.recv(100) == b"all"
        qtbot.waitUntil(lambda: [t[4] for t in table_texts(pane)] == ["3", "3"], timeout=WAIT_MS)


def test_relay_pane_lists_both_sides_of_each_relayed_connection(qtbot, window):
    echo_port = start_server(qtbot, window.tcp_echo.server)
    relay = window.relay.server
    relay.target.setText(f"127.0.0.1:{echo_port}")
    relay.chunks.setCurrentText("8")
    relay_port = start_server(qtbot, relay)
    with socket.create_connection(("127.0.0.1", relay_port), timeout=5) as sock:
        sock.sendall(b"through the relay")
        assert recv_exactly(sock, 17) == b"through the relay"
        # the client's side and the server's side, each with the bytes that crossed it
        qtbot.waitUntil(
            lambda: (
                sorted((t[1], t[3], t[4]) for t in table_texts(relay))
                == sorted(
                    [
                        (f"127.0.0.1:{sock.getsockname()[1]}", "17", "17"),
                        (f"127.0.0.1:{echo_port}", "17", "17"),
                    ]
                )
            ),
            timeout=WAIT_MS,
        )
    qtbot.waitUntil(lambda: all(t[5] != "open" for t in table_texts(relay)), timeout=WAIT_MS)

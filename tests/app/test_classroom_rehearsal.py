"""A classroom rehearsal: the teacher's TCP echo server in the app, 40 students' client programs
(subprocesses on loopback, blocking sockets as the course writes them), each sending its name; the
connection list shows all 40 with their bytes, "send to all" reaches every one, and the window keeps
answering throughout."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from tests.load.test_gui_flood import Heartbeat

STUDENTS = 40
WAIT_MS = 60000

# The course's client: connect, send one line, read the reply line by line with recv() (a reply may
# come in pieces), print it; then wait for the teacher's message to everyone.
STUDENT = """
import socket
import sys

host, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def recv_line(sock):
    reply = b""
    while not reply.endswith(b"\\n"):  # read until the delimiter
        chunk = sock.recv(4096)
        if not chunk:
            break
        reply += chunk
    return reply


with socket.create_connection((host, port), timeout=60) as sock:
    sock.sendall(name.encode() + b"\\n")
    print("echo", recv_line(sock).decode().strip(), flush=True)
    print("teacher", recv_line(sock).decode().strip(), flush=True)
"""


@pytest.mark.slow
def test_40_students_connect_get_their_echo_and_the_message_to_all(qtbot, settings, record_property):
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.show()
    pane = win.tcp_echo.server
    pane.address.set_address("127.0.0.1", 0)
    qtbot.mouseClick(pane.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Listening on" in pane.state.text(), timeout=WAIT_MS)
    port = pane.server.address.port
    pane.body.setCurrentWidget(pane.connections)
    width = pane.width()
    heartbeat = Heartbeat()
    names = [f"student-{i:02d}" for i in range(1, STUDENTS + 1)]
    started = time.monotonic()
    students: list[subprocess.Popen[str]] = []

    def launch() -> None:  # in a thread: starting 40 processes would hold up the test's GUI thread
        for name in names:
            students.append(
                subprocess.Popen(
                    [sys.executable, "-c", STUDENT, "127.0.0.1", str(port), name],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )

    launcher = threading.Thread(target=launch, name="students")
    launcher.start()
    model = pane.connections.model
    try:
        qtbot.waitUntil(lambda: not launcher.is_alive(), timeout=WAIT_MS)
        # from here the GUI thread only serves the window (forking 40 processes took the CPU too)
        heartbeat.start()

        # every student connected and got its own line back: 40 rows, 11 bytes each way
        def rows() -> list[tuple[str, ...]]:
            return [model.row_texts(row) for row in range(model.rowCount())]

        qtbot.waitUntil(
            lambda: len(rows()) == STUDENTS and all(r[3] == r[4] == "11" for r in rows()), timeout=WAIT_MS
        )
        echoed_in = time.monotonic() - started
        assert all(r[5] == "open" for r in rows())
        assert len({r[1] for r in rows()}) == STUDENTS  # 40 different peers
        assert pane.body.tabText(1) == f"Connections ({STUDENTS} open)"
        assert pane.width() == width  # 40 rows did not widen the pane
        # the teacher switches to manual replies and sends one message to all
        pane.mode.setCurrentIndex(pane.mode.findData("manual"))
        pane.reply.edit.setPlainText("hand in by Friday\\n")
        qtbot.mouseClick(pane.send_all_button, Qt.MouseButton.LeftButton)
        # wait in the event loop (the window must keep answering), then read what each printed
        qtbot.waitUntil(lambda: all(s.poll() is not None for s in students), timeout=WAIT_MS)
        outputs = []
        for student in students:
            out, err = student.communicate()
            assert student.returncode == 0, err
            outputs.append(out.splitlines())
        assert outputs == [[f"echo {name}", "teacher hand in by Friday"] for name in names]
        qtbot.waitUntil(
            lambda: all(r[3] == "11" and r[4] == "29" and r[5] == "closed by peer" for r in rows()),
            timeout=WAIT_MS,
        )
        heartbeat.stop()
        worst = max(heartbeat.gaps_ms)
        assert worst < 1000, f"the GUI froze for {worst} ms"
        record_property("students", str(STUDENTS))
        record_property("all connected and echoed after", f"{echoed_in:.2f} s")
        record_property("heartbeat gap max", f"{worst} ms")
    finally:
        heartbeat.stop()
        launcher.join(WAIT_MS / 1000)
        for student in students:
            if student.poll() is None:
                student.kill()
            student.communicate()
        win.close()

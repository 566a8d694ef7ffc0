"""Guard against PySide6 6.12.0's Signal.emit() reference leak on True (the process aborts after a
few hundred emits): several thousand emits in a subprocess must exit cleanly."""

from __future__ import annotations

import subprocess
import sys

CODE = r"""
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QCoreApplication, QObject, Signal

app = QCoreApplication([])

class Emitter(QObject):
    fired = Signal(object)
    flag = Signal(bool)

received = [0]

def count(_value):
    received[0] += 1

e = Emitter()
e.fired.connect(count)
e.flag.connect(count)
before = sys.getrefcount(True)
for i in range(5000):
    e.fired.emit(i)
    e.flag.emit(True)
drift = sys.getrefcount(True) - before
print(f"received={received[0]} drift={drift}")
"""


def test_many_signal_emits_exit_cleanly() -> None:
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert "received=10000" in result.stdout
    drift = int(result.stdout.split("drift=")[1])
    assert abs(drift) < 100, f"refcount of True drifted by {drift}: this PySide6 leaks on emit()"


def test_pinned_pyside_version() -> None:
    import PySide6

    assert PySide6.__version__ == "6.11.3"

"""The executable's icons, drawn from the one SVG with Qt at build time: a Windows ``.ico`` and a
macOS ``.icns``. Both formats are containers of PNG images with a small index in front, written here
with ``struct`` (no image library).

- ``.ico`` (Windows Vista and later read PNG entries): a 6-byte header, one 16-byte entry per image
  (width and height in one byte each, 0 meaning 256), then the PNGs.
- ``.icns`` (macOS 10.7 and later read PNG in these types): ``icns`` + total length, then one
  ``type + length + PNG`` block per image, all big-endian.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns type → pixel size (the @2x types hold the image of twice the nominal size).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),  # 16@2x
    (b"ic12", 64),  # 32@2x
    (b"ic07", 128),
    (b"ic13", 256),  # 128@2x
    (b"ic08", 256),
    (b"ic14", 512),  # 256@2x
    (b"ic09", 512),
    (b"ic10", 1024),  # 512@2x
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def render_png(svg: Path, size: int) -> bytes:
    """The SVG drawn on a transparent *size*×*size* square, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QGuiApplication, QImage, QImageWriter, QPainter
    from PySide6.QtSvg import QSvgRenderer

    if QGuiApplication.instance() is None:  # QSvgRenderer and QImage need no window, only fonts
        raise RuntimeError("render_png needs a QGuiApplication")
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not an SVG Qt can draw")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not QImageWriter(buffer, QByteArray(b"PNG")).write(image):
        raise RuntimeError("Qt could not write a PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: Iterable[tuple[int, bytes]]) -> bytes:
    """An .ico file holding each (size, PNG) image."""
    images = list(pngs)
    header = struct.pack("<HHH", 0, 1, len(images))  # reserved, type 1 = icon, count
    offset = len(header) + 16 * len(images)
    entries, bodies = b"", b""
    for size, png in images:
        side = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        bodies += png
        offset += len(png)
    return header + entries + bodies


def icns_bytes(blocks: Iterable[tuple[bytes, bytes]]) -> bytes:
    """An .icns file holding each (type, PNG) block."""
    body = b"".join(kind + struct.pack(">I", 8 + len(png)) + png for kind, png in blocks)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def write_icons(svg: Path, folder: Path) -> dict[str, Path]:
    """Write socketlab.ico and socketlab.icns, drawn from *svg*, into *folder*; return their paths
    by suffix. Starts an offscreen QGuiApplication if none runs (build machines have no display)."""
    import os

    from PySide6.QtGui import QGuiApplication

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication.instance() or QGuiApplication([])  # kept alive while rendering
    sizes = sorted(set(ICO_SIZES) | {size for _, size in ICNS_TYPES})
    pngs = {size: render_png(svg, size) for size in sizes}
    folder.mkdir(parents=True, exist_ok=True)
    paths = {".ico": folder / "socketlab.ico", ".icns": folder / "socketlab.icns"}
    paths[".ico"].write_bytes(ico_bytes((size, pngs[size]) for size in ICO_SIZES))
    paths[".icns"].write_bytes(icns_bytes((kind, pngs[size]) for kind, size in ICNS_TYPES))
    return paths

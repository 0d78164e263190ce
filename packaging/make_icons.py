"""Renders the app icon set from resources/icons/provet-xero.svg with Qt's QSvgRenderer (offscreen, no network).

Writes into resources/icons/: provet-xero-<N>.png for the hicolor sizes (Linux), provet-xero.ico (Windows:
PNG-compressed entries 16-256) and provet-xero.icns (macOS: PNG elements 16-1024). Run it after changing
the SVG and commit the results:  .venv/bin/python packaging/make_icons.py
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bundle_info as info

HICOLOR_SIZES = tuple(s for s in info.PNG_SIZES if s <= 512)


def _app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication([])


def render_png(svg: Path, size: int) -> bytes:
    """The SVG drawn on a transparent size x size canvas, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app()
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.convertToFormat(QImage.Format.Format_ARGB32).save(buf, "PNG"):
        raise RuntimeError("could not encode PNG")
    buf.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICO file whose entries are PNGs (Windows Vista and later; a 256 px entry is stored as size 0)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset + len(blobs))
        blobs += blob
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICNS file of PNG elements (macOS 10.7 and later)."""
    body = b""
    for kind, size in info.ICNS_TYPES:
        blob = pngs[size]
        body += kind.encode("ascii") + struct.pack(">I", 8 + len(blob)) + blob
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def make_icons(out: Path = info.ICONS, svg: Path | None = None) -> list[Path]:
    svg = svg or info.ICONS / f"{info.APP_NAME}.svg"
    out.mkdir(parents=True, exist_ok=True)
    pngs = {size: render_png(svg, size) for size in info.PNG_SIZES}
    written = []
    for size in HICOLOR_SIZES:
        path = out / f"{info.APP_NAME}-{size}.png"
        path.write_bytes(pngs[size])
        written.append(path)
    for path, data in ((out / f"{info.APP_NAME}.ico", ico_bytes({s: pngs[s] for s in info.ICO_SIZES})),
                       (out / f"{info.APP_NAME}.icns", icns_bytes(pngs))):
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=info.ICONS, help="folder to write into (default: %(default)s)")
    args = parser.parse_args(argv)
    for path in make_icons(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

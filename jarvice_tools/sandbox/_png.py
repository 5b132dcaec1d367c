"""Real PNG images drawn without any imaging library (zlib + struct).

Screenshots are drawn directly at the requested size instead of being
resampled: the "desktop" is a gradient with a taskbar and two windows whose
geometry is proportional to the image, so any size looks the same.
"""

from __future__ import annotations

import math
import struct
import zlib

Color = tuple[int, int, int]
MAX_SIDE = 4096


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(width: int, height: int, rows: list[bytes]) -> bytes:
    """Encode RGB rows (each ``3 * width`` bytes) as an 8-bit truecolor PNG."""
    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _mix(a: Color, b: Color, t: float) -> Color:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _paint(row: bytearray, x0: int, x1: int, color: Color) -> None:
    if x1 > x0:
        row[3 * x0 : 3 * x1] = bytes(color) * (x1 - x0)


def desktop_png(width: int, height: int, seed: int) -> bytes:
    """A desktop-like screenshot; ``seed`` varies the colours per job."""
    top: Color = (20 + seed % 40, 40 + seed % 60, 90 + seed % 80)
    bottom: Color = (10, 15, 30)
    accent: Color = (200, 120 + seed % 100, 40)
    windows = [
        (0.08, 0.10, 0.55, 0.62, (236, 236, 236), (60, 90, 160)),
        (0.45, 0.30, 0.92, 0.85, (250, 250, 245), accent),
    ]
    bar_top = height - max(1, height // 20)
    rows: list[bytes] = []
    for y in range(height):
        row = bytearray(bytes(_mix(top, bottom, y / max(1, height - 1))) * width)
        for fx0, fy0, fx1, fy1, body, title in windows:
            x0, x1 = int(fx0 * width), int(fx1 * width)
            y0, y1 = int(fy0 * height), int(fy1 * height)
            if y0 <= y < y1:
                title_end = y0 + max(1, (y1 - y0) // 10)
                _paint(row, x0, x1, title if y < title_end else body)
        if y >= bar_top:
            _paint(row, 0, width, (45, 45, 48))
            _paint(row, 0, max(1, width // 16), accent)
        rows.append(bytes(row))
    return encode_png(width, height, rows)


def icon_png(seed: int, size: int = 32) -> bytes:
    """A small square application icon."""
    color: Color = (40 + seed * 37 % 200, 60 + seed * 91 % 180, 90 + seed * 53 % 160)
    rows = []
    for y in range(size):
        row = bytearray(bytes(color) * size)
        if size // 4 <= y < 3 * size // 4:
            _paint(row, size // 4, 3 * size // 4, (255, 255, 255))
        rows.append(bytes(row))
    return encode_png(size, size, rows)


def fit_size(
    native: tuple[int, int],
    width: int | None,
    height: int | None,
    *,
    emphatic: bool,
) -> tuple[int, int]:
    """The output size for a screenshot request (see /jarvice/screenshot).

    Without ``emphatic`` the aspect ratio is kept: the image is scaled to fit
    within the given width and/or height. With it, the given sides are used
    as they are and a missing side keeps its native length. Either way each
    side is 1 to :data:`MAX_SIDE` pixels (keeping the aspect ratio if it
    has to shrink).
    """
    nw, nh = (_side(side) for side in native)
    if emphatic:
        return _side(width or nw), _side(height or nh)
    if width is None and height is None:
        return nw, nh
    scale = min(
        width / nw if width is not None else math.inf,
        height / nh if height is not None else math.inf,
        MAX_SIDE / nw,
        MAX_SIDE / nh,
    )
    return _side(round(nw * scale)), _side(round(nh * scale))


def _side(pixels: int) -> int:
    return min(max(1, pixels), MAX_SIDE)

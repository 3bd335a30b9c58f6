"""Small picture-making helpers for exported figures (poster PNG, race GIF, selection GIF): captions,
rows and columns of panels, a line chart drawn with Pillow alone (no plotting library, so a GIF frame
costs milliseconds), nearest-neighbour enlargement and animated GIFs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
GRID = (225, 225, 225)
PAD = 8


def font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's own scalable font (no system fonts needed; it lacks ×, → and Greek: write x, -, ...)."""
    return ImageFont.load_default(size=size)


def captioned(picture: np.ndarray, lines: Sequence[str], size: int = 15, width: int | None = None) -> np.ndarray:
    """A picture with text lines centred under it, on white (uint8 RGB)."""
    f = font(size)
    h, w = picture.shape[:2]
    width = max(w, width or 0)
    line_h = size + 5
    canvas = Image.new("RGB", (width, h + PAD + line_h * len(lines)), BACKGROUND)
    canvas.paste(Image.fromarray(picture), ((width - w) // 2, 0))
    draw = ImageDraw.Draw(canvas)
    for i, text in enumerate(lines):
        tw = draw.textlength(text, font=f)
        draw.text(((width - tw) / 2, h + PAD // 2 + i * line_h), text, fill=INK, font=f)
    return np.asarray(canvas)


def row(pictures: Sequence[np.ndarray], gap: int = PAD) -> np.ndarray:
    """Pictures side by side, tops aligned, on white."""
    h = max(p.shape[0] for p in pictures)
    w = sum(p.shape[1] for p in pictures) + gap * (len(pictures) - 1)
    canvas = np.full((h, w, 3), 255, np.uint8)
    x = 0
    for p in pictures:
        canvas[: p.shape[0], x : x + p.shape[1]] = p
        x += p.shape[1] + gap
    return canvas


def column(pictures: Sequence[np.ndarray], gap: int = PAD) -> np.ndarray:
    """Pictures one under the other, centred, on white."""
    w = max(p.shape[1] for p in pictures)
    h = sum(p.shape[0] for p in pictures) + gap * (len(pictures) - 1)
    canvas = np.full((h, w, 3), 255, np.uint8)
    y = 0
    for p in pictures:
        x = (w - p.shape[1]) // 2
        canvas[y : y + p.shape[0], x : x + p.shape[1]] = p
        y += p.shape[0] + gap
    return canvas


def titled(picture: np.ndarray, title: str, size: int = 18) -> np.ndarray:
    """A title line above a picture."""
    f = font(size)
    canvas = Image.new("RGB", (picture.shape[1], picture.shape[0] + size + PAD), BACKGROUND)
    ImageDraw.Draw(canvas).text((PAD, 2), title, fill=INK, font=f)
    canvas.paste(Image.fromarray(picture), (0, size + PAD))
    return np.asarray(canvas)


def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def line_chart(
    curves: Mapping[str, Sequence[tuple[float, float]]],
    colours: Mapping[str, str],
    *,
    size: tuple[int, int] = (520, 300),
    x_label: str = "training seconds",
    y_label: str = "PSNR (dB)",
    x_max: float | None = None,
    y_range: tuple[float, float] | None = None,
    target: float | None = None,
) -> np.ndarray:
    """Curves of (x, y) points as a chart (uint8 RGB): axes with a few ticks, one coloured line per
    curve with its name at the end, and an optional dashed target line. Fixed `x_max` and `y_range`
    keep the axes still across the frames of an animation."""
    width, height = size
    left, right, top, bottom = 46, 90, 10, 34
    img = Image.new("RGB", size, BACKGROUND)
    draw = ImageDraw.Draw(img)
    small = font(12)
    points = [p for c in curves.values() for p in c if math.isfinite(p[1])]
    xs = [p[0] for p in points] or [0.0, 1.0]
    ys = [p[1] for p in points] or [0.0, 1.0]
    x1 = x_max if x_max is not None else max(max(xs), 1e-9)
    y0, y1 = y_range if y_range is not None else (min(ys), max(ys))
    if y1 - y0 < 1e-9:
        y0, y1 = y0 - 1, y1 + 1

    def to_px(x: float, y: float) -> tuple[float, float]:
        px = left + (width - left - right) * (x / x1 if x1 else 0.0)
        py = top + (height - top - bottom) * (1 - (min(max(y, y0), y1) - y0) / (y1 - y0))
        return px, py

    for i in range(5):  # horizontal grid and y ticks
        y = y0 + (y1 - y0) * i / 4
        _, py = to_px(0, y)
        draw.line([(left, py), (width - right, py)], fill=GRID)
        draw.text((4, py - 7), f"{y:.0f}" if y1 - y0 >= 4 else f"{y:.2f}", fill=INK, font=small)
    for i in range(5):  # x ticks
        x = x1 * i / 4
        px, _ = to_px(x, y0)
        draw.text((px - 10, height - bottom + 4), f"{x:.0f}" if x1 >= 8 else f"{x:.1f}", fill=INK, font=small)
    draw.line([(left, top), (left, height - bottom), (width - right, height - bottom)], fill=INK)
    draw.text((left, height - 16), x_label, fill=INK, font=small)
    draw.text((left + 4, top), y_label, fill=INK, font=small)
    if target is not None and y0 <= target <= y1:
        _, py = to_px(0, target)
        for x in range(left, width - right, 10):
            draw.line([(x, py), (min(x + 5, width - right), py)], fill=(120, 120, 120))
    for name, curve in curves.items():
        pts = [to_px(x, y) for x, y in curve if math.isfinite(y)]
        if not pts:
            continue
        colour = _hex(colours.get(name, "#444444"))
        if len(pts) > 1:
            draw.line(pts, fill=colour, width=3)
        end = pts[-1]
        draw.ellipse([end[0] - 3, end[1] - 3, end[0] + 3, end[1] + 3], fill=colour)
        draw.text((end[0] + 6, end[1] - 7), name, fill=colour, font=small)
    return np.asarray(img)


def enlarge(rgb: np.ndarray, side: int = 256) -> np.ndarray:
    """Nearest-neighbour enlargement by a whole factor to about `side` px on the longer side, so single
    pixels stay visible when projected."""
    factor = max(1, side // max(rgb.shape[:2]))
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


def selection_gif(frames: list[np.ndarray], path: Path, seconds: float = 6.0) -> Path:
    """An animated GIF of the frames (looping), about `seconds` long in all (at least 60 ms a frame)."""
    images = [Image.fromarray(f).convert("P", palette=Image.Palette.ADAPTIVE, colors=64) for f in frames]
    duration = max(60, int(1000 * seconds / max(1, len(images))))
    images[0].save(path, save_all=True, append_images=images[1:], duration=duration, loop=0, optimize=True)
    return Path(path)

"""Colours and small picture helpers every tab shares: one colour per column, the selection highlight,
the Inferno colour map, and a caption label on a picture."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

COLUMN_COLORS = ("#e4572e", "#2e86ab", "#6a994e", "#8e44ad")
"""one colour per column, shared by its header, its curve and its time-to-target marker"""
HIGHLIGHT = np.array([255, 214, 0], dtype=np.uint8)  # the points a sampler trains on this step
HIGHLIGHT_RGB = (255, 214, 0)

# Inferno, interpolated to a 256-entry lookup table (perceptually uniform, readable when projected).
_INFERNO = (
    "#000004",
    "#1b0c41",
    "#4a0c6b",
    "#781c6d",
    "#a52c60",
    "#cf4446",
    "#ed6925",
    "#fb9b06",
    "#f7d13d",
    "#fcffa4",
)


def _lut(stops: Sequence[str]) -> np.ndarray:
    rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for h in stops], dtype=np.float64)  # (S, 3)
    x = np.linspace(0, 1, len(stops))
    t = np.linspace(0, 1, 256)
    return np.stack([np.interp(t, x, rgb[:, c]) for c in range(3)], axis=1).round().astype(np.uint8)  # (256, 3)


INFERNO_LUT = _lut(_INFERNO)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Float picture in [0, 1], (H, W) grey or (H, W, 3) RGB -> uint8 RGB (H, W, 3)."""
    img = np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return (img * 255 + 0.5).astype(np.uint8)


def caption_frame(frame: np.ndarray, caption: str) -> np.ndarray:
    """A copy of a picture (H, W, 3) uint8 with `caption` on a black label in its top-left corner."""
    img = Image.fromarray(np.ascontiguousarray(frame))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 7 * len(caption) + 6, 14), fill=(0, 0, 0))
    draw.text((3, 2), caption, fill=(255, 255, 255))
    return np.asarray(img)

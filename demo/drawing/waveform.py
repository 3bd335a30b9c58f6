"""A clip drawn WIDTH pixels wide: which samples fall under each pixel column, and their range there."""

from __future__ import annotations

import numpy as np

WIDTH, HEIGHT = 640, 200
"""px of the audio tab's waveform pictures: every picture of a clip, in the race and in lecture mode,
spans the whole clip across WIDTH pixels, so a click maps x to a time the same way on all of them"""


def column_starts(length: int, width: int) -> np.ndarray:
    """The first sample under each of `width` pixel columns (a repeated start: a column of one sample)."""
    return np.linspace(0, length, width, endpoint=False).astype(int)


def column_ranges(values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel column, the min and max of the values under it: (width,), (width,)."""
    starts = column_starts(len(values), width)
    return np.minimum.reduceat(values, starts), np.maximum.reduceat(values, starts)

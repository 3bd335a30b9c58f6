"""`LectureDrawing`: what lecture mode needs from one modality, behind one small interface.

Lecture mode (demo.lecture) is the same on every tab: pause, step, explain the step, click a point and
see its kernel row. What differs per modality is how those quantities are drawn and what a click means:
a pixel of an image, a time of a clip, a point of a cross-section through a shape's grid. Each tab
names its drawing class (`ModalityTab.lecture_drawing`); lecture.py never branches on the modality.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from intcore.signals import Signal
from intcore.teach import StepExplanation
from intcore.trainer import Snapshot

SOURCES = ("race", "lecture")
"""where a click happened: a column's picture in the race view, or one of lecture mode's own pictures"""


class LectureDrawing(ABC):
    """Draws one signal's step and kernel pictures (uint8 RGB) and maps clicks to coordinates.

    `where` in [0, 1]: for signals shown through a cut (a shape's cross-section), where the cut lies;
    the others ignore it. Cheap to build: lecture mode makes one per request."""

    unit: ClassVar[str] = "point"
    """what one coordinate is called in captions ("pixel", "sample", "grid point")"""
    labels: ClassVar[dict[str, str]] = {}
    """the pictures' labels: error, change, predicted, kernel_init, kernel_now"""
    kernel_hint: ClassVar[str] = "click a point of any column's pictures"
    """how to open the kernel view on this tab"""
    where_label: ClassVar[str] = ""
    """the label of a slider that moves the cut (`where`); "" when the pictures show the whole signal"""
    wide: ClassVar[bool] = False
    """the pictures are much wider than tall (a clip along time): lecture mode shows them one under another"""
    race_frame_side: ClassVar[int] = 160
    """the race GIF's pictures are about this many pixels on their longer side"""
    kernel_legend: ClassVar[str] = (
        "Red: moves the same way as x₀, blue: the opposite way, white: not at all; colour ∝ √|K(x₀, x) / K(x₀, x₀)|."
    )
    """how to read the kernel pictures (the end of the kernel view's caption)"""

    def __init__(self, signal: Signal, where: float = 0.5) -> None:
        self.signal = signal
        self.where = min(1.0, max(0.0, float(where)))

    @abstractmethod
    def step_pictures(self, expl: StepExplanation) -> dict[str, np.ndarray]:
        """ "error" (before the step, the k selected marked), "change" (Δf, signed) and "predicted"
        (J·Δθ, on the same scale as "change")."""

    def kernel_points(self, x0: int) -> np.ndarray | None:
        """The coordinates (indices) a kernel row at x0 is computed over; None: all N."""
        return None

    @abstractmethod
    def kernel_picture(self, row: np.ndarray, x0: int) -> np.ndarray:
        """K(x₀, ·) over `kernel_points(x0)` (all N when None), x₀ marked."""

    @abstractmethod
    def point_at(self, index: tuple[int, int] | list[int], picture_shape: tuple[int, int], source: str) -> int | None:
        """A click at (x, y) in a picture of (height, width) px -> the coordinate under it (its flat
        index into the signal), or None when the picture does not locate one (then `default_point`)."""

    def race_picture_shape(self) -> tuple[int, int]:
        """(height, width) in px of the race view's column pictures, the frame its clicks come in."""
        return tuple(self.signal.shape[:2])  # type: ignore[return-value]

    def default_point(self) -> int:
        """x₀ when a click does not locate one: the middle of what the pictures show."""
        return self.signal.n // 2

    @abstractmethod
    def describe_point(self, x0: int) -> str:
        """x₀ in words, e.g. "pixel (row 3, column 7)"."""

    @abstractmethod
    def race_frame(self, snap: Snapshot) -> np.ndarray | None:
        """A column's picture for one frame of the race GIF (None when the snapshot has none). It runs in
        the training thread at every snapshot: keep it to milliseconds."""

    @staticmethod
    def signed_scale(values: np.ndarray) -> float:
        """The ± value shown at full colour for a signed picture: the 99.5th percentile of |values|."""
        a = np.abs(np.asarray(values, np.float64))
        return float(np.percentile(a, 99.5)) or float(a.max()) or 1.0


def as_numpy(values: Any) -> np.ndarray:
    """A tensor or array -> a float numpy array (channels averaged to one value per coordinate)."""
    arr = values.detach().float().cpu().numpy() if hasattr(values, "detach") else np.asarray(values, np.float64)
    return arr.mean(axis=1) if arr.ndim == 2 else arr

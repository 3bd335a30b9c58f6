"""Pictures for lecture mode on an image (`ImageLecture`, the image tab's lecture drawing): one step seen
whole, and the kernel row at a clicked pixel.

Drawing only (numpy in, uint8 RGB out). Signed quantities (Δf, J·Δθ, K(x₀, ·)) use a blue–white–red map
that is white at zero; the two pictures of a step share one scale so they can be compared by eye.
"""

from __future__ import annotations

import numpy as np
import torch

from intcore.teach import StepExplanation
from intcore.trainer import Snapshot

from ..drawing.colors import INFERNO_LUT
from ..drawing.figures import enlarge
from .base import LectureDrawing

MARK = np.array([0, 200, 0], dtype=np.uint8)  # the clicked pixel x₀
UNSELECTED_DIM = 0.3
"""brightness left to the pixels a step did not train on, so the k selected stand out in the error map"""
KERNEL_GAMMA = 0.5
"""kernel pictures show sign(K)·(|K| / K(x₀, x₀))^γ: a trained SIREN's row is sharply peaked at x₀
(K(x₀, x₀) grew ~200× in 100 steps on the cameraman while most of the row stayed put), so a linear
scale would show one dot"""
DISPLAY_SIDE = 256
"""pictures are enlarged (nearest neighbour) to about this many pixels on the longer side"""


def _diverging_lut() -> np.ndarray:
    """255 colours: blue (−1) → white (0, entry 127) → red (+1)."""
    t = np.linspace(-1, 1, 255)[:, None]
    blue, white, red = np.array([33, 102, 172.0]), np.array([247, 247, 247.0]), np.array([178, 24, 43.0])
    rgb = np.where(t < 0, white + (-t) * (blue - white), white + t * (red - white))
    return rgb.round().astype(np.uint8)


DIVERGING_LUT = _diverging_lut()


def signed_map(values: np.ndarray, scale: float) -> np.ndarray:
    """(H, W) signed values -> RGB, ±scale at full colour (0 when scale is 0 or not finite)."""
    scale = float(scale) if np.isfinite(scale) and scale > 0 else 1.0
    idx = np.clip(np.rint((values / scale + 1) * 127), 0, 254).astype(np.uint8)
    return DIVERGING_LUT[idx]


def error_map(errors: np.ndarray, selected: np.ndarray | None = None) -> np.ndarray:
    """(H, W) errors -> Inferno RGB, scaled to this picture's 99th percentile (the errors shrink by
    orders of magnitude during a run); with a (H, W) `selected` mask the other pixels are dimmed."""
    top = float(np.percentile(errors, 99)) or float(errors.max()) or 1.0
    rgb = INFERNO_LUT[np.clip(errors / top * 255, 0, 255).astype(np.uint8)]
    if selected is not None:
        rgb = np.where(selected[..., None], rgb, (rgb * UNSELECTED_DIM).astype(np.uint8))
    return rgb


def mark(rgb: np.ndarray, row: int, col: int, colour: np.ndarray = MARK) -> np.ndarray:
    """A crosshair (with a gap at the pixel itself) around (row, col) of an enlarged picture."""
    out = rgb.copy()
    h, w = out.shape[:2]
    arm, gap = max(6, h // 20), max(2, h // 80)
    for d in range(gap, arm):
        for r, c in ((row - d, col), (row + d, col), (row, col - d), (row, col + d)):
            if 0 <= r < h and 0 <= c < w:
                out[max(0, r - 1) : r + 1, max(0, c - 1) : c + 1] = colour
    return out


def _grid(values: torch.Tensor | np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    arr = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    h, w = shape
    arr = arr[: h * w]
    return arr.reshape(h, w, -1).mean(axis=2) if arr.ndim == 2 else arr.reshape(h, w)


def step_pictures(expl: StepExplanation, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """The three pictures of one step (each enlarged RGB):
    "error": |f_θ − f*| before the step, bright where the step trained (the k selected), dimmed elsewhere;
    "change": Δf = f_θ' − f_θ everywhere (mean over channels), although only k points were trained on;
    "predicted": J·Δθ on the same scale as "change"."""
    h, w = shape
    mask = None
    if expl.selected is not None:
        mask = np.zeros(h * w, dtype=bool)
        idx = expl.selected.detach().cpu().numpy()
        mask[idx[idx < h * w]] = True
        mask = mask.reshape(h, w)
    err = error_map(_grid(expl.errors, shape), mask)
    change = _grid(expl.effect.actual, shape)
    predicted = _grid(expl.effect.predicted, shape)
    scale = float(np.percentile(np.abs(change), 99.5)) or float(np.abs(change).max())
    return {
        "error": enlarge(err),
        "change": enlarge(signed_map(change, scale)),
        "predicted": enlarge(signed_map(predicted, scale)),
    }


def kernel_picture(row: torch.Tensor | np.ndarray, shape: tuple[int, int], x0: int) -> np.ndarray:
    """K(x₀, ·) over the image relative to K(x₀, x₀) (full red), on a signed power scale (KERNEL_GAMMA),
    with x₀ marked (enlarged RGB)."""
    grid = _grid(row, shape)
    h, w = shape
    r, c = divmod(x0, w)
    scale = abs(float(grid[r, c])) or float(np.abs(grid).max()) or 1.0
    shown = np.sign(grid) * np.minimum(np.abs(grid) / scale, 1.0) ** KERNEL_GAMMA
    big = enlarge(signed_map(shown, 1.0))
    factor = big.shape[0] // h
    return mark(big, r * factor + factor // 2, c * factor + factor // 2)


def pixel_at(event_index: tuple[int, int] | list[int], display_shape: tuple[int, int], shape: tuple[int, int]) -> int:
    """A click on a displayed picture ((x, y) in its pixels, as Gradio's SelectData.index gives it) ->
    the flat index of the signal's pixel under it."""
    x, y = int(event_index[0]), int(event_index[1])
    h, w = shape
    dh, dw = display_shape
    r = min(h - 1, max(0, y * h // max(1, dh)))
    c = min(w - 1, max(0, x * w // max(1, dw)))
    return r * w + c


class ImageLecture(LectureDrawing):
    """Lecture pictures of an image: maps over the pixels; a click on any picture names its pixel."""

    unit = "pixel"
    labels = {
        "error": "error before the step (bright: the k trained on)",
        "change": "Δf: what the step changed (red up, blue down)",
        "predicted": "J·Δθ: the kernel's prediction",
        "kernel_init": "K(x₀, ·) at the initial weights",
        "kernel_now": "K(x₀, ·) at the current weights",
    }
    kernel_hint = "click a pixel of any column's pictures"

    def step_pictures(self, expl: StepExplanation) -> dict[str, np.ndarray]:
        return step_pictures(expl, self.signal.shape)

    def kernel_picture(self, row: np.ndarray, x0: int) -> np.ndarray:
        return kernel_picture(row, self.signal.shape, x0)

    def point_at(self, index, picture_shape, source):
        # the race's pictures and the lecture's enlarged ones cover the whole image
        return pixel_at(index, picture_shape, self.signal.shape)

    def default_point(self) -> int:
        h, w = self.signal.shape
        return (h // 2) * w + w // 2

    def describe_point(self, x0: int) -> str:
        r, c = divmod(x0, self.signal.shape[1])
        return f"pixel (row {r}, column {c})"

    def race_frame(self, snap: Snapshot) -> np.ndarray | None:
        return image_picture(snap)


def image_picture(snap: Snapshot) -> np.ndarray | None:
    """An image snapshot's reconstruction as uint8 RGB (None when the snapshot carries none)."""
    if snap.reconstruction is None:
        return None
    img = np.clip(np.asarray(snap.reconstruction, np.float32), 0, 1)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return (img * 255 + 0.5).astype(np.uint8)

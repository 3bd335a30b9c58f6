"""Lecture pictures of a 3D shape (`ShapeLecture`, the shape tab's lecture drawing): a cross-section.

The signal is occupancy on an R³ grid (plus points near the surface). Lecture mode shows it through one
vertical cut of the grid: left to right the x axis, bottom to top the shape's up axis, at a depth the
page's slider picks (the middle by default). The true surface's outline is drawn on every map so a
viewer sees where the step or the kernel acts relative to the shape. A click on a cross-section picks
its grid point; the race's columns show renderings, which do not locate one (the cut's centre is used).
Kernel rows are computed over the cut's R² points only, which keeps a click fast on a large grid.
"""

from __future__ import annotations

import numpy as np

from intcore.teach import StepExplanation
from intcore.trainer import Snapshot

from ..drawing.figures import enlarge
from ..drawing.render3d import RECON_COLOR, camera, render_surface, up_axis
from .base import LectureDrawing, as_numpy
from .image import DISPLAY_SIDE, KERNEL_GAMMA, error_map, mark, signed_map

OUTLINE = np.array([40, 40, 40], np.uint8)
OUTLINE_ON_DARK = np.array([150, 150, 150], np.uint8)
"""the outline on the error map, whose background is nearly black"""
AXES = "xyz"


def up_index(signal) -> int:
    """The grid axis that points up: 1 for glTF files (y up), 2 otherwise (z up)."""
    return AXES.index(up_axis(signal))


class ShapeLecture(LectureDrawing):
    """Step and kernel pictures on a vertical cross-section of the occupancy grid; a click names a point."""

    unit = "point"
    labels = {
        "error": "error on the cross-section before the step (bright: the k trained on)",
        "change": "Δf (logit) on the cross-section (red up, blue down)",
        "predicted": "J·Δθ: the kernel's prediction (same scale)",
        "kernel_init": "K(x₀, ·) on the cross-section, initial weights",
        "kernel_now": "K(x₀, ·) on the cross-section, current weights",
    }
    kernel_hint = "click a point of a cross-section picture (a click on a column's rendering uses the cut's centre)"
    where_label = "cross-section depth (0: front, 1: back; the lecture pictures cut the grid here)"
    race_frame_side = 160

    def __init__(self, signal, where: float = 0.5) -> None:
        super().__init__(signal, where)
        self.r = r = signal.shape[0]
        self.up = up_index(signal)
        self.depth_axis = ({0, 1, 2} - {0, self.up}).pop()
        self.depth = round(self.where * (r - 1))
        # indices[row, col]: the flat grid index shown at that pixel (row 0 at the top: the highest up)
        grid = np.arange(r**3).reshape(r, r, r)
        ups, xs = np.meshgrid(np.arange(r - 1, -1, -1), np.arange(r), indexing="ij")
        pos = [None, None, None]
        pos[0], pos[self.up], pos[self.depth_axis] = xs, ups, np.full_like(xs, self.depth)
        self.indices = grid[pos[0], pos[1], pos[2]]
        self.inside = signal.values[: r**3, 0].numpy()[self.indices] > 0.5
        self.factor = max(1, DISPLAY_SIDE // r)

    # ------------------------------------------------------------ helpers

    def on_cut(self, values: np.ndarray) -> np.ndarray:
        """Per-coordinate values (N,) -> the cut's (R, R) picture of them."""
        return np.asarray(values)[self.indices]

    def outlined(self, rgb: np.ndarray, colour: np.ndarray = OUTLINE) -> np.ndarray:
        """Enlarge an (R, R) picture and draw the true surface's outline (where inside meets outside)."""
        big = enlarge(rgb, self.factor * self.r)
        inside = enlarge(self.inside[..., None].astype(np.uint8), self.factor * self.r)[..., 0].astype(bool)
        edge = np.zeros_like(inside)
        edge[:-1] |= inside[:-1] != inside[1:]
        edge[:, :-1] |= inside[:, :-1] != inside[:, 1:]
        big[edge] = colour
        return big

    def where_text(self) -> str:
        coordinate = -1 + 2 * self.depth / (self.r - 1)
        return f"{AXES[self.depth_axis]} = {coordinate:+.2f}"

    # ------------------------------------------------------------ step

    def step_pictures(self, expl: StepExplanation) -> dict[str, np.ndarray]:
        mask = None
        if expl.selected is not None:
            chosen = np.zeros(self.signal.n, bool)
            chosen[expl.selected.detach().cpu().numpy()] = True
            mask = self.on_cut(chosen)
        change = self.on_cut(as_numpy(expl.effect.actual))
        predicted = self.on_cut(as_numpy(expl.effect.predicted))
        scale = self.signed_scale(change)
        return {
            "error": self.outlined(error_map(self.on_cut(as_numpy(expl.errors)), mask), OUTLINE_ON_DARK),
            "change": self.outlined(signed_map(change, scale)),
            "predicted": self.outlined(signed_map(predicted, scale)),
        }

    # ------------------------------------------------------------ kernel

    def kernel_points(self, x0: int) -> np.ndarray:
        return self.indices.reshape(-1)

    def kernel_picture(self, row: np.ndarray, x0: int) -> np.ndarray:
        grid = np.asarray(row, np.float64).reshape(self.r, self.r)
        at = np.argwhere(self.indices == x0)
        rr, cc = (int(at[0][0]), int(at[0][1])) if len(at) else (self.r // 2, self.r // 2)
        scale = abs(float(grid[rr, cc])) or float(np.abs(grid).max()) or 1.0
        shown = np.sign(grid) * np.minimum(np.abs(grid) / scale, 1.0) ** KERNEL_GAMMA
        big = self.outlined(signed_map(shown, 1.0))
        f = self.factor
        return mark(big, rr * f + f // 2, cc * f + f // 2)

    def point_at(self, index, picture_shape, source):
        if source != "lecture":
            return None  # a rendering of the surface: no grid point under the click
        x, y = int(index[0]), int(index[1])
        h, w = picture_shape
        row = min(self.r - 1, max(0, y * self.r // max(1, h)))
        col = min(self.r - 1, max(0, x * self.r // max(1, w)))
        return int(self.indices[row, col])

    def default_point(self) -> int:
        return int(self.indices[self.r // 2, self.r // 2])

    def describe_point(self, x0: int) -> str:
        i, j, k = np.unravel_index(x0, (self.r,) * 3)
        xyz = ", ".join(f"{-1 + 2 * v / (self.r - 1):+.2f}" for v in (i, j, k))
        return f"grid point ({xyz}) on the cross-section at {self.where_text()}"

    # ------------------------------------------------------------ the race GIF

    def race_frame(self, snap: Snapshot) -> np.ndarray | None:
        """The reconstructed surface, shaded, 160 px (a few ms: 6,000 surface samples)."""
        mesh = snap.reconstruction
        if mesh is None:
            return None
        if len(mesh.faces) == 0:
            return np.full((self.race_frame_side,) * 2 + (3,), 250, np.uint8)
        return render_surface(mesh, camera(up_axis(self.signal)), RECON_COLOR, count=6000, size=self.race_frame_side)

"""What a 3D-shape column shows: the points trained on in this step (a plotly 3D scatter, inside points
and outside points in two colours) and the current reconstruction as a GLB for gr.Model3D, refreshed
at a slower cadence than the curves (marching cubes + a model reload are heavier than a chart).
Drawing only, like demo.views."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

from intcore.signals import Signal
from intcore.trainer import Snapshot

from .media import KEEP, Media

MAX_POINTS = 3000
"""points drawn per scatter (a fixed random subset of the selection beyond that: browsers stay smooth)"""
MESH_SECONDS = 4.0
"""refresh a column's 3D model at most this often (and always at the end of the run)"""
INSIDE, OUTSIDE = "#e4572e", "#2e86ab"
FRAME = 256


class ShapeCanvas:
    """Panels: (scatter of the selected points, reconstruction GLB for gr.Model3D)."""

    panels = ("selection", "reconstruction")

    def __init__(self, signal: Signal) -> None:
        self.signal = signal
        self.coords = signal.coords.float().numpy()  # (N, 3)
        self.inside = signal.values[:, 0].numpy() > 0.5  # (N,)
        self.rng = np.random.default_rng(0)
        self._meshed: dict[str, float] = {}
        self._everything = self.rng.choice(signal.n, size=min(signal.n, MAX_POINTS), replace=False)

    def scatter(self, selected: np.ndarray | None, title: str) -> go.Figure:
        idx = self._everything if selected is None else selected
        if len(idx) > MAX_POINTS:
            idx = np.sort(self.rng.choice(idx, size=MAX_POINTS, replace=False))
        fig = go.Figure()
        for label, color, keep in (("inside", INSIDE, self.inside[idx]), ("outside", OUTSIDE, ~self.inside[idx])):
            p = self.coords[idx[keep]]
            fig.add_trace(go.Scatter3d(x=p[:, 0], y=p[:, 1], z=p[:, 2], mode="markers", name=label,
                                       marker={"size": 1.8, "color": color, "opacity": 0.8}, hoverinfo="skip"))
        axis = {"range": [-1, 1], "showticklabels": False, "title": "", "showbackground": False}
        fig.update_layout(
            title={"text": title, "font": {"size": 12}, "x": 0.02, "y": 0.98},
            uirevision="shape-scatter",  # keep the user's rotation across refreshes
            height=260, margin={"l": 0, "r": 0, "t": 24, "b": 0},
            legend={"orientation": "h", "y": 0, "x": 0, "font": {"size": 10}},
            scene={"xaxis": axis, "yaxis": axis, "zaxis": axis, "aspectmode": "cube"},
        )
        return fig

    def draw(self, snap: Snapshot | None, mode: str):
        """(scatter figure, reconstruction: Media (GLB), KEEP between refreshes, or None before the first)."""
        if snap is None:
            return self.scatter(None, "all points (inside / outside)"), None
        if snap.selected is None or mode == "plain":
            title = f"step {snap.step}: all {self.signal.n:,} points" if snap.selected is None else "points (inside / outside)"
            fig = self.scatter(None, title)
        else:
            fig = self.scatter(snap.selected, f"step {snap.step}: the {len(snap.selected):,} points trained on")
        mesh = snap.reconstruction
        if mesh is None:
            return fig, None
        now = time.monotonic()
        if not (snap.done or now - self._meshed.get(snap.method, -MESH_SECONDS) >= MESH_SECONDS):
            return fig, KEEP
        self._meshed[snap.method] = now
        return fig, self.glb(mesh)

    def glb(self, mesh) -> Media:
        import tempfile

        from intcore.modalities import get_modality

        with tempfile.TemporaryDirectory() as tmp:
            path = get_modality("shape").save(mesh, self.signal, Path(tmp) / "mesh")
            return Media(".glb", path.read_bytes())

    def selection_frame(self, mask: np.ndarray, step: int) -> np.ndarray:
        """One GIF frame: the selected points seen from the front (x right, z up), nearer ones brighter."""
        return projection(self.coords[mask], self.inside[mask], f"step {step}")


def projection(points: np.ndarray, inside: np.ndarray, caption: str = "") -> np.ndarray:
    """Points (P, 3) in [-1, 1]³ drawn from the front (x right, z up): (FRAME, FRAME, 3) uint8."""
    img = Image.new("RGB", (FRAME, FRAME), (250, 250, 250))
    draw = ImageDraw.Draw(img)
    order = np.argsort(-points[:, 1]) if len(points) else []  # far (large y) first, near drawn on top
    for p, ins in zip(points[order], inside[order]):
        x, y = (p[0] + 1) / 2 * (FRAME - 1), (1 - (p[2] + 1) / 2) * (FRAME - 1)
        shade = 0.55 + 0.45 * (1 - (p[1] + 1) / 2)
        color = tuple(int(c * shade) for c in ((228, 87, 46) if ins else (46, 134, 171)))
        draw.point((x, y), fill=color)
    if caption:
        draw.rectangle((0, 0, 78, 14), fill=(0, 0, 0))
        draw.text((3, 2), caption, fill=(255, 255, 255))
    return np.asarray(img)


def thumbnail(path: Path, folder: Path) -> str:
    """A front view of a mesh preset's inside points for the presets gallery (written once into `folder`)."""
    from intcore.modalities import load_shape

    out = folder / f"{path.stem}-{path.suffix.lstrip('.')}.png"
    if not out.exists():
        signal = load_shape(path, grid=40, near_surface=0)
        inside = signal.values[:, 0].numpy() > 0.5
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(projection(signal.coords.numpy()[inside], inside[inside])).save(out)
    return str(out)

"""Snapshot -> picture: the columns' panels, the race chart, the live table and the selection GIF.

Drawing only: nothing here trains, times or decides anything. The modality-specific part (what one
column shows) sits behind `VIEWS[modality]`, so the tab builder and the session logic never branch on
the modality; the audio and 3D-shape tabs (issue 4) add their own entry.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from gradio.components.plot import PlotData
from PIL import Image, ImageDraw

from intcore.runs import RunResult, time_to_target
from intcore.signals import Signal
from intcore.trainer import Snapshot

from .views_audio import AudioCanvas
from .views_shape import ShapeCanvas

COLUMN_COLORS = ("#e4572e", "#2e86ab", "#6a994e")
"""one colour per column, shared by its header, its curve and its time-to-target marker"""
OVERLAY_MODES = ("selection", "error heatmap", "plain")
X_AXES = ("training seconds", "steps")
HIGHLIGHT = np.array([255, 214, 0], dtype=np.uint8)  # the pixels a sampler trains on this step
ERROR_VMAX = 0.25
"""heatmap scale: per-pixel error |f(x) − f*(x)| (L2 over channels, pixels in [0, 1]) shown saturated
at or above this, so the map darkens visibly as the fit improves"""

# Inferno, interpolated to a 256-entry lookup table (perceptually uniform, readable when projected).
_INFERNO = ("#000004", "#1b0c41", "#4a0c6b", "#781c6d", "#a52c60", "#cf4446", "#ed6925", "#fb9b06", "#f7d13d", "#fcffa4")


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


# ---------------------------------------------------------------- per-modality column panels


class ImageCanvas:
    """What an image column shows: the overlay panel (selection / error heatmap / plain target) and the
    current reconstruction. Built once per job from the signal; keeps the target in display form."""

    panels = ("overlay", "reconstruction")

    def __init__(self, signal: Signal) -> None:
        h, w = signal.shape
        self.shape = (h, w)
        self.grid = h * w
        target = ((signal.values[: self.grid].float().numpy() + 1.0) / 2.0).reshape(h, w, -1)  # (H, W, c) in [0, 1]
        self.target = target[..., 0] if target.shape[2] == 1 else target
        self.target_rgb = to_uint8(self.target)
        grey = self.target if self.target.ndim == 2 else self.target @ np.array([0.299, 0.587, 0.114], np.float32)
        self.dimmed = to_uint8(0.12 + 0.3 * grey)  # the target, faded, under the highlighted selection

    def selection(self, selected: np.ndarray | None) -> np.ndarray:
        """The target faded to grey with this step's training pixels lit; full batch: the target itself."""
        if selected is None:
            return self.target_rgb
        mask = np.zeros(self.grid, dtype=bool)
        mask[selected[selected < self.grid]] = True
        out = self.dimmed.copy()
        out[mask.reshape(self.shape)] = HIGHLIGHT
        return out

    def error(self, reconstruction: np.ndarray) -> np.ndarray:
        """Per-pixel error |f(x) − f*(x)| (L2 over channels) through the Inferno colour map."""
        diff = np.asarray(reconstruction, np.float32) - self.target
        err = np.abs(diff) if diff.ndim == 2 else np.linalg.norm(diff, axis=2)  # (H, W)
        idx = np.clip(err / ERROR_VMAX * 255, 0, 255).astype(np.uint8)
        return INFERNO_LUT[idx]

    def overlay(self, snap: Snapshot | None, mode: str) -> np.ndarray:
        if snap is None or mode == "plain":
            return self.target_rgb
        if mode == "error heatmap" and snap.reconstruction is not None:
            return self.error(snap.reconstruction)
        return self.selection(snap.selected)

    def draw(self, snap: Snapshot | None, mode: str) -> tuple[np.ndarray, np.ndarray | None]:
        """The column's panels, in `panels` order: (overlay, reconstruction or None before the first look)."""
        recon = None if snap is None or snap.reconstruction is None else to_uint8(snap.reconstruction)
        return self.overlay(snap, mode), recon

    def selection_frame(self, mask: np.ndarray, step: int) -> np.ndarray:
        """One GIF frame: `mask` (N,) bool of the tracked sampler's selection, drawn like the live overlay,
        enlarged to at least 256 px and captioned with the step."""
        frame = self.dimmed.copy()
        frame[mask[: self.grid].reshape(self.shape)] = HIGHLIGHT
        scale = max(1, math.ceil(256 / max(self.shape)))
        img = Image.fromarray(frame).resize((self.shape[1] * scale, self.shape[0] * scale), Image.Resampling.NEAREST)
        draw = ImageDraw.Draw(img)
        draw.rectangle((0, 0, 78, 14), fill=(0, 0, 0))
        draw.text((3, 2), f"step {step}", fill=(255, 255, 255))
        return np.asarray(img)


VIEWS: dict[str, Callable[[Signal], Any]] = {"image": ImageCanvas, "audio": AudioCanvas, "shape": ShapeCanvas}
"""modality -> the canvas class that draws its columns. A canvas's `draw` returns one value per panel:
a picture array, a `Media` file (WAV, GLB), a plotly figure, None, or `KEEP` (leave the panel as it is)."""


def canvas_for(signal: Signal) -> Any:
    try:
        return VIEWS[signal.modality](signal)
    except KeyError:
        raise ValueError(f"the app cannot show {signal.modality!r} signals yet (known: {', '.join(VIEWS)})") from None


# ---------------------------------------------------------------- the race chart and the table


def race_figure(
    results: dict[str, RunResult],
    colors: dict[str, str],
    metric: str,
    unit: str,
    target: float | None,
    x_axis: str,
    uirevision: str,
) -> PlotData:
    """One curve per sampler (quality against training seconds or steps), the target as a dashed line
    and a diamond where each curve first reaches it. `uirevision` keeps the user's zoom across refreshes.

    The figure is written as plotly's JSON directly, not built with `plotly.graph_objects`, which
    validates every property in Python: in a py-spy profile of a live race that validation was the
    largest single cost of the server's drawing. tests/test_app.py checks the JSON against plotly's schema."""
    by_steps = x_axis == "steps"
    unit_x = "steps" if by_steps else "s"
    label = metric.upper()
    # The same traces in the same order at every refresh (curves, then target, then markers), with the
    # target as a trace rather than a shape + annotation, so the legend and layout never jump.
    curves = {name: [(s.step if by_steps else s.train_seconds, _finite(s.quality)) for s in res.curve]
              for name, res in results.items()}
    data: list[dict[str, Any]] = []
    for name, res in results.items():
        pts = curves[name]
        data.append({
            "type": "scatter", "x": [p[0] for p in pts], "y": [p[1] for p in pts], "mode": "lines",
            "name": f"{name} ({res.description})", "line": {"color": colors[name], "width": 2.5},
            "hovertemplate": f"{name}<br>%{{x:.3~f}} {unit_x}<br>%{{y:.2f}} {unit}<extra></extra>",
        })
    has_target = target is not None and math.isfinite(target)
    x_end = max((p[0] for pts in curves.values() for p in pts), default=0.0)
    data.append({
        "type": "scatter", "x": [0.0, x_end] if has_target else [], "y": [target, target] if has_target else [],
        "mode": "lines", "name": "target", "line": {"dash": "dash", "color": "#555", "width": 1}, "hoverinfo": "skip",
    })
    for name, pts in curves.items():
        x = time_to_target(pts, target) if has_target else None
        data.append({
            "type": "scatter", "x": [] if x is None else [x], "y": [] if x is None else [target],
            "mode": "markers", "showlegend": False,
            "marker": {"symbol": "diamond", "size": 12, "color": colors[name], "line": {"color": "white", "width": 1}},
            "hovertemplate": f"{name} reached the target at %{{x:.3~f}} {unit_x}<extra></extra>",
        })
    layout = {
        "uirevision": uirevision,
        "paper_bgcolor": "white",  # no template: the few styles one would set are here
        "plot_bgcolor": "white",
        "xaxis": {"gridcolor": "#eee", "zeroline": False,
                  "title": {"text": "training steps" if by_steps else "training seconds (steps only, per sampler)"}},
        "yaxis": {"gridcolor": "#eee", "zeroline": False, "title": {"text": f"{label} ({unit})" if unit else label}},
        "font": {"size": 12},
        "height": 340,
        "margin": {"l": 55, "r": 15, "t": 10, "b": 45},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
    }
    return PlotData(type="plotly", plot=json.dumps({"data": data, "layout": layout}, allow_nan=False))


TABLE_HEADERS = ["sampler", "step", "train s", "quality", "best", "ratio", "s to target", "saving vs full"]


def table_rows(status: dict[str, Any]) -> list[list[Any]]:
    """The live table from the machine-readable status (one row per column)."""
    metric = status.get("metric", "psnr")
    rows = []
    for name, s in status.get("samplers", {}).items():
        saving = s.get("time_saving_vs_full")
        rows.append([
            name,
            s.get("step", 0),
            _fmt(s.get("train_seconds"), "{:.2f}"),
            _fmt(s.get(metric), "{:.2f}"),
            _fmt(s.get(f"best_{metric}"), "{:.2f}"),
            _fmt(s.get("ratio"), "{:.0%}"),
            _fmt(s.get("seconds_to_target"), "{:.2f}"),
            "baseline" if name == "full" else _fmt(saving, "{:+.0%}"),
        ])
    return rows


def table_headers(metric: str, unit: str) -> list[str]:
    head = list(TABLE_HEADERS)
    head[3], head[4] = f"{metric.upper()} {unit}".strip(), f"best {unit}".strip()
    return head


def selection_gif(frames: list[np.ndarray], path: Path, seconds: float = 6.0) -> Path:
    """An animated GIF of the frames (looping), about `seconds` long in all (at least 60 ms a frame)."""
    images = [Image.fromarray(f).convert("P", palette=Image.Palette.ADAPTIVE, colors=64) for f in frames]
    duration = max(60, int(1000 * seconds / max(1, len(images))))
    images[0].save(path, save_all=True, append_images=images[1:], duration=duration, loop=0, optimize=True)
    return Path(path)


def _finite(x: float) -> float | None:
    if math.isnan(x):
        return None
    return x if math.isfinite(x) else 99.0


def _fmt(x: Any, spec: str) -> str:
    return "—" if x is None else spec.format(x)

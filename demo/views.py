"""Drawing shared by every tab: colours, the race chart (plotly JSON), the live table, the selection GIF.

Drawing only: nothing here trains, times or decides anything. What one column of a modality shows is
that modality's tab's canvas (demo.tabs).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image, ImageDraw

from intcore.runs import RunResult, time_to_target

COLUMN_COLORS = ("#e4572e", "#2e86ab", "#6a994e", "#8e44ad")
"""one colour per column, shared by its header, its curve and its time-to-target marker"""
X_AXES = ("training seconds", "steps")
HIGHLIGHT = np.array([255, 214, 0], dtype=np.uint8)  # the points a sampler trains on this step
HIGHLIGHT_RGB = (255, 214, 0)

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


def caption_frame(frame: np.ndarray, caption: str) -> np.ndarray:
    """A copy of a picture (H, W, 3) uint8 with `caption` on a black label in its top-left corner."""
    img = Image.fromarray(np.ascontiguousarray(frame))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 7 * len(caption) + 6, 14), fill=(0, 0, 0))
    draw.text((3, 2), caption, fill=(255, 255, 255))
    return np.asarray(img)


# ---------------------------------------------------------------- the race chart and the table


def race_figure(
    results: dict[str, RunResult],
    colors: dict[str, str],
    metric: str,
    unit: str,
    target: float | None,
    x_axis: str,
    uirevision: str,
    decimals: int = 2,
    height: int = 300,
    x_end: float | None = None,
) -> dict[str, Any]:
    """One curve per sampler (quality against training seconds or steps), the target as a dashed line
    and a diamond where each curve first reaches it: a plotly figure as a plain dict ({"data", "layout"}).
    `uirevision` keeps the user's zoom across refreshes. `x_end`: where the x axis ends when that is known
    before the race (the budget, in the axis's own unit): the axis then spans [0, x_end] (or the data, if
    a curve runs past it) and the target line spans the axis, so a growing race changes only the curves'
    points, not the layout (the live view can then redraw the curves without a full plotly redraw).

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
            "hovertemplate": f"{name}<br>%{{x:.3~f}} {unit_x}<br>%{{y:.{decimals}f}} {unit}<extra></extra>",
        })
    has_target = target is not None and math.isfinite(target)
    data_end = max((p[0] for pts in curves.values() for p in pts), default=0.0)
    axis_end = None if x_end is None else max(x_end * 1.01, data_end)  # 1 %: the last step may end past the budget
    line_end = data_end if axis_end is None else axis_end
    data.append({
        "type": "scatter", "x": [0.0, line_end] if has_target else [], "y": [target, target] if has_target else [],
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
                  "title": {"text": "training steps" if by_steps else "training seconds (steps only, per sampler)"},
                  **({} if axis_end is None else {"range": [0.0, axis_end]})},
        "yaxis": {"gridcolor": "#eee", "zeroline": False, "title": {"text": f"{label} ({unit})" if unit else label}},
        "font": {"size": 12},
        "height": height,
        "margin": {"l": 55, "r": 15, "t": 10, "b": 45},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
    }
    return {"data": data, "layout": layout}


def figure_json(figure: dict[str, Any]) -> str:
    """The figure as JSON (no NaN or infinity: plotly.js and JSON reject them)."""
    return json.dumps(figure, allow_nan=False, separators=(",", ":"))


TABLE_HEADERS = ["sampler", "step", "train s", "quality", "best", "ratio", "s to target", "saving vs full"]


def table_rows(status: dict[str, Any], decimals: int = 2) -> list[list[Any]]:
    """The live table from the machine-readable status (one row per column)."""
    metric = status.get("metric", "psnr")
    q = "{:.%df}" % decimals
    rows = []
    for name, s in status.get("samplers", {}).items():
        saving = s.get("time_saving_vs_full")
        rows.append([
            name,
            s.get("step", 0),
            _fmt(s.get("train_seconds"), "{:.2f}"),
            _fmt(s.get(metric), q),
            _fmt(s.get(f"best_{metric}"), q),
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

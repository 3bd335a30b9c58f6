"""The race chart as plotly JSON: one curve per column, the target line, a diamond where each curve
reached the target. Drawing only: nothing here trains, times or decides anything."""

from __future__ import annotations

import math
from typing import Any

from intcore.runs import RunResult, time_to_target

X_AXES = ("training seconds", "steps")


def race_figure(
    results: dict[str, RunResult],
    colors: dict[str, str],
    metric: str,
    unit: str,
    target: float | None,
    x_axis: str,
    uirevision: str,
    decimals: int = 2,
    height: int | None = None,
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
    label = "IoU" if metric == "iou" else metric.upper()
    # The same traces in the same order at every refresh (curves, then target, then markers), with the
    # target as a trace rather than a shape + annotation, so the legend and layout never jump.
    curves = {
        name: [(s.step if by_steps else s.train_seconds, _finite(s.quality)) for s in res.curve]
        for name, res in results.items()
    }
    data: list[dict[str, Any]] = []
    for name, res in results.items():
        pts = curves[name]
        data.append(
            {
                "type": "scatter",
                "x": [p[0] for p in pts],
                "y": [p[1] for p in pts],
                "mode": "lines",
                "name": name,
                "line": {"color": colors[name], "width": 2.5},
                "hovertemplate": f"{name} ({res.description})<br>%{{x:.3~f}} {unit_x}"
                f"<br>%{{y:.{decimals}f}} {unit}<extra></extra>",
            }
        )
    has_target = target is not None and math.isfinite(target)
    data_end = max((p[0] for pts in curves.values() for p in pts), default=0.0)
    axis_end = None if x_end is None else max(x_end * 1.01, data_end)  # 1 %: the last step may end past the budget
    line_end = data_end if axis_end is None else axis_end
    data.append(
        {
            "type": "scatter",
            "x": [0.0, line_end] if has_target else [],
            "y": [target, target] if has_target else [],
            "mode": "lines",
            "name": "target",
            "line": {"dash": "dash", "color": "#555", "width": 1},
            "hoverinfo": "skip",
        }
    )
    for name, pts in curves.items():
        x = time_to_target(pts, target) if has_target else None
        data.append(
            {
                "type": "scatter",
                "x": [] if x is None else [x],
                "y": [] if x is None else [target],
                "mode": "markers",
                "showlegend": False,
                "marker": {
                    "symbol": "diamond",
                    "size": 12,
                    "color": colors[name],
                    "line": {"color": "white", "width": 1},
                },
                "hovertemplate": f"{name} reached the target at %{{x:.3~f}} {unit_x}<extra></extra>",
            }
        )
    layout = {
        "uirevision": uirevision,
        "paper_bgcolor": "white",  # no template: the few styles one would set are here
        "plot_bgcolor": "white",
        "xaxis": {
            "gridcolor": "#eee",
            "zeroline": False,
            "title": {"text": "training steps" if by_steps else "training seconds (steps only, per sampler)"},
            **({} if axis_end is None else {"range": [0.0, axis_end]}),
        },
        "yaxis": {"gridcolor": "#eee", "zeroline": False, "title": {"text": f"{label} ({unit})" if unit else label}},
        "font": {"size": 12},
        **({} if height is None else {"height": height}),
        "margin": {"l": 50, "r": 10, "t": 24, "b": 36},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0, "font": {"size": 11}},
    }
    return {"data": data, "layout": layout}


def _finite(x: float) -> float | None:
    if math.isnan(x):
        return None
    return x if math.isfinite(x) else 99.0

"""The live results table, from the race's machine-readable status (one row per column)."""

from __future__ import annotations

import html
from typing import Any

TABLE_HEADERS = ["sampler", "step", "train s", "quality", "best", "ratio", "to target (s)", "vs full", "vs random"]
"""the last two: the time saving against full batch and against random sampling, 1 − t / t_baseline"""


def table_rows(status: dict[str, Any], decimals: int = 2) -> list[list[Any]]:
    """One row per column: steps, training seconds, current and best quality, the fraction trained on in
    the latest step, seconds to the target and the time savings against full batch and random sampling
    (blank until the target is known: typed at Start, or at the end of the race)."""
    metric = status.get("metric", "psnr")
    q = f"{{:.{decimals}f}}"
    rows = []
    for name, s in status.get("samplers", {}).items():
        rows.append(
            [
                name,
                s.get("step", 0),
                _fmt(s.get("train_seconds"), "{:.2f}"),
                _fmt(s.get(metric), q),
                _fmt(s.get(f"best_{metric}"), q),
                _fmt(s.get("ratio"), "{:.0%}"),
                _fmt(s.get("seconds_to_target"), "{:.2f}"),
                "baseline" if name == "full" else _fmt(s.get("time_saving_vs_full"), "{:+.0%}"),
                "baseline" if name == "random" else _fmt(s.get("time_saving_vs_random"), "{:+.0%}"),
            ]
        )
    return rows


def table_headers(metric: str, unit: str) -> list[str]:
    head = list(TABLE_HEADERS)
    head[3] = f"{'IoU' if metric == 'iou' else metric.upper()} {unit}".strip()
    return head


def table_html(metric: str, unit: str, status: dict[str, Any], decimals: int = 2) -> str:
    tips = {
        "vs full": "time saving against full batch: 1 − t / t(full) to the target",
        "vs random": "time saving against random sampling: 1 − t / t(random) to the target",
    }
    head = "".join(
        f'<th title="{html.escape(tips.get(h, h))}">{html.escape(h)}</th>' for h in table_headers(metric, unit)
    )
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
        for row in table_rows(status, decimals)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _fmt(x: Any, spec: str) -> str:
    return "—" if x is None else spec.format(x)

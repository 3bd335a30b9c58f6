"""Numbers as JSON can carry them: JSON (and plotly.js) have no NaN or infinity."""

from __future__ import annotations

import math
from typing import Any

PERFECT = 999.0
"""what an infinite quality (a perfect fit's PSNR) is written as"""


def json_number(x: float | None, digits: int = 4) -> float | None:
    """None and NaN -> None; ±infinity -> ±PERFECT; else `x` rounded to `digits` decimals."""
    if x is None or math.isnan(x):
        return None
    return round(x, digits) if math.isfinite(x) else math.copysign(PERFECT, x)


def json_safe(value: Any) -> Any:
    """`value` with every float in it made JSON-safe (json_number, unrounded), recursively."""
    if isinstance(value, float):
        return json_number(value, digits=12)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value

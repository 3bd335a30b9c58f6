"""Learning-rate schedules over a run's budget: the factor that multiplies the base lr at progress p.

Progress p runs from 0 to 1 over the budget (steps done / steps, or training seconds / seconds), so
in a race at equal training time every sampler decays at the same point of its own clock.
"""
from __future__ import annotations

import math
from typing import Callable

LATE_START = 0.5
"""late-cosine: the fraction of the budget trained at the full lr before the decay begins"""


def _constant(p: float, min_factor: float) -> float:
    return 1.0


def _cosine(p: float, min_factor: float) -> float:
    """From 1 at the start to min_factor at the end, along half a cosine."""
    return min_factor + (1 - min_factor) * 0.5 * (1 + math.cos(math.pi * min(max(p, 0.0), 1.0)))


def _late_cosine(p: float, min_factor: float) -> float:
    """1 for the first LATE_START of the budget, then half a cosine down to min_factor at the end: the
    early, fast part of a fit keeps the full lr; the end settles instead of stopping mid-oscillation."""
    if p <= LATE_START:
        return 1.0
    return _cosine((p - LATE_START) / (1 - LATE_START), min_factor)


LR_SCHEDULE_RULES: dict[str, Callable[[float, float], float]] = {
    "constant": _constant,
    "cosine": _cosine,
    "late-cosine": _late_cosine,
}
"""schedule name -> factor(p, min_factor)"""


def lr_factor(schedule: str, progress: float, min_factor: float) -> float:
    """The factor of the base lr at `progress` (0..1) under `schedule` (a key of LR_SCHEDULE_RULES)."""
    return LR_SCHEDULE_RULES[schedule](progress, min_factor)

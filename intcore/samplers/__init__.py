"""Example-selection strategies ("teachers"): which coordinates the learner trains on at each step.

One module per family, one registered class per sampler: `uniform` (full, random), `int` (INT and its
schedules, mix), `amortised` (INT from an error table), `nint` (NTK-guided INT), `evos` (evolutionary selection), `soft` (importance sampling
with an unbiased loss), `edge` (an image-edge prior). Importing this package registers them all; `SAMPLERS` lists them in that order.
"""
from __future__ import annotations

from .base import (
    INCREMENTAL_INTERVALS,
    RATIO_SCHEDULES,
    SAMPLERS,
    Sampler,
    SelectionContext,
    interval_at,
    make_sampler,
    parse_interval,
    sampler_options,
    subset_size,
    weighted_loss,
)
from .uniform import FullSampler, RandomSampler  # noqa: I001  (registration order = listing order)
from .int import IntSampler, MixSampler, OfficialIntSampler, PoolIntSampler, ProgressiveIntSampler
from .amortised import AmortisedIntSampler
from .nint import NintSampler, ntk_scores
from .evos import EvosSampler
from .soft import SoftSampler
from .edge import EdgeSampler

__all__ = [
    "INCREMENTAL_INTERVALS", "RATIO_SCHEDULES", "SAMPLERS", "AmortisedIntSampler", "EdgeSampler", "EvosSampler", "FullSampler", "IntSampler", "MixSampler", "NintSampler",
    "OfficialIntSampler", "PoolIntSampler", "ProgressiveIntSampler", "RandomSampler", "Sampler", "SelectionContext", "SoftSampler", "interval_at",
    "make_sampler", "ntk_scores", "parse_interval", "sampler_options", "subset_size", "weighted_loss",
]

"""The baselines without a teacher: full batch, and a uniformly random subset."""
from __future__ import annotations

import torch

from .base import SAMPLERS, Sampler, SelectionContext, check_ratio, subset_size


@SAMPLERS.register("full")
class FullSampler(Sampler):
    """Trains on all N coordinates every step (full-batch baseline)."""

    def select(self, ctx: SelectionContext) -> None:
        return None


@SAMPLERS.register("random")
class RandomSampler(Sampler):
    """Trains on k = ⌈ratio·N⌉ coordinates drawn uniformly without replacement, freshly every step."""

    def __init__(self, ratio: float = 0.2) -> None:
        self.ratio = check_ratio(ratio)

    def ratio_at(self, progress: float) -> float:
        return self.ratio

    def select(self, ctx: SelectionContext) -> torch.Tensor:
        k = subset_size(self.ratio, ctx.n)
        return torch.randperm(ctx.n, generator=ctx.generator, device=ctx.device)[:k]

    def describe(self) -> str:
        return f"random {self.ratio:.0%}"

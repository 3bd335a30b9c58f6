"""INT and its variants: the teacher scores every coordinate and the learner trains on the worst ones.

INT is Algorithm 1 of Zhang et al., "Nonparametric Teaching of Implicit Neural Representations"
(ICML 2024, arXiv 2405.10531); its ratio schedules and re-selection intervals follow the official code.
"""
from __future__ import annotations

import math

import torch

from .base import (
    RATIO_SCHEDULES,
    SAMPLERS,
    Sampler,
    SelectionContext,
    check_fraction,
    check_ratio,
    interval_at,
    parse_interval,
    subset_size,
)


@SAMPLERS.register("int")
class IntSampler(Sampler):
    """INT (Alg. 1): trains on the k = ⌈r(t)·N⌉ coordinates with the largest error |f(x) − f*(x)|.

    r(t) follows `schedule` from the start ratio `ratio` (constant, linear, step, cosine). A new subset
    is chosen at step 0 and then every `interval` steps (dense, every-N, incremental); in between, the
    last subset is reused unchanged. Ties in the error are broken by torch.topk. When k reaches N it
    trains on all coordinates without scoring them (the top N of N is everything).
    """

    uses_errors = True

    # Defaults: top-20 % every step, the setting that measured best on the CPU preset (README,
    # "Choosing the CPU defaults"); `int-official` is the official code's step + incremental setting.
    def __init__(self, ratio: float = 0.2, schedule: str = "constant", interval: str | int = "dense") -> None:
        self.ratio = check_ratio(ratio)
        if schedule not in RATIO_SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(RATIO_SCHEDULES)}, got {schedule!r}")
        self.schedule = schedule
        self.interval = parse_interval(interval)
        self.reset()

    def reset(self) -> None:
        self._indices: torch.Tensor | None = None  # None: all N (once the schedule reaches 100 %)
        self._next_selection = 0

    def ratio_at(self, progress: float) -> float:
        return RATIO_SCHEDULES[self.schedule](self.ratio, progress)

    def select(self, ctx: SelectionContext) -> torch.Tensor | None:
        if ctx.step >= self._next_selection:
            k = subset_size(self.ratio_at(ctx.progress), ctx.n)
            # At k = N the top-k is every coordinate: skip the teacher's pass and train full batch.
            self._indices = None if k == ctx.n else torch.topk(ctx.score(), k, sorted=False).indices
            self._next_selection = ctx.step + interval_at(self.interval, ctx.progress)
        return self._indices

    def describe(self) -> str:
        return f"INT {self.ratio:.0%} {self.schedule}/{self.interval}"


@SAMPLERS.register("int-official")
class OfficialIntSampler(IntSampler):
    """INT as the official code runs it on images: start ratio 20 %, `step` schedule (10 stages up to
    100 %), `incremental` re-selection (every step for the first 25 % of the budget, then every
    10, 20, 30, 40, 50 steps). Made for long GPU runs; on short runs the reused subsets make PSNR dip."""

    def __init__(self, ratio: float = 0.2, schedule: str = "step", interval: str | int = "incremental") -> None:
        super().__init__(ratio=ratio, schedule=schedule, interval=interval)


@SAMPLERS.register("int-progressive")
class ProgressiveIntSampler(IntSampler):
    """Progressive INT: the k largest errors every step, with the ratio rising linearly from `ratio`
    (default 20 %) to 100 % of N over the budget (the paper's "progressive INT")."""

    def __init__(self, ratio: float = 0.2, schedule: str = "linear", interval: str | int = "dense") -> None:
        super().__init__(ratio=ratio, schedule=schedule, interval=interval)


@SAMPLERS.register("int-pool")
class PoolIntSampler(Sampler):
    """INT on a random candidate pool: at step 0 and then every `interval` steps the teacher scores a
    fresh pool of m = ⌈pool·N⌉ coordinates drawn uniformly without replacement (a forward pass over m,
    not N) and the learner trains on the k = ⌈ratio·N⌉ of them with the largest error
    |f(x) − f*(x)|, reused until the next selection. With pool = 1 and interval 1 it is `int`.
    The teacher's pass costs m/N of INT's and the learner's step half of INT's at 20 %, so on a CPU it
    can win on the clock as well as per step.
    """

    uses_errors = True

    # Defaults: the k = 10 % largest errors of a 40 % pool, every step: the best of the settings raced
    # in docs/teachers.md (bench/sweep_teachers.py) on the CPU presets and held-out signals.
    def __init__(self, ratio: float = 0.1, pool: float = 0.4, interval: str | int = "dense") -> None:
        self.ratio = check_ratio(ratio)
        self.pool = check_ratio(pool)
        if self.pool < self.ratio:
            raise ValueError(f"pool must be at least ratio (the k picked come from the pool), got {pool} < {ratio}")
        self.interval = parse_interval(interval)
        self.reset()

    def reset(self) -> None:
        self._indices: torch.Tensor | None = None
        self._next_selection = 0

    def ratio_at(self, progress: float) -> float:
        return self.ratio

    def select(self, ctx: SelectionContext) -> torch.Tensor:
        if ctx.step >= self._next_selection or self._indices is None:
            k, m = subset_size(self.ratio, ctx.n), subset_size(self.pool, ctx.n)
            pool = torch.randperm(ctx.n, generator=ctx.generator, device=ctx.device)[:m]
            errors = ctx.score_at(pool) if ctx.score_at is not None else ctx.score()[pool]
            self._indices = pool[torch.topk(errors, k, sorted=False).indices]
            self._next_selection = ctx.step + interval_at(self.interval, ctx.progress)
        return self._indices

    def describe(self) -> str:
        return f"INT {self.ratio:.0%} of a {self.pool:.0%} pool/{self.interval}"


def top_plus_uniform(errors: torch.Tensor, k: int, k_top: int, ctx: SelectionContext) -> torch.Tensor:
    """The k_top coordinates with the largest `errors`, plus k − k_top drawn uniformly without
    replacement from the others: (k,) distinct indices, all on the device."""
    top = torch.topk(errors, k_top, sorted=False).indices
    if k_top == k:
        return top
    # Uniform draw among the others: random keys, the top ones pushed below every other key.
    keys = torch.rand(ctx.n, generator=ctx.generator, device=ctx.device)
    keys.index_fill_(0, top, -1.0)  # not keys[top] = -1.0: that copies a host scalar to the device (a sync)
    rest = torch.topk(keys, k - k_top, sorted=False).indices
    return torch.cat([top, rest])


@SAMPLERS.register("mix")
class MixSampler(Sampler):
    """Trains on k = ⌈ratio·N⌉ coordinates every step: the ⌈top_fraction·k⌉ with the largest error,
    plus the rest drawn uniformly without replacement from the remaining coordinates."""

    uses_errors = True

    def __init__(self, ratio: float = 0.2, top_fraction: float = 0.3) -> None:
        self.ratio = check_ratio(ratio)
        self.top_fraction = check_fraction("top_fraction", top_fraction)

    def ratio_at(self, progress: float) -> float:
        return self.ratio

    def select(self, ctx: SelectionContext) -> torch.Tensor:
        k = subset_size(self.ratio, ctx.n)
        k_top = min(k, math.ceil(self.top_fraction * k))
        return top_plus_uniform(ctx.score(), k, k_top, ctx)

    def describe(self) -> str:
        return f"mix {self.ratio:.0%} ({self.top_fraction:.0%} top)"

"""Example-selection strategies: which coordinates the learner trains on at each step.

Every sampler has one method, `select`, that returns the indices to train on (a (k,) int64 tensor on
the signal's device) or None for "all N". Selection never leaves the device: k is computed from
Python floats and top-k / randperm run where the data lives, so no step waits on the host.

INT is Algorithm 1 of Zhang et al., "Nonparametric Teaching of Implicit Neural Representations"
(ICML 2024, arXiv 2405.10531); its ratio schedules and re-selection intervals follow the official code.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import torch

from .registry import Registry

SAMPLERS: Registry["Sampler"] = Registry("sampler")


@dataclass
class SelectionContext:
    """What a sampler may look at when it chooses. `score()` runs the teacher's no-grad forward pass
    over all N coordinates and returns their errors (N,); it costs a full forward, so only call it
    when a new selection is made."""

    step: int  # t, 0-based
    progress: float  # t / T in [0, 1): the fraction of the step or time budget already used
    n: int  # N, number of coordinates
    score: Callable[[], torch.Tensor]
    generator: torch.Generator
    device: torch.device


def subset_size(ratio: float, n: int) -> int:
    """k = ⌈ratio · N⌉, kept within [1, N]."""
    return min(n, max(1, math.ceil(ratio * n)))


# Ratio schedules r(t) from the official INT code; r0 is the start ratio, p = t / T.
RATIO_SCHEDULES: dict[str, Callable[[float, float], float]] = {
    "constant": lambda r0, p: r0,
    "linear": lambda r0, p: r0 + p * (1.0 - r0),
    "step": lambda r0, p: min(r0 + math.floor(p * 10) * (1.0 - r0) / 10, 1.0),  # 10 stages
    "cosine": lambda r0, p: 1.0 - 0.5 * (1.0 - r0) * (1.0 + math.cos(math.pi * p)),
}

INCREMENTAL_INTERVALS = (10, 20, 30, 40, 50)


def interval_at(spec: str | int, progress: float) -> int:
    """Steps until the next re-selection.

    "dense" → 1 (every step); "every-N" or N → N; "incremental" → 1 for the first 25 % of the budget,
    then 10, 20, 30, 40, 50 in five equal stages of the remaining 75 %.
    """
    if isinstance(spec, int):
        return spec
    if spec == "dense":
        return 1
    if spec == "incremental":
        if progress < 0.25:
            return 1
        stage = min(int((progress - 0.25) / 0.15), len(INCREMENTAL_INTERVALS) - 1)
        return INCREMENTAL_INTERVALS[stage]
    return int(spec.split("-", 1)[1])


def parse_interval(spec: str | int) -> str | int:
    """Validate an interval spec: "dense", "incremental", "every-N" (N ≥ 1) or an int N ≥ 1."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        n = int(spec)
    elif spec in ("dense", "incremental"):
        return spec
    elif isinstance(spec, str) and spec.startswith("every-") and spec[6:].isdigit():
        n = int(spec[6:])
    else:
        raise ValueError(f"interval must be dense, incremental, every-N or a whole number, got {spec!r}")
    if n < 1:
        raise ValueError(f"interval must be at least 1 step, got {n}")
    return n


def check_ratio(ratio: float) -> float:
    if not 0.0 < ratio <= 1.0:
        raise ValueError(f"ratio must be in (0, 1], got {ratio}")
    return float(ratio)


class Sampler(ABC):
    """Chooses the coordinates of one training step."""

    name: ClassVar[str]
    uses_errors: ClassVar[bool] = False  # whether select() calls the teacher's score()

    def reset(self) -> None:
        """Forget any state from an earlier run; the trainer calls this before step 0."""

    def ratio_at(self, progress: float) -> float:
        """Fraction of the N coordinates that a fresh selection trains on at this point."""
        return 1.0

    @abstractmethod
    def select(self, ctx: SelectionContext) -> torch.Tensor | None:
        """Indices (k,) to train on at step ctx.step, or None for all N."""

    def describe(self) -> str:
        return self.name


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


@SAMPLERS.register("mix")
class MixSampler(Sampler):
    """Trains on k = ⌈ratio·N⌉ coordinates every step: the ⌈top_fraction·k⌉ with the largest error,
    plus the rest drawn uniformly without replacement from the remaining coordinates."""

    uses_errors = True

    def __init__(self, ratio: float = 0.2, top_fraction: float = 0.3) -> None:
        self.ratio = check_ratio(ratio)
        if not 0.0 <= top_fraction <= 1.0:
            raise ValueError(f"top_fraction must be in [0, 1], got {top_fraction}")
        self.top_fraction = float(top_fraction)

    def ratio_at(self, progress: float) -> float:
        return self.ratio

    def select(self, ctx: SelectionContext) -> torch.Tensor:
        k = subset_size(self.ratio, ctx.n)
        k_top = min(k, math.ceil(self.top_fraction * k))
        top = torch.topk(ctx.score(), k_top, sorted=False).indices
        if k_top == k:
            return top
        # Uniform draw among the others: random keys, the top ones pushed below every other key.
        keys = torch.rand(ctx.n, generator=ctx.generator, device=ctx.device)
        keys[top] = -1.0
        rest = torch.topk(keys, k - k_top, sorted=False).indices
        return torch.cat([top, rest])

    def describe(self) -> str:
        return f"mix {self.ratio:.0%} ({self.top_fraction:.0%} top)"


def make_sampler(name: str, **options: Any) -> Sampler:
    """Build a registered sampler; an option it does not take is an error."""
    cls = SAMPLERS[name]
    try:
        return cls(**options)
    except TypeError as exc:
        raise ValueError(f"sampler {name!r}: {exc}") from None


def sampler_options(name: str) -> set[str]:
    """The option names a registered sampler accepts (what the CLI and the app may pass it)."""
    import inspect

    params = inspect.signature(SAMPLERS[name].__init__).parameters
    return {p for p in params if p != "self"}

"""What every sampler shares: the `Sampler` interface, the `SelectionContext` it chooses from, the
registry, and the ratio schedules and re-selection intervals of the INT family.

Every sampler has one method, `select`, that returns the indices to train on (a (k,) int64 tensor on
the signal's device) or None for "all N". Selection never leaves the device: k is computed from
Python floats and top-k / randperm run where the data lives, so no step waits on the host.

A sampler that keeps a picture of the error between steps sets `observes = True`; the trainer then
calls its `observe(indices, errors)` after every learner step with the per-point errors that the
learner's own forward pass computed (the contract is in `Sampler.observe`).

Every sampler also keeps its constructor arguments as a config record: `sampler.config` is a plain,
JSON-serialisable dict with every default filled in, and `make_sampler(name, **sampler.config)` builds
an identical sampler. Subclasses store each constructor argument under an attribute of the same name.
"""
from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import torch

from .. import forward_ad

from ..registry import Registry

SAMPLERS: Registry["Sampler"] = Registry("sampler")


@dataclass
class SelectionContext:
    """What a sampler may look at when it chooses, and where it may leave per-sample loss weights.

    `score()` runs the teacher's no-grad forward pass over all N coordinates and returns their errors
    (N,); it costs a full forward, so only call it when a new selection is made (`score_at(indices)`
    scores only those m coordinates, at m/N of the cost). `coords`, `values`,
    `grid_shape`, `modality` and `model` are the signal and the learner itself, for samplers that need
    more than the errors (gradients through the model, a Laplacian or edges on the grid). A sampler
    whose loss terms are not equally weighted sets `weights` to a (k,) tensor aligned with the indices
    it returns: the learner then minimises mean_j(weights_j · loss_j) instead of mean_j(loss_j).
    """

    step: int  # t, 0-based
    progress: float  # t / T in [0, 1): the fraction of the step or time budget already used
    n: int  # N, number of coordinates
    score: Callable[[], torch.Tensor]
    generator: torch.Generator
    device: torch.device
    coords: torch.Tensor | None = None  # (N, d) on the device
    values: torch.Tensor | None = None  # (N, c) on the device: the target f*
    grid_shape: tuple[int, ...] = ()  # the grid of the first prod(grid_shape) coordinates (Signal.shape)
    modality: str = ""
    model: torch.nn.Module | None = None  # the learner (not compiled), for gradients with torch.func
    score_at: Callable[[torch.Tensor], torch.Tensor] | None = None  # the teacher's errors at some indices only
    weights: torch.Tensor | None = None  # set by the sampler: (k,) loss weights, None for equal weights


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


def check_fraction(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return float(value)


class Sampler(ABC):
    """Chooses the coordinates of one training step."""

    name: ClassVar[str]
    uses_errors: ClassVar[bool] = False  # whether select() calls the teacher's score()
    observes: ClassVar[bool] = False  # whether the trainer hands it the learner's errors (observe)
    modalities: ClassVar[tuple[str, ...] | None] = None  # the modalities it applies to; None: every one

    def reset(self) -> None:
        """Forget any state from an earlier run; the trainer calls this before step 0."""

    def ratio_at(self, progress: float) -> float:
        """Fraction of the N coordinates that a fresh selection trains on at this point."""
        return 1.0

    @abstractmethod
    def select(self, ctx: SelectionContext) -> torch.Tensor | None:
        """Indices (k,) to train on at step ctx.step, or None for all N."""

    def observe(self, indices: torch.Tensor | None, errors: torch.Tensor) -> None:
        """What the learner saw in the step just taken (called only when `observes` is True).

        After every training step (the warm-up step too, before `reset`), the trainer passes the
        coordinates it trained on, `indices` (k,) int64 (None: all N, in order), and their errors
        `errors` (k,) float32, |f(x_i) − f*(x_i)| as `Modality.error` defines it, computed from the
        learner's forward pass of that step: at the weights *before* the step's update, so one step old.
        Both tensors live on the signal's device and are detached; the trainer never reads them on the
        host, and an implementation must not either (no `.item()`, `.cpu()`, `bool(tensor)`), so that a
        GPU step never waits. They are fresh tensors: keep them or index into them freely. The call
        costs the trainer one elementwise error over the k predictions it already has, no forward pass.
        """

    def describe(self) -> str:
        return self.name

    @classmethod
    def applies_to(cls, modality: str) -> bool:
        """Whether this sampler can choose coordinates of a signal of `modality`."""
        return cls.modalities is None or modality in cls.modalities

    @property
    def config(self) -> dict[str, Any]:
        """The constructor arguments, defaults filled in: `make_sampler(self.name, **self.config)`
        rebuilds this sampler. Plain JSON values only (numbers, strings, booleans)."""
        return {p: getattr(self, p) for p in sampler_options(self.name)}


def make_sampler(name: str, **options: Any) -> Sampler:
    """Build a registered sampler; an option it does not take is an error."""
    cls = SAMPLERS[name]
    try:
        return cls(**options)
    except TypeError as exc:
        raise ValueError(f"sampler {name!r}: {exc}") from None


def sampler_options(name: str) -> list[str]:
    """The option names a registered sampler accepts, in constructor order (what the CLI and the app
    may pass it, and the keys of its config record)."""
    params = inspect.signature(SAMPLERS[name].__init__).parameters
    return [p.name for p in params.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def weighted_loss(loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], pred: torch.Tensor,
                  values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """mean_j(weights_j · loss(pred_j, values_j)) for a batch loss that is a mean over its rows: each
    row's loss is the batch loss of that row alone (vmapped), so any modality's loss can be weighted."""
    with forward_ad.LOCK:  # torch.func's transform state is shared by every thread (intcore.forward_ad)
        per_row = torch.func.vmap(loss)(pred.unsqueeze(1), values.unsqueeze(1))  # (k,)
    return (weights * per_row).mean()

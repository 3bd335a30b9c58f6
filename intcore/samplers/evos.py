"""EVOS: evolutionary selection (Zhang, Zhu et al., "EVOS: Efficient Implicit Neural Training via
EVOlutionary Selector", CVPR 2025, arXiv 2412.10153)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .base import SAMPLERS, Sampler, SelectionContext, check_fraction, check_ratio, subset_size


def grid_laplacian(field: torch.Tensor, grid_shape: tuple[int, ...]) -> torch.Tensor:
    """Discrete Laplacian Σ_axes (u[i+1] − 2u[i] + u[i−1]) of a scalar field (N,) whose first
    prod(grid_shape) entries lie on the row-major grid, edges replicated; entries past the grid
    (extra samples off the grid) get 0. Works for 1-, 2- and 3-D grids."""
    g = math.prod(grid_shape)
    dims = len(grid_shape)
    out = torch.zeros_like(field)
    if g == 0 or not 1 <= dims <= 3:
        return out
    u = field[:g].reshape(1, 1, *grid_shape)
    padded = F.pad(u, (1, 1) * dims, mode="replicate")
    lap = -2.0 * dims * u
    # Shift along each axis: the padded block offset by 0 and 2 on that axis, 1 on the others.
    for axis in range(dims):
        for offset in (0, 2):
            view = padded
            for a in range(dims):
                view = view.narrow(2 + a, offset if a == axis else 1, grid_shape[a])
            lap = lap + view
    out[:g] = lap.reshape(-1)
    return out


@SAMPLERS.register("evos")
class EvosSampler(Sampler):
    """EVOS: evaluate fitness sparsely, select the fittest by a cached ranking, add random mutations.

    - Fitness evaluation (the teacher's no-grad pass) at step 0 and then after an interval that
      shrinks linearly from `first_interval` to `last_interval` steps over the budget:
      fitness_i = e_i + laplacian_weight · |Δe|_i, where e is the per-coordinate error |f(x) − f*(x)|
      and Δ the discrete Laplacian on the signal's grid (frequency-guided crossover: high-frequency
      error counts extra; coordinates off the grid get Δe = 0).
    - Selection: the k_s = ⌊(1 − mutation)·k⌋ fittest coordinates of the last evaluation, k = ⌈ratio·N⌉;
      between evaluations the cached ranking is reused, no teacher pass.
    - Mutation: the other k − k_s drawn uniformly without replacement from the rest, fresh every step.

    The authors train full batch at an evaluation step and read the fitness off that forward pass;
    here the evaluation is a separate no-grad pass and every step trains on k coordinates.
    """

    uses_errors = True

    def __init__(self, ratio: float = 0.2, mutation: float = 0.5, first_interval: int = 100, last_interval: int = 50,
                 laplacian_weight: float = 0.25) -> None:
        self.ratio = check_ratio(ratio)
        self.mutation = check_fraction("mutation", mutation)
        for name, value in (("first_interval", first_interval), ("last_interval", last_interval)):
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} must be a whole number of steps ≥ 1, got {value!r}")
        self.first_interval, self.last_interval = first_interval, last_interval
        if laplacian_weight < 0:
            raise ValueError(f"laplacian_weight must be ≥ 0, got {laplacian_weight}")
        self.laplacian_weight = float(laplacian_weight)
        self.reset()

    def reset(self) -> None:
        self._fittest: torch.Tensor | None = None
        self._next_evaluation = 0
        self.evaluations = 0  # teacher passes made (for tests and reports)

    def ratio_at(self, progress: float) -> float:
        return self.ratio

    def interval_at(self, progress: float) -> int:
        """Steps from one fitness evaluation to the next at this point of the budget."""
        return max(1, round(self.first_interval + (self.last_interval - self.first_interval) * progress))

    def select(self, ctx: SelectionContext) -> torch.Tensor:
        k = subset_size(self.ratio, ctx.n)
        k_sel = math.floor((1.0 - self.mutation) * k)
        if ctx.step >= self._next_evaluation or self._fittest is None:
            errors = ctx.score()
            fitness = errors
            if self.laplacian_weight > 0 and ctx.grid_shape:
                fitness = errors + self.laplacian_weight * grid_laplacian(errors, ctx.grid_shape).abs()
            self._fittest = torch.topk(fitness, k_sel, sorted=False).indices
            self._next_evaluation = ctx.step + self.interval_at(ctx.progress)
            self.evaluations += 1
        if k_sel == k:
            return self._fittest
        keys = torch.rand(ctx.n, generator=ctx.generator, device=ctx.device)
        keys.index_fill_(0, self._fittest, -1.0)  # not keys[...] = -1.0: a host scalar copied to the device syncs
        mutants = torch.topk(keys, k - k_sel, sorted=False).indices
        return torch.cat([self._fittest, mutants])

    def describe(self) -> str:
        return f"EVOS {self.ratio:.0%} ({self.mutation:.0%} mutation, every {self.first_interval}→{self.last_interval})"

"""Amortised INT: the teacher keeps a table of every coordinate's last known error instead of scoring
all N coordinates each step.

The learner's forward pass already computes the error of every point it trains on; the table takes
those for free (`Sampler.observe`) and re-scores only a small rotating slice of the signal per step. The
persistent per-point table is the idea of prioritized experience replay (Schaul et al., ICLR 2016) and
of online importance sampling for neural fields (Salaün et al., arXiv 2311.14468); EVOS (arXiv
2412.10153) likewise trains on a stale ranking between sparse fitness evaluations.
"""
from __future__ import annotations

import math

import torch

from .base import SAMPLERS, Sampler, SelectionContext, check_fraction, check_ratio, subset_size
from .soft import inclusion_probabilities, systematic_sample


UNKNOWN = 1e30
"""the table's value for a coordinate whose error has not been measured yet (times a random factor in [1, 2))"""


RULES = ("proportional", "top")


@SAMPLERS.register("int-amortised")
class AmortisedIntSampler(Sampler):
    """INT from an error table: trains on coordinates drawn by their last known error, with no
    teacher's pass over all N.

    The table e (N,) lives on the signal's device and holds, for every coordinate, its last known error
    |f(x) − f*(x)| divided by the mean error of the refresh slice measured at the same step (errors
    measured at different steps then compare: as the whole signal's error falls, a coordinate keeps
    its rank):
    - at the start every entry is unknown;
    - before every selection the teacher re-scores a slice of m = ⌈refresh·N⌉ coordinates, the next m of
      a fixed random order of all N (wrapping around), with one no-grad forward over those m only; so no
      entry is older than ⌈N/m⌉ steps (refresh 0: no slice, and the entries are absolute errors);
    - after every step, each trained coordinate's entry becomes the error the learner's own forward
      pass computed for it in that step (`observe`: one step old, no extra pass).

    Each step trains on k = ⌈ratio·N⌉ coordinates chosen by `rule`:
    - "proportional" (default): k distinct coordinates, coordinate i included with probability
      π_i = min(1, c·p_i), Σπ = k, where p_i = (1 − explore)·e_i^alpha / Σ_j e_j^alpha + explore / N (an
      unknown entry counts as the mean, e = 1); drawn by systematic sampling along the fixed random
      order, and each chosen coordinate's loss weighted by k / (N·π_i), so the expected weighted loss —
      and its gradient — is full batch's (Horvitz–Thompson, as `soft`). A stale table can only make the
      draw less useful, never the gradient biased; as the errors flatten the draw becomes uniform.
    - "top": the k − u distinct coordinates with the largest entries (unknown entries first, in random
      order, so the first ⌈N/(k − u)⌉ steps sweep the signal; ties broken by torch.topk), plus
      u = ⌈explore·k⌉ drawn uniformly without replacement from the others; equal loss weights.

    Cost per step beyond `random` at the same k: a forward over m = refresh·N coordinates (no
    backward) and O(N) work on the table (proportional: a few passes for π, a cumulative sum and k
    binary searches; top:
    one top-k and one uniform draw), a scatter of k + m entries; no host sync. With the defaults
    (ratio 0.2, refresh 0.02) the extra forward is 1/30 of random's forward + backward over k.
    """

    uses_errors = True
    observes = True

    def __init__(self, ratio: float = 0.2, rule: str = "proportional", explore: float = 0.1, alpha: float = 1.0,
                 refresh: float = 0.02) -> None:
        self.ratio = check_ratio(ratio)
        if rule not in RULES:
            raise ValueError(f"rule must be one of {', '.join(RULES)}, got {rule!r}")
        self.rule = rule
        self.explore = check_fraction("explore", explore)
        if not alpha >= 0:
            raise ValueError(f"alpha must be ≥ 0, got {alpha}")
        self.alpha = float(alpha)
        self.refresh = check_fraction("refresh", refresh)
        self.reset()

    def reset(self) -> None:
        self._table: torch.Tensor | None = None  # (N,) last known error per coordinate, relative
        self._scale: torch.Tensor | None = None  # 0-d: the mean error of this step's refresh slice
        self._order: torch.Tensor | None = None  # (N,) the fixed random order the refresh slices follow
        self._cursor = 0  # where the next refresh slice starts in _order

    def ratio_at(self, progress: float) -> float:
        return self.ratio

    def _start(self, ctx: SelectionContext) -> None:
        # Unknown entries: above any error a modality can produce, in random order.
        self._table = UNKNOWN * (1.0 + torch.rand(ctx.n, generator=ctx.generator, device=ctx.device))
        self._order = torch.randperm(ctx.n, generator=ctx.generator, device=ctx.device)
        self._cursor = 0

    def _refresh(self, ctx: SelectionContext) -> None:
        """Re-score the next m coordinates of the fixed order (wrapping around)."""
        assert self._table is not None and self._order is not None
        m = 0 if self.refresh == 0 else subset_size(self.refresh, ctx.n)
        if m == 0:
            return
        end = self._cursor + m
        if end <= ctx.n:
            idx = self._order[self._cursor:end]
        else:
            idx = torch.cat([self._order[self._cursor:], self._order[:end - ctx.n]])
        self._cursor = end % ctx.n
        errors = ctx.score_at(idx) if ctx.score_at is not None else ctx.score()[idx]
        self._scale = errors.mean().clamp_min(1e-12)
        self._table[idx] = errors / self._scale

    def select(self, ctx: SelectionContext) -> torch.Tensor:
        if self._table is None or self._table.shape[0] != ctx.n:
            self._start(ctx)
        self._refresh(ctx)
        k = subset_size(self.ratio, ctx.n)
        return self._proportional(ctx, k) if self.rule == "proportional" else self._top(ctx, k)

    def probabilities(self) -> torch.Tensor:
        """The proportional rule's draw probabilities p (N,) for the current table (sum 1)."""
        assert self._table is not None
        known = torch.where(self._table >= UNKNOWN, torch.ones_like(self._table), self._table)
        q = known.clamp_min(0) ** self.alpha
        q = q / q.sum().clamp_min(torch.finfo(q.dtype).tiny)
        return (1.0 - self.explore) * q + self.explore / q.shape[0]

    def _proportional(self, ctx: SelectionContext, k: int) -> torch.Tensor:
        assert self._order is not None
        pi = inclusion_probabilities(self.probabilities(), k)  # π_i = min(1, c·p_i), Σπ = k
        chosen = systematic_sample(pi, k, ctx.generator, order=self._order)
        ctx.weights = k / (ctx.n * pi[chosen])
        return chosen

    def _top(self, ctx: SelectionContext, k: int) -> torch.Tensor:
        assert self._table is not None
        u = min(k, math.ceil(self.explore * k))
        top = torch.topk(self._table, k - u, sorted=False).indices
        if u == 0:
            return top
        # Uniform draw among the others: random keys, the chosen ones pushed below every other key.
        keys = torch.rand(ctx.n, generator=ctx.generator, device=ctx.device)
        keys.index_fill_(0, top, -1.0)
        rest = torch.topk(keys, u, sorted=False).indices
        return torch.cat([top, rest])

    def observe(self, indices: torch.Tensor | None, errors: torch.Tensor) -> None:
        if self._table is None:
            return
        relative = errors if self._scale is None else errors / self._scale
        if indices is None:
            self._table.copy_(relative)
        else:
            self._table[indices] = relative  # a coordinate drawn twice gets one of its equal errors

    def describe(self) -> str:
        how = "∝ error" if self.rule == "proportional" else "top"
        return f"INT amortised {self.ratio:.0%} ({how}, {self.explore:.0%} explore, {self.refresh:.0%} refresh)"

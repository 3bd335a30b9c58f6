"""Soft selection: importance sampling by error with an unbiased loss, the family of soft mining
(Kheradmand et al., "Accelerating Neural Field Training via Soft Mining", CVPR 2024, arXiv 2312.00075)."""
from __future__ import annotations

import torch

from .base import SAMPLERS, Sampler, SelectionContext, check_ratio, subset_size

def inclusion_probabilities(q: torch.Tensor, k: int) -> torch.Tensor:
    """π_i = min(1, c·q_i) with c chosen so that Σ π_i = k (q > 0): the inclusion probabilities of a
    k-subset drawn proportionally to q without replacement. Exact, in a fixed number of device
    operations (no host sync): only the k largest q can be capped, so with them sorted in decreasing
    order and the m largest capped at 1, c_m = (k − m) / (Σq − Σ_{j < m} q_(j)); the answer is the first m
    whose largest uncapped q_(m) has c_m·q_(m) < 1 (m = k − 1 always has)."""
    wide = torch.float32 if q.device.type == "mps" else torch.float64  # exact enough sums
    top = torch.topk(q, k, sorted=True).values.to(wide)  # (k,), decreasing
    before = torch.cumsum(top, 0) - top  # Σ_{j < m} q_(j)
    m = torch.arange(k, device=q.device, dtype=wide)
    c = (k - m) / (q.to(wide).sum() - before).clamp_min(torch.finfo(wide).tiny)
    fits = (c * top < 1) | (m == k - 1)
    first = torch.argmax(fits.to(torch.int8))  # the first m that fits (argmax returns the first maximum)
    scale = c.index_select(0, first.view(1))  # (1,): c at that m, without reading the index on the host
    return (scale * q.to(wide)).clamp(max=1.0).to(q.dtype)


def systematic_sample(pi: torch.Tensor, k: int, generator: torch.Generator,
                      order: torch.Tensor | None = None) -> torch.Tensor:
    """k indices, coordinate i included with probability exactly π_i (Σπ = k, π ≤ 1): systematic
    sampling (one uniform start u, points u, u+1, …, u+k−1 on the cumulated π) along a random order of
    the coordinates (a fresh one, or `order`, a fixed random permutation a caller keeps). Distinct
    indices, since no interval of length π_i ≤ 1 holds two points."""
    n = pi.shape[0]
    if order is None:
        order = torch.randperm(n, generator=generator, device=pi.device)
    wide = torch.float32 if pi.device.type == "mps" else torch.float64  # exact enough cumulative sums
    edges = torch.cumsum(pi[order].to(wide), 0)
    u = torch.rand(1, generator=generator, device=pi.device, dtype=wide)
    points = u + torch.arange(k, device=pi.device, dtype=wide)
    position = torch.searchsorted(edges, points, right=True).clamp_(max=n - 1)
    return order[position]


@SAMPLERS.register("soft")
class SoftSampler(Sampler):
    """Soft selection: k = ⌈ratio·N⌉ coordinates drawn every step without replacement, coordinate i
    with probability ∝ q_i = e_i^alpha / mean(e^alpha) + epsilon, e the error |f(x) − f*(x)| from the
    teacher's pass (epsilon keeps every coordinate reachable: a uniform floor of epsilon/(1+epsilon)).

    Inclusion probabilities π_i = min(1, c·q_i) with Σπ = k, drawn by systematic sampling so that
    P(i chosen) = π_i exactly. Each chosen coordinate's loss is weighted by k / (N·π_i), so the
    expected weighted mean loss — and its gradient — equals full batch's mean loss (Horvitz–Thompson).
    alpha = 0 is uniform random; larger alpha leans towards the largest errors, as INT does.
    """

    uses_errors = True

    def __init__(self, ratio: float = 0.2, alpha: float = 1.0, epsilon: float = 0.1) -> None:
        self.ratio = check_ratio(ratio)
        if alpha < 0:
            raise ValueError(f"alpha must be ≥ 0, got {alpha}")
        if not epsilon > 0:
            raise ValueError(f"epsilon must be > 0 (every coordinate needs a chance), got {epsilon}")
        self.alpha, self.epsilon = float(alpha), float(epsilon)

    def ratio_at(self, progress: float) -> float:
        return self.ratio

    def probabilities(self, errors: torch.Tensor, k: int) -> torch.Tensor:
        """The inclusion probabilities π (N,) of a k-subset for these errors."""
        q = errors.float().clamp_min(0) ** self.alpha
        q = q / q.mean().clamp_min(torch.finfo(q.dtype).tiny) + self.epsilon
        return inclusion_probabilities(q, k)

    def select(self, ctx: SelectionContext) -> torch.Tensor:
        k = subset_size(self.ratio, ctx.n)
        pi = self.probabilities(ctx.score(), k)
        chosen = systematic_sample(pi, k, ctx.generator)
        ctx.weights = k / (ctx.n * pi[chosen])
        return chosen

    def describe(self) -> str:
        return f"soft {self.ratio:.0%} (∝ error^{self.alpha:g})"

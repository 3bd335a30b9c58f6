"""NINT: NTK-guided implicit neural teaching (Zhang, Zuo et al., "NTK-Guided Implicit Neural Teaching",
CVPR 2026, arXiv 2511.15487). The selection shares and their decay follow the authors' public code."""
from __future__ import annotations

import math

import torch
from torch.func import functional_call, grad, vjp, vmap

from ..forward_ad import jvp, serialised
from ..modalities import get_modality
from .base import SAMPLERS, Sampler, SelectionContext, check_fraction, check_ratio, subset_size

NTK_CHUNK = 1 << 15  # coordinates per vjp / jvp pass (bounds the activations kept for the backward)


@serialised
def ntk_scores(model: torch.nn.Module, coords: torch.Tensor, values: torch.Tensor, modality: str,
               chunk: int = NTK_CHUNK) -> torch.Tensor:
    """‖[J Jᵀ r]_i‖₂ for every coordinate i: (N,).

    J is the Jacobian of the model's outputs at all N coordinates with respect to its parameters
    ((N·c) × P), r_i = ∂ℓ_i/∂f(x_i) the gradient of coordinate i's loss with respect to its output
    (2(f − f*)/c for the mean squared error), so J Jᵀ r is how much one full-batch gradient step moves
    the function at each coordinate (the empirical NTK applied to the residual). Computed without the
    N × N kernel: v = Jᵀ r by vector-Jacobian products, then J v by Jacobian-vector products, both in
    chunks of `chunk` coordinates; the norm is over the c output channels.
    """
    params = {name: p.detach() for name, p in model.named_parameters()}
    buffers = dict(model.named_buffers())
    row_loss = get_modality(modality).loss
    residual = vmap(grad(row_loss))  # per row: ∂ loss(f_i, y_i) / ∂f_i

    def f(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return functional_call(model, (p, buffers), (x,))

    n = coords.shape[0]
    v = {name: torch.zeros_like(p) for name, p in params.items()}
    for start in range(0, n, chunk):
        x, y = coords[start:start + chunk], values[start:start + chunk]
        out, pullback = vjp(lambda p: f(p, x), params)
        r = residual(out.detach().unsqueeze(1), y.unsqueeze(1)).squeeze(1)  # (n_chunk, c)
        (g,) = pullback(r)
        for name in v:
            v[name] += g[name]
    scores = torch.empty(n, device=coords.device)
    for start in range(0, n, chunk):
        x = coords[start:start + chunk]
        _, jv = jvp(lambda p: f(p, x), (params,), (v,))
        scores[start:start + chunk] = torch.linalg.vector_norm(jv, dim=1)
    return scores


@SAMPLERS.register("nint")
class NintSampler(Sampler):
    """NINT: k = ⌈ratio·N⌉ coordinates every step, in three disjoint shares.

    - NTK share: the ⌊s·k⌋ coordinates with the largest NTK-weighted residual ‖[J Jᵀ r]_i‖ (see
      `ntk_scores`: one pass of vector-Jacobian and one of Jacobian-vector products over all N).
      The scores are refreshed at the 1st selection and then every `refresh`-th (10th, 20th, …);
      between refreshes the same NTK indices are reused. At a refresh after u selections the share is
      s = ntk_share · e^⌊−2u / refresh⌋ (the authors' decay: 0.3·e⁻¹ ≈ 0.11 at the first, 0.3·e⁻²
      at the 10th, …); once s < 0.001 the NTK is never computed again and its share is 0.
    - Top-residual share: the ⌊(1 − s − random_share)·k⌋ largest errors |f(x) − f*(x)| among the rest
      (the teacher's no-grad pass, every step).
    - Uniform share: the remaining k − ⌊s·k⌋ − ⌊(1 − s − random_share)·k⌋ drawn uniformly without
      replacement from the others, fresh every step.
    """

    uses_errors = True

    def __init__(self, ratio: float = 0.2, ntk_share: float = 0.3, random_share: float = 0.7, refresh: int = 10) -> None:
        self.ratio = check_ratio(ratio)
        self.ntk_share = check_fraction("ntk_share", ntk_share)
        self.random_share = check_fraction("random_share", random_share)
        if self.ntk_share + self.random_share > 1.0:
            raise ValueError(f"ntk_share + random_share must be at most 1, got {ntk_share} + {random_share}")
        if not (isinstance(refresh, int) and refresh >= 1):
            raise ValueError(f"refresh must be a whole number of selections ≥ 1, got {refresh!r}")
        self.refresh = refresh
        self.reset()

    def reset(self) -> None:
        self._uses = 0  # selections made so far
        self._share = 0.0
        self._ntk_indices: torch.Tensor | None = None
        self._ntk_on = True
        self.ntk_refreshes = 0  # how many times the NTK scores were computed (for tests and reports)

    def ratio_at(self, progress: float) -> float:
        return self.ratio

    def share_at(self, uses: int) -> float:
        """The NTK share s after `uses` selections (the authors' decay)."""
        return self.ntk_share * math.exp(math.floor(-2.0 * uses / self.refresh))

    def select(self, ctx: SelectionContext) -> torch.Tensor:
        self._uses += 1
        k = subset_size(self.ratio, ctx.n)
        if self._ntk_on and (self._uses == 1 or self._uses % self.refresh == 0):
            self._share = self.share_at(self._uses)
            if self._share < 1e-3 or ctx.model is None:
                self._ntk_on, self._share, self._ntk_indices = False, 0.0, None
            else:
                k_ntk = math.floor(self._share * k)
                scores = ntk_scores(ctx.model, ctx.coords, ctx.values, ctx.modality)
                self._ntk_indices = torch.topk(scores, k_ntk, sorted=False).indices if k_ntk else None
                self.ntk_refreshes += 1
        ntk = self._ntk_indices
        k_ntk = 0 if ntk is None else ntk.shape[0]
        k_top = max(0, min(k - k_ntk, math.floor((1.0 - self._share - self.random_share) * k)))
        errors = ctx.score()
        if ntk is not None:
            errors = errors.clone().index_fill_(0, ntk, -math.inf)
        top = torch.topk(errors, k_top, sorted=False).indices
        keys = torch.rand(ctx.n, generator=ctx.generator, device=ctx.device)
        keys.index_fill_(0, top, -1.0)  # index_fill_, not keys[top] = -1.0: no host scalar copied (a sync)
        if ntk is not None:
            keys.index_fill_(0, ntk, -1.0)
        rest = torch.topk(keys, k - k_ntk - k_top, sorted=False).indices
        parts = [top, rest] if ntk is None else [ntk, top, rest]
        return torch.cat(parts)

    def describe(self) -> str:
        return f"NINT {self.ratio:.0%} (NTK ≤{self.ntk_share:.0%}, {self.random_share:.0%} uniform)"

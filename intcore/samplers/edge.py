"""Edge prior: a fixed anchor set on the image's edges plus a uniform rest, in the manner of expansive
supervision (Zhang et al., "Expansive Supervision for Neural Radiance Field", arXiv 2409.08056) and
EGRA (edge-guided random selection). Images only: edges are found with scikit-image's Canny detector."""
from __future__ import annotations

import math

import numpy as np
import torch

from .base import SAMPLERS, Sampler, SelectionContext, check_fraction, check_ratio, subset_size


def edge_ranking(image: np.ndarray, sigma: float) -> np.ndarray:
    """Row-major pixel indices of an (H, W) or (H, W, C) image, most edge-like first: Canny edge pixels
    (on the channel mean, Gaussian `sigma`) before all others, each group by Sobel magnitude, strongest
    first (ties in index order)."""
    try:
        from skimage import feature, filters
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("the edge sampler needs scikit-image (pip install scikit-image)") from exc
    gray = image.mean(axis=2) if image.ndim == 3 else image
    gray = gray.astype(np.float64)
    edges = feature.canny(gray, sigma=sigma)
    strength = filters.sobel(gray)
    strength = strength / (strength.max() + 1e-12)  # in [0, 1], so edges (1 + s) rank above the rest
    key = edges.astype(np.float64) + strength
    return np.argsort(-key.reshape(-1), kind="stable")


@SAMPLERS.register("edge")
class EdgeSampler(Sampler):
    """Edge prior, images only: k = ⌈ratio·N⌉ pixels every step — a fixed anchor set of the
    a = ⌈anchor_fraction·k⌉ most edge-like pixels of the target image (Canny edges at Gaussian `sigma`
    first, ranked by Sobel magnitude; see `edge_ranking`), chosen once per run, plus k − a drawn
    uniformly without replacement from the other pixels, fresh every step. No teacher pass: the prior
    is the content, not the error. Audio and shapes have no image edges; for them it refuses to run.
    """

    modalities = ("image",)

    def __init__(self, ratio: float = 0.2, anchor_fraction: float = 0.5, sigma: float = 1.0) -> None:
        self.ratio = check_ratio(ratio)
        self.anchor_fraction = check_fraction("anchor_fraction", anchor_fraction)
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0, got {sigma}")
        self.sigma = float(sigma)
        self.reset()

    def reset(self) -> None:
        # The anchors depend only on the target image, so they survive a reset for the same target
        # (the trainer's untimed warm-up computes them once, off the clock).
        if not hasattr(self, "_anchors"):
            self._anchors: torch.Tensor | None = None
            self._anchors_for: tuple | None = None

    def ratio_at(self, progress: float) -> float:
        return self.ratio

    def anchors(self, ctx: SelectionContext, k: int) -> torch.Tensor:
        """The a most edge-like pixels of the target (computed once per run, on the host)."""
        key = (None if ctx.values is None else ctx.values.data_ptr(), ctx.n, ctx.grid_shape, k, str(ctx.device))
        if self._anchors is None or self._anchors_for != key:
            if ctx.modality != "image" or ctx.values is None or len(ctx.grid_shape) != 2:
                raise ValueError(f"the edge sampler applies to images only (it anchors on an image's edges); "
                                 f"this signal is {ctx.modality or 'not an image'}: choose another sampler")
            h, w = ctx.grid_shape
            image = ctx.values[: h * w].detach().float().cpu().numpy().reshape(h, w, -1)
            a = math.ceil(self.anchor_fraction * k)
            ranking = edge_ranking(image, self.sigma)[:a]
            self._anchors = torch.as_tensor(ranking, dtype=torch.int64, device=ctx.device)
            self._anchors_for = key
        return self._anchors

    def select(self, ctx: SelectionContext) -> torch.Tensor:
        k = subset_size(self.ratio, ctx.n)
        anchors = self.anchors(ctx, k)
        if anchors.shape[0] >= k:
            return anchors[:k]
        keys = torch.rand(ctx.n, generator=ctx.generator, device=ctx.device)
        keys.index_fill_(0, anchors, -1.0)  # not keys[anchors] = -1.0: a host scalar copied to the device syncs
        rest = torch.topk(keys, k - anchors.shape[0], sorted=False).indices
        return torch.cat([anchors, rest])

    def describe(self) -> str:
        return f"edge {self.ratio:.0%} ({self.anchor_fraction:.0%} anchors)"

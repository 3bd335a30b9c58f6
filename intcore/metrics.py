"""Quality metrics. All take tensors of equal shape and return 0-d tensors on the inputs' device
(no host round-trip: call `.item()` where you need a number)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.mean((pred.float() - target.float()) ** 2)


def psnr(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB: 10·log10(data_range² / MSE).

    data_range is the span of valid values: 1 for images in [0, 1], 2 for images or audio in [-1, 1].
    A perfect match gives +inf.
    """
    err = mse(pred, target)
    return 10.0 * torch.log10(data_range**2 / err)


def iou(pred_occupied: torch.Tensor, true_occupied: torch.Tensor) -> torch.Tensor:
    """Intersection over union of two boolean occupancy volumes (1 = identical, 0 = disjoint).

    Two empty volumes count as identical (1).
    """
    a, b = pred_occupied.bool(), true_occupied.bool()
    inter = (a & b).sum()
    union = (a | b).sum()
    return torch.where(union > 0, inter.float() / union.clamp(min=1).float(), torch.ones((), device=a.device))


def ssim(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0, window: int = 11) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004) with an 11-tap Gaussian window, σ = 1.5.

    pred, target: (H, W) or (H, W, C) images; the mean SSIM over pixels and channels.
    """
    if pred.ndim == 2:
        pred, target = pred[..., None], target[..., None]
    x = pred.float().permute(2, 0, 1)[:, None]  # (C, 1, H, W)
    y = target.float().permute(2, 0, 1)[:, None]
    sigma = 1.5
    r = torch.arange(window, device=x.device, dtype=torch.float32) - window // 2
    g = torch.exp(-(r**2) / (2 * sigma**2))
    g = g / g.sum()
    kernel = (g[:, None] * g[None, :])[None, None]  # (1, 1, win, win)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, kernel)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x**2
    syy = blur(y * y) - mu_y**2
    sxy = blur(x * y) - mu_x * mu_y
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2))
    return s.mean()


def psnr_from_mse(value: float, data_range: float = 1.0) -> float:
    """PSNR in dB for a known MSE (a plain float helper for reports)."""
    return math.inf if value == 0 else 10.0 * math.log10(data_range**2 / value)

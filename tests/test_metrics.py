import math

import pytest
import torch

from intcore.metrics import iou, psnr, psnr_from_mse, ssim


def test_psnr_of_a_hand_computed_pair():
    target = torch.full((4, 4, 3), 0.6)
    pred = torch.full((4, 4, 3), 0.5)  # MSE = 0.01 → 10·log10(1 / 0.01) = 20 dB
    assert psnr(pred, target, data_range=1.0).item() == pytest.approx(20.0, abs=1e-4)
    # the same pair mapped to [-1, 1] has MSE 0.04 and data range 2: still 20 dB
    assert psnr(pred * 2 - 1, target * 2 - 1, data_range=2.0).item() == pytest.approx(20.0, abs=1e-4)


def test_psnr_mixed_errors():
    pred = torch.tensor([0.0, 0.0, 0.0, 0.0])
    target = torch.tensor([0.1, 0.0, 0.0, 0.3])  # MSE = (0.01 + 0.09) / 4 = 0.025
    assert psnr(pred, target).item() == pytest.approx(10 * math.log10(1 / 0.025), abs=1e-4)
    assert psnr_from_mse(0.025) == pytest.approx(16.0206, abs=1e-4)


def test_psnr_of_identical_signals_is_infinite():
    x = torch.rand(10)
    assert math.isinf(psnr(x, x).item())


def test_iou_identical_disjoint_and_half():
    a = torch.zeros(4, 4, 4, dtype=torch.bool)
    a[:2] = True
    assert iou(a, a).item() == 1.0
    assert iou(a, ~a).item() == 0.0
    b = torch.zeros_like(a)
    b[1:3] = True  # overlap one slab of two: 16 / 48
    assert iou(a, b).item() == pytest.approx(1 / 3)
    empty = torch.zeros_like(a)
    assert iou(empty, empty).item() == 1.0


def test_ssim_identical_is_one_and_noise_lowers_it():
    g = torch.Generator().manual_seed(0)
    img = torch.rand(32, 32, 3, generator=g)
    assert ssim(img, img).item() == pytest.approx(1.0, abs=1e-5)
    noisy = (img + 0.2 * torch.randn(32, 32, 3, generator=g)).clamp(0, 1)
    assert ssim(noisy, img).item() < 0.9

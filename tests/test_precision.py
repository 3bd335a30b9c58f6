"""bf16 autocast on SIREN: the matrix products of the hidden layers in bf16, every sine argument, the
first layer and the output layer in fp32 (intcore.models). CPU autocast checks the rule everywhere;
the CUDA tests run where a GPU is (bench/gpu_check.py runs them on the card)."""
from __future__ import annotations

import math

import pytest
import torch

from intcore import TrainConfig, Trainer, load_signal, make_sampler
from intcore.models import ModelConfig, Siren, build_model
from intcore.signals import Signal

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
DEVICES = ["cpu", pytest.param("cuda", marks=cuda)]


def model_on(device: str, in_features: int = 2, first_w0: float = 30.0) -> Siren:
    return build_model(ModelConfig(width=64, hidden_layers=3, first_w0=first_w0), in_features, 3, seed=0).to(device)


def bf16(device: str) -> torch.autocast:
    return torch.autocast(device, dtype=torch.bfloat16)


def test_fp32_forward_is_the_plain_sequential_one() -> None:
    model = model_on("cpu")
    x = torch.rand(500, 2) * 2 - 1
    with torch.no_grad():
        assert torch.equal(model(x), model.net(x))


@pytest.mark.parametrize("device", DEVICES)
def test_bf16_output_is_fp32_and_close_to_fp32(device: str) -> None:
    model = model_on(device)
    x = torch.rand(4096, 2, device=device) * 2 - 1
    with torch.no_grad():
        ref = model(x)
        with bf16(device):
            out = model(x)
    assert out.dtype == torch.float32
    rel = ((out - ref).norm() / ref.norm()).item()
    # bf16 matrix products: a relative error of bf16's order, not 0 (then autocast did nothing), not more.
    assert 1e-5 < rel < 3e-2, rel


@pytest.mark.parametrize("device", DEVICES)
def test_first_layer_and_sine_arguments_stay_fp32_under_bf16(device: str) -> None:
    """The first layer is exactly the fp32 one; a hidden layer's argument is w0·b + w0·(W x) in fp32."""
    model = model_on(device, first_w0=3000.0)  # audio's first_w0: any bf16 rounding here would be wild
    x = torch.rand(1000, 2, device=device) * 2 - 1
    first, second = model.net[0], model.net[1]
    with torch.no_grad():
        ref = first(x)
        with bf16(device):
            out = first(x)
            h = second(out)
        assert torch.equal(out, ref)
        assert h.dtype == torch.float32
        wx = (out.bfloat16() @ second.linear.weight.bfloat16().t()).float()
        expected = torch.sin(second.w0 * second.linear.bias + second.w0 * wx)
        assert torch.allclose(h, expected, atol=1e-5)


def test_neighbouring_pixels_stay_apart_under_bf16() -> None:
    """The reason the first layer is fp32: bf16 rounds a 768-px row's coordinates onto fewer values."""
    xs = torch.linspace(-1, 1, 768)
    assert torch.unique(xs.bfloat16()).numel() < 768  # what a bf16 first layer would see
    coords = torch.stack([xs, torch.zeros_like(xs)], dim=1)
    model = model_on("cpu")
    with torch.no_grad(), bf16("cpu"):
        features = model.net[0](coords)
    assert torch.unique(features, dim=0).shape[0] == 768


def psnr_after(signal: Signal, precision: str, steps: int) -> float:
    config = TrainConfig(steps=steps, lr=1e-3, eval_every=steps, device="cpu", precision=precision)
    model = ModelConfig(width=64, hidden_layers=3)
    return list(Trainer(signal, make_sampler("random", ratio=0.5), model=model, config=config).run())[-1].quality


def test_bf16_training_keeps_fp32_quality_on_a_small_image(tmp_path) -> None:
    """At equal steps bf16 ends within 0.3 dB of fp32 (bench/precision_parity.py measures it at size)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:40, 0:40] / 40.0
    picture = np.stack([np.sin(6 * xx + 3 * yy), np.cos(5 * yy), np.sin(9 * xx * yy)], axis=-1)
    picture = ((picture + 1) * 127.5 + rng.normal(0, 2, picture.shape)).clip(0, 255).astype(np.uint8)
    Image.fromarray(picture).save(tmp_path / "p.png")
    signal = load_signal(tmp_path / "p.png")
    fp32, bf = psnr_after(signal, "fp32", 150), psnr_after(signal, "bf16", 150)
    assert math.isfinite(bf) and fp32 > 20
    assert abs(bf - fp32) <= 0.3, (fp32, bf)

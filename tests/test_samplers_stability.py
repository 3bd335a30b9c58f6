"""Stable training: a run whose quality ends well below its own best is flagged (1 dB of PSNR, 1 % IoU), and
the gradient clipping that keeps curves from falling off cliffs."""
from __future__ import annotations

from pathlib import Path

import pytest

from intcore.runs import RunResult
from intcore.trainer import Snapshot


def run(qualities: list[float], metric: str = "psnr") -> RunResult:
    curve = [Snapshot(method="m", step=10 * (i + 1), train_seconds=float(i + 1), loss=0.0, quality=q,
                      best_quality=max(qualities[: i + 1]), metric=metric, ratio=0.2, progress=i / len(qualities))
             for i, q in enumerate(qualities)]
    return RunResult(method="m", description="m", curve=curve)


def test_a_psnr_curve_that_falls_more_than_one_db_is_flagged():
    fell = run([20.0, 30.0, 41.7, 15.4])
    assert fell.fell_from_best and fell.drop_from_best == 41.7 - 15.4
    assert fell.summary()["fell_from_best"] is True
    assert not run([20.0, 30.0, 29.5]).fell_from_best  # 0.5 dB of noise is not a fall
    assert not run([20.0, 25.0, 30.0]).fell_from_best


def test_an_iou_curve_is_judged_in_iou():
    assert run([0.80, 0.95, 0.93], metric="iou").fell_from_best  # 2 % IoU below the best
    assert not run([0.80, 0.95, 0.945], metric="iou").fell_from_best


def test_the_compare_table_warns_about_a_run_that_fell(capsys):
    from intcore.cli.commands import print_table

    results = {"full": run([20.0, 30.0, 31.0]), "random": run([20.0, 41.7, 15.4])}
    print_table(results, 30.0, {}, {}, "psnr", "dB")
    out = capsys.readouterr().out
    assert "warning: random ended 26.30 dB below its best" in out
    assert "warning: full" not in out


def test_audio_and_image_defaults_decay_the_learning_rate(tmp_path):
    """A constant lr made audio and photo runs fall far below their best; the defaults decay it (audio over
    the whole budget, images over its second half), and the user can still choose."""
    import numpy as np
    import soundfile as sf

    from intcore.spec import make_spec

    wav = tmp_path / "tone.wav"
    sf.write(wav, 0.5 * np.sin(np.arange(4410) / 10.0), 22050)
    assert make_spec(wav, device="cpu").train.lr_schedule == "cosine"
    assert make_spec(wav, device="cpu", lr_schedule="constant").train.lr_schedule == "constant"  # still a choice
    assert make_spec(Path(__file__).resolve().parents[1] / "assets" / "images" / "kodim23.png", device="cpu").train.lr_schedule == "late-cosine"


def test_each_modality_gets_its_optimiser_defaults_in_every_run_spec(tmp_path):
    from intcore.spec import make_spec

    root = Path(__file__).resolve().parents[1] / "assets"
    image = make_spec(root / "images" / "kodim23.png", device="cpu").train
    audio = make_spec(root / "audio" / "melody.wav", device="cpu").train
    assert (image.grad_clip, image.grad_clip_factor) == (0.1, 0.0)
    assert (audio.grad_clip, audio.grad_clip_factor) == (0.0, 2.0)
    assert make_spec(root / "images" / "kodim23.png", device="cpu", grad_clip=0).train.grad_clip == 0.0  # a choice


def _trainer_with_grads(grad_clip: float = 0.0, grad_clip_factor: float = 0.0):
    import torch
    from intcore.modalities import load_signal
    from intcore.models import ModelConfig
    from intcore.samplers import make_sampler
    from intcore.trainer import TrainConfig, Trainer

    from helpers import PRESET

    t = Trainer(load_signal(PRESET, max_side=8), make_sampler("random"), model=ModelConfig(width=4, hidden_layers=1),
                config=TrainConfig(steps=1, device="cpu", grad_clip=grad_clip, grad_clip_factor=grad_clip_factor))
    t.model = torch.nn.Linear(3, 1, bias=False)

    def clip_with_norm(norm: float) -> float:
        t.model.weight.grad = torch.tensor([[norm, 0.0, 0.0]])
        t._clip()
        return float(t.model.weight.grad.norm())

    return t, clip_with_norm


def test_relative_clipping_cuts_a_sudden_growth_of_the_gradient_at_any_scale():
    for scale in (1e-3, 1.0, 1e3):  # an audio SIREN's gradients and an image's differ by orders of magnitude
        t, step = _trainer_with_grads(grad_clip_factor=2.0)
        assert step(scale) == pytest.approx(scale)  # the first norm starts the running mean
        for _ in range(50):
            assert step(scale) == pytest.approx(scale)  # steady gradients are never touched
        assert step(100 * scale) == pytest.approx(2 * scale, rel=1e-3)  # a 100× spike is cut to 2× the mean
        assert float(t._grad_norm_mean) == pytest.approx(scale, rel=0.02)  # and barely moves the mean


def test_absolute_clipping_and_no_clipping():
    _, step = _trainer_with_grads(grad_clip=0.5)
    assert step(3.0) == pytest.approx(0.5) and step(0.1) == pytest.approx(0.1)
    _, step = _trainer_with_grads()
    assert step(1e6) == pytest.approx(1e6)

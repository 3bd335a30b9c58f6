"""A run whose quality ends well below its own best is flagged (1 dB of PSNR, 1 % IoU)."""
from __future__ import annotations

from pathlib import Path

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

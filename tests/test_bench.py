"""The benchmark and the trainer's performance options: tiny budgets on tiny signals, seconds in all.

Speed and memory targets are checked by `python -m intcore bench` itself (bench/RESULTS.md), not here.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from intcore import benchmark
import intcore.benchmark.rows  # noqa: F401  (benchmark.rows.ASSETS is patched below)
from intcore.cli import main
from intcore.modalities import load_image
from intcore.models import ModelConfig
from intcore.samplers import make_sampler
from intcore.trainer import TrainConfig, Trainer

TINY = ModelConfig(width=16, hidden_layers=2)


@pytest.fixture
def two_pngs(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i, (h, w) in enumerate([(20, 30), (24, 16)]):
        y, x = np.mgrid[0:h, 0:w]
        img = np.stack([(x * 9) % 256, (y * 11) % 256, rng.integers(0, 256, (h, w))], axis=-1).astype(np.uint8)
        paths.append(tmp_path / f"img{i}.png")
        Image.fromarray(img).save(paths[-1])
    return paths


def run_bench(tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / "bench"
    code = main(["bench", "--device", "cpu", "--steps", "3", "--eval-every", "1", "--width", "8", "--hidden-layers", "1",
                 "--out", str(out), "--quiet", *extra])
    assert code == 0
    return json.loads((out / "results.json").read_text())


def test_bench_writes_table_json_and_curves(tmp_path, two_pngs, capsys):
    report = run_bench(tmp_path, "--modalities", "image", "--signals", ",".join(map(str, two_pngs)))
    out = tmp_path / "bench"
    table = (out / "table.md").read_text()
    assert "| modality | signals | full: time / quality | int-official: time (saving) / quality | peak memory |" in table
    assert "| image | 2 |" in table and "command:" in table
    row = report["rows"]["image"]
    assert row["metric"] == "psnr" and len(row["signals"]) == 2
    for name in ("full", "int-official"):
        s = row["summary"][name]
        assert s["jobs"] == 2 and s["quality_mean"] is not None and s["quality_std"] is not None
    assert {"saving_mean", "quality_minus_full", "within_tolerance"} <= set(row["summary"]["int-official"])
    first = row["signals"][0]
    assert first["target"] == first["runs"]["full"]["quality"]  # docs/measuring.md: full batch's final quality
    assert row["peak_memory_mb"] > 0
    assert (out / "curves.csv").read_text().startswith("row,signal,seed,method,train_seconds,quality")
    assert (out / "curves.svg").read_text().startswith("<svg")
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["table"] == str(out / "table.md")


def test_bench_megapixel_row_is_a_mosaic_and_missing_presets_skip(tmp_path, monkeypatch):
    monkeypatch.setattr(benchmark.rows, "ASSETS", tmp_path / "no-assets")  # a clone without audio or shape presets
    (tmp_path / "no-assets" / "images").mkdir(parents=True)
    Image.fromarray(np.full((40, 60, 3), 128, np.uint8)).save(tmp_path / "no-assets" / "images" / "grey.png")
    report = run_bench(tmp_path, "--modalities", "megapixel,audio", "--megapixels", "0.002")
    mp = report["rows"]["megapixel"]
    assert "mosaic" in mp["source"] and mp["signals"][0]["n"] >= 1500
    assert "no audio presets" in report["rows"]["audio"]["skipped"]
    assert "skipped: no audio presets" in (tmp_path / "bench" / "table.md").read_text()


def test_bench_target_stops_runs_at_the_target(tmp_path, two_pngs):
    report = run_bench(tmp_path, "--modalities", "image", "--signals", str(two_pngs[0]), "--target", "-50")
    runs = report["rows"]["image"]["signals"][0]["runs"]
    assert all(r["steps"] == 1 for r in runs.values())  # -50 dB is reached at the first evaluation


@pytest.mark.parametrize("argv", [["--modalities", "smell"], ["--samplers", "full"], ["--samplers", "full,nope"],
                                  ["--modalities", "image,audio", "--signals", "x.png"], ["--kodak", "/no/such/folder"]])
def test_bench_bad_input_is_one_line_and_exit_2(tmp_path, argv, capsys):
    assert main(["bench", "--out", str(tmp_path), "--quiet", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("intcore: error:")


def test_mosaic_size_and_variants(two_pngs):
    arr, note = benchmark.build_mosaic(two_pngs, megapixels=0.05)
    cols, rows = benchmark.MOSAIC_GRID
    assert arr.dtype == np.uint8 and arr.shape[2] == 3
    assert arr.shape[0] % rows == 0 and arr.shape[1] % cols == 0
    assert 0.04e6 < arr.shape[0] * arr.shape[1] < 0.06e6
    assert "mosaic" in note and "2 images" in note
    th, tw = arr.shape[0] // rows, arr.shape[1] // cols
    assert not np.array_equal(arr[:th, :tw], arr[:th, 2 * tw:3 * tw])  # tile 3 is tile 1 mirrored


def final_params(signal, sampler: str, **cfg) -> tuple[list[float], list[torch.Tensor]]:
    t = Trainer(signal, make_sampler(sampler), model=TINY, config=TrainConfig(steps=3, eval_every=1, device="cpu", **cfg))
    losses = [s.loss for s in t.run()]
    return losses, [p.detach().clone() for p in t.model.parameters()]


@pytest.mark.parametrize("sampler", ["full", "int", "random"])
def test_micro_batched_step_matches_one_step(rgb_png, sampler):
    signal = load_image(rgb_png)  # N = 1536; micro-batches of 100 split every step into 16 (full) or 4 (20 %)
    one_loss, one = final_params(signal, sampler)
    mb_loss, mb = final_params(signal, sampler, micro_batch=100)
    assert mb_loss == pytest.approx(one_loss, rel=1e-5)
    for a, b in zip(one, mb):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_bf16_option_trains(rgb_png):
    signal = load_image(rgb_png)
    snaps = list(Trainer(signal, make_sampler("int"), model=TINY,
                         config=TrainConfig(steps=20, eval_every=10, lr=1e-3, device="cpu", precision="bf16")).run())
    assert all(np.isfinite(s.quality) for s in snaps) and snaps[-1].quality > snaps[0].quality - 1.0


def test_compile_option_wraps_the_model_and_keeps_the_run(rgb_png, monkeypatch):
    calls = []

    def fake_compile(model, mode=None, **kw):  # the real one takes ~40 s on a 2-core CPU
        calls.append(mode)
        return model

    monkeypatch.setattr(torch, "compile", fake_compile)
    signal = load_image(rgb_png)
    eager_loss, eager = final_params(signal, "random")
    compiled_loss, compiled = final_params(signal, "random", compile="default")
    assert calls == ["default"]
    assert compiled_loss == eager_loss  # warm-up reset the sampler and the random stream
    for a, b in zip(eager, compiled):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("bad", [{"precision": "fp8"}, {"compile": "fast"}, {"micro_batch": 0}])
def test_bad_performance_options_are_errors(bad):
    with pytest.raises(ValueError):
        TrainConfig(**bad)

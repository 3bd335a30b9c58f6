"""The training loop: identical starts, budgets, control from another thread, and INT's advantage."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from intcore import ModelConfig, TrainConfig, Trainer, build_model, load_image, make_sampler
from intcore.runs import default_target, race, run_method, time_savings, time_to_target

TINY = ModelConfig(width=16, hidden_layers=2)


def test_same_seed_gives_identical_initial_weights_and_other_seeds_do_not():
    a = build_model(ModelConfig(), 2, 3, seed=7)
    b = build_model(ModelConfig(), 2, 3, seed=7)
    c = build_model(ModelConfig(), 2, 3, seed=8)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb)
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))


def test_every_sampler_starts_from_the_same_weights(rgb_png):
    signal = load_image(rgb_png)
    firsts = []
    for name in ("full", "int", "random"):
        t = Trainer(signal, make_sampler(name), model=TINY, config=TrainConfig(steps=1, device="cpu", seed=3))
        gen = t.run()
        # The model exists once the generator starts; peek before any step by building the same way.
        firsts.append([p.detach().clone() for p in build_model(TINY, 2, 3, seed=3).parameters()])
        next(gen)
    for p0, p1, p2 in zip(*firsts):
        assert torch.equal(p0, p1) and torch.equal(p1, p2)


def test_a_run_is_reproducible(rgb_png):
    signal = load_image(rgb_png)

    def curve(seed):
        t = Trainer(signal, make_sampler("random"), model=TINY, config=TrainConfig(steps=6, eval_every=2, device="cpu", seed=seed))
        return [s.quality for s in t.run()]

    assert curve(1) == curve(1)
    assert curve(1) != curve(2)


def test_snapshots_carry_what_viewers_need(rgb_png):
    signal = load_image(rgb_png)
    cfg = TrainConfig(steps=6, eval_every=2, recon_every=4, record_selection=True, device="cpu")
    snaps = list(Trainer(signal, make_sampler("int", ratio=0.25, schedule="constant"), model=TINY, config=cfg).run())
    assert [s.step for s in snaps] == [2, 4, 6]
    assert [s.done for s in snaps] == [False, False, True]
    assert snaps[0].selected.shape == (signal.n // 4,) and snaps[0].selected.dtype == np.int64
    assert snaps[0].reconstruction is None and snaps[1].reconstruction.shape == (32, 48, 3)
    assert snaps[-1].reconstruction is not None
    assert all(s.best_quality == max(x.quality for x in snaps[: i + 1]) for i, s in enumerate(snaps))
    assert all(s.ratio == pytest.approx(0.25, abs=1e-3) for s in snaps)
    assert [round(s.progress, 3) for s in snaps] == [0.333, 0.667, 1.0]
    train_times = [s.train_seconds for s in snaps]
    assert train_times == sorted(train_times) and train_times[0] > 0


def test_selection_is_not_copied_unless_asked(rgb_png):
    signal = load_image(rgb_png)
    snaps = list(Trainer(signal, make_sampler("int"), model=TINY, config=TrainConfig(steps=2, eval_every=1, device="cpu")).run())
    assert all(s.selected is None for s in snaps)


def test_evaluation_and_consumer_time_are_not_training_time(rgb_png):
    """Time the consumer spends between snapshots (drawing, I/O) must not count as training."""
    signal = load_image(rgb_png)
    t = Trainer(signal, make_sampler("full"), model=TINY, config=TrainConfig(steps=4, eval_every=1, device="cpu"))
    start = time.perf_counter()
    snaps = []
    for s in t.run():
        snaps.append(s)
        time.sleep(0.2)
    wall = time.perf_counter() - start
    assert wall > 0.8
    assert snaps[-1].train_seconds < wall - 0.7


def test_time_budget_is_respected(rgb_png):
    signal = load_image(rgb_png)
    snaps = list(Trainer(signal, make_sampler("full"), model=TINY, config=TrainConfig(seconds=0.5, eval_every=5, device="cpu")).run())
    final = snaps[-1]
    assert final.done and final.step > 5
    assert 0.5 <= final.train_seconds < 1.0


def test_stop_from_another_thread_ends_the_run_promptly(rgb_png):
    signal = load_image(rgb_png)
    t = Trainer(signal, make_sampler("full"), model=TINY, config=TrainConfig(steps=10**7, eval_every=50, device="cpu"))
    threading.Timer(0.3, t.stop).start()
    start = time.perf_counter()
    snaps = list(t.run())
    assert time.perf_counter() - start < 1.5
    assert snaps[-1].done and snaps[-1].step < 10**7


def test_pause_holds_training_and_its_clock(rgb_png):
    signal = load_image(rgb_png)
    t = Trainer(signal, make_sampler("full"), model=TINY, config=TrainConfig(steps=10**7, eval_every=20, device="cpu"))
    gen = t.run()
    next(gen)
    t.pause()
    holder = {}

    def consume():
        holder["snap"] = next(gen)

    th = threading.Thread(target=consume)
    th.start()
    time.sleep(0.5)
    assert "snap" not in holder  # paused: no progress
    t.resume()
    th.join(5)
    assert holder["snap"].train_seconds < 0.5  # the pause did not count as training
    t.stop()
    assert list(gen)[-1].done


def test_bad_configs_are_errors():
    with pytest.raises(ValueError):
        TrainConfig(steps=0)
    with pytest.raises(ValueError):
        TrainConfig(seconds=-1)
    with pytest.raises(ValueError):
        TrainConfig(lr_schedule="sometimes")
    with pytest.raises(TypeError):
        ModelConfig().replace(depth=3)


def test_time_to_target_interpolates_between_evaluations():
    pts = [(1.0, 10.0), (2.0, 20.0), (3.0, 30.0)]
    assert time_to_target(pts, 25.0) == pytest.approx(2.5)
    assert time_to_target(pts, 5.0) == 1.0
    assert time_to_target(pts, 31.0) is None


# ---------------------------------------------------------------- INT's advantage, measured for real

CPU_MODEL = ModelConfig(width=128, hidden_layers=4)  # the CPU default net


@pytest.fixture(scope="module")
def small_preset():
    from pathlib import Path

    return load_image(Path(__file__).resolve().parents[1] / "assets/images/kodim05.png", max_side=96)


@pytest.mark.slow
def test_int_beats_random_at_equal_steps(small_preset):
    cfg = TrainConfig(steps=150, eval_every=25, lr=5e-4, device="cpu")
    r_int = run_method(small_preset, make_sampler("int"), CPU_MODEL, cfg)
    r_rand = run_method(small_preset, make_sampler("random"), CPU_MODEL, cfg)
    assert r_int.final.quality > r_rand.final.quality + 1.0


@pytest.mark.slow
def test_int_beats_full_at_equal_training_time(small_preset):
    cfg = TrainConfig(seconds=5.0, eval_every=10, lr=5e-4, device="cpu")
    # Interleaved, so that a busy CI neighbour slows both runs alike.
    results = race(small_preset, {n: make_sampler(n) for n in ("int", "full")}, CPU_MODEL, cfg)
    assert results["int"].best_quality > results["full"].best_quality
    target = default_target(results)
    assert time_savings(results, target)["int"] > 0

"""The training loop: identical starts, budgets, control from another thread, and INT's advantage."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from intcore import ModelConfig, TrainConfig, Trainer, build_model, load_image, make_sampler
from intcore.runs import race, run_method, time_to_target

TINY = ModelConfig(width=16, hidden_layers=2)


def test_same_seed_gives_identical_initial_weights_and_other_seeds_do_not():
    a = build_model(ModelConfig(), 2, 3, seed=7)
    b = build_model(ModelConfig(), 2, 3, seed=7)
    c = build_model(ModelConfig(), 2, 3, seed=8)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb)
    assert not all(torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))


def test_every_sampler_starts_from_the_same_weights(rgb_png):
    """A run stopped before its first step evaluates its initial weights: every sampler's must be the
    seed's (the untimed warm-up step must put them back)."""
    signal = load_image(rgb_png)
    expected = build_model(TINY, 2, 3, seed=3).state_dict()
    qualities = []
    for name in ("full", "int", "random"):
        t = Trainer(signal, make_sampler(name), model=TINY, config=TrainConfig(steps=5, device="cpu", seed=3))
        t.stop()
        (snap,) = list(t.run())
        assert snap.step == 0 and snap.done
        for key, value in t.model.state_dict().items():
            assert torch.equal(value, expected[key]), (name, key)
        qualities.append(snap.quality)
    assert qualities[0] == qualities[1] == qualities[2]


def test_models_built_in_parallel_threads_are_identical():
    """build_model draws from its own generator: threads building at once cannot interleave their draws."""
    results: dict[int, list[torch.Tensor]] = {}
    barrier = threading.Barrier(4)

    def build(i: int) -> None:
        barrier.wait()
        models = [build_model(ModelConfig(width=64, hidden_layers=3), 2, 3, seed=11) for _ in range(5)]
        results[i] = [p.detach() for m in models for p in m.parameters()]

    threads = [threading.Thread(target=build, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    reference = results[0]
    for i in range(1, 4):
        assert all(torch.equal(a, b) for a, b in zip(reference, results[i]))
    state = torch.random.get_rng_state()
    build_model(TINY, 2, 3, seed=1)
    assert torch.equal(state, torch.random.get_rng_state())  # the global stream is untouched


def test_race_order_does_not_change_the_curves(rgb_png):
    """Every run gets one untimed warm-up, so whichever sampler goes first pays no lazy initialisation
    and the per-step curves are the same in either order."""
    signal = load_image(rgb_png)
    cfg = TrainConfig(steps=6, eval_every=2, device="cpu", seed=4)

    def curves(order):
        results = race(signal, {n: make_sampler(n) for n in order}, TINY, cfg)
        return {n: [(s.step, s.quality) for s in r.curve] for n, r in results.items()}

    assert curves(["int", "random"]) == curves(["random", "int"])


class FakeClock:
    """A time source that advances `tick` seconds per reading, plus whatever a test adds."""

    def __init__(self, tick: float) -> None:
        self.t, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.t += self.tick
        return self.t


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
    clock = FakeClock(tick=0.001)
    t = Trainer(signal, make_sampler("full"), model=TINY, config=TrainConfig(steps=4, eval_every=1, device="cpu"),
                clock=clock)
    snaps = []
    for s in t.run():
        snaps.append(s)
        clock.t += 100.0  # the consumer takes 100 s per snapshot
    assert snaps[-1].train_seconds < 1.0


def test_time_budget_is_respected(rgb_png):
    signal = load_image(rgb_png)
    clock = FakeClock(tick=0.01)  # every reading of the clock is 10 ms later
    cfg = TrainConfig(seconds=0.5, eval_every=5, device="cpu")
    snaps = list(Trainer(signal, make_sampler("full"), model=TINY, config=cfg, clock=clock).run())
    final = snaps[-1]
    assert final.done and final.step > 5
    # The run stops at the first step that ends past the budget: at most one step (a few readings) over.
    assert 0.5 <= final.train_seconds <= 0.55


def test_stop_from_another_thread_acts_before_the_next_step(rgb_png):
    signal = load_image(rgb_png)
    t = Trainer(signal, make_sampler("full"), model=TINY, config=TrainConfig(steps=10**7, eval_every=5, device="cpu"))
    gen = t.run()
    first = next(gen)
    t.pause()
    stopper = threading.Thread(target=t.stop)
    stopper.start()
    stopper.join()
    t.resume()
    rest = list(gen)
    assert [s.done for s in rest] == [True]
    assert rest[0].step == first.step  # no step ran after stop()


def test_pause_holds_training_and_its_clock(rgb_png):
    signal = load_image(rgb_png)
    clock = FakeClock(tick=0.001)
    t = Trainer(signal, make_sampler("full"), model=TINY, config=TrainConfig(steps=10**7, eval_every=20, device="cpu"),
                clock=clock)
    gen = t.run()
    first = next(gen)
    t.pause()
    holder = {}
    th = threading.Thread(target=lambda: holder.setdefault("snap", next(gen)))
    th.start()
    th.join(0.3)
    assert "snap" not in holder  # paused: no progress
    clock.t += 1000.0  # a long pause
    t.resume()
    th.join(30)
    assert holder["snap"].step == first.step + 20
    assert holder["snap"].train_seconds < 100  # the pause did not count as training
    t.stop()
    assert list(gen)[-1].done


def test_chunked_evaluation_and_scoring_match_one_pass(rgb_png):
    """predict and the teacher's errors split N into chunks; the result must not depend on the chunk."""
    signal = load_image(rgb_png)
    whole = Trainer(signal, make_sampler("int"), model=TINY, config=TrainConfig(steps=1, device="cpu"))
    chunked = Trainer(signal, make_sampler("int"), model=TINY, config=TrainConfig(steps=1, device="cpu", chunk=100))
    for t in (whole, chunked):
        t.model = t._net = build_model(TINY, 2, 3, seed=0)
    coords, values = signal.coords, signal.values
    assert signal.n > 100 and signal.n % 100 != 0
    assert torch.allclose(whole.predict(coords), chunked.predict(coords), atol=1e-6)
    assert torch.allclose(whole._errors(coords, values), chunked._errors(coords, values), atol=1e-6)
    assert torch.equal(torch.topk(whole._errors(coords, values), 50).indices.sort().values,
                       torch.topk(chunked._errors(coords, values), 50).indices.sort().values)


def test_micro_batched_step_equals_one_pass(rgb_png):
    signal = load_image(rgb_png)
    grads = []
    for mb in (None, 97):
        t = Trainer(signal, make_sampler("full"), model=TINY, config=TrainConfig(steps=1, device="cpu", micro_batch=mb))
        t.model = t._net = build_model(TINY, 2, 3, seed=0)
        t._learn(signal.coords, signal.values, None)
        grads.append(torch.cat([p.grad.flatten() for p in t.model.parameters()]))
    assert torch.allclose(grads[0], grads[1], atol=1e-6)


def lrs_of_a_run(rgb_png, schedule: str) -> list[float]:
    """The learning rate of each of 20 training steps (lr 1e-3, floor 0.1 of it) under `schedule`."""
    cfg = TrainConfig(steps=20, eval_every=10, device="cpu", lr=1e-3, lr_schedule=schedule, lr_min_factor=0.1)
    t = Trainer(load_image(rgb_png), make_sampler("full"), model=TINY, config=cfg)
    seen = []
    real_learn = t._learn

    def spy(coords, values, selected, *weights):
        seen.append(t.optimizer.param_groups[0]["lr"])
        return real_learn(coords, values, selected, *weights)

    t._learn = spy
    list(t.run())
    return seen[1:]  # the first call is the untimed warm-up


def test_cosine_lr_decays_to_its_floor(rgb_png):
    seen = lrs_of_a_run(rgb_png, "cosine")
    assert seen[0] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(seen, seen[1:]))
    assert seen[-1] == pytest.approx(1e-4 + 0.9e-3 * 0.5 * (1 + np.cos(np.pi * 19 / 20)))


def test_late_cosine_keeps_the_full_lr_for_half_the_budget_then_decays_to_its_floor(rgb_png):
    seen = lrs_of_a_run(rgb_png, "late-cosine")
    assert seen[:11] == pytest.approx([1e-3] * 11)  # progress 0 .. 0.5
    assert all(a > b for a, b in zip(seen[10:], seen[11:]))  # then strictly down
    late = (19 / 20 - 0.5) / 0.5
    assert seen[-1] == pytest.approx(1e-4 + 0.9e-3 * 0.5 * (1 + np.cos(np.pi * late)))


def test_interleave_closes_every_run_when_the_consumer_stops(rgb_png):
    from intcore.runs import interleave

    signal = load_image(rgb_png)
    closed = []

    class Tracked(Trainer):
        def run(self):
            try:
                yield from super().run()
            finally:
                closed.append(self.method)

    trainers = [Tracked(signal, make_sampler(n), model=TINY, config=TrainConfig(steps=100, eval_every=1, device="cpu"))
                for n in ("int", "full")]
    stream = interleave(trainers)
    assert [next(stream).method, next(stream).method] == ["int", "full"]  # both runs are under way
    stream.close()
    assert sorted(closed) == ["full", "int"]


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


def test_a_seconds_budget_gives_every_raced_run_the_same_training_time(small_preset):
    # Which sampler wins at equal time is a benchmark's question (python -m intcore bench); this is the rule
    # that makes the comparison fair: every run trains until its own clock reaches the budget.
    cfg = TrainConfig(seconds=1.0, eval_every=5, lr=5e-4, device="cpu")
    results = race(small_preset, {n: make_sampler(n) for n in ("int", "full", "random")}, ModelConfig(width=16, hidden_layers=2), cfg)
    for r in results.values():
        steps = r.final.step
        assert steps > 1 and 1.0 <= r.final.train_seconds < 1.0 + 2 * r.final.train_seconds / steps + 0.2

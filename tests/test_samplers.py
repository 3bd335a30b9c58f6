"""Exact sampler semantics: which coordinates each sampler picks, when, and how many."""
from __future__ import annotations

import math

import pytest
import torch
from intcore.samplers import (
    INCREMENTAL_INTERVALS,
    RATIO_SCHEDULES,
    SAMPLERS,
    IntSampler,
    SelectionContext,
    interval_at,
    make_sampler,
    parse_interval,
    subset_size,
)

from helpers import Scorer


def ctx(step: int, errors: torch.Tensor, progress: float = 0.0, seed: int = 0, scorer: Scorer | None = None):
    return SelectionContext(
        step=step,
        progress=progress,
        n=errors.numel(),
        score=scorer or Scorer(errors),
        generator=torch.Generator().manual_seed(seed),
        device=torch.device("cpu"),
    )


def test_subset_size_is_ceiling_of_ratio_times_n():
    assert subset_size(0.2, 100) == 20
    assert subset_size(0.2, 101) == 21  # ⌈20.2⌉
    assert subset_size(1e-9, 50) == 1
    assert subset_size(1.0, 7) == 7


def test_int_picks_exactly_the_k_largest_errors():
    g = torch.Generator().manual_seed(1)
    errors = torch.rand(1000, generator=g)
    sampler = IntSampler(ratio=0.05, schedule="constant", interval="dense")
    picked = sampler.select(ctx(0, errors))
    k = 50
    assert picked.numel() == k
    expected = set(torch.argsort(errors, descending=True)[:k].tolist())
    assert set(picked.tolist()) == expected
    # every picked error is at least every unpicked one
    mask = torch.zeros(1000, dtype=torch.bool)
    mask[picked] = True
    assert errors[mask].min() >= errors[~mask].max()


def test_int_follows_the_errors_it_is_given():
    sampler = IntSampler(ratio=0.1, schedule="constant", interval="dense")
    errors = torch.zeros(100)
    errors[[3, 50, 99, 7, 20, 61, 42, 8, 77, 15]] = torch.arange(1, 11).float()
    assert set(sampler.select(ctx(0, errors)).tolist()) == {3, 50, 99, 7, 20, 61, 42, 8, 77, 15}
    errors2 = torch.zeros(100)
    errors2[:10] = 1.0
    assert set(sampler.select(ctx(1, errors2)).tolist()) == set(range(10))


@pytest.mark.parametrize(
    "schedule, progress, expected",
    [
        ("constant", 0.0, 0.2), ("constant", 0.7, 0.2),
        ("linear", 0.0, 0.2), ("linear", 0.5, 0.6), ("linear", 0.75, 0.8),
        ("step", 0.0, 0.2), ("step", 0.09, 0.2), ("step", 0.1, 0.28), ("step", 0.55, 0.6), ("step", 0.99, 0.92),
        ("cosine", 0.0, 0.2), ("cosine", 0.5, 0.6), ("cosine", 1.0, 1.0),
    ],
)
def test_ratio_schedules_at_known_points(schedule, progress, expected):
    assert RATIO_SCHEDULES[schedule](0.2, progress) == pytest.approx(expected)


def test_step_schedule_matches_the_official_formula():
    r0, total = 0.2, 3000
    for t in range(0, total, 37):
        official = min(r0 + math.floor(t / (total / 10)) * (1 - r0) / 10, 1.0)
        assert RATIO_SCHEDULES["step"](r0, t / total) == pytest.approx(official)


@pytest.mark.parametrize(
    "progress, expected",
    [(0.0, 1), (0.249, 1), (0.25, 10), (0.3999, 10), (0.4, 20), (0.55, 30), (0.7, 40), (0.85, 50), (0.999, 50)],
)
def test_incremental_interval(progress, expected):
    assert interval_at("incremental", progress) == expected


def test_incremental_interval_formula_over_a_whole_run():
    total = 1000
    for t in range(total):
        p = t / total
        expected = 1 if t < 250 else INCREMENTAL_INTERVALS[min((t - 250) // 150, 4)]
        assert interval_at("incremental", p) == expected, t


def test_interval_specs():
    assert interval_at("dense", 0.5) == 1
    assert interval_at(parse_interval("every-7"), 0.1) == 7
    assert interval_at(parse_interval("5"), 0.9) == 5
    for bad in ["sometimes", "every-0", "every-x", 0, "-3"]:
        with pytest.raises(ValueError):
            parse_interval(bad)


def test_int_reuses_the_subset_between_reselections():
    errors = torch.rand(200, generator=torch.Generator().manual_seed(0))
    scorer = Scorer(errors)
    sampler = IntSampler(ratio=0.1, schedule="constant", interval="every-5")
    first = sampler.select(ctx(0, errors, scorer=scorer))
    scorer.errors = torch.rand(200, generator=torch.Generator().manual_seed(1))  # the model moved on
    for step in range(1, 5):
        assert torch.equal(sampler.select(ctx(step, errors, scorer=scorer)), first)
    assert scorer.calls == 1  # no teacher pass while reusing
    fresh = sampler.select(ctx(5, errors, scorer=scorer))
    assert scorer.calls == 2
    assert set(fresh.tolist()) == set(torch.argsort(scorer.errors, descending=True)[:20].tolist())


def test_int_ratio_grows_with_the_schedule():
    errors = torch.rand(1000)
    sampler = make_sampler("int-progressive")
    sizes = [sampler.select(ctx(t, errors, progress=t / 10)).numel() for t in range(10)]
    assert sizes[0] == 200 and sizes == sorted(sizes) and sizes[-1] == math.ceil((0.2 + 0.9 * 0.8) * 1000)


def test_int_at_full_ratio_trains_on_everything_without_scoring():
    scorer = Scorer(torch.rand(100))
    sampler = IntSampler(ratio=0.2, schedule="cosine", interval="dense")
    assert sampler.select(ctx(0, scorer.errors, progress=1.0, scorer=scorer)) is None
    assert scorer.calls == 0
    assert sampler.select(ctx(1, scorer.errors, progress=0.0, scorer=scorer)).numel() == 20


def test_reset_forgets_the_last_subset():
    errors = torch.rand(100)
    sampler = IntSampler(ratio=0.1, schedule="constant", interval="every-100")
    sampler.select(ctx(0, errors))
    sampler.reset()
    scorer = Scorer(errors)
    sampler.select(ctx(0, errors, scorer=scorer))
    assert scorer.calls == 1


def test_random_draws_k_distinct_indices_fresh_each_step_and_reproducibly():
    errors = torch.zeros(500)
    sampler = make_sampler("random", ratio=0.1)
    gen = torch.Generator().manual_seed(3)
    c = ctx(0, errors)
    c.generator = gen
    a = sampler.select(c)
    b = sampler.select(c)
    assert a.numel() == 50 and a.unique().numel() == 50 and int(a.max()) < 500
    assert not torch.equal(a, b)  # fresh draw each step
    again = sampler.select(ctx(0, errors, seed=3))
    assert torch.equal(again, a)  # same seed, same draw


def test_random_never_asks_the_teacher():
    scorer = Scorer(torch.zeros(100))
    make_sampler("random").select(ctx(0, torch.zeros(100), scorer=scorer))
    assert scorer.calls == 0


def test_full_trains_on_everything():
    assert make_sampler("full").select(ctx(0, torch.zeros(10))) is None


def test_mix_takes_the_top_errors_plus_distinct_uniform_rest():
    errors = torch.rand(1000, generator=torch.Generator().manual_seed(5))
    picked = make_sampler("mix", ratio=0.1, top_fraction=0.3).select(ctx(0, errors))
    assert picked.numel() == 100 and picked.unique().numel() == 100
    top = set(torch.argsort(errors, descending=True)[:30].tolist())
    assert top <= set(picked.tolist())


def test_unknown_options_and_bad_values_are_errors():
    with pytest.raises(ValueError, match="ratio"):
        make_sampler("int", ratio=0)
    with pytest.raises(ValueError, match="schedule"):
        make_sampler("int", schedule="wobbly")
    with pytest.raises(ValueError):
        make_sampler("full", ratio=0.2)
    with pytest.raises(KeyError, match="known"):
        make_sampler("nope")


@pytest.mark.parametrize("name", SAMPLERS.names())
def test_every_registered_sampler_trains_two_steps(name, rgb_png):
    from intcore import ModelConfig, TrainConfig, Trainer, load_image

    signal = load_image(rgb_png)
    trainer = Trainer(signal, make_sampler(name), model=ModelConfig(width=16, hidden_layers=2),
                      config=TrainConfig(steps=2, eval_every=1, device="cpu", record_selection=True))
    snaps = list(trainer.run())
    assert [s.step for s in snaps] == [1, 2]
    assert snaps[-1].done and math.isfinite(snaps[-1].quality)
    assert SAMPLERS[name].__doc__, "every sampler states its rule in its docstring"


@pytest.mark.parametrize("name", SAMPLERS.names())
def test_every_sampler_keeps_its_arguments_as_a_config_record(name):
    import json

    from intcore.samplers import sampler_options

    sampler = make_sampler(name)
    config = sampler.config
    assert list(config) == sampler_options(name)  # every accepted option, defaults filled in
    rebuilt = make_sampler(name, **json.loads(json.dumps(config)))  # JSON round trip
    assert type(rebuilt) is type(sampler) and rebuilt.config == config
    assert rebuilt.describe() == sampler.describe()


def test_config_records_what_was_given():
    sampler = make_sampler("int", ratio=0.3, interval="every-4")
    assert sampler.config == {"ratio": 0.3, "schedule": "constant", "interval": 4}
    assert make_sampler("int", **sampler.config).config == sampler.config

"""The learner tells the teacher what it saw (Sampler.observe), and the amortised INT teacher keeps its
error table from that, from a rotating refresh slice, and picks the top of it plus a uniform share."""
from __future__ import annotations

import math

import pytest
import torch
from intcore.models import ModelConfig
from intcore.modalities import load_signal
from intcore.samplers import SAMPLERS, AmortisedIntSampler, Sampler, SelectionContext, make_sampler, subset_size
from intcore.trainer import TrainConfig, Trainer

from helpers import PRESET


class TableScorer:
    """A teacher with fixed errors: score_at(idx) returns them at idx and counts the coordinates scored;
    a full score() is an error (the amortised teacher must never pay for one)."""

    def __init__(self, errors: torch.Tensor) -> None:
        self.errors = errors
        self.scored: list[torch.Tensor] = []

    def score(self) -> torch.Tensor:
        raise AssertionError("the amortised teacher scored all N coordinates")

    def score_at(self, idx: torch.Tensor) -> torch.Tensor:
        self.scored.append(idx.clone())
        return self.errors[idx]


def ctx(step: int, scorer: TableScorer, seed: int = 0, generator: torch.Generator | None = None) -> SelectionContext:
    n = scorer.errors.numel()
    return SelectionContext(step=step, progress=0.0, n=n, score=scorer.score, score_at=scorer.score_at,
                            generator=generator or torch.Generator().manual_seed(seed), device=torch.device("cpu"))


def test_refresh_slices_follow_one_random_order_and_cover_every_coordinate():
    n = 100
    scorer = TableScorer(torch.rand(n))
    s = AmortisedIntSampler(ratio=0.1, explore=0.0, refresh=0.07)
    m = subset_size(0.07, n)
    g = torch.Generator().manual_seed(0)
    for t in range(math.ceil(n / m)):
        s.select(ctx(t, scorer, generator=g))
    assert all(len(idx) == m for idx in scorer.scored)
    seen = torch.cat(scorer.scored)
    assert set(seen.tolist()) == set(range(n))  # every coordinate re-scored within ⌈N/m⌉ steps
    assert len(set(seen[:n].tolist())) == n  # one order: no repeats before it wraps around


def test_top_rule_picks_the_top_of_the_table_plus_a_uniform_share_of_the_others():
    n, ratio, explore = 200, 0.1, 0.3
    errors = torch.rand(n, generator=torch.Generator().manual_seed(3))
    s = AmortisedIntSampler(ratio=ratio, rule="top", explore=explore, refresh=0.0)
    s.select(ctx(0, TableScorer(errors)))  # start: the table is unknown
    s.observe(torch.arange(n), errors)  # the learner saw every coordinate (a full-batch step)
    k = subset_size(ratio, n)
    u = math.ceil(explore * k)
    picked = s.select(ctx(1, TableScorer(errors)))
    assert picked.numel() == k and len(set(picked.tolist())) == k
    top = set(torch.topk(errors, k - u).indices.tolist())
    assert set(picked[: k - u].tolist()) == top
    assert not set(picked[k - u:].tolist()) & top  # the uniform share comes from the others


def test_observe_overwrites_exactly_the_trained_entries_relative_to_the_refresh_mean():
    n = 50
    errors = torch.full((n,), 2.0)
    s = AmortisedIntSampler(ratio=0.2, explore=0.0, refresh=0.1)
    s.select(ctx(0, TableScorer(errors)))  # the refresh slice has mean error 2.0
    before = s._table.clone()
    trained = torch.tensor([3, 9, 27])
    s.observe(trained, torch.tensor([1.0, 4.0, 6.0]))
    assert torch.equal(s._table[trained], torch.tensor([0.5, 2.0, 3.0]))
    others = torch.ones(n, dtype=torch.bool)
    others[trained] = False
    assert torch.equal(s._table[others], before[others])


def test_top_rule_takes_unknown_coordinates_first_so_the_first_steps_sweep_the_signal():
    n = 60
    s = AmortisedIntSampler(ratio=0.25, rule="top", explore=0.0, refresh=0.0)  # k = 15: four steps cover N
    scorer = TableScorer(torch.zeros(n))
    g = torch.Generator().manual_seed(1)
    seen: set[int] = set()
    for t in range(4):
        picked = s.select(ctx(t, scorer, generator=g))
        assert not seen & set(picked.tolist())  # an unknown coordinate outranks every measured one
        seen |= set(picked.tolist())
        s.observe(picked, torch.zeros(picked.numel()))
    assert seen == set(range(n))


def test_options_are_checked_and_kept_as_config():
    built = AmortisedIntSampler(ratio=0.3, rule="top", explore=0.5, alpha=2.0, refresh=0.05)
    assert make_sampler("int-amortised", **built.config).config == {
        "ratio": 0.3, "rule": "top", "explore": 0.5, "alpha": 2.0, "refresh": 0.05}
    with pytest.raises(ValueError, match="rule"):
        make_sampler("int-amortised", rule="largest")
    with pytest.raises(ValueError, match="explore"):
        make_sampler("int-amortised", explore=1.5)
    with pytest.raises(ValueError, match="ratio"):
        make_sampler("int-amortised", ratio=0.0)


def test_proportional_rule_draws_by_the_table_and_weights_each_draw_by_one_over_n_p():
    n, explore = 40, 0.2
    errors = torch.arange(1, n + 1, dtype=torch.float32)
    s = AmortisedIntSampler(ratio=0.5, rule="proportional", explore=explore, alpha=1.0, refresh=0.0)
    c0 = ctx(0, TableScorer(errors))
    s.select(c0)
    assert torch.allclose(s.probabilities(), torch.full((n,), 1 / n))  # nothing known yet: uniform
    s.observe(torch.arange(n), errors)
    p = s.probabilities()
    assert torch.allclose(p, (1 - explore) * errors / errors.sum() + explore / n)
    c1 = ctx(1, TableScorer(errors), seed=5)
    chosen = s.select(c1)
    assert chosen.numel() == 20
    assert torch.allclose(c1.weights, 1.0 / (n * p[chosen]))


def test_proportional_rule_is_unbiased_the_weighted_mean_loss_is_full_batchs_on_average():
    n = 30
    errors = torch.rand(n, generator=torch.Generator().manual_seed(2)) ** 3 + 0.01
    losses = errors**2  # a squared-error loss: large where the table says the error is large
    s = AmortisedIntSampler(ratio=0.2, rule="proportional", explore=0.1, refresh=0.0)
    s.select(ctx(0, TableScorer(errors)))
    s.observe(torch.arange(n), errors)
    g = torch.Generator().manual_seed(4)
    estimates = []
    for t in range(4000):
        c = ctx(t + 1, TableScorer(errors), generator=g)
        chosen = s.select(c)
        estimates.append((c.weights * losses[chosen]).mean())
    assert float(torch.stack(estimates).mean()) == pytest.approx(float(losses.mean()), rel=0.02)
    # unweighted, the same draws overweight the large errors: the weights are what makes it unbiased
    drawn = [s.select(ctx(0, TableScorer(errors), generator=g)) for _ in range(500)]
    assert abs(float(torch.stack([losses[d].mean() for d in drawn]).mean() / losses.mean()) - 1) > 0.5


class Recorder(Sampler):
    """Random k coordinates; records what the trainer tells it after each step."""

    name = "recorder"
    observes = True

    def __init__(self) -> None:
        self.told: list[tuple[torch.Tensor | None, torch.Tensor]] = []

    def select(self, ctx: SelectionContext) -> torch.Tensor:
        return torch.randperm(ctx.n, generator=ctx.generator)[: ctx.n // 4]

    def observe(self, indices, errors) -> None:
        self.told.append((indices, errors))


@pytest.mark.parametrize("micro_batch", [None, 7])
def test_the_trainer_hands_the_learners_errors_at_the_weights_before_the_update(micro_batch):
    signal = load_signal(PRESET, max_side=12)
    sampler = Recorder()
    trainer = Trainer(signal, sampler, model=ModelConfig(width=8, hidden_layers=1),
                      config=TrainConfig(steps=3, eval_every=1, device="cpu", micro_batch=micro_batch))
    weights = []
    gen = trainer.run()
    for snap in gen:
        weights.append({k: v.clone() for k, v in trainer.model.state_dict().items()})
    assert len(sampler.told) == 1 + 3  # the untimed warm-up step, then one call per step
    model = trainer.model
    for step, (indices, errors) in enumerate(sampler.told[1:]):
        start = weights[step - 1] if step else None
        assert indices is not None and errors.shape == indices.shape and not errors.requires_grad
        if start is not None:  # errors are |f(x) − f*(x)| at the weights the step started from
            model.load_state_dict(start)
            with torch.no_grad():
                expected = trainer.modality.error(model(signal.coords[indices]), signal.values[indices])
            assert torch.allclose(errors, expected, atol=1e-6)


def test_samplers_that_do_not_observe_are_not_told():
    assert not SAMPLERS["random"].observes and not SAMPLERS["int"].observes
    assert SAMPLERS["int-amortised"].observes

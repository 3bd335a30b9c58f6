"""The rules of the newer teachers, each pinned on a small case: NINT's NTK score, soft selection's
unbiased gradient, the edge prior's anchors, EVOS's reuse of its ranking."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.func import functional_call, jacrev

from intcore.models import Siren
from intcore.samplers import SelectionContext, make_sampler, ntk_scores, weighted_loss
from intcore.samplers.evos import grid_laplacian
from intcore.samplers.soft import inclusion_probabilities, systematic_sample

from helpers import Scorer


def context(step: int, n: int, scorer=None, progress: float = 0.0, seed: int = 0, **more) -> SelectionContext:
    return SelectionContext(step=step, progress=progress, n=n, score=scorer or Scorer(torch.rand(n)),
                            generator=torch.Generator().manual_seed(seed), device=torch.device("cpu"), **more)


def tiny_siren(seed: int = 0, out_features: int = 3) -> torch.nn.Module:
    torch.manual_seed(seed)
    return Siren(2, out_features, width=8, hidden_layers=2, w0=30.0, first_w0=30.0)


# ---------------------------------------------------------------- NINT


def test_nint_score_is_the_ntk_applied_to_the_loss_gradient():
    model = tiny_siren()
    gen = torch.Generator().manual_seed(1)
    coords = torch.rand(40, 2, generator=gen) * 2 - 1
    values = torch.rand(40, 3, generator=gen) * 2 - 1
    params = {k: v.detach() for k, v in model.named_parameters()}
    jac = jacrev(lambda p: functional_call(model, p, (coords,)))(params)  # name -> (N, c, *shape)
    J = torch.cat([j.reshape(40 * 3, -1) for j in jac.values()], dim=1)  # (N·c, P)
    with torch.no_grad():
        pred = model(coords)
    r = (2.0 / 3.0) * (pred - values)  # ∂ mean_c (f − y)² / ∂f, per coordinate
    brute = (J @ (J.T @ r.reshape(-1))).reshape(40, 3).norm(dim=1)
    fast = ntk_scores(model, coords, values, "image", chunk=16)  # chunks of 16: 40 is not a multiple
    torch.testing.assert_close(fast, brute, rtol=1e-4, atol=1e-6)
    # not just the error: the kernel reorders the coordinates
    assert not torch.equal(torch.argsort(fast), torch.argsort((pred - values).norm(dim=1)))


def test_nint_shares_refreshes_and_decay():
    n = 400
    model = tiny_siren()
    coords = torch.rand(n, 2) * 2 - 1
    values = torch.rand(n, 3) * 2 - 1
    sampler = make_sampler("nint", ratio=0.25, refresh=10)
    k = 100
    extra = dict(coords=coords, values=values, model=model, modality="image", grid_shape=(20, 20))
    for step in range(40):
        scorer = Scorer(torch.rand(n, generator=torch.Generator().manual_seed(step)))
        picked = sampler.select(context(step, n, scorer, seed=step, **extra))
        assert picked.numel() == k and picked.unique().numel() == k
        assert scorer.calls == 1  # the top-residual share asks the teacher every step
        uses = step + 1
        if uses < 10:
            share = 0.3 * math.exp(-1)
        elif uses < 20:
            share = 0.3 * math.exp(-2)
        elif uses < 30:
            share = 0.3 * math.exp(-4)
        else:
            share = 0.0  # 0.3·e⁻⁶ < 0.001: no more NTK
        k_ntk = math.floor(share * k)
        k_top = math.floor((1 - share - 0.7) * k)
        # the top-residual share: the largest errors among those not picked by the NTK share
        top = set(torch.topk(scorer.errors, k_ntk + k_top).indices.tolist())
        assert len(top & set(picked.tolist())) >= k_top
    assert sampler.ntk_refreshes == 3  # at selections 1, 10 and 20


# ---------------------------------------------------------------- soft


def test_inclusion_probabilities_sum_to_k_and_cap_at_one():
    q = torch.tensor([100.0, 50.0] + [1.0] * 98)
    pi = inclusion_probabilities(q, 10)
    assert float(pi.sum()) == pytest.approx(10.0, rel=1e-5)
    assert float(pi[0]) == 1.0 and float(pi[1]) == 1.0
    torch.testing.assert_close(pi[2:], torch.full((98,), 8 / 98))


def test_systematic_sampling_includes_each_coordinate_with_its_probability():
    q = torch.rand(60, generator=torch.Generator().manual_seed(0)) ** 3 + 0.05
    pi = inclusion_probabilities(q, 12)
    gen = torch.Generator().manual_seed(1)
    counts = torch.zeros(60)
    draws = 4000
    for _ in range(draws):
        idx = systematic_sample(pi, 12, gen)
        assert idx.unique().numel() == 12
        counts[idx] += 1
    # binomial standard error ≤ 0.5/√4000 ≈ 0.008 per coordinate: 5 standard errors
    assert (counts / draws - pi).abs().max() < 0.04


def test_soft_weighted_gradient_matches_full_batch_in_expectation():
    """Monte-Carlo over 2000 fixed-seed draws: the mean of the weighted subset gradients is within 3 %
    (relative L2) of full batch's gradient; the same subsets without weights are further off."""
    from intcore.modalities import get_modality

    loss_fn = get_modality("image").loss
    model = tiny_siren(seed=3)
    gen = torch.Generator().manual_seed(2)
    n = 64
    coords = torch.rand(n, 2, generator=gen) * 2 - 1
    values = torch.rand(n, 3, generator=gen) * 2 - 1

    def gradient(loss: torch.Tensor) -> torch.Tensor:
        grads = torch.autograd.grad(loss, list(model.parameters()))
        return torch.cat([g.reshape(-1) for g in grads])

    full = gradient(loss_fn(model(coords), values))
    # each row's loss gradient (N, P): a subset's gradient is a weighted sum of these rows
    rows = torch.stack([gradient(loss_fn(model(coords[i:i + 1]), values[i:i + 1])) for i in range(n)])
    with torch.no_grad():
        errors = get_modality("image").error(model(coords), values)
    sampler = make_sampler("soft", ratio=0.25, alpha=1.0, epsilon=0.1)
    k = 16
    weighted = torch.zeros_like(full)
    plain = torch.zeros_like(full)
    draws = 2000
    for i in range(draws):
        ctx = context(i, n, Scorer(errors), seed=i)
        idx = sampler.select(ctx)
        assert ctx.weights is not None and ctx.weights.shape == idx.shape == (k,)
        step_gradient = ctx.weights @ rows[idx] / k
        if i < 3:  # the trainer's weighted loss has exactly this gradient
            through_loss = gradient(weighted_loss(loss_fn, model(coords[idx]), values[idx], ctx.weights))
            torch.testing.assert_close(through_loss, step_gradient, rtol=1e-4, atol=1e-6)
        weighted += step_gradient
        plain += rows[idx].mean(0)
    weighted /= draws
    plain /= draws
    err_weighted = float((weighted - full).norm() / full.norm())
    err_plain = float((plain - full).norm() / full.norm())
    assert err_weighted < 0.03
    assert err_plain > 3 * err_weighted  # the weights are what removes the bias


def test_weighted_loss_with_unit_weights_is_the_plain_loss():
    from intcore.modalities import get_modality

    pred, y = torch.randn(7, 3), torch.rand(7, 3)
    for name in ("image", "shape"):
        loss = get_modality(name).loss
        p, t = (pred, y) if name == "image" else (pred[:, :1], (y[:, :1] > 0.5).float())
        torch.testing.assert_close(weighted_loss(loss, p, t, torch.ones(7)), loss(p, t))


def test_trainer_applies_the_samplers_weights_in_every_micro_batch(rgb_png):
    """Soft selection trains the same whether its k coordinates go in one pass or in micro-batches."""
    from intcore import ModelConfig, TrainConfig, Trainer, load_image

    signal = load_image(rgb_png)
    curves = []
    for micro_batch in (None, 64):
        cfg = TrainConfig(steps=3, eval_every=1, device="cpu", micro_batch=micro_batch)
        trainer = Trainer(signal, make_sampler("soft", ratio=0.3), model=ModelConfig(width=16, hidden_layers=2), config=cfg)
        curves.append([s.loss for s in trainer.run()])
    assert curves[0] == pytest.approx(curves[1], rel=1e-4)


# ---------------------------------------------------------------- edge


def test_edge_anchors_of_a_square_lie_on_its_border():
    h = w = 32
    image = np.zeros((h, w, 3), dtype=np.float32) - 1.0
    image[8:24, 8:24] = 1.0  # a white square, border rows/cols 8 and 23
    values = torch.from_numpy(image.reshape(-1, 3))
    sampler = make_sampler("edge", ratio=0.1, anchor_fraction=0.5)
    ctx = context(0, h * w, values=values, grid_shape=(h, w), modality="image")
    picked = sampler.select(ctx)
    k = math.ceil(0.1 * h * w)
    assert picked.numel() == k and picked.unique().numel() == k
    anchors = sampler.anchors(ctx, k)
    assert anchors.numel() == math.ceil(0.5 * k)
    rows, cols = anchors // w, anchors % w
    on_border = torch.minimum(
        torch.minimum((rows - 8).abs(), (rows - 23).abs()), torch.minimum((cols - 8).abs(), (cols - 23).abs())
    ) <= 1
    inside_band = (rows >= 7) & (rows <= 24) & (cols >= 7) & (cols <= 24)
    assert bool((on_border & inside_band).all())
    # the anchors stay, the rest is drawn afresh
    again = sampler.select(context(1, h * w, seed=5, values=values, grid_shape=(h, w), modality="image"))
    assert set(anchors.tolist()) <= set(again.tolist()) and not torch.equal(again, picked)


def test_edge_refuses_signals_that_are_not_images():
    sampler = make_sampler("edge")
    assert sampler.applies_to("image") and not sampler.applies_to("audio") and not sampler.applies_to("shape")
    with pytest.raises(ValueError, match="images only"):
        sampler.select(context(0, 100, values=torch.rand(100, 1), grid_shape=(100,), modality="audio"))


def test_edge_on_audio_is_one_line_and_exit_2_on_the_cli(tmp_path, capsys):
    import soundfile as sf

    from intcore.cli import main

    path = tmp_path / "tone.wav"
    t = np.arange(2205) / 22050
    sf.write(path, 0.5 * np.sin(2 * np.pi * 440 * t), 22050)
    code = main(["fit", str(path), "--sampler", "edge", "--steps", "2", "--device", "cpu", "--quiet",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "images only" in err[0]


# ---------------------------------------------------------------- EVOS


def test_laplacian_on_a_grid():
    u = torch.zeros(25)
    u[12] = 1.0
    lap = grid_laplacian(u, (5, 5)).reshape(5, 5)
    assert lap[2, 2] == -4 and lap[1, 2] == lap[3, 2] == lap[2, 1] == lap[2, 3] == 1 and lap.sum() == 0
    line = torch.arange(6.0) ** 2
    assert grid_laplacian(line, (6,))[1:-1].tolist() == [2.0] * 4
    extra = grid_laplacian(torch.ones(30), (5, 5))  # 5 coordinates off the grid
    assert extra.abs().sum() == 0 and extra.shape == (30,)


def test_evos_reuses_its_ranking_between_evaluations():
    n = 200
    errors = torch.rand(n, generator=torch.Generator().manual_seed(0))
    scorer = Scorer(errors)
    sampler = make_sampler("evos", ratio=0.2, mutation=0.5, first_interval=5, last_interval=5, laplacian_weight=0.0)
    picks = [sampler.select(context(step, n, scorer, seed=step)) for step in range(12)]
    assert scorer.calls == sampler.evaluations == 3  # steps 0, 5 and 10
    fittest = set(torch.topk(errors, 20).indices.tolist())  # k = 40, 50 % mutation
    for picked in picks:
        assert picked.numel() == 40 and picked.unique().numel() == 40
        assert fittest <= set(picked.tolist())
    assert len({tuple(sorted(p.tolist())) for p in picks}) == 12  # fresh mutations every step


def test_evos_interval_shrinks_over_the_budget_and_the_laplacian_counts():
    sampler = make_sampler("evos")
    assert sampler.interval_at(0.0) == 100 and sampler.interval_at(0.5) == 75 and sampler.interval_at(1.0) == 50
    # two coordinates with the same error: the one on a sharp error peak ranks first
    errors = torch.zeros(25)
    errors[12] = 1.0  # a peak
    errors[0] = 1.0  # the corner of a flat patch
    errors[[1, 5, 6]] = 1.0
    s = make_sampler("evos", ratio=0.04, mutation=0.0, laplacian_weight=1.0)  # k = 1
    picked = s.select(context(0, 25, Scorer(errors), grid_shape=(5, 5)))
    assert picked.tolist() == [12]


# ---------------------------------------------------------------- int-pool


def test_int_pool_scores_only_its_pool_and_keeps_its_largest_errors():
    n = 500
    errors = torch.rand(n, generator=torch.Generator().manual_seed(4))
    full_passes = Scorer(errors)
    asked: list[torch.Tensor] = []

    def score_at(idx: torch.Tensor) -> torch.Tensor:
        asked.append(idx)
        return errors[idx]

    sampler = make_sampler("int-pool", ratio=0.1, pool=0.4, interval=3)
    picks = [sampler.select(context(step, n, full_passes, seed=step, score_at=score_at)) for step in range(4)]
    assert full_passes.calls == 0 and len(asked) == 2  # steps 0 and 3, never all N
    pool = asked[0]
    assert pool.numel() == 200 and pool.unique().numel() == 200
    expected = set(pool[torch.topk(errors[pool], 50).indices].tolist())
    assert set(picks[0].tolist()) == expected
    assert torch.equal(picks[1], picks[0]) and torch.equal(picks[2], picks[0])  # reused until step 3
    with pytest.raises(ValueError, match="pool"):
        make_sampler("int-pool", ratio=0.5, pool=0.3)

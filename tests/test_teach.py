"""The lecture's mathematics: the kernel row, one step's effect on the whole function, Algorithm 1's values."""
from __future__ import annotations

import math

import pytest
import torch

from intcore import ModelConfig, build_model, load_image
from intcore.metrics import psnr
from intcore.teach import (
    algorithm_state,
    epsilon_for_psnr,
    kernel_diagonal,
    kernel_row,
    kernel_row_brute_force,
    parameters_of,
    psnr_for_epsilon,
    step_effect,
)

TINY = ModelConfig(width=12, hidden_layers=2)


def _grid(n_side: int) -> torch.Tensor:
    axis = torch.linspace(-1, 1, n_side)
    return torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)


@pytest.mark.parametrize("channels", [1, 3])
def test_kernel_row_equals_the_brute_force_jacobian_product(channels):
    model = build_model(TINY, 2, channels, seed=1).double()
    params = parameters_of(model)
    coords = _grid(9).double()  # 81 points
    x0 = coords[40]
    fast = kernel_row(model, params, x0, coords, chunk=17)  # chunks that do not divide N
    slow = kernel_row_brute_force(model, params, x0, coords)
    assert fast.shape == (81,)
    torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-5)
    # K(x0, x0) is the largest-magnitude entry's bound: ⟨g, g⟩ ≥ |⟨g, h⟩| only with equal norms,
    # but it is positive and equals the squared gradient norm on the diagonal.
    assert fast[40] > 0
    torch.testing.assert_close(fast[40], kernel_diagonal(model, params, coords[40:41])[0], rtol=1e-8, atol=1e-10)


def test_normalised_kernel_row_is_a_cosine():
    model = build_model(TINY, 2, 3, seed=2).double()
    params = parameters_of(model)
    coords = _grid(7).double()
    row = kernel_row(model, params, coords[10], coords, normalize=True, chunk=16)
    assert row[10].item() == pytest.approx(1.0, abs=1e-9)
    assert row.abs().max().item() <= 1.0 + 1e-9
    raw = kernel_row_brute_force(model, params, coords[10], coords)
    diag = kernel_diagonal(model, params, coords)
    torch.testing.assert_close(row, raw / torch.sqrt(raw[10] * diag))


def test_kernel_row_uses_the_given_weights_not_the_models():
    model = build_model(TINY, 2, 1, seed=3)
    coords = _grid(5)
    before = parameters_of(model)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1.5)
    after = parameters_of(model)
    assert not torch.allclose(kernel_row(model, before, coords[0], coords), kernel_row(model, after, coords[0], coords))
    torch.testing.assert_close(kernel_row(model, before, coords[0], coords),
                               kernel_row_brute_force(model, before, coords[0], coords), rtol=1e-4, atol=1e-5)


def _adam_step(model, coords, values, selected, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    opt.zero_grad()
    torch.nn.functional.mse_loss(model(coords[selected]), values[selected]).backward()
    opt.step()


def test_one_small_adam_step_on_k_points_moves_the_whole_function_as_the_kernel_predicts(rgb_png):
    signal = load_image(rgb_png)
    model = build_model(ModelConfig(width=32, hidden_layers=3), 2, 3, seed=0)
    before = parameters_of(model)
    with torch.no_grad():
        errors = torch.linalg.vector_norm(model(signal.coords) - signal.values, dim=1)
    selected = torch.topk(errors, signal.n // 5).indices  # INT's top 20 %
    _adam_step(model, signal.coords, signal.values, selected, lr=1e-5)
    effect = step_effect(model, before, parameters_of(model), signal.coords, chunk=500)
    assert effect.actual.shape == effect.predicted.shape == (signal.n, 3)
    assert effect.cosine > 0.99
    # The step changed points it never trained on: the function moves as a whole.
    others = torch.ones(signal.n, dtype=torch.bool)
    others[selected] = False
    assert effect.actual[others].abs().mean() > 0.1 * effect.actual[~others].abs().mean()


def test_a_large_step_is_predicted_worse_than_a_small_one(rgb_png):
    signal = load_image(rgb_png)
    cosines = []
    for lr in (1e-5, 3e-2):
        model = build_model(ModelConfig(width=32, hidden_layers=3), 2, 3, seed=0)
        before = parameters_of(model)
        _adam_step(model, signal.coords, signal.values, torch.arange(signal.n), lr=lr)
        cosines.append(step_effect(model, before, parameters_of(model), signal.coords).cosine)
    assert cosines[0] > cosines[1]


def test_epsilon_and_psnr_targets_are_the_same_stop_rule():
    torch.manual_seed(0)
    values = torch.rand(400, 3) * 2 - 1
    pred = values + 0.03 * torch.randn(400, 3)
    quality = float(psnr(pred, values, data_range=2.0))
    norm = float(torch.linalg.vector_norm(torch.linalg.vector_norm(pred - values, dim=1)))
    assert psnr_for_epsilon(norm, 400, 3, 2.0) == pytest.approx(quality, abs=1e-4)
    assert epsilon_for_psnr(quality, 400, 3, 2.0) == pytest.approx(norm, rel=1e-5)
    with pytest.raises(ValueError):
        psnr_for_epsilon(0.0, 400, 3, 2.0)


def test_algorithm_state_splits_the_error_between_the_selected_and_the_rest():
    errors = torch.tensor([0.1, 0.9, 0.2, 0.8, 0.3])
    state = algorithm_state(errors, torch.tensor([1, 3]), t=4, T=10, ratio=0.4, lr=1e-3, epsilon=1.0, loss=0.5)
    assert (state.k, state.n) == (2, 5)
    assert state.mean_error_selected == pytest.approx(0.85)
    assert state.mean_error_rest == pytest.approx(0.2)
    assert state.error_norm == pytest.approx(math.sqrt(0.01 + 0.81 + 0.04 + 0.64 + 0.09))
    assert state.keeps_going  # ‖error‖₂ = 1.26 ≥ ε = 1 and t = 4 < T
    assert not algorithm_state(errors, None, t=4, T=10, ratio=1.0, lr=1e-3, epsilon=2.0).keeps_going
    assert not algorithm_state(errors, None, t=10, T=10, ratio=1.0, lr=1e-3).keeps_going  # T steps done
    full = algorithm_state(errors, None, t=0, T=None, ratio=1.0, lr=1e-3)
    assert full.k == 5 and math.isnan(full.mean_error_rest) and full.keeps_going


def test_kernel_diagonal_fast_path_matches_per_coordinate_gradients():
    from intcore.teach import _kernel_diagonal_per_coordinate

    model = build_model(TINY, 2, 3, seed=4).double()
    params = parameters_of(model)
    coords = _grid(6).double()
    torch.testing.assert_close(kernel_diagonal(model, params, coords, chunk=7),
                               _kernel_diagonal_per_coordinate(model, params, coords, chunk=5))


def test_explain_step_reports_the_errors_the_step_started_from(rgb_png):
    from intcore.teach import explain_step

    signal = load_image(rgb_png)
    model = build_model(TINY, 2, 3, seed=5)
    before = parameters_of(model)
    with torch.no_grad():
        errors = torch.linalg.vector_norm(model(signal.coords) - signal.values, dim=1)
    selected = torch.topk(errors, 100).indices
    _adam_step(model, signal.coords, signal.values, selected, lr=1e-4)
    out = explain_step(model, before, parameters_of(model), signal, selected, t=0, T=300, ratio=100 / signal.n, lr=1e-4)
    torch.testing.assert_close(out.errors, errors)
    assert out.state.k == 100 and out.state.mean_error_selected > out.state.mean_error_rest  # INT took the worst
    assert out.effect.cosine > 0.9

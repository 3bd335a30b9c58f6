"""The mathematics a lecture on INT shows: the empirical neural tangent kernel and one step's effect.

INT is functional gradient descent carried by the network's kernel (eq. 1 of Zhang et al., ICML 2024):
a learner step on the k selected coordinates moves the whole function by

    Δf(x) ≈ J(x)·Δθ,    and for plain gradient descent  Δf(x) ≈ −(η/k) Σ_{i∈S} K(x, xᵢ) ∂ℓ/∂f(xᵢ),

with the empirical NTK K(x₀, x) = ⟨∂f(x₀)/∂θ, ∂f(x)/∂θ⟩. Everything here works on a model at given
weights (a parameter dict, as `torch.func.functional_call` takes it) and never forms the N × P Jacobian:
a kernel row is one vector-Jacobian product at x₀ and one Jacobian-vector product over all x, chunked
over x to bound memory. Nothing here trains; the trainer and the app call these on weights they hold.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from .forward_ad import jvp, serialised

Params = dict[str, torch.Tensor]

DEFAULT_CHUNK = 1 << 14
"""coordinates per Jacobian-vector product (a JVP holds about twice a forward's activations)"""


def parameters_of(model: nn.Module) -> Params:
    """A detached copy of the model's trainable parameters, by name: the weights `θ` to evaluate at."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def _summed_output(model: nn.Module, params: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Σ_c f_c(x) for every row of x: (n, d) -> (n,). With several output channels the kernel is the
    kernel of this sum (one scalar function, so one row per x₀)."""
    return functional_call(model, dict(params), (x,)).sum(dim=-1)


def _in_chunks(coords: torch.Tensor, chunk: int):
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1 coordinate, got {chunk}")
    for start in range(0, coords.shape[0], chunk):
        yield slice(start, start + chunk), coords[start:start + chunk]


def _jvp_rows(model: nn.Module, params: Params, tangent: Params, coords: torch.Tensor, chunk: int,
              channels_summed: bool) -> torch.Tensor:
    """J(x)·v for all rows of coords, chunked: (N,) of the summed output, or (N, c) per channel."""
    primals = {k: params[k] for k in tangent}
    frozen = {k: v for k, v in params.items() if k not in tangent}

    def f(p: Params, x: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, {**frozen, **p}, (x,))
        return out.sum(dim=-1) if channels_summed else out

    parts = []
    for _, xs in _in_chunks(coords, chunk):
        _, tangent_out = jvp(lambda p: f(p, xs), (primals,), (tangent,))
        parts.append(tangent_out.detach())
    return torch.cat(parts)


@serialised
def kernel_row(model: nn.Module, params: Params, x0: torch.Tensor, coords: torch.Tensor, *,
               normalize: bool = False, chunk: int = DEFAULT_CHUNK) -> torch.Tensor:
    """The empirical NTK row K(x₀, x) = ⟨∂f(x₀)/∂θ, ∂f(x)/∂θ⟩ for every x in coords: (N,).

    f is the sum of the output channels. Cost: one vector-Jacobian product g₀ = ∂f(x₀)/∂θ, then one
    Jacobian-vector product of f over all x along g₀, `chunk` coordinates at a time. With
    `normalize`, K(x₀, x) / √(K(x₀, x₀)·K(x, x)) in [−1, 1] (the cosine between the two gradients;
    it also needs every K(x, x): see `kernel_diagonal`).
    x0: (d,) or (1, d); coords: (N, d) on the parameters' device.
    """
    x0 = x0.reshape(1, -1).to(coords)
    g0 = grad(lambda p: _summed_output(model, p, x0).sum())(params)  # ∂f(x₀)/∂θ, one tensor per parameter
    row = _jvp_rows(model, params, g0, coords, chunk, channels_summed=True)
    if not normalize:
        return row
    self_k = sum((g * g).sum() for g in g0.values())  # K(x₀, x₀) = ‖g₀‖²
    diag = kernel_diagonal(model, params, coords, chunk=chunk)
    return row / torch.sqrt(self_k * diag).clamp_min(torch.finfo(row.dtype).tiny)


@serialised
def kernel_diagonal(model: nn.Module, params: Params, coords: torch.Tensor, *, chunk: int = DEFAULT_CHUNK) -> torch.Tensor:
    """K(x, x) = ‖∂f(x)/∂θ‖² for every x (f the sum of channels): (N,), `chunk` coordinates at a time.

    When every parameter belongs to an nn.Linear (SIREN, any MLP), one forward and backward per chunk
    give all N norms: a linear layer's gradient at x is the outer product δ(x)·a(x)ᵀ of the gradient at
    its output and its input, so its squared norm is ‖δ(x)‖²·(‖a(x)‖² + 1) with the bias. Otherwise it
    falls back to per-coordinate gradients (torch.func.vmap), far slower."""
    linears = {name: m for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    owned = {f"{name}.{p}" for name, m in linears.items() for p, _ in m.named_parameters(recurse=False)}
    if owned != set(params):
        return _kernel_diagonal_per_coordinate(model, params, coords, max(1, chunk // 16))
    return torch.cat([_linear_gradient_norms(model, params, linears, xs) for _, xs in _in_chunks(coords, chunk)])


def _linear_gradient_norms(model: nn.Module, params: Params, linears: dict[str, nn.Linear],
                           xs: torch.Tensor) -> torch.Tensor:
    inputs: dict[str, torch.Tensor] = {}
    outputs: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(module: nn.Module, args: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
            inputs[name] = args[0].detach()
            outputs[name] = out
        return hook

    handles = [m.register_forward_hook(keep(name)) for name, m in linears.items()]
    try:
        with torch.enable_grad():
            live = {k: v.detach().requires_grad_(True) for k, v in params.items()}
            total = functional_call(model, live, (xs,)).sum()
            # Samples are independent, so ∂(Σ_n f(x_n))/∂z_n is ∂f(x_n)/∂z_n: δ per coordinate.
            deltas = torch.autograd.grad(total, [outputs[name] for name in linears])
    finally:
        for h in handles:
            h.remove()
    norms = torch.zeros(xs.shape[0], dtype=xs.dtype, device=xs.device)
    for (name, m), delta in zip(linears.items(), deltas):
        a2 = inputs[name].pow(2).sum(dim=-1) + (1.0 if m.bias is not None else 0.0)
        norms += delta.pow(2).sum(dim=-1) * a2
    return norms.detach()


def _kernel_diagonal_per_coordinate(model: nn.Module, params: Params, coords: torch.Tensor, chunk: int) -> torch.Tensor:
    def sq_norm(x: torch.Tensor) -> torch.Tensor:
        g = grad(lambda p: _summed_output(model, p, x.unsqueeze(0)).sum())(params)
        return sum((v * v).sum() for v in g.values())

    return torch.cat([vmap(sq_norm)(xs).detach() for _, xs in _in_chunks(coords, chunk)])


@serialised
def kernel_row_brute_force(model: nn.Module, params: Params, x0: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """The same row from the full Jacobian J (N, P) of f over coords (torch.func.jacrev): J·J(x₀)ᵀ.
    For checking `kernel_row` on tiny models only: it forms the N × P matrix."""
    x0 = x0.reshape(1, -1).to(coords)
    jac = torch.func.jacrev(lambda p: _summed_output(model, p, coords))(params)  # name -> (N, *shape)
    jac0 = torch.func.jacrev(lambda p: _summed_output(model, p, x0))(params)  # name -> (1, *shape)
    n = coords.shape[0]
    flat = torch.cat([jac[k].reshape(n, -1) for k in params], dim=1)  # (N, P)
    flat0 = torch.cat([jac0[k].reshape(1, -1) for k in params], dim=1)  # (1, P)
    return (flat @ flat0.T).squeeze(1)


@dataclass
class StepEffect:
    """What one learner update did to the whole function, and how well the kernel predicts it."""

    actual: torch.Tensor
    """Δf(x) = f_θ'(x) − f_θ(x) at every coordinate: (N, c)"""
    predicted: torch.Tensor
    """J(x)·Δθ, the first-order (kernel) prediction of Δf: (N, c)"""
    cosine: float
    """cosine similarity of actual and predicted over all coordinates and channels (1: same direction)"""
    relative_error: float
    """‖actual − predicted‖ / ‖actual‖ (0: the linearisation is exact)"""


@serialised
def step_effect(model: nn.Module, before: Params, after: Params, coords: torch.Tensor, *,
                chunk: int = DEFAULT_CHUNK) -> StepEffect:
    """Δf = f_θ'(x) − f_θ(x) and its first-order prediction J(x)·Δθ with the actual update Δθ = θ' − θ
    (whatever the optimiser did, Adam's scaling included), over all coords: two forwards and one JVP."""
    delta = {k: after[k] - before[k] for k in before}
    with torch.no_grad():
        actual = torch.cat([functional_call(model, after, (xs,)) - functional_call(model, before, (xs,))
                            for _, xs in _in_chunks(coords, chunk)])
    predicted = _jvp_rows(model, before, delta, coords, chunk, channels_summed=False)
    a, p = actual.flatten().double(), predicted.flatten().double()
    na, np_ = torch.linalg.vector_norm(a), torch.linalg.vector_norm(p)
    cosine = float(a @ p / (na * np_)) if na > 0 and np_ > 0 else float("nan")
    relative = float(torch.linalg.vector_norm(a - p) / na) if na > 0 else float("nan")
    return StepEffect(actual=actual, predicted=predicted, cosine=cosine, relative_error=relative)


# Algorithm 1's stop rule: ‖[f_θ(xᵢ) − f*(xᵢ)]_N‖₂ < ε. The error vector's squared norm is N·c·MSE, so
# for a PSNR metric with data range R the rule is a quality target: PSNR > 10·log10(R²·N·c / ε²).

def epsilon_for_psnr(psnr_db: float, n: int, channels: int, data_range: float) -> float:
    """The ε at which ‖error‖₂ < ε holds exactly when PSNR (data range R, in value units) exceeds psnr_db."""
    return math.sqrt(n * channels * data_range**2 * 10 ** (-psnr_db / 10))


def psnr_for_epsilon(epsilon: float, n: int, channels: int, data_range: float) -> float:
    """The PSNR target equivalent to Algorithm 1's ‖error‖₂ < ε on N coordinates of c channels."""
    if epsilon <= 0:
        raise ValueError(f"epsilon must be positive, got {epsilon}")
    return 10 * math.log10(data_range**2 * n * channels / epsilon**2)


@dataclass
class AlgorithmState:
    """Algorithm 1's live values at one step t (before its update)."""

    t: int
    """steps done so far (0 before the first update)"""
    T: int | None
    """the step budget, or None for a time budget"""
    ratio: float
    """r(t)"""
    k: int
    """⌈r(t)·N⌉"""
    n: int
    error_norm: float
    """‖[f_θ(xᵢ) − f*(xᵢ)]_N‖₂ over all N (and channels)"""
    epsilon: float | None
    mean_error_selected: float
    """mean |f(x) − f*(x)| over the k selected"""
    mean_error_rest: float
    """mean |f(x) − f*(x)| over the N − k others (nan when k = N)"""
    loss: float | None
    lr: float

    @property
    def keeps_going(self) -> bool:
        """The while condition: t ≤ T and ‖error‖₂ ≥ ε (the paper counts t from 1; here t counts the
        steps done, so its t ≤ T reads t < T)."""
        within = self.T is None or self.t < self.T
        return within and (self.epsilon is None or self.error_norm >= self.epsilon)


def algorithm_state(errors: torch.Tensor, selected: torch.Tensor | None, *, t: int, T: int | None, ratio: float,
                    lr: float, epsilon: float | None = None, loss: float | None = None) -> AlgorithmState:
    """Algorithm 1's values from the per-coordinate errors (N,) before step t and the k indices the
    teacher selected (None: all N)."""
    n = errors.shape[0]
    errors = errors.detach().double()
    mask = torch.zeros(n, dtype=torch.bool, device=errors.device)
    if selected is None:
        mask[:] = True
    else:
        mask[selected.to(errors.device)] = True
    k = int(mask.sum())
    rest = errors[~mask]
    return AlgorithmState(
        t=t, T=T, ratio=ratio, k=k, n=n,
        error_norm=float(torch.linalg.vector_norm(errors)),
        epsilon=epsilon,
        mean_error_selected=float(errors[mask].mean()),
        mean_error_rest=float(rest.mean()) if rest.numel() else float("nan"),
        loss=loss, lr=lr,
    )


@dataclass
class StepExplanation:
    """One training step of one sampler, seen as Algorithm 1 and as a move of the whole function."""

    errors: torch.Tensor
    """|f_θ(x) − f*(x)| at every coordinate before the step: (N,)"""
    selected: torch.Tensor | None
    """the k indices trained on (None: all N)"""
    effect: StepEffect
    state: AlgorithmState


@serialised
def explain_step(model: nn.Module, before: Params, after: Params, signal, selected: torch.Tensor | None, *,
                 t: int, T: int | None, ratio: float, lr: float, epsilon: float | None = None,
                 loss: float | None = None, chunk: int = DEFAULT_CHUNK) -> StepExplanation:
    """Explain the step that took the weights from `before` to `after` on `signal` (an intcore Signal),
    training on `selected`: the errors it started from, Algorithm 1's values, Δf against J·Δθ.
    Serialised like the kernel functions: functional_call puts the given weights into the module for the
    call, so two threads using one model at once would compute with each other's weights."""
    from .modalities import get_modality

    modality = get_modality(signal.modality)
    coords = signal.coords.to(next(iter(before.values())).device)
    values = signal.values.to(coords.device)
    with torch.no_grad():
        errors = torch.cat([modality.error(functional_call(model, before, (xs,)), values[part])
                            for part, xs in _in_chunks(coords, chunk)])
    state = algorithm_state(errors, selected, t=t, T=T, ratio=ratio, lr=lr, epsilon=epsilon, loss=loss)
    return StepExplanation(errors=errors, selected=selected, effect=step_effect(model, before, after, coords, chunk=chunk),
                           state=state)

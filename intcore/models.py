"""INR architectures, one registry by name. SIREN: Sitzmann et al., "Implicit Neural Representations
with Periodic Activation Functions", NeurIPS 2020 (initialisation in its Sec. 3.2 and supplement 1.5).

Under bf16 autocast (TrainConfig.precision "bf16") a SIREN runs only its hidden layers' matrix products
in bf16. Everything whose rounding the sine would magnify stays fp32: the first layer (bf16 cannot tell
neighbouring coordinates apart: its step near 1.0 is 2^-7, a 768-px image's pixel step 2^-8.6, and the
first layer multiplies that error by first_w0, 3000 for audio), every sine argument w0·(Wx + b) with its
bias, and the linear output layer (a bf16 output would cap PSNR near 50 dB). The matrix products, where
nearly all the arithmetic is, keep the speed-up.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import nn

from .registry import Registry

MODELS: Registry[nn.Module] = Registry("model")


@dataclass
class ModelConfig:
    """Which INR to build and its size."""

    name: str = "siren"
    width: int = 256
    """neurons per hidden layer"""
    hidden_layers: int = 5
    """sine layers (the paper's "5 × 256" SIREN is hidden_layers=5, width=256), then one linear output"""
    w0: float = 30.0
    """frequency factor of the hidden sine layers"""
    first_w0: float = 30.0
    """frequency factor of the first layer; sets the highest frequency the net starts with
    (30 for images; audio needs thousands because its time axis is long)"""

    def replace(self, **changes: Any) -> "ModelConfig":
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown model option(s): {', '.join(sorted(unknown))}")
        return ModelConfig(**{**self.__dict__, **changes})


def _linear(in_features: int, out_features: int, weight_bound: float, generator: torch.Generator | None) -> nn.Linear:
    """nn.Linear with W ~ U(-weight_bound, weight_bound) and b ~ U(-1/√in, 1/√in) (PyTorch's bias rule),
    drawn from `generator`. `skip_init` leaves the parameters unset, so building a model never draws from
    torch's global random stream (which every thread shares)."""
    layer = torch.nn.utils.skip_init(nn.Linear, in_features, out_features)
    with torch.no_grad():
        layer.weight.uniform_(-weight_bound, weight_bound, generator=generator)
        bias_bound = 1.0 / math.sqrt(in_features)
        layer.bias.uniform_(-bias_bound, bias_bound, generator=generator)
    return layer


class SineLayer(nn.Module):
    """y = sin(w0 · (W x + b)) with SIREN's initialisation.

    First layer: W ~ U(-1/in, 1/in). Later layers: W ~ U(-√(6/in)/w0, √(6/in)/w0), so that the
    pre-activations stay ~N(0, 1) through depth.
    """

    def __init__(self, in_features: int, out_features: int, w0: float, is_first: bool,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.w0 = w0
        self.is_first = is_first
        bound = 1.0 / in_features if is_first else math.sqrt(6.0 / in_features) / w0
        self.linear = _linear(in_features, out_features, bound, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """fp32 out always. Under autocast: the first layer entirely in fp32; a later layer's W x in bf16,
        then w0·b + w0·(W x) and the sine in fp32 (one kernel adds and promotes, no separate cast)."""
        device_type = x.device.type
        if not torch.is_autocast_enabled(device_type):
            return torch.sin(self.w0 * self.linear(x))
        if self.is_first:
            with torch.autocast(device_type, enabled=False):
                return torch.sin(self.w0 * self.linear(x.float()))
        wx = nn.functional.linear(x, self.linear.weight)  # bf16 (autocast)
        return torch.sin(torch.add(self.linear.bias * self.w0, wx, alpha=self.w0))


@MODELS.register("siren")
class Siren(nn.Module):
    """coords (N, in_features) -> values (N, out_features): `hidden_layers` sine layers of `width`, then linear."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        width: int = 256,
        hidden_layers: int = 5,
        w0: float = 30.0,
        first_w0: float = 30.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if hidden_layers < 1 or width < 1:
            raise ValueError("a SIREN needs at least one sine layer of at least one neuron")
        layers: list[nn.Module] = [SineLayer(in_features, width, first_w0, is_first=True, generator=generator)]
        layers += [SineLayer(width, width, w0, is_first=False, generator=generator) for _ in range(hidden_layers - 1)]
        layers.append(_linear(width, out_features, math.sqrt(6.0 / width) / w0, generator))
        self.net = nn.Sequential(*layers)

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        """(N, in_features) -> (N, out_features), fp32 also under bf16 autocast (the output layer is
        fp32 there: module docstring)."""
        *hidden, output = self.net
        h = coords
        for layer in hidden:
            h = layer(h)
        with full_precision(coords.device.type):
            return output(h)


def full_precision(device_type: str) -> contextlib.AbstractContextManager:
    """A context that turns autocast off where it is on (a no-op context otherwise)."""
    if torch.is_autocast_enabled(device_type):
        return torch.autocast(device_type, enabled=False)
    return contextlib.nullcontext()


def build_model(config: ModelConfig, in_features: int, out_features: int, seed: int) -> nn.Module:
    """Build the model on the CPU from `seed`, so that the same seed gives bit-identical initial
    weights on every device, for every sampler and in every thread: the draws come from a generator of
    this call's own, never from torch's global random stream."""
    generator = torch.Generator().manual_seed(seed)
    cls = MODELS[config.name]
    return cls(
        in_features,
        out_features,
        width=config.width,
        hidden_layers=config.hidden_layers,
        w0=config.w0,
        first_w0=config.first_w0,
        generator=generator,
    )

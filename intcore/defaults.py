"""Sensible defaults per device: small and quick on a laptop CPU, the paper's setting on a GPU.

The CPU numbers were chosen by measurement (see README, "Choosing the CPU defaults"): on a 2-core
CPU a 128-px image with a 4 × 128 SIREN at lr 5e-4 shows INT ahead of full batch within 20 s.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .modalities import MODALITIES
from .models import ModelConfig


@dataclass(frozen=True)
class Defaults:
    max_side: int | None
    """images: downscale so the longer side is at most this (None: full size)"""
    model: ModelConfig
    lr: float
    steps: int
    eval_every: int


def defaults_for(modality: str, device: torch.device) -> Defaults:
    """Defaults for fitting a signal of `modality` on `device`."""
    overrides = MODALITIES[modality].default_model
    if device.type == "cpu":
        return Defaults(
            max_side=128,
            model=ModelConfig(width=128, hidden_layers=4).replace(**overrides),
            lr=5e-4,
            steps=300,
            eval_every=10,
        )
    # The official INT image setting: SIREN 5 × 256, Adam lr 1e-4 (design.md).
    return Defaults(
        max_side=None,
        model=ModelConfig(width=256, hidden_layers=5).replace(**overrides),
        lr=1e-4,
        steps=3000,
        eval_every=50,
    )

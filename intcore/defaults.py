"""Sensible defaults per device: small and quick on a laptop CPU, the paper's setting on a GPU.

The CPU numbers were chosen by measurement (bench/RESULTS.md, "Choosing the CPU defaults"): on a 2-core
CPU a 128-px image with a 4 × 128 SIREN at lr 5e-4 shows INT ahead of full batch within 20 s.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch

from .modalities import MODALITIES
from .models import ModelConfig
from .trainer import TrainConfig


# Learning-rate schedule per modality (every device; intcore.lr_schedules), chosen by measurement on
# signals the presets do not include (docs/teachers.md, "Training that does not fall over"):
# - audio decays: on a held-out 1-s synthesized melody (random 20 %, 800 steps, CPU) a constant lr fell
#   19.5 dB below its best at 5e-4 and 9.9 dB at 1e-4; cosine decay ended at its best (61.5 dB);
# - images keep the full lr for the first half of the budget, then decay (late-cosine): at a constant
#   5e-4, random 20 % fell 12.4 dB in mid-run on one held-out photo and ended 1.9 dB below its best on
#   another; late-cosine ended every run at its best and random 10-13 dB higher, at a cost to the
#   short full-batch runs (-2.3 dB at 300 steps) that a cosine over the whole budget makes worse;
# - shapes stay constant: no shape run fell.
LR_SCHEDULES: dict[str, str] = {"audio": "cosine", "image": "late-cosine"}

# Optimiser settings per modality and device kind, chosen by measurement on signals the presets do not
# include (docs/teachers.md, "Training that does not fall over"):
# - images on a CPU clip the gradient norm at 0.1 (about its median there): INT's mid-run cliff on the
#   image preset (11 dB) became ≤ 2.3 dB and every sampler ended higher at equal steps (int +6 dB, random
#   +2 dB at 900 steps; full batch +9 dB at 300 steps);
# - audio clips at twice the running mean of the gradient norm (its scale is far from an image's: a clip
#   of 0.1 cost random 7.6 dB): over 1,000 steps INT's 14.8-dB dip on a plucked arpeggio became 6.9 dB
#   and int-pool's 13.4 dB on a spoken sentence 4.6 dB (clipping at the mean itself: 23.7 and 2.0);
# - a GPU's larger SIREN and lower lr have another gradient scale, so images there clip relative too.
OPTIMISER: dict[str, dict[str, dict[str, Any]]] = {
    "image": {"cpu": {"grad_clip": 0.1}, "gpu": {"grad_clip_factor": 1.0}},
    "audio": {"cpu": {"grad_clip_factor": 2.0}, "gpu": {"grad_clip_factor": 2.0}},
}
"""modality -> device kind -> TrainConfig optimiser fields (by their intcore.spec.SETTINGS names) that
every sampler of a run shares: in the CLI, the benchmark, the app and lecture mode's steps alike"""


RACE_COLUMNS: tuple[str, ...] = ("int", "full", "random", "int-pool")
"""The samplers a default race compares, each with its own default options (its own ratio): the paper's
INT, the two baselines, and the INT-family teacher that measured best at equal training time on signals
the presets do not include (docs/teachers.md). `compare` without --samplers and the app's columns."""


@dataclass(frozen=True)
class Defaults:
    model: ModelConfig
    lr: float
    steps: int
    eval_every: int
    load_options: dict[str, Any] = field(default_factory=dict)
    """options for the modality's loader on this device (images max_side, audio max_seconds, shapes grid)"""
    lr_schedule: str = "constant"
    """a key of intcore.lr_schedules.LR_SCHEDULE_RULES (LR_SCHEDULES per modality)"""
    optimiser: dict[str, Any] = field(default_factory=dict)
    """TrainConfig fields of the modality's optimiser (OPTIMISER), e.g. grad_clip_factor"""


DEVICE_KINDS: dict[str, dict[str, Any]] = {
    # Chosen by measurement on a 2-core CPU (module docstring).
    "cpu": dict(width=128, hidden_layers=4, lr=5e-4, steps=300, eval_every=10),
    # The official INT image setting: SIREN 5 × 256, Adam lr 1e-4.
    "gpu": dict(width=256, hidden_layers=5, lr=1e-4, steps=3000, eval_every=50),
}
"""the model size and training defaults of a CPU and of any other device (a GPU)"""


def defaults_for(modality: str, device: torch.device) -> Defaults:
    """Defaults for fitting a signal of `modality` on `device` (DEVICE_KINDS; the modality's own first_w0/w0
    and loader options on top)."""
    kind = "cpu" if device.type == "cpu" else "gpu"
    d = DEVICE_KINDS[kind]
    load = dict(MODALITIES[modality].load_defaults.get(kind, {}))
    return Defaults(
        model=ModelConfig(width=d["width"], hidden_layers=d["hidden_layers"]).replace(**MODALITIES[modality].default_model),
        lr=d["lr"],
        steps=d["steps"],
        eval_every=d["eval_every"],
        load_options=load,
        lr_schedule=LR_SCHEDULES.get(modality, "constant"),
        optimiser=dict(OPTIMISER.get(modality, {}).get(kind, {})),
    )


def default_settings(modality: str, device: torch.device) -> dict[str, Any]:
    """`defaults_for(modality, device)` by the names of intcore.spec.SETTINGS: the model, the training and
    the modality loader's options (a loader option of None means "full size")."""
    d = defaults_for(modality, device)
    # Every optimiser setting any modality changes, at TrainConfig's own default where this one does not.
    fields = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    optimiser = {name: fields[name] for kinds in OPTIMISER.values() for options in kinds.values() for name in options}
    return {"steps": d.steps, "lr": d.lr, "lr_schedule": d.lr_schedule, **optimiser, **d.optimiser,
            "eval_every": d.eval_every,
            "width": d.model.width, "hidden_layers": d.model.hidden_layers, "first_w0": d.model.first_w0,
            "w0": d.model.w0, **d.load_options}

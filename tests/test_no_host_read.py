"""No teacher's step reads a device value on the host.

On a GPU a host read (`.item()`, `bool(tensor)`, `nonzero`, a tensor made from a Python number and
copied to the device, ...) makes the step wait for every queued kernel. The CPU cannot show the wait,
so these tests watch the operators themselves: every aten call made inside a sampler's `select` and
`observe` and the trainer's learner step (the timed steps; the untimed warm-up step may prepare
once-per-run state on the host) goes through a dispatch mode that fails on the ones that read
or write the host. `bench/gpu_check.sh` counts the real synchronisations with CUDA's sync debug mode.
"""
from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from intcore.models import ModelConfig
from intcore.modalities import load_signal
from intcore.samplers import SAMPLERS, make_sampler
from intcore.trainer import TrainConfig, Trainer

from helpers import PRESET

HOST_READS = {
    "aten._local_scalar_dense",  # .item(), float(t), int(t), bool(t)
    "aten.nonzero", "aten.nonzero_static", "aten.masked_select", "aten.is_nonzero", "aten.equal",
    "aten._unique", "aten._unique2", "aten.unique_dim", "aten.unique_consecutive",
    "aten.lift_fresh",  # a tensor made from Python data inside the step: a host-to-device copy on a GPU
    "aten._assert_async",
}


class HostReadWatch(TorchDispatchMode):
    """Records every operator call that reads a device value on the host (or copies one to it)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.paused = False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = str(func.overloadpacket)
        if self.paused:
            pass
        elif name in HOST_READS:
            self.seen.append(name)
        elif name == "aten.repeat_interleave" and (kwargs or {}).get("output_size") is None:
            self.seen.append(name + " without output_size")
        return func(*args, **(kwargs or {}))


def watched(fn, watch: HostReadWatch):
    def wrapper(*args, **kwargs):
        with watch:
            return fn(*args, **kwargs)
    return wrapper


@pytest.mark.parametrize("name", [n for n in SAMPLERS.names() if SAMPLERS[n].applies_to("image")])
def test_no_sampler_step_reads_the_host(name, monkeypatch):
    signal = load_signal(PRESET, max_side=24)
    sampler = make_sampler(name)
    trainer = Trainer(signal, sampler, model=ModelConfig(width=16, hidden_layers=2),
                      config=TrainConfig(steps=12, eval_every=100, device="cpu", grad_clip=0.5, grad_clip_factor=2.0))
    watch = HostReadWatch()
    monkeypatch.setattr(sampler, "select", watched(sampler.select, watch))
    monkeypatch.setattr(sampler, "observe", watched(sampler.observe, watch))
    monkeypatch.setattr(trainer, "_learn", watched(trainer._learn, watch))
    monkeypatch.setattr(trainer, "_clip", watched(trainer._clip, watch))
    warm_up = trainer._warm_up

    def untimed_warm_up(*args):  # off the clock, once per run (edge computes its anchors there)
        watch.paused = True
        try:
            warm_up(*args)
        finally:
            watch.paused = False

    monkeypatch.setattr(trainer, "_warm_up", untimed_warm_up)
    list(trainer.run())
    assert watch.seen == [], f"{name}'s step reads the host: {sorted(set(watch.seen))}"


def test_the_watch_sees_the_host_reads_it_is_for():
    watch = HostReadWatch()
    keys, idx = torch.rand(8), torch.tensor([1, 2])
    with watch:
        keys[idx] = -1.0  # the value is a host tensor copied to the device
        float(keys.sum())
        torch.nonzero(keys > 0)
    assert watch.seen == ["aten.lift_fresh", "aten._local_scalar_dense", "aten.nonzero"]

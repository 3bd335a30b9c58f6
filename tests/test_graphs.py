"""CUDA graphs for the training step (intcore.graphs, TrainConfig.cuda_graphs).

The CPU tests check the setting's plumbing and the optimiser helpers the graphs rely on; the CUDA
tests (skipped without a GPU; bench/gpu_check.py runs them on the card) check that a graphed run gives
the eager run's numbers, takes no host sync per step, frees its memory and survives two trainers in
two threads."""
from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from intcore import TrainConfig, Trainer, load_image, load_signal, make_sampler
from intcore.device import allocated_bytes
from intcore.graphs import (GRAPH_MODES, GraphedLearner, graphs_wanted, make_optimizer, no_cache_autocast,
                            reset_optimizer_state, set_lr)
from intcore.models import ModelConfig, build_model
from intcore.samplers import RandomSampler
from intcore.signals import Signal
from intcore.spec import SETTINGS, RunSpec, make_spec

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
SMALL = ModelConfig(width=64, hidden_layers=3)


def image_signal(side: int = 48, seed: int = 0) -> Signal:
    """A smooth colour picture with some noise, side × side."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:side, 0:side] / side
    pixels = np.stack([np.sin(6 * xx + 3 * yy), np.cos(5 * yy), np.sin(9 * xx * yy)], axis=-1) * 0.4 + 0.5
    return load_image((pixels + rng.normal(0, 0.02, pixels.shape)).clip(0, 1).astype(np.float32), name="test")


# ------------------------------------------------------------------ the setting (CPU)


def test_graphs_wanted_rule() -> None:
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert GRAPH_MODES == ("auto", "on", "off")
    assert graphs_wanted("auto", gpu) and graphs_wanted("on", gpu)
    assert not graphs_wanted("off", gpu)
    assert not graphs_wanted("auto", gpu, compile_mode="reduce-overhead")  # compile records its own
    assert graphs_wanted("auto", gpu, compile_mode="default")
    assert not graphs_wanted("auto", cpu) and not graphs_wanted("off", cpu)
    with pytest.raises(ValueError, match="needs a CUDA device"):
        graphs_wanted("on", cpu)
    with pytest.raises(ValueError, match="cuda_graphs must be one of"):
        graphs_wanted("sometimes", gpu)


def test_setting_from_cli_to_trainer(tmp_path) -> None:
    assert SETTINGS["cuda_graphs"].section == "train" and SETTINGS["cuda_graphs"].choices == GRAPH_MODES
    assert TrainConfig().cuda_graphs == "auto"
    with pytest.raises(ValueError, match="cuda_graphs"):
        TrainConfig(cuda_graphs="yes")
    from PIL import Image

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "p.png")
    spec = make_spec(tmp_path / "p.png", device="cpu", cuda_graphs="off")
    assert spec.train.cuda_graphs == "off"
    assert RunSpec.from_json(spec.to_json()).train.cuda_graphs == "off"
    from intcore.cli import main

    assert main(["fit", str(tmp_path / "p.png"), "--device", "cpu", "--steps", "2", "--cuda-graphs", "off",
                 "--out", str(tmp_path / "out"), "--quiet"]) == 0


def test_on_without_cuda_is_an_error_auto_is_eager() -> None:
    signal = image_signal(16)
    with pytest.raises(ValueError, match="needs a CUDA device"):
        Trainer(signal, make_sampler("random"), model=SMALL, config=TrainConfig(steps=2, device="cpu", cuda_graphs="on"))
    auto = Trainer(signal, make_sampler("random"), model=SMALL, config=TrainConfig(steps=6, eval_every=3, device="cpu"))
    off = Trainer(signal, make_sampler("random"), model=SMALL,
                  config=TrainConfig(steps=6, eval_every=3, device="cpu", cuda_graphs="off"))
    assert [s.quality for s in auto.run()] == [s.quality for s in off.run()]
    assert auto.graph_stats == {"graphs": 0, "replays": 0, "score_replays": 0, "disabled": None}


def test_reset_optimizer_state_is_a_fresh_optimizer() -> None:
    """The warm-up's restore: after a step and a reset in place, the next step is a fresh optimiser's first."""
    torch.manual_seed(0)
    a = torch.nn.Linear(8, 4)
    b = torch.nn.Linear(8, 4)
    b.load_state_dict(a.state_dict())
    opt_a, opt_b = torch.optim.Adam(a.parameters(), lr=1e-2), torch.optim.Adam(b.parameters(), lr=1e-2)
    x = torch.randn(16, 8)
    start = {k: v.clone() for k, v in a.state_dict().items()}
    a(x).square().mean().backward()
    opt_a.step()
    opt_a.zero_grad(set_to_none=True)
    tensors = [id(t) for s in opt_a.state.values() for t in s.values()]
    a.load_state_dict(start)
    reset_optimizer_state(opt_a)
    assert tensors == [id(t) for s in opt_a.state.values() for t in s.values()]  # the same tensors, zeroed
    for model, opt in ((a, opt_a), (b, opt_b)):
        for _ in range(3):
            model(x).square().mean().backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_set_lr_in_place_for_a_tensor_rate() -> None:
    p = [torch.nn.Parameter(torch.zeros(3))]
    tensor_rate = torch.optim.Adam(p, lr=torch.tensor(1e-3))
    rate = tensor_rate.param_groups[0]["lr"]
    set_lr(tensor_rate, 5e-4)
    assert tensor_rate.param_groups[0]["lr"] is rate and rate.item() == pytest.approx(5e-4)
    float_rate = torch.optim.Adam(p, lr=1e-3)
    set_lr(float_rate, 5e-4)
    assert float_rate.param_groups[0]["lr"] == 5e-4


def test_make_optimizer_eager_is_fused_with_a_float_rate() -> None:
    opt = make_optimizer(list(torch.nn.Linear(2, 2).parameters()), 1e-3, torch.device("cpu"), graphs=False)
    assert opt.param_groups[0]["fused"] and opt.param_groups[0]["lr"] == 1e-3


# ------------------------------------------------------------------ on the GPU


def run(sampler: str, graphs: str, steps: int = 30, precision: str = "fp32", schedule: str = "constant",
        signal: Signal | None = None, model: ModelConfig = SMALL, grad_clip: float = 0.0,
        grad_clip_factor: float = 0.0, **options) -> tuple[Trainer, list]:
    config = TrainConfig(steps=steps, eval_every=10, lr=1e-3, lr_schedule=schedule, device="cuda",
                         precision=precision, cuda_graphs=graphs, grad_clip=grad_clip,
                         grad_clip_factor=grad_clip_factor)
    trainer = Trainer(signal or image_signal(), make_sampler(sampler, **options), model=model, config=config)
    return trainer, list(trainer.run())


def assert_same_run(a: tuple[Trainer, list], b: tuple[Trainer, list]) -> None:
    (ta, sa), (tb, sb) = a, b
    assert [s.step for s in sa] == [s.step for s in sb]
    for x, y in zip(sa, sb):
        assert x.quality == pytest.approx(y.quality, abs=0.01)
        assert x.loss == pytest.approx(y.loss, rel=1e-3)
    for pa, pb in zip(ta.model.parameters(), tb.model.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-4, atol=1e-5)


@cuda
@pytest.mark.parametrize("sampler", ["random", "int", "full", "int-amortised"])
def test_graphed_run_gives_the_eager_numbers(sampler: str) -> None:
    graphed = run(sampler, "on")
    assert_same_run(graphed, run(sampler, "off"))
    stats = graphed[0].graph_stats
    assert stats["graphs"] == 1 and stats["replays"] == 30  # every step replayed, recorded in the warm-up
    if sampler == "int":
        assert stats["score_replays"] >= 30


@cuda
def test_graphed_run_follows_the_lr_schedule_and_bf16() -> None:
    """A rate frozen at capture, or a cached bf16 weight, would show here; so would a clip left out."""
    assert_same_run(run("random", "on", schedule="cosine"), run("random", "off", schedule="cosine"))
    assert_same_run(run("random", "on", precision="bf16"), run("random", "off", precision="bf16"))
    clipped = run("random", "on", grad_clip=0.05)
    assert_same_run(clipped, run("random", "off", grad_clip=0.05))
    unclipped = run("random", "on")
    assert not torch.allclose(next(clipped[0].model.parameters()), next(unclipped[0].model.parameters()))
    # the clip at a multiple of the running mean norm keeps its mean in a tensor the graph updates
    assert_same_run(run("random", "on", grad_clip_factor=1.5), run("random", "off", grad_clip_factor=1.5))


@cuda
def test_an_observing_sampler_gets_tensors_of_its_own() -> None:
    """Sampler.observe's contract: fresh tensors, which the next replay must not overwrite."""
    seen: list[tuple[torch.Tensor | None, torch.Tensor]] = []

    class Keeper(RandomSampler):
        observes = True

        def observe(self, indices, errors):
            seen.append((indices, errors))

    config = TrainConfig(steps=6, eval_every=10, lr=1e-3, device="cuda", cuda_graphs="on")
    trainer = Trainer(image_signal(), Keeper(), model=SMALL, config=config, method="keeper")
    list(trainer.run())
    assert trainer.graph_stats["replays"] == 6 and len(seen) == 7  # the warm-up's, then one per step
    errors = [e for _, e in seen[1:]]
    assert len({e.data_ptr() for e in errors}) == len(errors)
    assert not torch.equal(errors[0], errors[-1])


@cuda
def test_a_graph_per_subset_size() -> None:
    """int-official's 10 stages: one graph per k met more than once; the numbers still the eager ones."""
    graphed = run("int-official", "on", steps=100)
    assert_same_run(graphed, run("int-official", "off", steps=100))
    stats = graphed[0].graph_stats
    assert 5 <= stats["graphs"] <= 10 and stats["replays"] >= 80
    linear = run("int-progressive", "on", steps=40)[0].graph_stats  # k changes every step: nothing recorded
    assert linear["replays"] <= 2


@cuda
@pytest.mark.parametrize("sampler", ["soft", "int-amortised"])
def test_weighted_losses_replay_with_their_weights(sampler: str) -> None:
    """Samplers that weight each point's loss (SelectionContext.weights): the weights travel too."""
    graphed = run(sampler, "on", steps=20)
    assert_same_run(graphed, run(sampler, "off", steps=20))
    assert graphed[0].graph_stats["replays"] == 20


@cuda
def test_no_host_sync_in_a_replayed_step() -> None:
    signal = image_signal()
    coords, values = signal.coords.cuda(), signal.values.cuda()
    model = build_model(SMALL, 2, 3, seed=0).cuda()
    opt = make_optimizer(list(model.parameters()), 1e-3, torch.device("cuda"), graphs=True)
    mse = torch.nn.functional.mse_loss
    model(coords).sub(values).square().mean().backward()  # the warm-up creates Adam's state
    opt.step()
    reset_optimizer_state(opt)
    learner = GraphedLearner(model, opt, coords, values, mse, None, no_cache_autocast("cuda", False))
    gen = torch.Generator(device="cuda").manual_seed(0)
    k = signal.n // 5
    learner.prepare(torch.randperm(signal.n, generator=gen, device="cuda")[:k])
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(10):
            opt.zero_grad(set_to_none=True)
            selected = torch.randperm(signal.n, generator=gen, device="cuda")[:k]
            assert learner.step(selected) is not None
            set_lr(opt, 5e-4)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert learner.replays == 10
    learner.close()


def allocated_without_workspaces() -> int:
    """Allocated bytes once cuBLAS's workspaces are released (intcore.device.allocated_bytes)."""
    return allocated_bytes(torch.device("cuda"))[0]


@cuda
def test_graphs_free_their_memory() -> None:
    before = allocated_without_workspaces()
    trainer, _ = run("int-official", "on", steps=40)
    assert trainer.graph_stats["graphs"] >= 2
    del trainer, _
    assert allocated_without_workspaces() == before


@cuda
def test_two_trainers_in_two_threads() -> None:
    """The app races two sessions at once: graphs recorded in one thread while the other trains."""
    alone = {s: run(s, "on", steps=60) for s in ("random", "int-official")}
    together: dict[str, tuple[Trainer, list]] = {}
    errors: list[BaseException] = []

    def go(sampler: str) -> None:
        try:
            together[sampler] = run(sampler, "on", steps=60)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(s,)) for s in alone]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for s in alone:
        assert_same_run(together[s], alone[s])


@cuda
def test_graphs_make_a_small_step_cheaper() -> None:
    """A 20 % step of the melody preset (38 k samples) on a 5 × 256 SIREN is launch-bound eagerly."""
    from pathlib import Path

    signal = load_signal(Path(__file__).resolve().parents[1] / "assets/audio/melody.wav")
    model = ModelConfig(width=256, hidden_layers=5, first_w0=3000.0)

    def ms_per_step(graphs: str) -> float:
        trainer, snaps = run("random", graphs, steps=200, signal=signal, model=model)
        return snaps[-1].train_seconds / snaps[-1].step * 1000

    ms_per_step("on")  # warm the card up
    eager, graphed = ms_per_step("off"), ms_per_step("on")
    assert graphed < 0.8 * eager, (graphed, eager)

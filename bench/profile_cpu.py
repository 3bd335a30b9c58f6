"""How much of a CPU training step is *not* the network's own arithmetic.

The default CPU preset (intcore/defaults.py): kodim23 at 128 px (128×85 = 10,880 pixels), SIREN 4×128,
Adam lr 5e-4, INT as the app runs it by default (top-20 % every step). Two measurements:

A. Subtraction. The real Trainer runs 20 and then STEPS steps; the difference of the two runs' CPU time
   (process time, robust to other jobs on a shared machine, unlike wall time), over STEPS − 20, is the
   CPU time of one step, with set-up and the final evaluation cancelled out. Then the network's own
   arithmetic is timed alone the same way on the same weights: the teacher's no-grad forward over all
   N, plus forward + loss + backward on a contiguous batch of each step's k (k from the sampler's
   schedule). Overhead = step − network: selection (error norm, top-k), gathering the subset, Adam,
   zeroing the gradients, the loop's bookkeeping.
B. Op breakdown. torch.profiler over the real Trainer's steps; the self CPU time of the ops that are not
   network arithmetic (top-k, norm, index, the fused Adam kernel, zeroing, ...) over the total.

    python bench/profile_cpu.py [--threads N] [--steps 60]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intcore import TrainConfig, Trainer, load_image, make_sampler  # noqa: E402
from intcore.device import cpu_threads  # noqa: E402
from intcore.models import ModelConfig, build_model  # noqa: E402
from intcore.samplers import subset_size  # noqa: E402

PRESET = Path(__file__).resolve().parents[1] / "assets" / "images" / "kodim23.png"
MODEL = ModelConfig(width=128, hidden_layers=4)
# Ops that are the network's own arithmetic (forward, loss, backward of the SIREN); all others are overhead.
NETWORK_OPS = ("aten::addmm", "aten::mm", "aten::sin", "aten::cos", "aten::mul", "aten::add", "aten::sum",
               "aten::mse_loss", "aten::mse_loss_backward", "aten::linear", "aten::t", "aten::expand",
               "aten::sub", "aten::pow", "aten::mean", "aten::div", "aten::copy_", "aten::empty", "aten::view")


def network_seconds(signal, k: int | None, steps: int) -> float:
    """CPU seconds per step of the network's arithmetic alone: the teacher's no-grad forward over all N
    (INT only, k given), then forward + loss + backward on a contiguous batch of k (all N for full)."""
    model = build_model(MODEL, 2, 3, 0)
    coords, values = signal.coords, signal.values
    x, y = (coords, values) if k is None else (coords[:k].contiguous(), values[:k].contiguous())
    t0 = time.process_time()
    for _ in range(steps):
        if k is not None:
            with torch.no_grad():
                model(coords)
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        model.zero_grad(set_to_none=True)
    return (time.process_time() - t0) / steps


def trainer_cpu_seconds(signal, sampler: str, options: dict, steps: int) -> float:
    cfg = TrainConfig(steps=steps, eval_every=10**6, lr=5e-4, device="cpu")
    t0 = time.process_time()
    list(Trainer(signal, make_sampler(sampler, **options), model=MODEL, config=cfg).run())
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, help="torch threads (default: intcore.device.cpu_threads())")
    ap.add_argument("--steps", type=int, default=60)
    args = ap.parse_args()
    torch.set_num_threads(args.threads or cpu_threads())
    signal = load_image(PRESET, max_side=128)
    n = signal.n
    sampler = make_sampler("int")
    cfg = TrainConfig(steps=args.steps, eval_every=10**6, lr=5e-4, device="cpu")
    print(f"preset: {PRESET.name} at 128 px, N = {n}, SIREN 4x128, INT {sampler.describe()}, "
          f"{args.steps} steps, {torch.get_num_threads()} threads, torch {torch.__version__}")

    # A. Subtraction for INT (the default: top-20 % every step) and for
    #    full batch (what a ratio schedule ends at). CPU time, median of 3.
    for label, name, options, k in (("INT 20 % dense", "int", {"schedule": "constant"}, subset_size(0.2, n)),
                                    ("full batch", "full", {}, None)):
        per_step = []
        for _ in range(3):
            short = trainer_cpu_seconds(signal, name, options, 20)
            long = trainer_cpu_seconds(signal, name, options, args.steps)
            per_step.append((long - short) / (args.steps - 20))
        step = statistics.median(per_step)
        net = statistics.median(network_seconds(signal, k, args.steps - 20) for _ in range(3))
        print(f"A. {label}: CPU time per step {1e3 * step:.2f} ms, network arithmetic alone {1e3 * net:.2f} ms, "
              f"outside the network {1e3 * (step - net):.2f} ms = {100 * (step - net) / step:.1f} % of the step")

    # B. Op breakdown of the real Trainer under torch.profiler.
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        list(Trainer(signal, make_sampler("int"), model=MODEL, config=cfg).run())
    rows = [(e.key, e.self_cpu_time_total) for e in prof.key_averages()]
    total = sum(t for _, t in rows)
    other = sorted(((k, t) for k, t in rows if k not in NETWORK_OPS and k.startswith("aten::")), key=lambda r: -r[1])
    outside = sum(t for _, t in other)
    print(f"B. profiler: ops outside the network's arithmetic {100 * outside / total:.1f} % of self CPU time "
          f"(includes the final evaluation); largest:")
    for k, t in other[:8]:
        print(f"   {k:<32} {100 * t / total:5.2f} %")


if __name__ == "__main__":
    main()

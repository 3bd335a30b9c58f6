"""How long the lecture's kernel view and step explanation take at the CPU default working size.

The CPU default image problem: a preset at 128 px on the longer side, SIREN 4 × 128 (intcore/defaults.py).
Times, each as the median of REPEATS calls after one untimed warm-up, wall clock on this machine:
  - kernel row K(x₀, ·) over all N pixels (one VJP + one chunked JVP): the kernel view's click;
  - the same row normalised (needs every K(x, x), per-pixel gradient norms);
  - one step's Δf and J·Δθ (two forwards + one JVP).
Target: a kernel row under 1 s on a 2-core CPU. Report `uptime`'s load with the numbers.

    python bench/kernel_row.py [--image assets/images/camera.png] [--max-side 128] [--threads N] [--repeats 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intcore import ModelConfig, build_model, load_image  # noqa: E402
from intcore.teach import kernel_row, parameters_of, step_effect  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, repeats: int) -> float:
    fn()  # warm-up: allocator, first-call dispatch
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default=str(ROOT / "assets" / "images" / "camera.png"))
    ap.add_argument("--max-side", type=int, default=128)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    signal = load_image(args.image, max_side=args.max_side)
    model = build_model(ModelConfig(width=args.width, hidden_layers=args.depth), 2, signal.out_features, seed=0)
    params = parameters_of(model)
    x0 = signal.coords[signal.n // 2]
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    torch.nn.functional.mse_loss(model(signal.coords[: signal.n // 5]), signal.values[: signal.n // 5]).backward()
    opt.step()
    after = parameters_of(model)
    print(f"{signal.name}: {signal.shape} = {signal.n} pixels × {signal.out_features} channels, "
          f"SIREN {args.depth}×{args.width} ({sum(p.numel() for p in params.values())} parameters), "
          f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.2f}")
    row = timed(lambda: kernel_row(model, params, x0, signal.coords), args.repeats)
    print(f"kernel row:            {row * 1000:8.1f} ms (median of {args.repeats})")
    norm = timed(lambda: kernel_row(model, params, x0, signal.coords, normalize=True), max(1, args.repeats // 2))
    print(f"normalised kernel row: {norm * 1000:8.1f} ms")
    eff = timed(lambda: step_effect(model, params, after, signal.coords), args.repeats)
    print(f"step effect (Δf, J·Δθ): {eff * 1000:7.1f} ms")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

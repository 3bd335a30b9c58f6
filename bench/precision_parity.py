"""PSNR of bf16 against fp32 at equal steps: does bf16 autocast keep SIREN's quality?

Three precisions, each run from the same seed for the same number of steps on each signal and sampler:

  fp32        the reference
  bf16        `precision="bf16"` as intcore.models runs it (bf16 hidden matrix products; first layer,
              sine arguments and output layer in fp32)
  bf16-plain  plain autocast over the whole SIREN (the earlier behaviour, for comparison): every
              linear layer in bf16, the sine applied to a bf16 argument

Prints one row per (signal, sampler, precision): final and best PSNR, the gap to fp32, and the
training seconds (only meaningful on the device that will use bf16: a CPU's bf16 speed is not a GPU's).

    python bench/precision_parity.py IMAGE [IMAGE ...] [--device cpu] [--steps 600] [--max-side 128]
        [--samplers random,full] [--width 256 --hidden-layers 5 --lr 1e-4 --lr-schedule late-cosine]
        [--json out.json]

Parity is the gap |PSNR_bf16 − PSNR_fp32| at the last step; pick signals the model was not tuned on.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from intcore import TrainConfig, Trainer, load_signal, make_sampler  # noqa: E402
from intcore import models  # noqa: E402
from intcore.models import ModelConfig  # noqa: E402

PRECISIONS = ("fp32", "bf16", "bf16-plain")


@contextlib.contextmanager
def plain_autocast() -> Iterator[None]:
    """SIREN's forward as it was before the fp32 sine arguments: autocast applies to every layer."""
    sine, siren = models.SineLayer.forward, models.Siren.forward
    models.SineLayer.forward = lambda self, x: torch.sin(self.w0 * self.linear(x))  # type: ignore[method-assign]
    models.Siren.forward = lambda self, coords: self.net(coords)  # type: ignore[method-assign]
    try:
        yield
    finally:
        models.SineLayer.forward, models.Siren.forward = sine, siren  # type: ignore[method-assign]


def run_one(path: str, sampler: str, precision: str, args: argparse.Namespace) -> dict[str, Any]:
    """One run to `args.steps`; the final and best PSNR and the training seconds."""
    options = {"max_side": args.max_side} if args.max_side else {}
    signal = load_signal(path, **options)
    model = ModelConfig(width=args.width, hidden_layers=args.hidden_layers)
    config = TrainConfig(steps=args.steps, lr=args.lr, lr_schedule=getattr(args, "lr_schedule", "late-cosine"),
                         eval_every=max(1, args.steps // 10), device=args.device,
                         precision="fp32" if precision == "fp32" else "bf16", seed=args.seed)
    context = plain_autocast() if precision == "bf16-plain" else contextlib.nullcontext()
    start = time.perf_counter()
    with context:
        snaps = list(Trainer(signal, make_sampler(sampler), model=model, config=config).run())
    last = snaps[-1]
    return {"signal": Path(path).name, "shape": list(signal.shape), "sampler": sampler, "precision": precision,
            "steps": last.step, "psnr": round(last.quality, 3), "best_psnr": round(last.best_quality, 3),
            "train_seconds": round(last.train_seconds, 3), "wall_seconds": round(time.perf_counter() - start, 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("signals", nargs="+", help="image files (not ones the settings were tuned on)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--max-side", type=int, default=128, help="0: full size")
    p.add_argument("--samplers", default="random,full")
    p.add_argument("--precisions", default=",".join(PRECISIONS))
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--hidden-layers", type=int, default=5)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--lr-schedule", default="late-cosine", help="the images' default: a constant lr makes the "
                   "last PSNR of a random-subset run jump by a dB from one evaluation to the next")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, help="also write the rows here")
    args = p.parse_args(argv)
    rows: list[dict[str, Any]] = []
    print("| signal | sampler | precision | steps | PSNR dB | best dB | vs fp32 dB | train s |")
    print("|---|---|---|---|---|---|---|---|")
    for path in args.signals:
        for sampler in args.samplers.split(","):
            ref = None
            for precision in args.precisions.split(","):
                row = run_one(path, sampler, precision, args)
                if precision == "fp32":
                    ref = row["psnr"]
                row["gap_db"] = None if ref is None else round(row["psnr"] - ref, 3)
                rows.append(row)
                gap = "—" if row["gap_db"] is None or precision == "fp32" else f"{row['gap_db']:+.2f}"
                print(f"| {row['signal']} | {sampler} | {precision} | {row['steps']} | {row['psnr']:.2f} | "
                      f"{row['best_psnr']:.2f} | {gap} | {row['train_seconds']:.2f} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"device": args.device, "args": {k: v for k, v in vars(args).items()
                                                                          if k != "json"}, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

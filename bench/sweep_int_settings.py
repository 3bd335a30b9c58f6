"""Race INT's ratio schedules and re-selection intervals against full batch on one picture.

    python bench/sweep_int_settings.py PICTURE [--seconds 15] [--max-side 128] [--device cpu]

Every setting starts from the same weights and gets the same training time; all run interleaved
(intcore.runs.race), so background load slows them alike. Prints, per setting: steps made, final and
best PSNR, and the time saving against full batch at the best PSNR both reached. This is how the CPU
default of the `int` sampler was chosen (README, "Choosing the CPU defaults").
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intcore import ModelConfig, TrainConfig, load_image  # noqa: E402
from intcore.runs import default_target, race, time_savings  # noqa: E402
from intcore.samplers import FullSampler, IntSampler  # noqa: E402

SETTINGS = {
    "constant/dense": IntSampler(schedule="constant", interval="dense"),
    "step/dense": IntSampler(schedule="step", interval="dense"),
    "step/every-5": IntSampler(schedule="step", interval="every-5"),
    "step/incremental": IntSampler(schedule="step", interval="incremental"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("picture", type=Path)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--max-side", type=int, default=128)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    signal = load_image(args.picture, max_side=args.max_side)
    samplers = {"full": FullSampler(), **SETTINGS}
    results = race(signal, samplers, ModelConfig(width=128, hidden_layers=4),
                   TrainConfig(seconds=args.seconds, lr=5e-4, eval_every=10, device=args.device))
    full = results["full"]
    print(f"{'setting':<18}{'steps':>7}{'final dB':>10}{'best dB':>9}{'saving':>9}")
    print(f"{'full':<18}{full.final.step:>7}{full.final.quality:>10.2f}{full.best_quality:>9.2f}")
    for name in SETTINGS:
        pair = {"int": results[name], "full": full}
        saving = time_savings(pair, default_target(pair))["int"]
        r = results[name]
        print(f"{name:<18}{r.final.step:>7}{r.final.quality:>10.2f}{r.best_quality:>9.2f}"
              f"{'—' if saving is None else f'{saving:+.2f}':>9}")


if __name__ == "__main__":
    main()

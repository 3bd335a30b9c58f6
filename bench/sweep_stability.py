"""Does a run end at its best? One sampler, one learning-rate setting, a step budget.

    python bench/sweep_stability.py SIGNAL SAMPLER LR SCHEDULE STEPS
    e.g. python bench/sweep_stability.py melody.wav random 5e-4 constant 800

The modality's CPU defaults otherwise (model, loader options), one torch thread, evaluation every 10
steps. A step budget makes the outcome independent of the machine's load. Prints one JSON line: best
and final quality, their difference, the largest fall below the running best at any evaluation, and
whether intcore.runs flags the run (final more than 1 dB / 1 % IoU below its best).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from intcore.defaults import defaults_for  # noqa: E402
from intcore.modalities import load_signal, modality_for_path  # noqa: E402
from intcore.runs import run_method  # noqa: E402
from intcore.samplers import make_sampler  # noqa: E402
from intcore.trainer import TrainConfig  # noqa: E402


def main() -> None:
    if len(sys.argv) != 6:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        raise SystemExit(2)
    path, sampler, lr, schedule, steps = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    torch.set_num_threads(1)
    modality = modality_for_path(path)
    d = defaults_for(modality, torch.device("cpu"))
    signal = load_signal(path, **d.load_options)
    config = TrainConfig(steps=steps, lr=lr, lr_schedule=schedule, eval_every=10, device="cpu")
    r = run_method(signal, make_sampler(sampler), d.model, config)
    q = [s.quality for s in r.curve]
    worst = max(max(q[: i + 1]) - q[i] for i in range(len(q)))
    print(json.dumps({"signal": os.path.basename(path), "sampler": sampler, "lr": lr, "schedule": schedule,
                      "steps": steps, "best": round(r.best_quality, 2), "final": round(r.final.quality, 2),
                      "drop": round(r.drop_from_best, 2), "worst_fall": round(worst, 2), "fell": r.fell_from_best,
                      "load": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()

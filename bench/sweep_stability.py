"""Does a run end at its best, and does its curve ever fall off a cliff? Samplers × signals at a step budget.

    python bench/sweep_stability.py SIGNAL [SIGNAL ...] --samplers random,int --steps 900
        [--set grad_clip=0.1,lr=5e-4,lr_schedule=late-cosine] [--seeds 1] [--json out.jsonl]

Every run uses the modality's CPU defaults (intcore.defaults) changed by --set (settings by their
intcore.spec.SETTINGS names), one torch thread, evaluation every 10 steps. A step budget makes the
outcome independent of the machine's load. Prints one row per run: best and final quality, how far the
final ended below the best (`drop`), and the largest fall below the running best at any evaluation
(`largest dip`); the project's limits are 1 dB / 0.01 IoU for the drop and 3 dB / 0.03 IoU for a dip
(intcore.runs.FALL_TOLERANCE and DIP_TOLERANCE).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from intcore.runs import DIP_TOLERANCE, FALL_TOLERANCE, run_method  # noqa: E402
from intcore.spec import make_spec  # noqa: E402


def parse_settings(text: str) -> dict[str, str]:
    """"key=value,key=value" -> {key: value} (values are validated by intcore.spec)."""
    out = {}
    for pair in filter(None, text.split(",")):
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"sweep_stability: --set takes key=value pairs, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("signals", nargs="+", type=Path)
    ap.add_argument("--samplers", default="random,int")
    ap.add_argument("--steps", type=int, default=900)
    ap.add_argument("--set", default="", help="settings by their intcore.spec names: key=value,...")
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--json", type=Path, help="append one JSON line per run to this file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    settings = parse_settings(args.set)
    print(f"{'signal':<22}{'sampler':<16}{'seed':>5}{'best':>9}{'final':>9}{'drop':>7}{'largest dip':>13}  flags")
    for path in args.signals:
        for seed in range(args.seeds):
            for name in args.samplers.split(","):
                spec = make_spec(path, device="cpu", samplers=[name], steps=args.steps, eval_every=10, seed=seed,
                                 **settings)
                signal = spec.load_signal()
                r = run_method(signal, spec.samplers[0].build(), spec.model, spec.train, method=name)
                metric = r.final.metric
                flags = [f for f, bad in (("fell", r.fell_from_best), ("dip", r.largest_dip > DIP_TOLERANCE[metric])) if bad]
                print(f"{path.name:<22}{name:<16}{seed:>5}{r.best_quality:>9.3f}{r.final.quality:>9.3f}"
                      f"{r.drop_from_best:>7.2f}{r.largest_dip:>13.2f}  {' '.join(flags)}", flush=True)
                if args.json:
                    row = {"signal": path.name, "sampler": name, "seed": seed, "steps": args.steps, "settings": settings,
                           "best": r.best_quality, "final": r.final.quality, "drop": r.drop_from_best,
                           "largest_dip": r.largest_dip, "fell": r.fell_from_best, "load": os.getloadavg()[0],
                           "limits": {"drop": FALL_TOLERANCE[metric], "dip": DIP_TOLERANCE[metric]}}
                    with open(args.json, "a") as fh:
                        fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()

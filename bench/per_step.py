"""Quality per training *step* of several samplers on one signal, and what a step costs.

    python bench/per_step.py SIGNAL --steps 600 --entries "random=random;int=int;am=int-amortised:refresh=0.05"
        [--set grad_clip=0.1] [--marks 100,300,600] [--seed 0] [--json out.json]

A step budget makes the curves independent of the machine's speed and load (one torch thread, the
same seed: the same numbers on every run); the ms per step beside them is this machine's, under its
current load (printed). Every entry starts from the same weights (intcore.runs.race). Entries are
"label=sampler:option=value,…" separated by ";" (the syntax of bench/sweep_teachers.py). Settings by
their intcore.spec names change the modality's CPU defaults (--set key=value,...).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from intcore.runs import race  # noqa: E402
from intcore.samplers import make_sampler  # noqa: E402
from intcore.spec import make_spec  # noqa: E402
from sweep_stability import parse_settings  # noqa: E402
from sweep_teachers import parse_entries  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("signal", type=Path)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--entries", required=True)
    ap.add_argument("--set", default="")
    ap.add_argument("--marks", default="100,300,600")
    ap.add_argument("--eval-every", type=int, default=25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(1)
    spec = make_spec(args.signal, device="cpu", samplers=["full"], steps=args.steps, eval_every=args.eval_every,
                     seed=args.seed, **parse_settings(args.set))
    signal = spec.load_signal()
    samplers = {label: make_sampler(name, **options) for label, (name, options) in parse_entries(args.entries).items()}
    load = os.getloadavg()[0]
    results = race(signal, samplers, spec.model, spec.train, keep_final_reconstruction=False)
    marks = [int(m) for m in args.marks.split(",")]
    print(f"{args.signal.name}: {args.steps} steps, settings {args.set or 'defaults'}, seed {args.seed}; "
          f"load {load:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"{'entry':<14}{'ms/step':>9}" + "".join(f"{'@' + str(m):>9}" for m in marks) + f"{'best':>9}")
    out = {}
    for label, r in results.items():
        at = {s.step: s.quality for s in r.curve}
        ms = 1000 * r.final.train_seconds / max(1, r.final.step)
        print(f"{label:<14}{ms:>9.2f}" + "".join(f"{at.get(m, float('nan')):>9.2f}" for m in marks)
              + f"{r.best_quality:>9.2f}")
        out[label] = {"ms_per_step": ms, "curve": [(s.step, s.train_seconds, s.quality) for s in r.curve]}
    if args.json:
        args.json.write_text(json.dumps({"signal": str(args.signal), "steps": args.steps, "set": args.set,
                                         "seed": args.seed, "entries": out}))


if __name__ == "__main__":
    main()

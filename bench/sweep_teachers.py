"""Race teachers at equal training time on one signal and check the equal-time target.

    python bench/sweep_teachers.py SIGNAL --seconds 20 [--entries "int=int;pool=int-pool:pool=0.5,interval=2"]
        [--lr 5e-4] [--lr-schedule constant|cosine] [--max-side 128] [--out result.json]

Every entry starts from the same weights and gets the same training time; all run interleaved in one
process (intcore.runs.race), so background load slows them alike. The target is full batch's final
quality; for each entry it prints the training seconds to reach it, that time as a fraction of full
batch's and of random's time to the same quality (the goal: ≤ 50 % and ≤ 80 %), and how far its final
quality ended below its best. `full` and `random` are always raced. Prints the machine's load average.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from intcore.defaults import defaults_for  # noqa: E402
from intcore.modalities import load_signal, modality_for_path  # noqa: E402
from intcore.runs import race  # noqa: E402
from intcore.samplers import make_sampler  # noqa: E402
from intcore.trainer import TrainConfig  # noqa: E402

DEFAULT_ENTRIES = "int=int;int-pool=int-pool"


def parse_entries(text: str) -> dict[str, tuple[str, dict]]:
    """"label=name:key=value,key=value;…" -> {label: (sampler name, options)}; values as JSON when they parse."""
    out: dict[str, tuple[str, dict]] = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        label, _, spec = item.partition("=")
        name, _, opts = spec.partition(":")
        options = {}
        for pair in filter(None, opts.split(",")):
            key, _, value = pair.partition("=")
            try:
                options[key] = json.loads(value)
            except json.JSONDecodeError:
                options[key] = value
        out[label] = (name or label, options)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("signal", type=Path)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--entries", default=DEFAULT_ENTRIES)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--lr-schedule", choices=["constant", "cosine"],
                    help="default: the modality's (intcore.defaults: cosine for audio, constant otherwise)")
    ap.add_argument("--max-side", type=int)
    ap.add_argument("--eval-every", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (default 1: on a loaded 2-core machine two threads wait on each other)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    modality = modality_for_path(args.signal)
    d = defaults_for(modality, device)
    load = dict(d.load_options)
    if args.max_side and modality == "image":
        load["max_side"] = args.max_side
    signal = load_signal(args.signal, **load)
    entries = {"full": ("full", {}), "random": ("random", {}), **parse_entries(args.entries)}
    samplers = {label: make_sampler(name, **opts) for label, (name, opts) in entries.items()}
    lr = args.lr or d.lr
    lr_schedule = args.lr_schedule or d.lr_schedule
    config = TrainConfig(seconds=args.seconds, lr=lr, lr_schedule=lr_schedule, eval_every=args.eval_every,
                         device="cpu", seed=args.seed, **d.optimiser)
    load_before = os.getloadavg()
    results = race(signal, samplers, d.model, config, keep_final_reconstruction=False)
    load_after = os.getloadavg()
    target = results["full"].final.quality
    t_full, t_random = results["full"].seconds_to(target), results["random"].seconds_to(target)
    rows = []
    for label, r in results.items():
        t = r.seconds_to(target)
        rows.append({
            "entry": label, "sampler": entries[label][0], "options": samplers[label].config, "steps": r.final.step,
            "final": round(r.final.quality, 4), "best": round(r.best_quality, 4),
            "fell": round(r.best_quality - r.final.quality, 4),
            "seconds_to_target": None if t is None else round(t, 3),
            "vs_full": None if t is None or not t_full else round(t / t_full, 3),
            "vs_random": None if t is None else (0.0 if t_random is None else round(t / t_random, 3)),
        })
    report = {"signal": str(args.signal), "modality": modality, "n": signal.n, "shape": list(signal.shape),
              "seconds": args.seconds, "lr": lr, "lr_schedule": lr_schedule, "metric": results["full"].final.metric,
              "target": round(target, 4), "load_before": [round(x, 2) for x in load_before],
              "load_after": [round(x, 2) for x in load_after], "cpus": os.cpu_count(), "threads": args.threads,
              "eval_every": args.eval_every, "rows": rows}
    unit = "dB" if report["metric"] == "psnr" else "IoU"
    print(f"{args.signal.name} ({modality}, N={signal.n}) {args.seconds:g} s each, lr {lr:g} {lr_schedule}; "
          f"target = full's final {target:.3f} {unit}; load {load_before[0]:.1f} -> {load_after[0]:.1f} on {os.cpu_count()} cpus")
    print(f"{'entry':<16}{'steps':>7}{'final':>9}{'best':>9}{'fell':>7}{'s→tgt':>8}{'/full':>7}{'/rand':>7}")
    for row in rows:
        fmt = lambda v, f: "—" if v is None else format(v, f)  # noqa: E731
        print(f"{row['entry']:<16}{row['steps']:>7}{row['final']:>9.3f}{row['best']:>9.3f}{row['fell']:>7.2f}"
              f"{fmt(row['seconds_to_target'], '.2f'):>8}{fmt(row['vs_full'], '.2f'):>7}{fmt(row['vs_random'], '.2f'):>7}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Command line: `python -m intcore fit|compare|bench`.

Human-readable progress and tables go to stderr/stdout; the last line of stdout is always one JSON
object, so scripts can read `tail -n 1`. Bad input exits with code 2 and a single line on stderr.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

import torch

from .defaults import defaults_for
from .device import resolve_device
from .modalities import MODALITIES, get_modality, load_options, load_signal, modality_for_path
from .runs import RunResult, default_target, race, run_method, time_savings, write_curves_csv, write_json
from .samplers import SAMPLERS, make_sampler, sampler_options
from .signals import Signal, SignalError
from .trainer import TrainConfig

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad command-line input: reported as one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def add_common_options(p: argparse.ArgumentParser) -> None:
    """Options shared by fit and compare (and reused by bench)."""
    p.add_argument("path", type=Path, help="signal file (image; audio and meshes where supported)")
    p.add_argument("--modality", choices=MODALITIES.names(), help="override the modality guessed from the extension")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=_positive_int, help="training steps per sampler (default: 300 on CPU, 3000 on GPU)")
    budget.add_argument("--seconds", type=_positive_float, help="training-time budget per sampler, in seconds")
    p.add_argument("--ratio", type=_positive_float, help="fraction of coordinates per step for subset samplers (default 0.2)")
    p.add_argument("--schedule", help="INT ratio schedule: constant, linear, step, cosine")
    p.add_argument("--interval", help="INT re-selection interval: dense, every-N, incremental")
    p.add_argument("--max-side", type=_positive_int, help="downscale images so the longer side is at most this (default: 128 on CPU, full size on GPU)")
    p.add_argument("--max-seconds", type=_positive_float, help="audio: keep the first this many seconds (default: 1 on CPU, 10 on GPU)")
    p.add_argument("--grid", type=_positive_int, help="shapes: occupancy grid points per side (default: 32 on CPU, 64 on GPU)")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    p.add_argument("--seed", type=int, default=0, help="initial weights and random draws (default 0)")
    p.add_argument("--lr", type=_positive_float, help="Adam learning rate (default: 5e-4 on CPU, 1e-4 on GPU)")
    p.add_argument("--lr-schedule", choices=["constant", "cosine"], default="constant")
    p.add_argument("--width", type=_positive_int, help="SIREN width (default: 128 on CPU, 256 on GPU)")
    p.add_argument("--depth", type=_positive_int, help="SIREN sine layers (default: 4 on CPU, 5 on GPU)")
    p.add_argument("--w0", type=_positive_float, help="SIREN frequency factor of the first layer")
    p.add_argument("--eval-every", type=_positive_int, help="evaluate on the full signal every N steps")
    p.add_argument("--out", type=Path, help="folder for the outputs (default: runs/<command>-<signal>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m intcore", description="Fit implicit neural representations with INT and its baselines.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    fit = sub.add_parser("fit", help="fit one signal with one sampler")
    add_common_options(fit)
    fit.add_argument("--sampler", default="int", choices=SAMPLERS.names())
    fit.set_defaults(handler=cmd_fit)

    cmp = sub.add_parser("compare", help="fit one signal with several samplers from the same initial weights")
    add_common_options(cmp)
    cmp.add_argument("--samplers", default="int,full,random", help="comma-separated sampler names (default int,full,random)")
    cmp.add_argument("--target-psnr", "--target", dest="target", type=float,
                     help="quality target for time-to-target (dB, or IoU for shapes); default: the best both int and full reached")
    cmp.set_defaults(handler=cmd_compare)

    try:
        from . import bench
    except ImportError:  # the benchmark is optional: fit and compare work without it
        bench = None  # type: ignore[assignment]
    if bench is not None and hasattr(bench, "register"):
        bench.register(sub)
    return parser


# ---------------------------------------------------------------- setup shared by the commands


def prepare(args: argparse.Namespace) -> tuple[Signal, torch.device, Any, TrainConfig]:
    """Load the signal and turn the options plus device defaults into model and train configs."""
    device = resolve_device(args.device)
    modality = args.modality or modality_for_path(args.path)
    d = defaults_for(modality, device)
    # Loader options: the device's defaults, then what was given; an option the loader lacks is an error.
    given = {k: v for k, v in {"max_side": args.max_side, "max_seconds": args.max_seconds, "grid": args.grid}.items() if v is not None}
    for key in set(given) - load_options(modality):
        raise UsageError(f"--{key.replace('_', '-')} does not apply to {modality} signals")
    signal = load_signal(args.path, modality=modality, **{**d.load_options, **given})
    for note in signal.metadata.get("notices", []):
        print(f"note: {note}", file=sys.stderr)
    model = d.model.replace(
        **{k: v for k, v in {"width": args.width, "hidden_layers": args.depth, "first_w0": args.w0}.items() if v is not None}
    )
    steps = args.steps if args.steps is not None else d.steps
    config = TrainConfig(
        steps=None if args.seconds else steps,
        seconds=args.seconds,
        lr=args.lr or d.lr,
        lr_schedule=args.lr_schedule,
        eval_every=args.eval_every or d.eval_every,
        seed=args.seed,
        device=str(device),
    )
    return signal, device, model, config


def sampler_from_args(name: str, args: argparse.Namespace):
    """Build a sampler, passing it only the shared options it takes (e.g. no --ratio for full)."""
    given = {"ratio": args.ratio, "schedule": args.schedule, "interval": args.interval}
    accepted = sampler_options(name)
    return make_sampler(name, **{k: v for k, v in given.items() if v is not None and k in accepted})


def out_dir(args: argparse.Namespace, signal: Signal) -> Path:
    path = args.out or Path("runs") / f"{args.command}-{signal.name}"
    path.mkdir(parents=True, exist_ok=True)
    return path


class Progress:
    """A tqdm bar on stderr over steps (or training seconds), one bar per run."""

    def __init__(self, config: TrainConfig, label: str, quiet: bool, position: int = 0) -> None:
        from tqdm import tqdm

        self.by_time = config.seconds is not None
        total = config.seconds if self.by_time else config.steps
        unit = "s" if self.by_time else "step"
        self.bar = tqdm(total=total, desc=label, unit=unit, disable=quiet, file=sys.stderr, leave=True, position=position,
                        bar_format="{desc:>16} {percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} {unit} {postfix}")
        self.done: float = 0.0 if self.by_time else 0

    def __call__(self, snap) -> None:
        now = snap.train_seconds if self.by_time else snap.step
        self.bar.update(round(now - self.done, 2) if self.by_time else now - self.done)
        self.done = now
        self.bar.set_postfix_str(f"{snap.metric} {snap.quality:.2f}")
        if snap.done:
            self.bar.close()


def signal_info(signal: Signal, device: torch.device) -> dict[str, Any]:
    return {"signal": signal.metadata.get("source", signal.name), "modality": signal.modality, "device": str(device),
            "n": signal.n, "shape": list(signal.shape), "notices": signal.metadata.get("notices", [])}


# ---------------------------------------------------------------- commands


def cmd_fit(args: argparse.Namespace) -> dict[str, Any]:
    signal, device, model, config = prepare(args)
    sampler = sampler_from_args(args.sampler, args)
    out = out_dir(args, signal)
    result = run_method(signal, sampler, model, config, method=args.sampler,
                        on_snapshot=Progress(config, args.sampler, args.quiet))
    modality = get_modality(signal.modality)
    recon = modality.save(result.final.reconstruction, signal, out / f"reconstruction-{args.sampler}")
    write_curves_csv([result], out / "curve.csv")
    summary = {**signal_info(signal, device), "sampler": args.sampler, **result.summary(),
               "outputs": {"reconstruction": str(recon), "curve": str(out / "curve.csv"), "summary": str(out / "summary.json")}}
    write_json(summary, out / "summary.json")
    f = result.final
    print(f"{args.sampler}: {f.step} steps, {f.train_seconds:.2f} s training, {f.metric} {f.quality:.2f} (best {result.best_quality:.2f})")
    print(f"wrote {recon}, {out / 'curve.csv'}, {out / 'summary.json'}")
    return summary


def cmd_compare(args: argparse.Namespace) -> dict[str, Any]:
    names = [n.strip() for n in args.samplers.split(",") if n.strip()]
    if not names:
        raise UsageError("--samplers needs at least one sampler name")
    for n in names:
        if n not in SAMPLERS:
            raise UsageError(f"unknown sampler {n!r} (known: {', '.join(SAMPLERS.names())})")
    if len(set(names)) != len(names):
        raise UsageError("--samplers names a sampler twice")
    signal, device, model, config = prepare(args)
    samplers = {n: sampler_from_args(n, args) for n in names}
    out = out_dir(args, signal)
    modality = get_modality(signal.modality)
    bars = {name: Progress(config, name, args.quiet, position=i) for i, name in enumerate(samplers)}
    results = race(signal, samplers, model, config, on_snapshot=lambda snap: bars[snap.method](snap))
    for name, result in results.items():
        modality.save(result.final.reconstruction, signal, out / f"reconstruction-{name}")
    target = args.target if args.target is not None else default_target(results)
    savings = time_savings(results, target)
    write_curves_csv(results.values(), out / "curves.csv")
    summary = {
        **signal_info(signal, device),
        "budget": {"seconds": config.seconds} if config.seconds else {"steps": config.steps},
        "runs": {n: r.summary(target) for n, r in results.items()},
        "target_psnr" if modality.metric == "psnr" else f"target_{modality.metric}": round(target, 4),
        "time_saving_vs_full": savings,
        "outputs": str(out),
    }
    write_json(summary, out / "summary.json")
    print_table(results, target, savings, modality.metric, modality.metric_unit)
    print(f"wrote {out}/curves.csv, summary.json and one reconstruction per sampler")
    return summary


def print_table(results: dict[str, RunResult], target: float, savings: dict[str, Any], metric: str, unit: str) -> None:
    head = f"{'sampler':<18}{'steps':>7}{'train s':>10}{metric:>9}{'best':>9}{'s to target':>13}{'saving':>9}"
    print(head)
    print("-" * len(head))
    for name, r in results.items():
        t = r.seconds_to(target)
        s = savings.get(name)
        print(f"{name:<18}{r.final.step:>7}{r.final.train_seconds:>10.2f}{r.final.quality:>9.2f}{r.best_quality:>9.2f}"
              f"{'—' if t is None else f'{t:.2f}':>13}{'' if s is None else f'{s:+.0%}':>9}")
    print(f"target: {target:.2f} {unit} (time saving = 1 − time to target / full batch's time to target)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        summary = args.handler(args)
    except (UsageError, SignalError, ValueError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"intcore: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ImportError as exc:  # an optional package (soundfile, trimesh, libigl) is missing here
        print(f"intcore: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("intcore: interrupted", file=sys.stderr)
        return 130
    print(json.dumps(summary))
    return 0

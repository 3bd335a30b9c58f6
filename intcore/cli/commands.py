"""`fit` and `compare`: one signal, one or several samplers, files and one JSON line out."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

import torch

from ..defaults import RACE_COLUMNS
from ..device import cpu_threads
from ..memory import OutOfMemory, check_memory, out_of_memory_message
from ..modalities import get_modality
from ..outputs import output_path
from ..runs import RunResult, default_target, race, write_curves_csv, write_json
from ..signals import Signal, check_file
from ..spec import RunSpec
from ..teach import psnr_for_epsilon
from ..trainer import Snapshot
from ..verdict import judge
from .options import UsageError, describe_defaults, add_settings, add_signal_options, positive_float, spec_from_args
from .progress import Progress


def register(sub: Any) -> None:
    fit = _add_run_parser(sub, "fit", "fit one signal with one sampler", cmd_fit)
    fit.add_argument("--sampler", default=None, help="sampler name (default int)")
    cmp = _add_run_parser(sub, "compare", "fit one signal with several samplers from the same initial weights",
                          cmd_compare)
    cmp.add_argument("--samplers", default=None,
                     help=f"comma-separated sampler names (default {','.join(RACE_COLUMNS)}, each at its own ratio)")


def _add_run_parser(sub: Any, name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
    """A command over one signal: its file, every setting, the stop rule and the outputs."""
    p = sub.add_parser(name, help=help_text)
    add_signal_options(p, path_required=False)
    add_settings(p, defaults=describe_defaults())
    _add_stop_options(p)
    _add_output_options(p)
    p.set_defaults(handler=handler)
    return p


def _add_stop_options(p: argparse.ArgumentParser) -> None:
    stop = p.add_mutually_exclusive_group()
    stop.add_argument("--target", type=float,
                      help="quality target in the signal's metric (dB, or IoU for shapes): each sampler stops there "
                           "and is timed to it; default: train the whole budget, time to full batch's final quality")
    stop.add_argument("--epsilon", type=positive_float,
                      help="Algorithm 1's stop rule: stop once ‖f(x) − f*(x)‖₂ over all N coordinates (and channels) "
                           "is below this; the same as a PSNR target of 10·log10(range²·N·c / ε²) (not for shapes)")


def _epsilon_target(args: argparse.Namespace, spec: RunSpec, signal: Signal) -> None:
    """--epsilon ε -> the equivalent PSNR target on this signal (said on stderr)."""
    epsilon = getattr(args, "epsilon", None)
    if epsilon is None:
        return
    modality = get_modality(signal.modality)
    if modality.metric != "psnr":
        raise UsageError(f"--epsilon needs a PSNR signal; {signal.modality} is scored by {modality.metric} (use --target)")
    spec.target = psnr_for_epsilon(epsilon, signal.n, signal.out_features, modality.data_range)
    print(f"note: ε = {epsilon:g} over {signal.n} × {signal.out_features} values is a PSNR target of "
          f"{spec.target:.2f} dB", file=sys.stderr)


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path,
                   help="a summary.json (or run spec) of an earlier run: run it again; options given here change it")
    p.add_argument("--out", type=Path, help="folder for the outputs (default: runs/<command>-<signal>)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def _load(args: argparse.Namespace, samplers: list[str] | None) -> tuple[RunSpec, Signal]:
    if args.path is not None:
        check_file(args.path)  # "no such file" before anything is guessed from the name
    spec = spec_from_args(args, samplers)
    if spec.train.device == "cpu":
        # torch's default is one thread per core, which on a busy machine wait on each other (intcore.device).
        torch.set_num_threads(cpu_threads())
    signal = spec.load_signal()
    _epsilon_target(args, spec, signal)
    for note in signal.metadata.get("notices", []):
        print(f"note: {note}", file=sys.stderr)
    check_memory(spec, signal.n, signal.in_features, signal.out_features)  # refused before training
    return spec, signal


def _race(spec: RunSpec, signal: Signal, on_snapshot: Callable[[Snapshot], None]) -> dict[str, RunResult]:
    """The library's race of the spec's samplers; running out of memory becomes an OutOfMemory (a
    ValueError: one line and exit code 2) that says after how many steps and what to lower."""
    steps: list[int] = []

    def seen(snap: Snapshot) -> None:
        steps.append(snap.step)
        on_snapshot(snap)

    try:
        return race(signal, spec.build_samplers(), spec.model, spec.train, target=spec.target, on_snapshot=seen)
    except Exception as exc:
        message = out_of_memory_message(exc, spec, max(steps, default=None))
        if message is None:
            raise
    raise OutOfMemory(message)  # outside the handler: the failed step's frames and tensors are gone


def _out_dir(args: argparse.Namespace, signal: Signal) -> Path:
    path = args.out or Path("runs") / f"{args.command}-{signal.name}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _signal_info(spec: RunSpec, signal: Signal) -> dict[str, Any]:
    return {"signal": signal.metadata.get("source", signal.name), "modality": signal.modality,
            "device": spec.train.device, "n": signal.n, "shape": list(signal.shape),
            "notices": signal.metadata.get("notices", [])}


def _sampler_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UsageError("--samplers needs at least one sampler name")
    return names


def cmd_fit(args: argparse.Namespace) -> dict[str, Any]:
    spec, signal = _load(args, [args.sampler] if args.sampler else None)
    if len(spec.samplers) != 1:
        raise UsageError(f"fit runs one sampler; this spec has {len(spec.samplers)} (use compare)")
    name = spec.names[0]
    out = _out_dir(args, signal)
    result = _race(spec, signal, Progress(spec.train, name, args.quiet))[name]
    modality = get_modality(signal.modality)
    recon = modality.save(result.final.reconstruction, signal, output_path(out, signal.name, name))
    curves, summary_path = output_path(out, signal.name, "curves", ".csv"), output_path(out, signal.name, "summary", ".json")
    write_curves_csv([result], curves)
    summary = {**_signal_info(spec, signal), "sampler": result.description, **result.summary(), "spec": spec.to_dict(),
               "outputs": {"reconstruction": str(recon), "curves": str(curves), "summary": str(summary_path)}}
    write_json(summary, summary_path)
    f = result.final
    print(f"{name}: {f.step} steps, {f.train_seconds:.2f} s training, {f.metric} {f.quality:.2f} "
          f"(best {result.best_quality:.2f})")
    print(f"wrote {recon}, {curves}, {summary_path}")
    return summary


def cmd_compare(args: argparse.Namespace) -> dict[str, Any]:
    names = _sampler_names(args.samplers)
    if names is None and args.config is None:
        names = list(RACE_COLUMNS)
    spec, signal = _load(args, names)
    out = _out_dir(args, signal)
    modality = get_modality(signal.modality)
    bars = {name: Progress(spec.train, name, args.quiet, position=i) for i, name in enumerate(spec.names)}
    results = _race(spec, signal, lambda snap: bars[snap.method](snap))
    for name, result in results.items():
        modality.save(result.final.reconstruction, signal, output_path(out, signal.name, name))
    target = spec.target if spec.target is not None else default_target(results)
    verdict = judge(results, target)
    write_curves_csv(results.values(), output_path(out, signal.name, "curves", ".csv"))
    summary = {
        **_signal_info(spec, signal),
        "budget": {"seconds": spec.train.seconds} if spec.train.seconds else {"steps": spec.train.steps},
        "runs": {n: r.summary(target) for n, r in results.items()},
        "metric": modality.metric,
        "target": round(target, 4),
        "time_saving_vs_full": verdict.saving_vs_full,
        "time_saving_vs_random": verdict.saving_vs_random,
        "verdict": verdict.to_dict(),
        "spec": spec.to_dict(),
        "outputs": str(out),
    }
    write_json(summary, output_path(out, signal.name, "summary", ".json"))
    print_table(results, target, verdict.saving_vs_full, verdict.saving_vs_random, modality.metric, modality.metric_unit)
    print(verdict.line())
    print(f"wrote {output_path(out, signal.name, 'curves', '.csv')}, {signal.name}-summary.json and one "
          f"reconstruction per sampler ({signal.name}-<sampler>{modality.file_extension}), named as the app's downloads")
    return summary


def print_table(results: dict[str, RunResult], target: float, vs_full: dict[str, Any], vs_random: dict[str, Any],
                metric: str, unit: str) -> None:
    digits = 4 if metric == "iou" else 2
    head = (f"{'sampler':<18}{'steps':>7}{'train s':>10}{metric:>9}{'best':>9}{'s to target':>13}"
            f"{'vs full':>9}{'vs random':>11}")
    print(head)
    print("-" * len(head))

    def pct(x: float | None) -> str:
        return "" if x is None else f"{x:+.0%}"

    for name, r in results.items():
        t = r.seconds_to(target)
        print(f"{name:<18}{r.final.step:>7}{r.final.train_seconds:>10.2f}{r.final.quality:>9.{digits}f}"
              f"{r.best_quality:>9.{digits}f}{'—' if t is None else f'{t:.2f}':>13}"
              f"{pct(vs_full.get(name)):>9}{pct(vs_random.get(name)):>11}")
    print(f"target: {target:.{digits}f} {unit} (vs full / vs random: time saving = 1 − time to target / that "
          f"baseline's time to target)")
    for name, r in results.items():
        if r.fell_from_best:
            print(f"warning: {name} ended {r.drop_from_best:.{digits}f} {unit or metric} below its best "
                  f"(unstable training: try a lower --lr or --lr-schedule cosine)")

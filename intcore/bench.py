"""`python -m intcore bench`: the INT paper's results table, reproduced on this machine.

Zhang et al., "Nonparametric Teaching of Implicit Neural Representations" (ICML 2024) report, per
modality, full-batch training time / quality against INT's (audio, image, megapixel, 3D shape). This
command measures the same rows here, following design.md's "Measuring fairly":

- on every signal, every sampler starts from the same initial weights and gets the same training-time
  budget; the runs are interleaved (`race`), so a busy neighbour on the machine slows them alike;
- the target on a signal is full batch's final quality; a sampler's time saving there is
  1 − (its training time to reach the target) / (full batch's training time to reach it);
- qualities are reported as mean ± std over the row's signals; PSNR in dB, IoU in %.

Rows come from the modality registry (plus "megapixel", an image row on one ≥ 16 MP mosaic), so a new
modality with presets in assets/ gets a row without touching this file. A row whose modality, presets
or optional packages are missing is skipped with a note instead of failing the benchmark.
"""
from __future__ import annotations

import argparse
import inspect
import math
import os
import platform
import resource
import shlex
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .device import cpu_threads, resolve_device
from .presets import assets_dir
from .modalities import MODALITIES, get_modality, modality_for_path
from .models import ModelConfig
from .runs import RunResult, race, time_savings, write_json
from .samplers import SAMPLERS, make_sampler
from .signals import Signal, SignalError
from .trainer import COMPILE_MODES, PRECISIONS, Snapshot, TrainConfig

ASSETS = assets_dir()
ROWS = ("audio", "image", "megapixel", "shape")  # the paper's order
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
MOSAIC_GRID = (6, 7)  # columns × rows of 768 × 512 tiles: 4608 × 3584 = 16.5 MP at scale 1
MOSAIC_TILE = (768, 512)  # (width, height) of a Kodak image in landscape


@dataclass(frozen=True)
class RowSettings:
    """How one row trains: the same for every sampler and signal in it."""

    modality: str
    seconds: float
    """training-time budget per sampler and signal"""
    width: int
    hidden_layers: int
    lr: float
    eval_every: int
    max_signals: int | None = None
    """use at most this many of the row's signals (None: all)"""
    load: dict[str, Any] = field(default_factory=dict)
    """options for the modality's loader (passed only where the loader takes them)"""
    megapixels: float = 16.0
    """megapixel row only: the mosaic's size"""


# --quick: chosen by measurement to finish within 10 minutes on a 2-core CPU shared with other jobs
# (bench/RESULTS.md): small nets, ≤ 1 s clips, 128-px images, a 0.25 MP mosaic, ~12-40 s per run.
QUICK: dict[str, RowSettings] = {
    "audio": RowSettings("audio", seconds=20, width=64, hidden_layers=3, lr=1e-3, eval_every=10, max_signals=2, load={"max_seconds": 1.0}),
    "image": RowSettings("image", seconds=15, width=64, hidden_layers=3, lr=1e-3, eval_every=10, max_signals=3, load={"max_side": 128}),
    "megapixel": RowSettings("image", seconds=40, width=64, hidden_layers=3, lr=2e-3, eval_every=5, megapixels=0.25),
    "shape": RowSettings("shape", seconds=12, width=64, hidden_layers=3, lr=1e-3, eval_every=10, max_signals=2, load={"grid": 24}),
}
# Full mode, meant for a GPU: the paper's SIREN 5 × 256 at lr 1e-4 (design.md), whole signals.
FULL: dict[str, RowSettings] = {
    "audio": RowSettings("audio", seconds=30, width=256, hidden_layers=5, lr=1e-4, eval_every=50),
    "image": RowSettings("image", seconds=60, width=256, hidden_layers=5, lr=1e-4, eval_every=50),
    "megapixel": RowSettings("image", seconds=600, width=256, hidden_layers=5, lr=1e-4, eval_every=100, megapixels=16.0),
    "shape": RowSettings("shape", seconds=60, width=256, hidden_layers=5, lr=1e-4, eval_every=50, load={"grid": 64}),
}


class RowSkipped(Exception):
    """A row that cannot run here (modality not registered, no presets, optional package missing)."""


# ---------------------------------------------------------------- signals


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)


def image_folder(kodak: Path | None) -> tuple[Path, str]:
    """The folder the image and megapixel rows read: the Kodak set the user named, else the presets."""
    if kodak is None:
        return ASSETS / "images", "assets/images presets (no --kodak given)"
    if not kodak.is_dir() or not image_files(kodak):
        raise ValueError(f"--kodak {kodak}: not a folder with images in it")
    return kodak, f"Kodak set from {kodak}"


def build_mosaic(files: list[Path], megapixels: float) -> tuple[np.ndarray, str]:
    """A (H, W, 3) uint8 mosaic of MOSAIC_GRID tiles made from `files`, about `megapixels` in size.

    Portrait images are turned to landscape, each is centre-cropped and resized to the tile size; after
    every file is used once, the next pass uses mirrored, flipped, then rotated copies, so no two tiles
    are identical unless there are fewer than a quarter as many files as tiles."""
    from PIL import Image, ImageOps

    cols, rows = MOSAIC_GRID
    scale = math.sqrt(megapixels * 1e6 / (cols * rows * MOSAIC_TILE[0] * MOSAIC_TILE[1]))
    tw, th = max(8, round(MOSAIC_TILE[0] * scale)), max(8, round(MOSAIC_TILE[1] * scale))
    mosaic = np.empty((rows * th, cols * tw, 3), dtype=np.uint8)
    variants = (lambda im: im, ImageOps.mirror, ImageOps.flip, lambda im: im.rotate(180))
    for i in range(cols * rows):
        with Image.open(files[i % len(files)]) as im:
            im = im.convert("RGB")
            if im.height > im.width:
                im = im.rotate(90, expand=True)
            im = variants[(i // len(files)) % len(variants)](ImageOps.fit(im, (tw, th), Image.Resampling.LANCZOS))
            r, c = divmod(i, cols)
            mosaic[r * th:(r + 1) * th, c * tw:(c + 1) * tw] = np.asarray(im)
    h, w = mosaic.shape[:2]
    note = (f"mosaic of {cols}×{rows} tiles ({tw}×{th}) from {min(len(files), cols * rows)} images "
            f"(mirrored/flipped copies after the first pass), {w}×{h} = {w * h / 1e6:.2f} MP")
    return mosaic, note


def _loader_options(modality: str, options: dict[str, Any]) -> dict[str, Any]:
    accepted = inspect.signature(type(get_modality(modality)).load).parameters
    return {k: v for k, v in options.items() if k in accepted}


def preset_files(modality: str) -> list[Path]:
    """Every file under assets/ whose extension belongs to `modality`."""
    out = []
    for p in sorted(ASSETS.rglob("*")):
        if not p.is_file():
            continue
        try:
            if modality_for_path(p) == modality:
                out.append(p)
        except SignalError:
            continue
    return out


def row_signals(row: str, s: RowSettings, args: argparse.Namespace) -> tuple[list[Callable[[], Signal]], str]:
    """Loaders for the row's signals (loaded one at a time, so a megapixel row holds one signal) and a
    note saying where they come from. Raises RowSkipped when the row cannot run here."""
    if s.modality not in MODALITIES:
        raise RowSkipped(f"modality {s.modality!r} is not registered in this version of intcore")
    if row == "megapixel":
        folder, where = image_folder(args.kodak)
        files = image_files(folder)
        mp = args.megapixels or s.megapixels

        def mosaic() -> Signal:
            arr, note = build_mosaic(files, mp)
            signal = get_modality("image").load(arr, name="mosaic")
            signal.metadata["note"] = note
            return signal

        cols, rows = MOSAIC_GRID
        return [mosaic], f"one {mp:g} MP mosaic ({cols}×{rows} tiles) of the {where}"
    if args.signals:
        files = [Path(p) for p in args.signals.split(",") if p.strip()]
        where = "the files given with --signals"
    elif row == "image":
        folder, where = image_folder(args.kodak)
        files = image_files(folder)
    else:
        files = preset_files(s.modality)
        where = f"the {s.modality} presets in assets/"
        if not files:
            raise RowSkipped(f"no {s.modality} presets found under assets/")
    limit = args.max_signals or s.max_signals
    if limit:
        files = files[:limit]
    options = _loader_options(s.modality, {**s.load, **({"max_side": args.max_side} if args.max_side else {})})
    modality = get_modality(s.modality)

    def loader(path: Path) -> Callable[[], Signal]:
        return lambda: modality.load(path, **options)

    opts = ", ".join(f"{k}={v}" for k, v in options.items())
    return [loader(p) for p in files], f"{len(files)} of {where}" + (f" ({opts})" if opts else "")


# ---------------------------------------------------------------- measuring


class PeakMemory:
    """Peak memory of one row: device tensors on CUDA, the process's resident set on the CPU (Linux:
    VmHWM, reset per row through /proc/self/clear_refs where allowed, else the process's peak so far)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.reset_ok = False

    def reset(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            return
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.reset_ok = True
        except OSError:
            self.reset_ok = False

    def peak_mb(self) -> tuple[float, str]:
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20, "peak CUDA memory allocated"
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    what = "peak RSS of the row" if self.reset_ok else "peak RSS of the process so far"
                    return int(line.split()[1]) / 1024, what
        except OSError:
            pass
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return kb / 1024 if sys.platform != "darwin" else kb / 2**20, "peak RSS of the process so far"


def mean_std(xs: list[float]) -> tuple[float | None, float | None]:
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    if not xs:
        return None, None
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def summarise_row(row: str, metric: str, per_signal: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """Mean ± std over signals of each sampler's time, quality, time to target and saving."""
    out: dict[str, Any] = {}
    for name in names:
        runs = [s["runs"][name] for s in per_signal]
        q_mean, q_std = mean_std([r["quality"] for r in runs])
        t_mean, _ = mean_std([r["train_seconds"] for r in runs])
        tt_mean, tt_std = mean_std([r["seconds_to_target"] for r in runs])
        entry = {"quality_mean": q_mean, "quality_std": q_std, "train_seconds_mean": t_mean,
                 "seconds_to_target_mean": tt_mean, "seconds_to_target_std": tt_std,
                 "reached_target": sum(r["seconds_to_target"] is not None for r in runs), "signals": len(runs)}
        if name != "full":
            sv_mean, sv_std = mean_std([r["saving"] for r in runs])
            tol = 0.01 if metric == "iou" else 0.5
            d_mean, _ = mean_std([r["quality"] - s["runs"]["full"]["quality"] for r, s in zip(runs, per_signal)])
            entry.update({"saving_mean": sv_mean, "saving_std": sv_std, "quality_minus_full": d_mean,
                          "within_tolerance": d_mean is not None and d_mean >= -tol})
        out[name] = entry
    return out


def run_row(row: str, s: RowSettings, loaders: list[Callable[[], Signal]], names: list[str], args: argparse.Namespace,
            device: torch.device, bar: Any) -> tuple[list[dict[str, Any]], dict[str, list]]:
    """Train every sampler on every signal of the row; per-signal numbers and the curves."""
    model = ModelConfig(width=args.width or s.width, hidden_layers=args.hidden_layers or s.hidden_layers).replace(
        **type(get_modality(s.modality)).default_model)
    config = TrainConfig(
        steps=args.steps, seconds=None if args.steps else (args.seconds or s.seconds),
        lr=args.lr or s.lr, eval_every=args.eval_every or s.eval_every, seed=args.seed, device=str(device),
        precision=args.precision, compile=args.compile,
        chunk=1 << 15 if device.type == "cpu" else 1 << 18)  # CPU: cache-sized chunks (see TrainConfig.micro_batch)
    per_signal, curves = [], {n: [] for n in names}
    for load in loaders:
        signal = load()
        done: dict[str, float] = {n: 0.0 for n in names}
        budget = args.steps or config.seconds

        def on_snapshot(snap: Snapshot, signal: Signal = signal) -> None:
            now = min(budget, snap.step if args.steps else snap.train_seconds)  # the bar's total stays an upper bound
            bar.update(now - done[snap.method])
            done[snap.method] = now
            bar.set_postfix_str(f"{row} {signal.name} {snap.method} {snap.quality:.3g}")

        samplers = {n: make_sampler(n) for n in names}
        results = race(signal, samplers, model, config, on_snapshot=on_snapshot, target=args.target,
                       keep_final_reconstruction=False)
        for n in names:  # runs stopped at the target: advance the bar over the rest of their budget
            bar.update(max(0.0, budget - done[n]))
        target = args.target if args.target is not None else results["full"].final.quality
        savings = time_savings(results, target)
        per_signal.append({
            "signal": signal.metadata.get("source", signal.name),
            "note": signal.metadata.get("note"),
            "n": signal.n, "shape": list(signal.shape), "target": round(target, 4),
            "runs": {n: {"sampler": r.description, "steps": r.final.step, "train_seconds": round(r.final.train_seconds, 4),
                         "quality": round(r.final.quality, 4), "best_quality": round(r.best_quality, 4),
                         "seconds_to_target": _round(r.seconds_to(target)), "saving": savings.get(n)}
                     for n, r in results.items()},
        })
        for n, r in results.items():
            curves[n].append([(snap.train_seconds, snap.quality) for snap in r.curve])
        del signal, results
    return per_signal, curves


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


# ---------------------------------------------------------------- report


def _q(x: float | None, metric: str) -> str:
    if x is None:
        return "—"
    return f"{100 * x:.2f}" if metric == "iou" else f"{x:.2f}"


def markdown_table(report: dict[str, Any]) -> str:
    names = report["samplers"]
    others = [n for n in names if n != "full"]
    head = ["modality", "signals", "full: time / quality"] + [f"{n}: time (saving) / quality" for n in others] + ["peak memory"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row, r in report["rows"].items():
        if "skipped" in r:
            lines.append(f"| {row} | skipped: {r['skipped']} |" + " |" * (len(head) - 2))
            continue
        unit = "% IoU" if r["metric"] == "iou" else "dB"
        full = r["summary"]["full"]
        cells = [row, str(full["signals"]),
                 f"{full['seconds_to_target_mean']:.2f} s / {_q(full['quality_mean'], r['metric'])} ± {_q(full['quality_std'], r['metric'])} {unit}"
                 if full["seconds_to_target_mean"] is not None else "—"]
        for n in others:
            e = r["summary"][n]
            if e["seconds_to_target_mean"] is None:
                t = f"did not reach full's quality ({e['reached_target']}/{e['signals']})"
            else:
                reached = "" if e["reached_target"] == e["signals"] else f", reached on {e['reached_target']}/{e['signals']}"
                t = f"{e['seconds_to_target_mean']:.2f} s ({-100 * e['saving_mean']:+.1f} %{reached})"
            cells.append(f"{t} / {_q(e['quality_mean'], r['metric'])} ± {_q(e['quality_std'], r['metric'])} {unit}")
        cells.append(f"{r['peak_memory_mb']:,.0f} MB")
        lines.append("| " + " | ".join(cells) + " |")
    target_rule = (f"the time to reach {report['target']}" if report.get("target") is not None
                   else "the training time to reach full batch's final quality on each signal")
    notes = [
        "",
        f"Time: {target_rule} (mean over signals); saving: 1 − sampler's time / full's time, mean over the signals "
        "where it reached it (design.md). Quality: final quality after the row's training budget, mean ± std over signals. "
        "Every method: same initial weights, same training-time budget, runs interleaved.",
        "",
    ]
    for row, r in report["rows"].items():
        if "skipped" not in r:
            s = r["settings"]
            budget = f"{report['steps']} steps" if report.get("steps") else f"{s['seconds']:g} s"
            notes.append(f"- {row}: {r['source']}; SIREN {s['hidden_layers']}×{s['width']}, Adam lr {s['lr']:g}, "
                         f"{budget} per method, N = {r['n_mean']:,.0f} coordinates per signal")
    notes.append(f"- device: {report['device_name']}; torch {report['torch']}, {report['threads']} threads, "
                 f"precision {report['precision']}, compile {report['compile']}; load average at start "
                 f"{report['load_average'][0]:.2f}, at end {report['load_average_end'][0]:.2f}; {report['date']}")
    notes.append(f"- command: `{report['command']}`")
    return "\n".join(lines + notes) + "\n"


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} logical cores"


# ---------------------------------------------------------------- command


class PlainBar:
    """Progress as a line on stderr every 10 s, for machines without tqdm (the GPU image)."""

    def __init__(self, total: float, disable: bool = False, **_: Any) -> None:
        self.total, self.n, self.disable, self.postfix, self.last = total, 0.0, disable, "", 0.0

    def update(self, amount: float) -> None:
        self.n += amount
        if not self.disable and time.perf_counter() - self.last > 10:
            self.last = time.perf_counter()
            print(f"bench {100 * self.n / max(self.total, 1e-9):3.0f}% {self.postfix}", file=sys.stderr, flush=True)

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text

    def write(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        pass


def cmd_bench(args: argparse.Namespace) -> dict[str, Any]:
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = PlainBar  # type: ignore[assignment]

    rows = [r.strip() for r in args.modalities.split(",") if r.strip()]
    known = list(dict.fromkeys([*ROWS, *MODALITIES.names()]))
    for r in rows:
        if r not in known:
            raise ValueError(f"unknown modality row {r!r} (known: {', '.join(known)})")
    names = [n.strip() for n in args.samplers.split(",") if n.strip()]
    for n in names:
        if n not in SAMPLERS:
            raise ValueError(f"unknown sampler {n!r} (known: {', '.join(SAMPLERS.names())})")
    names = ["full"] + [n for n in dict.fromkeys(names) if n != "full"]
    if len(names) < 2:
        raise ValueError("--samplers needs at least one sampler besides full")
    if args.signals and len(rows) != 1:
        raise ValueError("--signals needs exactly one row in --modalities")
    if args.kodak is not None:
        image_folder(args.kodak)  # fail early on a bad folder
    device = resolve_device(args.device)
    if args.threads or device.type == "cpu":
        torch.set_num_threads(args.threads or cpu_threads())
    table = QUICK if args.quick else FULL
    settings = {r: table.get(r, replace(table["image"], modality=r, load={})) for r in rows}  # new modalities: image-like budget

    # Plan every row first (so the progress bar knows the total and skips are reported up front).
    plans: dict[str, Any] = {}
    for r in rows:
        try:
            plans[r] = row_signals(r, settings[r], args)
        except RowSkipped as exc:
            plans[r] = str(exc)
    per_run = args.steps or args.seconds
    total = sum(len(p[0]) * len(names) * (per_run or settings[r].seconds) for r, p in plans.items() if not isinstance(p, str))
    out = args.out or Path("runs") / "bench"
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "command": ("python -m intcore " + " ".join(shlex.quote(a) for a in sys.argv[1:])) if sys.argv[1:2] == ["bench"]
        else "intcore.bench (called from Python)",
        "date": time.strftime("%Y-%m-%d %H:%M %Z"), "device": str(device), "device_name": device_name(device),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "precision": args.precision, "compile": args.compile,
        "quick": args.quick, "samplers": names, "target": args.target, "steps": args.steps,
        "load_average": list(os.getloadavg()), "rows": {},
    }
    wall0 = time.perf_counter()
    memory = PeakMemory(device)
    curves_rows: list[dict[str, Any]] = []
    panels = []
    bar = tqdm(total=total, unit="step" if args.steps else "s", desc="bench", disable=args.quiet, file=sys.stderr,
               bar_format="{desc} {percentage:3.0f}%|{bar:24}| {n:.0f}/{total:.0f} {unit} training [{elapsed}<{remaining}] {postfix}")
    for r in rows:
        plan = plans[r]
        if isinstance(plan, str):
            report["rows"][r] = {"skipped": plan}
            bar.write(f"bench: skipping {r}: {plan}")
            continue
        loaders, source = plan
        s = settings[r]
        memory.reset()
        try:
            per_signal, curves = run_row(r, s, loaders, names, args, device, bar)
        except (ImportError, SignalError) as exc:  # an optional package missing, or a preset that will not load
            reason = f"needs a package this machine lacks ({exc})" if isinstance(exc, ImportError) else str(exc)
            report["rows"][r] = {"skipped": reason}
            bar.write(f"bench: skipping {r}: {reason}")
            continue
        peak, what = memory.peak_mb()
        metric = get_modality(s.modality).metric
        if per_signal and per_signal[0]["note"]:
            source = f"{source}: {per_signal[0]['note']}"
        report["rows"][r] = {
            "metric": metric, "source": source,
            "settings": {**asdict(s), **{k: getattr(args, k) for k in ("width", "hidden_layers", "lr") if getattr(args, k)},
                         **({"seconds": args.seconds} if args.seconds else {})},
            "n_mean": statistics.fmean(p["n"] for p in per_signal),
            "peak_memory_mb": round(peak, 1), "peak_memory_kind": what,
            "summary": summarise_row(r, metric, per_signal, names), "signals": per_signal,
        }
        for n, cs in curves.items():
            for i, c in enumerate(cs):
                curves_rows += [{"row": r, "signal": per_signal[i]["signal"], "method": n, "train_seconds": round(t, 4),
                                 "quality": round(q, 4)} for t, q in c]
        panels.append((f"{r} ({len(per_signal)} signals)", "IoU" if metric == "iou" else "PSNR (dB)", curves))
    bar.close()
    report["load_average_end"] = list(os.getloadavg())
    report["wall_seconds"] = round(time.perf_counter() - wall0, 1)
    table_md = markdown_table(report)
    (out / "table.md").write_text(table_md)
    write_json(report, out / "results.json")
    _write_csv(curves_rows, out / "curves.csv")
    if panels:
        from .svg import line_panels

        line_panels(panels, out / "curves.svg")
    print(table_md)
    print(f"wrote {out}/table.md, results.json, curves.csv, curves.svg ({report['wall_seconds']:.0f} s wall)")
    return {"table": str(out / "table.md"), "results": str(out / "results.json"), "wall_seconds": report["wall_seconds"],
            "rows": {r: (v.get("summary") or v) for r, v in report["rows"].items()}}


def _write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    import csv

    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["row", "signal", "method", "train_seconds", "quality"])
        writer.writeheader()
        writer.writerows(rows)

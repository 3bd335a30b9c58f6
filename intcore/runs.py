"""Running samplers against each other and reading the results: curves, time to a target, time saving.

Everything here follows docs/measuring.md: every method starts from the same seed (so the
same initial weights), times count training steps only, and time saving is
1 − (method's time to the target) / (full batch's time to the same target).
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .models import ModelConfig
from .samplers import Sampler
from .signals import Signal
from .trainer import Snapshot, TrainConfig, Trainer


FALL_TOLERANCE: dict[str, float] = {"psnr": 1.0, "iou": 0.01}
"""How far below its own best a run's final quality may end before it is flagged as having fallen
(1 dB of PSNR, 1 % IoU): a curve that ends well below its peak is unstable training, not a result."""


DIP_TOLERANCE: dict[str, float] = {"psnr": 3.0, "iou": 0.03}
"""How far a curve may fall below its running best at any evaluation during a run (3 dB of PSNR, 3 %
IoU) before it counts as falling off a cliff."""


@dataclass
class RunResult:
    """One method's whole run: its evaluation points and the last snapshot (with the reconstruction)."""

    method: str
    description: str
    curve: list[Snapshot] = field(default_factory=list)

    @property
    def final(self) -> Snapshot:
        return self.curve[-1]

    @property
    def best_quality(self) -> float:
        return max(s.quality for s in self.curve)

    @property
    def drop_from_best(self) -> float:
        """Best quality minus final quality (≥ 0)."""
        return self.best_quality - self.final.quality

    @property
    def largest_dip(self) -> float:
        """The largest fall below the running best at any evaluation (≥ 0): a cliff mid-run that the
        curve may have climbed back from."""
        best, dip = -math.inf, 0.0
        for s in self.curve:
            best = max(best, s.quality)
            dip = max(dip, best - s.quality)
        return dip

    @property
    def dipped(self) -> bool:
        """Whether the curve fell more than DIP_TOLERANCE of its metric below its running best."""
        return self.largest_dip > DIP_TOLERANCE.get(self.final.metric, 3.0)

    @property
    def fell_from_best(self) -> bool:
        """Whether the final quality ended more than FALL_TOLERANCE of its metric below the run's best."""
        return self.drop_from_best > FALL_TOLERANCE.get(self.final.metric, 1.0)

    def seconds_to(self, target: float) -> float | None:
        """Training seconds at which quality first reached `target`, linearly interpolated between the
        two evaluations around the crossing; None if it never did."""
        return time_to_target([(s.train_seconds, s.quality) for s in self.curve], target)

    def summary(self, target: float | None = None) -> dict[str, Any]:
        f = self.final
        out = {
            "sampler": self.description,
            "steps": f.step,
            "train_seconds": round(f.train_seconds, 4),
            f.metric: _finite(f.quality),
            f"best_{f.metric}": _finite(self.best_quality),
            "fell_from_best": self.fell_from_best,
            "largest_dip": _finite(self.largest_dip),
        }
        if target is not None:
            t = self.seconds_to(target)
            out["seconds_to_target"] = None if t is None else round(t, 4)
        return out


def time_to_target(points: Iterable[tuple[float, float]], target: float) -> float | None:
    """First time a (seconds, quality) curve reaches `target`, interpolated linearly; None if never."""
    prev: tuple[float, float] | None = None
    for t, q in points:
        if q >= target:
            if prev is None or q == prev[1]:
                return t
            t0, q0 = prev
            return t0 + (target - q0) / (q - q0) * (t - t0)
        prev = (t, q)
    return None


def quality_at(points: Iterable[tuple[float, float]], seconds: float) -> float | None:
    """Quality of a (seconds, quality) curve at `seconds`, interpolated linearly between the evaluations
    around it (the last quality once the run has ended before it); None before the first evaluation."""
    prev: tuple[float, float] | None = None
    for t, q in points:
        if t >= seconds:
            if prev is None:
                return q if t == seconds else None
            t0, q0 = prev
            return q0 + (q - q0) * (seconds - t0) / (t - t0) if t > t0 else q
        prev = (t, q)
    return prev[1] if prev else None


def default_target(results: dict[str, RunResult]) -> float:
    """Full batch's final quality when every run used its whole budget (the quality every time saving is
    read at: docs/measuring.md); in a race stopped early, full batch's quality at the shortest run's
    training time, a quality every run had the time to reach. Without a full-batch run, the lowest best
    quality among the runs (one that every run reached). Known only once the race has ended: while it
    runs, a race has a target only if one was given."""
    runs = {m: r for m, r in results.items() if r.curve}
    if "full" in runs:
        if all(r.final.progress >= 1.0 for r in runs.values()):
            return runs["full"].final.quality
        equal = min(r.final.train_seconds for r in runs.values())
        at = quality_at([(s.train_seconds, s.quality) for s in runs["full"].curve], equal)
        return runs["full"].final.quality if at is None else at
    return min(r.best_quality for r in runs.values())


def time_savings(results: dict[str, RunResult], target: float, baseline: str = "full") -> dict[str, float | None]:
    """1 − t_method(target) / t_baseline(target) for every method but the baseline (None where undefined)."""
    if baseline not in results:
        return {}
    t_base = results[baseline].seconds_to(target)
    out: dict[str, float | None] = {}
    for name, res in results.items():
        if name == baseline:
            continue
        t = res.seconds_to(target)
        out[name] = None if t is None or not t_base else round(1.0 - t / t_base, 4)
    return out


def run_method(
    signal: Signal,
    sampler: Sampler,
    model: ModelConfig,
    config: TrainConfig,
    method: str | None = None,
    on_snapshot: Callable[[Snapshot], None] | None = None,
) -> RunResult:
    """Train one sampler to the end of the budget and keep its curve."""
    trainer = Trainer(signal, sampler, model=model, config=config, method=method)
    result = RunResult(method=trainer.method, description=sampler.describe())
    for snap in trainer.run():
        if not snap.done:
            snap.reconstruction = None  # keep only the final one in memory
        result.curve.append(snap)
        if on_snapshot is not None:
            on_snapshot(snap)
    return result


def race(
    signal: Signal,
    samplers: dict[str, Sampler],
    model: ModelConfig,
    config: TrainConfig,
    on_snapshot: Callable[[Snapshot], None] | None = None,
    target: float | None = None,
    keep_final_reconstruction: bool = True,
) -> dict[str, RunResult]:
    """Train several samplers from the same initial weights, interleaved: each advances by one
    evaluation interval in turn. Each run's clock counts only its own steps, and because the runs
    alternate, a busy neighbour on the machine slows all of them alike instead of whichever ran
    while it was busy.

    With `target`, a run stops as soon as its quality reaches it. `on_snapshot` sees every snapshot
    with its reconstruction; the results keep only the final one (none without keep_final_reconstruction).
    """
    trainers = {name: Trainer(signal, s, model=model, config=config, method=name) for name, s in samplers.items()}
    results = {name: RunResult(method=name, description=s.describe()) for name, s in samplers.items()}
    for snap in race_snapshots(trainers, target):
        if on_snapshot is not None:
            on_snapshot(snap)
        if not (snap.done and keep_final_reconstruction):
            snap.reconstruction = None
        results[snap.method].curve.append(snap)
    return results


def race_snapshots(trainers: dict[str, Trainer], target: float | None = None) -> Iterator[Snapshot]:
    """The race rule on trainers already made (method -> Trainer, each with its own stop event): they
    advance interleaved (`interleave`), and with `target` each one stops as soon as its quality reaches
    it. `race` is this plus the results; the app runs it in a thread of its own, with pause and step mode."""
    for snap in interleave(trainers.values()):
        yield snap
        if target is not None and snap.quality >= target:
            trainers[snap.method].stop()


def interleave(trainers: Iterable[Trainer]) -> Iterator[Snapshot]:
    """Round-robin over the trainers' runs: each next() trains one of them up to its next evaluation
    while the others' clocks stand still. Every run is closed when this ends, also on an error."""
    running = [t.run() for t in trainers]
    try:
        while running:
            for gen in list(running):
                snap = next(gen, None)
                if snap is None:
                    running.remove(gen)
                else:
                    yield snap
    finally:
        for gen in running:
            gen.close()


def write_curves_csv(results: Iterable[RunResult], path: Path) -> Path:
    """One row per evaluation: method, step, train_seconds, loss, quality, best quality, ratio."""
    return write_csv([s.row() for r in results for s in r.curve], path)


def write_csv(rows: list[dict[str, Any]], path: Path, fieldnames: list[str] | None = None) -> Path:
    """Rows of plain values as CSV; the columns are `fieldnames` or the first row's keys."""
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fieldnames or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_json(obj: Any, path: Path) -> Path:
    Path(path).write_text(json.dumps(obj, indent=2) + "\n")
    return path


def _finite(x: float) -> float | None:
    """JSON has no inf/nan: NaN becomes null, a perfect fit's infinite PSNR becomes ±999."""
    if math.isnan(x):
        return None
    if math.isinf(x):
        return 999.0 if x > 0 else -999.0
    return round(x, 4)

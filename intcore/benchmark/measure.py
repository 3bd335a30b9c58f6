"""Running one job: load its signal, race its samplers from the same weights (`runs.race`), and turn
the race into plain numbers: time to the target, saving against full (and random), quality at equal
time, peak memory.

`run_job` takes and returns plain dicts, so the same function runs in this process or as a Ray task.
It never raises for a job's own failure (a file that will not load, a package missing, a crash in a
sampler): the result says "error" and why, and the other jobs go on. A sampler that does not apply to
the signal's modality (by its `applies_to`, or a ValueError from its first selection) is reported as
not applicable for that job; the others race without it.
"""
from __future__ import annotations

import os
import resource
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import torch

from ..memory import process_status_bytes
from ..runs import RunResult, quality_at, race, time_savings
from ..verdict import judge
from ..samplers import SAMPLERS, Sampler, SelectionContext
from ..signals import Signal
from ..spec import RunSpec
from ..trainer import Snapshot
from .jobs import Job
from .rows import load_mosaic


class NotApplicable(Exception):
    """A sampler refused the signal (its first selection raised ValueError)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(reason)
        self.name = name


class PeakMemory:
    """Peak memory of one job: device tensors on CUDA, the process's resident set on the CPU (Linux:
    VmHWM, reset per job through /proc/self/clear_refs where allowed, else the process's peak so far)."""

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
        peak = process_status_bytes("VmHWM")
        if peak is not None:
            return peak / 2**20, "peak RSS of the job" if self.reset_ok else "peak RSS of the process so far"
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return kb / 1024 if sys.platform != "darwin" else kb / 2**20, "peak RSS of the process so far"


def load_job_signal(job: Job, spec: RunSpec) -> Signal:
    if job.mosaic is not None:
        return load_mosaic(job.mosaic["files"], job.mosaic["megapixels"])
    return spec.load_signal()


def _guard(name: str, sampler: Sampler) -> Sampler:
    """Turn a ValueError from the sampler's first selection into NotApplicable (it refuses this signal)."""
    select = sampler.select
    calls = [0]

    def guarded(ctx: SelectionContext) -> Any:
        calls[0] += 1
        try:
            return select(ctx)
        except ValueError as exc:
            if calls[0] == 1:
                raise NotApplicable(name, str(exc)) from exc
            raise

    sampler.select = guarded  # type: ignore[method-assign]
    return sampler


def race_applicable(signal: Signal, spec: RunSpec, on_snapshot: Callable[[Snapshot], None] | None
                    ) -> tuple[dict[str, RunResult], dict[str, str]]:
    """Race every sampler of `spec` that applies to the signal; the others with the reason they do not."""
    not_applicable = {n: f"{n} does not apply to {signal.modality} signals"
                      for n in spec.names if not SAMPLERS[n].applies_to(signal.modality)}
    while True:
        samplers = {n: _guard(n, s) for n, s in spec.build_samplers().items() if n not in not_applicable}
        if "full" not in samplers:
            raise ValueError("full batch, the baseline of every saving, did not run")
        try:
            results = race(signal, samplers, spec.model, spec.train, on_snapshot=on_snapshot, target=spec.target,
                           keep_final_reconstruction=False)
            return results, not_applicable
        except NotApplicable as exc:
            if exc.name == "full":
                raise
            not_applicable[exc.name] = str(exc)  # race again from the same weights without it


def summarise_race(results: dict[str, RunResult], target_given: float | None) -> dict[str, Any]:
    """Per sampler: final and best quality, time to the target, saving against full (1 − t / t_full at
    full's final quality, or at the given target), saving against random (at random's final quality),
    and quality at equal time (at the shortest run's training time)."""
    target = target_given if target_given is not None else results["full"].final.quality
    savings = time_savings(results, target)
    vs_random: dict[str, float | None] = {}
    random_target = None
    if "random" in results:
        random_target = target_given if target_given is not None else results["random"].final.quality
        vs_random = time_savings(results, random_target, baseline="random")
    equal_time = min(r.final.train_seconds for r in results.values())
    curves = {n: [(s.train_seconds, s.quality) for s in r.curve] for n, r in results.items()}
    at_equal_time = {n: quality_at(c, equal_time) for n, c in curves.items()}
    if any(q is None for q in at_equal_time.values()):  # a run had not been evaluated yet: no comparison
        at_equal_time = dict.fromkeys(at_equal_time)
    runs = {}
    for n, r in results.items():
        curve = curves[n]
        runs[n] = {
            "sampler": r.description, "steps": r.final.step, "train_seconds": round(r.final.train_seconds, 4),
            "ms_per_step": _round(1000 * r.final.train_seconds / r.final.step) if r.final.step else None,
            "largest_dip": _round(r.largest_dip), "fell_from_best": r.fell_from_best,
            "quality": _round(r.final.quality), "best_quality": _round(r.best_quality),
            "seconds_to_target": _round(r.seconds_to(target)), "saving": savings.get(n),
            "saving_vs_random": vs_random.get(n) if n != "random" else None,
            "quality_at_equal_time": _round(at_equal_time[n]),
            "curve": [[round(t, 4), _round(q)] for t, q in curve],
        }
    return {"target": _round(target), "random_target": _round(random_target), "equal_time_seconds": round(equal_time, 4),
            "runs": runs, "verdict": judge(results, target).to_dict()}


def run_job(job_data: dict[str, Any], threads: int | None = None,
            on_snapshot: Callable[[Snapshot], None] | None = None) -> dict[str, Any]:
    """Run one job (a `Job.to_dict()`); its result as a plain dict, "status" "ok" or "error"."""
    job = Job.from_dict(job_data)
    started = time.perf_counter()
    head = {"id": job.id, "row": job.row, "signal": job.signal, "seed": job.seed, "spec": job.spec,
            "worker": f"{socket.gethostname()}:{os.getpid()}"}
    try:
        if threads:
            torch.set_num_threads(threads)
        spec = RunSpec.from_dict(job.spec)
        signal = load_job_signal(job, spec)
        memory = PeakMemory(torch.device(spec.train.device))
        memory.reset()
        results, not_applicable = race_applicable(signal, spec, on_snapshot)
        peak, what = memory.peak_mb()
        out = {**head, "status": "ok", "modality": signal.modality, "n": signal.n, "shape": list(signal.shape),
               "note": signal.metadata.get("note"), **summarise_race(results, spec.target),
               "not_applicable": not_applicable, "peak_memory_mb": round(peak, 1), "peak_memory_kind": what,
               "threads": torch.get_num_threads()}
    except Exception as exc:  # noqa: BLE001  (a job's failure is reported, the benchmark goes on)
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        out = {**head, "status": "error", "error": f"{type(exc).__name__}: {exc}",
               "where": f"{where.filename}:{where.lineno}" if where else None}
    out["wall_seconds"] = round(time.perf_counter() - started, 2)
    return out


def _round(x: float | None, digits: int = 4) -> float | None:
    if x is None:
        return None
    if x != x:  # NaN: JSON has none
        return None
    if x in (float("inf"), float("-inf")):
        return 999.0 if x > 0 else -999.0
    return round(x, digits)

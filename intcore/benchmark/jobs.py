"""A benchmark job: one signal and one seed, every sampler raced on it; and the folder that keeps the
finished ones so that a rerun skips them.

A job is plain data (its `RunSpec` as a dict, plus the mosaic's recipe for the megapixel row), so it
travels to a Ray worker as it is and lands in results.json unchanged. Its id is a readable name plus a
hash of everything that defines it: change a setting and the job is a new one; rerun the same command
and every finished job is found again.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..modalities import load_options
from ..runs import write_json
from ..spec import SETTINGS, RunSpec, make_spec
from .rows import RowPlan, RowSettings, SignalSource


@dataclass
class Job:
    id: str
    row: str
    signal: str
    """the signal's name in the reports"""
    seed: int
    spec: dict[str, Any]
    """RunSpec.to_dict() of the race (signal path None for the mosaic)"""
    mosaic: dict[str, Any] | None = None
    """the megapixel row's recipe: {"files": [...], "megapixels": float}"""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Job":
        return cls(**data)


def job_id(row: str, signal: str, seed: int, spec: dict[str, Any], mosaic: dict[str, Any] | None) -> str:
    digest = hashlib.sha1(json.dumps([spec, mosaic], sort_keys=True).encode()).hexdigest()[:10]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{row}-{signal}-seed{seed}").strip("_")[-80:]
    return f"{slug}-{digest}"


def row_spec_settings(s: RowSettings, given: dict[str, Any]) -> dict[str, Any]:
    """The row's own training settings, then every setting the user gave (by its SETTINGS name)."""
    base: dict[str, Any] = {"seconds": s.seconds, "width": s.width, "hidden_layers": s.hidden_layers,
                            "lr": s.lr, "eval_every": s.eval_every}
    if given.get("steps") is not None:
        base.pop("seconds")
    return {**base, **{k: v for k, v in given.items() if v is not None}}


def make_jobs(plan: RowPlan, s: RowSettings, given: dict[str, Any], seeds: Iterable[int], device: str,
              samplers: list[str], target: float | None) -> list[Job]:
    """One job per (signal, seed) of the row. `given` holds the user's settings by SETTINGS name.

    Signal options are the row's plus the user's, each kept only where the row's loader takes it
    (--max-side applies to the image rows of a run that also has audio). Raises ValueError on a bad
    setting, naming it."""
    settings = row_spec_settings(s, given)
    signal_keys = {k for k, v in SETTINGS.items() if v.section == "signal"}
    accepted = load_options(plan.modality)
    options = {k: v for k, v in {**s.load, **{k: settings[k] for k in signal_keys if k in settings}}.items() if k in accepted}
    train = {k: v for k, v in settings.items() if k not in signal_keys and k != "seed"}
    jobs = []
    for source in plan.sources:
        for seed in seeds:
            spec = make_spec(source.path, modality=plan.modality, device=device, samplers=samplers, target=target,
                             seed=seed, **train)
            spec = _with_signal_options(spec, options, source)
            spec_dict = spec.to_dict()
            mosaic = None if source.mosaic_files is None else {"files": source.mosaic_files, "megapixels": source.megapixels}
            jobs.append(Job(job_id(plan.row, source.name, seed, spec_dict, mosaic), plan.row, source.name, seed,
                            spec_dict, mosaic))
    return jobs


def _with_signal_options(spec: RunSpec, options: dict[str, Any], source: SignalSource) -> RunSpec:
    # The row's loader options replace the device defaults (a full-size image row on a CPU stays full size),
    # and a CPU evaluates in cache-sized chunks (see TrainConfig.micro_batch).
    chunk = 1 << 15 if spec.train.device == "cpu" else 1 << 18
    return dataclasses.replace(spec, signal=dataclasses.replace(spec.signal, options=dict(options)),
                               train=dataclasses.replace(spec.train, chunk=chunk))


class JobStore:
    """Finished jobs under `folder`/jobs, one JSON file each, written atomically (a temporary file
    renamed into place), so an interruption never leaves half a result that a rerun would trust."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder) / "jobs"

    def path(self, job: Job) -> Path:
        return self.folder / f"{job.id}.json"

    def load(self, job: Job) -> dict[str, Any] | None:
        """The job's stored result, or None when it has not finished (or its file is unreadable)."""
        try:
            result = json.loads(self.path(job).read_text())
        except (OSError, ValueError):
            return None
        return result if isinstance(result, dict) and result.get("status") == "ok" else None

    def save(self, result: dict[str, Any]) -> Path:
        """Keep a finished job (only successful ones: a failed job runs again on the next rerun)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{result['id']}.json"
        tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        write_json(result, tmp)
        os.replace(tmp, final)
        return final

"""A job's downloads: one reconstruction per sampler (lossless PNG, WAV, or GLB in the input mesh's own
coordinates), the curves (CSV), a summary (JSON, the same fields as `python -m intcore compare`) and an
animated GIF of INT's selections."""
from __future__ import annotations

from pathlib import Path

from intcore.runs import write_curves_csv, write_json

from .session import Job
from .tabs import ModalityTab
from .views import selection_gif


def write_results(job: Job, folder: Path, tab: ModalityTab) -> list[str]:
    """Write what the job has so far into `folder` (replacing earlier files); return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    latest, _ = job.snapshot_view()
    paths: list[Path] = []
    signal = job.spec.signal
    stem = signal.name
    for method in job.methods:
        snap = latest.get(method)
        if snap is not None and snap.reconstruction is not None:
            paths.append(tab.export(snap.reconstruction, signal, folder / f"{stem}-{method}"))
    status = job.status()
    if job.spec.run is not None:
        status["spec"] = job.spec.run.to_dict()
    curves = [r for r in (job.results[m] for m in job.methods) if r.curve]
    if curves:
        paths.append(write_curves_csv(curves, folder / f"{stem}-curves.csv"))
    paths.append(write_json(status, folder / f"{stem}-summary.json"))
    masks = job.selection_masks()
    if masks:
        canvas = tab.canvas(signal)
        frames = [canvas.selection_frame(mask, step) for step, mask in masks]
        paths.append(selection_gif(frames, folder / f"{stem}-{job.tracked}-selection.gif"))
    return [str(p) for p in paths]

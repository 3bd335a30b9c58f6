"""A race's downloads: one reconstruction per sampler (lossless PNG, WAV, or GLB in the input mesh's own
coordinates), the curves (CSV), a summary (JSON: the status the API streams, with the verdict and the
run spec, so `python -m intcore compare --config` reruns it) and an animated GIF of INT's selections,
named as the command line names its files (intcore.outputs)."""

from __future__ import annotations

from pathlib import Path

from intcore.outputs import output_path
from intcore.runs import write_curves_csv, write_json

from ..drawing.figures import selection_gif
from ..server.jsonsafe import json_safe
from ..server.race import Race
from ..tabs import ModalityTab


def write_results(race: Race, folder: Path, tab: ModalityTab) -> list[str]:
    """Write what the race has so far into `folder` (replacing earlier files); return the paths. A write
    that fails (a full disk) leaves the folder empty, not half written, and raises."""
    folder.mkdir(parents=True, exist_ok=True)
    clear(folder)
    try:
        return _write(race, folder, tab)
    except BaseException:
        clear(folder)
        raise


def clear(folder: Path) -> None:
    for old in folder.iterdir():
        old.unlink()


def _write(race: Race, folder: Path, tab: ModalityTab) -> list[str]:
    latest, _ = race.snapshot_view()
    paths: list[Path] = []
    signal = race.signal
    for method in race.methods:
        snap = latest.get(method)
        if snap is not None and snap.reconstruction is not None:
            paths.append(tab.export(snap.reconstruction, signal, output_path(folder, signal.name, method)))
    status = race.status()
    status["spec"] = race.run.to_dict()
    curves = [r for r in race.results_view().values() if r.curve]
    if curves:
        paths.append(write_curves_csv(curves, output_path(folder, signal.name, "curves", ".csv")))
    paths.append(write_json(json_safe(status), output_path(folder, signal.name, "summary", ".json")))
    masks = race.selection_masks()
    if masks:
        canvas = tab.canvas(signal)
        frames = [canvas.selection_frame(mask, step) for step, mask in masks]
        paths.append(selection_gif(frames, output_path(folder, signal.name, f"{race.tracked}-selection", ".gif")))
    return [str(p) for p in paths]

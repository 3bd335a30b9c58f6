"""What the files of a run are called, the same in the command line's output folder and the app's
downloads: `<signal>-<part><suffix>`, e.g. camera-int.png, camera-curves.csv, camera-summary.json."""
from __future__ import annotations

from pathlib import Path


def output_path(folder: Path, signal: str, part: str, suffix: str = "") -> Path:
    """`folder / "<signal>-<part><suffix>"`; a reconstruction's part is its sampler and its suffix the
    modality's own (left to the writer when empty)."""
    return Path(folder) / f"{signal}-{part}{suffix}"

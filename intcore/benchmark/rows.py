"""Which signals the benchmark fits: the paper's rows (presets, the Kodak set, a megapixel mosaic), the
files named with --signals, or every signal file under a --dataset folder, and how each row trains.

Rows come from the modality registry (plus "megapixel", an image row on one ≥ 16 MP mosaic), so a new
modality with presets in assets/ gets a row without touching this file. A row whose modality or
presets are missing is skipped with a note instead of failing the benchmark.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..modalities import MODALITIES, get_modality, modality_for_path
from ..presets import assets_dir
from ..signals import Signal, SignalError

ASSETS = assets_dir()
ROWS = ("audio", "image", "megapixel", "shape")  # the paper's order
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
MOSAIC_GRID = (6, 7)  # columns × rows of 768 × 512 tiles: 4608 × 3584 = 16.5 MP at scale 1
MOSAIC_TILE = (768, 512)  # (width, height) of a Kodak image in landscape


@dataclass(frozen=True)
class RowSettings:
    """How one row trains: the same for every sampler and signal in it (settings the user gives win)."""

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
# Full mode, meant for a GPU: the paper's SIREN 5 × 256 at lr 1e-4, whole signals.
FULL: dict[str, RowSettings] = {
    "audio": RowSettings("audio", seconds=30, width=256, hidden_layers=5, lr=1e-4, eval_every=50),
    "image": RowSettings("image", seconds=60, width=256, hidden_layers=5, lr=1e-4, eval_every=50),
    "megapixel": RowSettings("image", seconds=600, width=256, hidden_layers=5, lr=1e-4, eval_every=100, megapixels=16.0),
    "shape": RowSettings("shape", seconds=60, width=256, hidden_layers=5, lr=1e-4, eval_every=50, load={"grid": 64}),
}


def row_settings(row: str, quick: bool) -> RowSettings:
    """The row's settings; a modality without its own entry trains like an image (its own loader defaults)."""
    table = QUICK if quick else FULL
    if row in table:
        return table[row]
    base = table["image"]
    return RowSettings(row, base.seconds, base.width, base.hidden_layers, base.lr, base.eval_every, base.max_signals)


class RowSkipped(Exception):
    """A row that cannot run here (modality not registered, no presets)."""


@dataclass
class SignalSource:
    """One signal of a row: a file, or the megapixel mosaic built from `mosaic_files`."""

    name: str
    """how the reports name it: the file as given, its path inside --dataset, or "mosaic" """
    path: Path | None = None
    mosaic_files: list[str] | None = None
    megapixels: float | None = None


@dataclass
class RowPlan:
    row: str
    modality: str
    sources: list[SignalSource]
    where: str
    """a phrase saying where the signals come from (for the table's notes)"""


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
        with Image.open(files[i % len(files)]) as opened:
            im = opened.convert("RGB")
            if im.height > im.width:
                im = im.rotate(90, expand=True)
            im = variants[(i // len(files)) % len(variants)](ImageOps.fit(im, (tw, th), Image.Resampling.LANCZOS))
            r, c = divmod(i, cols)
            mosaic[r * th:(r + 1) * th, c * tw:(c + 1) * tw] = np.asarray(im)
    h, w = mosaic.shape[:2]
    note = (f"mosaic of {cols}×{rows} tiles ({tw}×{th}) from {min(len(files), cols * rows)} images "
            f"(mirrored/flipped copies after the first pass), {w}×{h} = {w * h / 1e6:.2f} MP")
    return mosaic, note


def load_mosaic(files: list[str], megapixels: float) -> Signal:
    """The megapixel row's signal: `build_mosaic` loaded as an image (its note in the metadata)."""
    arr, note = build_mosaic([Path(f) for f in files], megapixels)
    signal = get_modality("image").load(arr, name="mosaic")
    signal.metadata["note"] = note
    return signal


def modality_of(path: Path) -> str | None:
    """The registered modality of a file by its extension, None for any other file."""
    try:
        return modality_for_path(path)
    except SignalError:
        return None


def preset_files(modality: str) -> list[Path]:
    """Every file under assets/ whose extension belongs to `modality`."""
    return [p for p in sorted(ASSETS.rglob("*")) if p.is_file() and modality_of(p) == modality]


def dataset_files(folder: Path, modalities: list[str] | None = None) -> dict[str, list[Path]]:
    """Every signal file under `folder`, recursively, grouped by modality (registration order), each
    group sorted by path. Hidden files and folders are left out; so are files of other modalities."""
    if not folder.is_dir():
        raise ValueError(f"--dataset {folder}: not a folder")
    found: dict[str, list[Path]] = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or any(part.startswith(".") for part in p.relative_to(folder).parts):
            continue
        m = modality_of(p)
        if m is not None and (modalities is None or m in modalities):
            found.setdefault(m, []).append(p)
    if not found:
        kinds = ", ".join(modalities) if modalities else "image, audio or shape"
        raise ValueError(f"--dataset {folder}: no {kinds} files in it")
    return {m: found[m] for m in MODALITIES.names() if m in found}


def plan_dataset(folder: Path, modalities: list[str] | None, max_signals: int | None) -> list[RowPlan]:
    """One row per modality found under `folder`; signals named by their path inside it."""
    plans = []
    for modality, files in dataset_files(folder, modalities).items():
        files = files[:max_signals] if max_signals else files
        sources = [SignalSource(name=str(p.relative_to(folder)), path=p) for p in files]
        plural = "" if len(files) == 1 else "s"
        plans.append(RowPlan(modality, modality, sources, f"{len(files)} {modality} file{plural} under {folder}"))
    return plans


def plan_row(row: str, s: RowSettings, kodak: Path | None, signals: str | None, max_signals: int | None,
             megapixels: float | None) -> RowPlan:
    """The signals of one of the paper's rows. Raises RowSkipped when the row cannot run here."""
    if s.modality not in MODALITIES:
        raise RowSkipped(f"modality {s.modality!r} is not registered in this version of intcore")
    if row == "megapixel":
        folder, where = image_folder(kodak)
        mp = megapixels or s.megapixels
        cols, rows = MOSAIC_GRID
        source = SignalSource("mosaic", mosaic_files=[str(p) for p in image_files(folder)], megapixels=mp)
        return RowPlan(row, "image", [source], f"one {mp:g} MP mosaic ({cols}×{rows} tiles) of the {where}")
    if signals:
        files = [Path(p.strip()) for p in signals.split(",") if p.strip()]
        where = "the files given with --signals"
    elif row == "image":
        folder, where = image_folder(kodak)
        files = image_files(folder)
    else:
        files = preset_files(s.modality)
        where = f"the {s.modality} presets in assets/"
        if not files:
            raise RowSkipped(f"no {s.modality} presets found under assets/")
    limit = max_signals or s.max_signals
    files = files[:limit] if limit else files
    return RowPlan(row, s.modality, [SignalSource(str(p), path=p) for p in files], f"{len(files)} of {where}")

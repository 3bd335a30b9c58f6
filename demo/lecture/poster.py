"""The INT paper's toy figure in one PNG: one picture fitted by full batch, random 20 %, INT 20 % and
progressive INT (20 % → 100 %) from the same initial weights with the same number of steps, and under
them the strip of the pixels INT trained on at chosen iterations.

This runs a real race (intcore.runs.race, interleaved, equal steps), so it takes as long as training the
four samplers; `on_progress` hears about every evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from intcore import ModelConfig, Signal, Snapshot, TrainConfig, make_sampler
from intcore.runs import race

from ..drawing.figures import captioned, column, enlarge, row, titled

POSTER_COLUMNS: dict[str, tuple[str, dict, str]] = {
    # column key: (sampler, options, caption)
    "full": ("full", {}, "(b) full batch"),
    "random": ("random", {"ratio": 0.2}, "(c) random 20 %"),
    "int": ("int", {"ratio": 0.2}, "(d) INT 20 %"),
    "int-progressive": ("int-progressive", {"ratio": 0.2}, "(e) progressive INT 20-100 %"),
}
HIGHLIGHT = np.array([255, 214, 0], dtype=np.uint8)


@dataclass
class PosterSetup:
    """What the poster race runs. `iterations`: the steps at which INT's selection is shown; the race
    evaluates every gcd(iterations) steps, so keep them multiples of 10 (every step costs a full pass)."""

    steps: int = 200
    iterations: tuple[int, ...] = (10, 50, 100, 200)
    columns: tuple[str, ...] = tuple(POSTER_COLUMNS)
    model: ModelConfig = field(default_factory=lambda: ModelConfig(width=128, hidden_layers=4))
    lr: float = 5e-4
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        if not 2 <= len(self.columns) <= 4 or any(c not in POSTER_COLUMNS for c in self.columns):
            raise ValueError(f"the poster shows 2 to 4 of {', '.join(POSTER_COLUMNS)}, got {self.columns}")
        if self.steps < 1 or not self.iterations or any(not 1 <= i <= self.steps for i in self.iterations):
            raise ValueError(f"iterations must lie in 1..{self.steps}, got {self.iterations}")


def _to_rgb(img: np.ndarray) -> np.ndarray:
    img = np.clip(np.asarray(img, np.float32), 0, 1)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return (img * 255 + 0.5).astype(np.uint8)


def make_poster(
    signal: Signal, out: Path, setup: PosterSetup | None = None, on_progress: Callable[[Snapshot], None] | None = None
) -> Path:
    """Race the poster's columns on an image `signal` and write the figure as one PNG at `out`."""
    if signal.modality != "image":
        raise ValueError("the poster figure is made from an image")
    setup = setup or PosterSetup()
    # Evaluate at every iteration the strip shows: the selection travels with the evaluation's snapshot.
    every = math.gcd(*setup.iterations, setup.steps)
    config = TrainConfig(
        steps=setup.steps, eval_every=every, lr=setup.lr, seed=setup.seed, device=setup.device, record_selection=True
    )
    samplers = {key: make_sampler(POSTER_COLUMNS[key][0], **POSTER_COLUMNS[key][1]) for key in setup.columns}
    strip_of = next((k for k in ("int", "int-progressive") if k in samplers), None)  # the teacher's picks
    selections: dict[int, np.ndarray] = {}

    def seen(snap: Snapshot) -> None:
        if snap.method == strip_of and snap.step in setup.iterations and snap.selected is not None:
            selections[snap.step] = snap.selected
        if on_progress is not None:
            on_progress(snap)

    results = race(signal, samplers, setup.model, config, on_snapshot=seen)
    h, w = signal.shape
    target = _to_rgb(
        (signal.values[: h * w].numpy().reshape(h, w, -1).squeeze(-1) + 1) / 2
        if signal.out_features == 1
        else (signal.values[: h * w].numpy().reshape(h, w, 3) + 1) / 2
    )
    panels = [captioned(enlarge(target), ["(a) target", f"{w} x {h} px"])]
    for key in setup.columns:
        final = results[key].final
        panels.append(
            captioned(
                enlarge(_to_rgb(final.reconstruction)),
                [POSTER_COLUMNS[key][2], f"{final.quality:.2f} dB after {final.step} steps"],
            )
        )
    figure = [titled(row(panels), f"{signal.name}: the same SIREN from the same weights, {setup.steps} steps each")]
    if strip_of is not None:
        grey = target.mean(axis=2) / 255.0
        dimmed = _to_rgb(0.12 + 0.3 * grey)
        frames = []
        for it in setup.iterations:
            pic = dimmed.copy()
            if it in selections:
                mask = np.zeros(h * w, dtype=bool)
                idx = selections[it]
                mask[idx[idx < h * w]] = True
                pic[mask.reshape(h, w)] = HIGHLIGHT
            frames.append(captioned(enlarge(pic, 160), [f"iteration {it}"]))
        figure.append(titled(row(frames), f"the pixels {POSTER_COLUMNS[strip_of][2][4:]} trained on (yellow)"))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(column(figure, gap=16)).save(out)
    return out

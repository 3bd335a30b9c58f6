"""What one kernel-view click costs on each tab at its CPU default working size and network.

A click computes K(x₀, ·) twice (current and initial weights) over the points the tab's lecture drawing
shows (an image's pixels, a clip's samples, a shape's cross-section) and draws both pictures: this times
exactly that, as demo.lecture does it, as the median of REPEATS clicks after one untimed warm-up.
The weights are the initial ones after 20 Adam steps (the cost does not depend on how trained they are).
Target: under 1 s on a 2-core CPU. Report `uptime`'s load with the numbers.

    python bench/lecture_click.py [--audio FILE] [--shape FILE] [--image FILE] [--repeats 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demo.tabs import TABS  # noqa: E402
from intcore.defaults import defaults_for  # noqa: E402
from intcore.modalities import get_modality, load_signal  # noqa: E402
from intcore.models import build_model  # noqa: E402
from intcore.teach import kernel_row, parameters_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FILES = {"image": ROOT / "assets" / "images" / "camera.png", "audio": ROOT / "assets" / "audio" / "melody.wav",
         "shape": ROOT / "assets" / "shapes" / "mug.obj"}


def click_seconds(modality: str, path: Path, repeats: int) -> tuple[float, int, str]:
    """(median seconds per click, points per kernel row, the signal in words)."""
    cpu = torch.device("cpu")
    d = defaults_for(modality, cpu)
    signal = load_signal(path, modality, **d.load_options)
    model = build_model(d.model, signal.in_features, signal.out_features, 0)
    initial = parameters_of(model)
    spec = get_modality(modality)
    opt = torch.optim.Adam(model.parameters(), lr=d.lr)
    for _ in range(20):
        opt.zero_grad()
        spec.loss(model(signal.coords), signal.values).backward()
        opt.step()
    now = parameters_of(model)
    drawing = TABS[modality].lecture_drawing(signal)
    x0 = drawing.default_point()
    points = drawing.kernel_points(x0)
    over = signal.coords if points is None else signal.coords[torch.from_numpy(np.asarray(points))]

    def click() -> None:
        for weights in (initial, now):
            row = kernel_row(model, weights, signal.coords[x0], over)
            drawing.kernel_picture(row.numpy(), x0)

    click()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        click()
        times.append(time.perf_counter() - start)
    return statistics.median(times), over.shape[0], f"{signal.name} {tuple(signal.shape)}, {d.model.hidden_layers}×{d.model.width} SIREN"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, path in FILES.items():
        ap.add_argument(f"--{name}", default=str(path))
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}, torch threads {torch.get_num_threads()}")
    for name in FILES:
        seconds, n, what = click_seconds(name, Path(getattr(args, name)), args.repeats)
        print(f"{name:6s} {what}: a click (two kernel rows over {n:,} points, two pictures) {seconds:.3f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

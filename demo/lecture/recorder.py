"""The race as an animated GIF for slides: the columns' reconstructions and the chart, as the race went.

A `RaceRecorder` listens to a race's snapshots (any thread). Each time every column has moved on, it
keeps one small frame's worth of data: each column's latest picture and its curve so far. Memory stays
bounded: past `max_frames` every other frame is dropped and the recorder keeps every second round from
then on. `write` draws the frames (Pillow only) with fixed axes and saves the GIF.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from intcore.trainer import Snapshot

from ..drawing.figures import captioned, column, enlarge, line_chart, row

MAX_FRAMES = 80
FRAME_SIDE = 160
"""each column's picture is enlarged to about this many pixels on its longer side"""


@dataclass
class _Frame:
    pictures: dict[str, np.ndarray]
    curves: dict[str, list[tuple[float, float]]]
    steps: dict[str, int]


class RaceRecorder:
    """Keeps what the race GIF needs. Call `add(snap)` for every snapshot of the race, in any thread."""

    def __init__(
        self,
        methods: Sequence[str],
        colours: Sequence[str],
        picture: Callable[[Snapshot], np.ndarray | None],
        metric: str = "psnr",
        unit: str = "dB",
        max_frames: int = MAX_FRAMES,
        side: int = FRAME_SIDE,
    ) -> None:
        """`picture`: a snapshot -> its column's picture (uint8 RGB; the tab's lecture drawing's
        `race_frame`), enlarged in the GIF to about `side` px when smaller."""
        if len(methods) > len(colours):
            raise ValueError("one colour per column")
        self.methods = list(methods)
        self.colours = dict(zip(self.methods, colours))
        self.metric, self.unit = metric, unit
        self.picture = picture
        self.side = side
        self.max_frames = max_frames
        self._frames: list[_Frame] = []
        self._curves: dict[str, list[tuple[float, float]]] = {m: [] for m in self.methods}
        self._latest: dict[str, np.ndarray] = {}
        self._steps: dict[str, int] = {}
        self._moved: set[str] = set()
        self._stride, self._rounds = 1, 0
        self._lock = threading.Lock()

    def add(self, snap: Snapshot) -> None:
        if snap.method not in self._curves:
            return
        pic = self.picture(snap)
        with self._lock:
            self._curves[snap.method].append((snap.train_seconds, snap.quality))
            self._steps[snap.method] = snap.step
            if pic is not None:
                self._latest[snap.method] = pic
            self._moved.add(snap.method)
            if (self._moved == set(self.methods) and len(self._latest) == len(self.methods)) or snap.done:
                self._moved.clear()
                self._keep()

    def _keep(self) -> None:
        self._rounds += 1
        if (self._rounds - 1) % self._stride:
            return
        self._frames.append(
            _Frame(dict(self._latest), {m: list(c) for m, c in self._curves.items()}, dict(self._steps))
        )
        if len(self._frames) > self.max_frames:
            self._frames = self._frames[::2]
            self._stride *= 2

    @property
    def frames(self) -> int:
        with self._lock:
            return len(self._frames)

    def write(self, path: Path, seconds_per_frame: float = 0.2, hold_last: float = 2.0) -> Path:
        """Draw every kept frame and save the animated GIF; the last frame stays `hold_last` seconds."""
        with self._lock:
            frames = list(self._frames)
        if not frames:
            raise ValueError("nothing recorded yet: start a race first")
        last = frames[-1].curves
        x_max = max((c[-1][0] for c in last.values() if c), default=1.0) or 1.0
        finite = [q for c in last.values() for _, q in c if math.isfinite(q)]
        y_range = None
        if finite:
            low, high = min(finite), max(finite)
            y_range = (math.floor(low), math.ceil(high)) if high - low >= 4 else (low, high)
        images = [Image.fromarray(self._draw(f, x_max, y_range)) for f in frames]
        durations = [int(seconds_per_frame * 1000)] * (len(images) - 1) + [int(hold_last * 1000)]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0, optimize=True)
        return path

    def _draw(self, frame: _Frame, x_max: float, y_range: tuple[float, float] | None) -> np.ndarray:
        tiles = []
        for m in self.methods:
            pic = frame.pictures.get(m)
            if pic is None:
                continue
            q = frame.curves[m][-1][1] if frame.curves[m] else float("nan")
            quality = f"{q:.2f} {self.unit}" if self.unit else f"{self.metric.upper()} {q:.3f}"
            tiles.append(captioned(enlarge(pic, self.side), [m, f"{quality}, step {frame.steps.get(m, 0)}"], size=14))
        chart = line_chart(
            frame.curves,
            self.colours,
            size=(max(520, 170 * len(tiles)), 260),
            x_max=x_max,
            y_range=y_range,
            y_label=f"{self.metric.upper()} ({self.unit})" if self.unit else self.metric.upper(),
        )
        return column([row(tiles), chart]) if tiles else chart

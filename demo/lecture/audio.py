"""Lecture pictures of a clip (`AudioLecture`, the audio tab's lecture drawing): curves over time.

Every picture spans the whole clip left to right (pixel column x covers samples x·T/W ... (x+1)·T/W), as
the race's own waveform pictures do, so a click anywhere maps its x to a time the same way. A pixel column
shows the range (min to max) of the samples under it; signed curves are filled from the zero line, red
above and blue below, as the image maps colour them. The kernel picture adds a strip that zooms to a few
milliseconds around the clicked time, where a trained SIREN's kernel row has its detail.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from intcore.teach import StepExplanation
from intcore.trainer import Snapshot

from ..drawing.figures import font
from ..drawing.waveform import HEIGHT as RACE_HEIGHT
from ..drawing.waveform import WIDTH, column_ranges, column_starts
from .base import LectureDrawing, as_numpy

PLOT_H = 120
AXIS_H = 24
"""px under a plot for the time ticks"""
LABEL_SIZE = 17
"""px of the text in these pictures (they are drawn 640 px wide and shown narrower: smaller text is lost)"""
LABEL_FONT = font(LABEL_SIZE)
DENSITY_H = 22
"""px under the error plot: the share of each stretch of time that the step trained on"""
ZOOM_H = 90
ZOOM_MIN_SAMPLES = 32
KERNEL_GAMMA = 1.0
"""kernel rows are drawn on a linear scale (relative to K(t₀, t₀)): a square-root scale, as the image maps
use, lifts the whole clip's small values into a band of noise that hides how the row narrows in training"""
BACKGROUND = (250, 250, 250)
INK = (60, 60, 60)
FAINT = (150, 150, 150)
ZERO = (200, 200, 200)
UP = (178, 24, 43)
DOWN = (33, 102, 172)
ERROR_DIM = (175, 175, 175)
ERROR_SELECTED = (228, 87, 46)
SELECTED_BAR = (200, 150, 0)
MARK = (0, 170, 0)
RECON = (46, 134, 171)
TARGET_FADED = (205, 205, 205)


def _fill(canvas: np.ndarray, top: np.ndarray, bottom: np.ndarray, colour, where: np.ndarray | None = None) -> None:
    """Paint, in every pixel column x, the rows top[x] ... bottom[x] (inclusive) of `canvas`."""
    rows = np.arange(canvas.shape[0])[:, None]
    mask = (rows >= np.minimum(top, bottom)[None, :]) & (rows <= np.maximum(top, bottom)[None, :])
    if where is not None:
        mask &= where[None, :]
    canvas[mask] = colour


def signed_plot(values: np.ndarray, scale: float, height: int = PLOT_H, width: int = WIDTH) -> np.ndarray:
    """A signed curve over time, ±scale at the top and bottom, filled from zero (red up, blue down)."""
    canvas = np.full((height, width, 3), BACKGROUND, np.uint8)
    mid, half = (height - 1) / 2, (height - 1) / 2 - 1
    scale = scale if np.isfinite(scale) and scale > 0 else 1.0
    lo, hi = column_ranges(np.clip(np.asarray(values, np.float64) / scale, -1, 1), width)
    zero = np.full(width, round(mid))
    canvas[round(mid)] = ZERO
    _fill(canvas, zero, np.rint(mid - np.maximum(hi, 0) * half).astype(int), UP, hi > 0)
    _fill(canvas, zero, np.rint(mid - np.minimum(lo, 0) * half).astype(int), DOWN, lo < 0)
    return canvas


SMOOTH_COLUMNS = 5
"""a curve's size is its root mean square over this many pixel columns around each (a few periods of the
clip's notes at the default sizes)"""


def column_rms(values: np.ndarray, width: int = WIDTH) -> np.ndarray:
    """Per pixel column, the root mean square of the samples under it and its neighbours (SMOOTH_COLUMNS)."""
    v = np.asarray(values, np.float64)
    starts = column_starts(len(v), width)
    sums = np.add.reduceat(v * v, starts)
    counts = np.diff(np.append(starts, len(v))).astype(np.float64)
    kernel = np.ones(SMOOTH_COLUMNS)
    return np.sqrt(np.convolve(sums, kernel, "same") / np.convolve(counts, kernel, "same").clip(min=1))


def size_plot(values: np.ndarray, scale: float, colour=UP, height: int = PLOT_H, width: int = WIDTH) -> np.ndarray:
    """How large a signed curve is along time: in every pixel column the root mean square of the samples
    under it, filled from the bottom (top: `scale`). A step's change to a clip oscillates at the clip's
    own frequencies, hundreds of times across the picture; drawn signed it looks like noise, drawn as
    its size it shows where the step acted."""
    rms = column_rms(values, width)
    scale = scale if np.isfinite(scale) and scale > 0 else 1.0
    canvas = np.full((height, width, 3), BACKGROUND, np.uint8)
    top = np.rint((height - 1) - np.clip(rms / scale, 0, 1) * (height - 2)).astype(int)
    _fill(canvas, np.full(width, height - 1), top, colour, rms > 0)
    return canvas


def time_axis(seconds: float, width: int = WIDTH) -> np.ndarray:
    """A strip of time ticks (0, a quarter, ..., the clip's length in seconds)."""
    img = Image.new("RGB", (width, AXIS_H), BACKGROUND)
    draw = ImageDraw.Draw(img)
    for i in range(5):
        x = min(width - 1, round(i * (width - 1) / 4))
        draw.line([(x, 0), (x, 3)], fill=FAINT)
        text = f"{seconds * i / 4:.2f} s"
        w = draw.textlength(text, font=LABEL_FONT)
        draw.text((min(max(0, x - w / 2), width - w), 4), text, fill=INK, font=LABEL_FONT)
    return np.asarray(img)


def _label(canvas: np.ndarray, text: str, xy: tuple[int, int] = (4, 2)) -> np.ndarray:
    img = Image.fromarray(canvas)
    draw = ImageDraw.Draw(img)
    w = draw.textlength(text, font=LABEL_FONT)
    draw.rectangle((xy[0] - 2, xy[1] - 1, xy[0] + w + 2, xy[1] + LABEL_SIZE + 3), fill=BACKGROUND)
    draw.text(xy, text, fill=INK, font=LABEL_FONT)
    return np.asarray(img)


def _vline(canvas: np.ndarray, x: int, colour=MARK, rows: slice = slice(None)) -> None:
    for dx in (0, 1):
        if 0 <= x + dx < canvas.shape[1]:
            canvas[rows, x + dx] = colour


class AudioLecture(LectureDrawing):
    """Step and kernel pictures of a clip as curves over time; a click names a time."""

    unit = "sample"
    wide = True
    labels = {
        "error": "error along time before the step (orange: where the k trained on lie; bars: their share)",
        "change": "how much the step changed f along time (size of Δf)",
        "predicted": "how much the kernel predicted (size of J·Δθ, same scale)",
        "kernel_init": "K(t₀, ·) at the initial weights",
        "kernel_now": "K(t₀, ·) at the current weights",
    }
    kernel_hint = "click a time in any column's waveform pictures (or in these plots)"
    kernel_legend = (
        "Up (red): moves the same way as t₀, down (blue): the opposite way; height ∝ "
        "K(t₀, t) / K(t₀, t₀); the lower strip zooms to a few ms around t₀ (green)."
    )

    def __init__(self, signal, where: float = 0.5) -> None:
        super().__init__(signal, where)
        (self.t,) = signal.shape
        self.rate = int(signal.metadata.get("sample_rate", 1))
        self.seconds = self.t / self.rate

    # ------------------------------------------------------------ step

    def error_plot(self, errors: np.ndarray, selected: np.ndarray | None) -> np.ndarray:
        """|f − f*| over time (top: this plot's 99th percentile), orange where the step's k selected lie,
        and under it a bar of how densely each stretch was trained on."""
        errors = np.asarray(errors, np.float64)[: self.t]
        top = float(np.percentile(errors, 99)) or float(errors.max()) or 1.0
        _, hi = column_ranges(np.clip(errors / top, 0, 1), WIDTH)
        canvas = np.full((PLOT_H + DENSITY_H, WIDTH, 3), BACKGROUND, np.uint8)
        base = np.full(WIDTH, PLOT_H - 1)
        peak = np.rint(PLOT_H - 1 - hi * (PLOT_H - 3)).astype(int)
        if selected is None:
            _fill(canvas, base, peak, ERROR_SELECTED)
            density = np.ones(WIDTH)
        else:
            mask = np.zeros(self.t, bool)
            mask[selected[selected < self.t]] = True
            starts = column_starts(self.t, WIDTH)
            density = np.add.reduceat(mask, starts) / np.diff(np.append(starts, self.t)).clip(min=1)
            # a column's colour goes from grey (no sample trained on) to orange (all of them)
            share = np.clip(density / max(float(density.max()), 1e-9), 0, 1)[:, None]
            colours = (np.array(ERROR_DIM) * (1 - share) + np.array(ERROR_SELECTED) * share).astype(np.uint8)
            rows = np.arange(PLOT_H + DENSITY_H)[:, None]
            lit = (rows >= peak[None, :]) & (rows <= base[None, :])
            canvas[lit] = np.broadcast_to(colours[None, :, :], canvas.shape)[lit]
        rows = np.arange(DENSITY_H)[:, None]
        bar = rows >= np.rint((1 - density) * (DENSITY_H - 1))[None, :]
        strip = canvas[PLOT_H:]
        strip[bar & (density > 0)[None, :]] = SELECTED_BAR
        canvas[PLOT_H] = ZERO
        canvas = _label(canvas, f"|error| (top: {top:.3g})")
        return np.concatenate([canvas, time_axis(self.seconds)])

    def step_pictures(self, expl: StepExplanation) -> dict[str, np.ndarray]:
        selected = None if expl.selected is None else expl.selected.detach().cpu().numpy()
        change = as_numpy(expl.effect.actual)[: self.t]
        predicted = as_numpy(expl.effect.predicted)[: self.t]
        scale = float(column_rms(change).max()) or 1.0
        axis = time_axis(self.seconds)
        return {
            "error": self.error_plot(as_numpy(expl.errors), selected),
            "change": np.concatenate([size_plot(change, scale, UP), axis]),
            "predicted": np.concatenate([size_plot(predicted, scale, DOWN), axis]),
        }

    # ------------------------------------------------------------ kernel

    def zoom_window(self, x0: int) -> tuple[int, int]:
        """The samples [a, b) the kernel picture's lower strip shows around x0."""
        half = max(ZOOM_MIN_SAMPLES, self.t // 40)
        a = max(0, min(x0 - half, self.t - 2 * half))
        return a, min(self.t, a + 2 * half)

    def kernel_picture(self, row: np.ndarray, x0: int) -> np.ndarray:
        """K(t₀, ·) relative to K(t₀, t₀) (KERNEL_GAMMA) over the whole clip, t₀ marked, and a
        strip zoomed to a few ms around t₀ drawn as a curve through every sample."""
        row = np.asarray(row, np.float64)[: self.t]
        k00 = abs(float(row[x0])) or float(np.abs(row).max()) or 1.0
        shown = np.sign(row) * np.minimum(np.abs(row) / k00, 1.0) ** KERNEL_GAMMA
        whole = signed_plot(shown, 1.0)
        x = int((x0 + 0.5) * WIDTH / self.t)
        _vline(whole, x, rows=slice(0, 8))
        _vline(whole, x, rows=slice(PLOT_H - 8, PLOT_H))
        a, b = self.zoom_window(x0)
        whole[:, round(a * WIDTH / self.t)] = FAINT  # where the zoom strip lies
        whole[:, min(WIDTH - 1, round(b * WIDTH / self.t))] = FAINT
        whole = _label(whole, "whole clip")
        zoom = Image.new("RGB", (WIDTH, ZOOM_H), BACKGROUND)
        draw = ImageDraw.Draw(zoom)
        mid, half = (ZOOM_H - 1) / 2, (ZOOM_H - 1) / 2 - 4
        draw.line([(0, mid), (WIDTH, mid)], fill=ZERO)
        xs = np.linspace(0, WIDTH - 1, b - a)
        ys = mid - shown[a:b] * half
        draw.line(list(zip(xs.tolist(), ys.tolist())), fill=INK, width=2)
        mx = xs[x0 - a]
        draw.line([(mx, 0), (mx, ZOOM_H)], fill=MARK, width=2)
        ms = 1000 * (b - a) / self.rate
        draw.text((4, 2), f"zoom: {ms:.1f} ms around t0", fill=INK, font=LABEL_FONT)
        sep = np.full((2, WIDTH, 3), FAINT, np.uint8)
        return np.concatenate([whole, time_axis(self.seconds), sep, np.asarray(zoom)])

    def point_at(self, index, picture_shape, source):
        """Any picture here or in the race spans the clip: x -> time. In the kernel picture's zoom strip
        (below the whole clip) a click does not name a time of the whole clip: None."""
        x, y = int(index[0]), int(index[1])
        h, w = picture_shape
        if source == "lecture" and y >= PLOT_H + AXIS_H and h > PLOT_H + AXIS_H + DENSITY_H:
            return None
        return min(self.t - 1, max(0, x * self.t // max(1, w)))

    def race_picture_shape(self) -> tuple[int, int]:
        return (RACE_HEIGHT, WIDTH)

    def describe_point(self, x0: int) -> str:
        return f"time t₀ = {x0 / self.rate:.4f} s (sample {x0:,})"

    # ------------------------------------------------------------ the race GIF

    def race_frame(self, snap: Snapshot) -> np.ndarray | None:
        """The reconstruction's waveform over the faded target, 320 × 100 px."""
        if snap.reconstruction is None:
            return None
        width, height = 320, 100
        peak = float(self.signal.metadata.get("peak", 1.0)) or 1.0
        canvas = np.full((height, width, 3), BACKGROUND, np.uint8)
        mid, half = (height - 1) / 2, (height - 1) / 2 - 1
        for wave, colour in (
            (self.signal.values[: self.t, 0].numpy(), TARGET_FADED),
            (np.asarray(snap.reconstruction, np.float64) / peak, RECON),
        ):
            lo, hi = column_ranges(np.clip(np.asarray(wave, np.float64), -1, 1), width)
            _fill(canvas, np.rint(mid - hi * half).astype(int), np.rint(mid - lo * half).astype(int), colour)
        return canvas

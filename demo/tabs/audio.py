"""The audio tab: a clip in; per column WHERE this step's training samples lie (the share of each stretch
of the clip trained on, as bars over the faded waveform, against the uniform share), the reconstruction
over the target, and a player. The pictures carry no text: their captions are the page's own."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw

from intcore.signals import Signal
from intcore.trainer import Snapshot

from ..drawing.colors import caption_frame
from ..drawing.waveform import HEIGHT, WIDTH, column_ranges, column_starts
from ..lecture.audio import AudioLecture
from ..server.media import KEEP, Media
from .base import TABS, ModalityTab, Panel

BINS = 64
"""the selection picture's bars: the clip in this many equal stretches (each a few hundred samples, so a
uniform choice gives bars of nearly equal height and a teacher's preference shows)"""
BARS_UP_TO = 4.0
"""the bars' full height is this many times the uniform share (a teacher's preference is a few times it)"""
ERROR_VMAX = 0.25
"""error panel scale: errors at or above this (of amplitude 1) fill the height"""
PLAYER_SECONDS = 8.0
"""refresh a column's player at most this often (and always at the end of the run)"""
MID, HALF = HEIGHT / 2, HEIGHT / 2 - 1  # the waveform's zero line and amplitude 1, in px
BACKGROUND = (250, 250, 250)
WAVE = (70, 70, 70)
TARGET_FADED = (200, 200, 200)
RECON = (46, 134, 171)
ERROR = (228, 87, 46)
BAR = (214, 110, 0)
UNIFORM = (40, 40, 40)


def _envelope(
    draw: ImageDraw.ImageDraw, wave: np.ndarray, color: tuple[int, int, int], mid: float = MID, half: float = HALF
) -> None:
    """Min-max envelope of `wave` (values in [-1, 1])."""
    lo, hi = column_ranges(wave, WIDTH)
    for x in range(WIDTH):
        draw.line([(x, mid - hi[x] * half), (x, mid - lo[x] * half)], fill=color)


def _array(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"))


class AudioCanvas:
    """Panels: (waveform with selection or error, reconstruction over the target, player)."""

    def __init__(self, signal: Signal) -> None:
        (self.t,) = signal.shape
        self.rate = int(signal.metadata["sample_rate"])
        self.peak = float(signal.metadata.get("peak", 1.0))
        self.target = signal.values[: self.t, 0].float().numpy()  # (T,) in [-1, 1], normalised
        self._played: dict[str, float] = {}
        self.plain = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
        _envelope(ImageDraw.Draw(self.plain), self.target, WAVE)
        self.faded = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
        _envelope(ImageDraw.Draw(self.faded), self.target, TARGET_FADED)

    def density(self, selected: np.ndarray, bins: int = WIDTH) -> np.ndarray:
        """Share of the samples in each of `bins` equal stretches of the clip that are trained on this
        step: (bins,) in [0, 1]."""
        mask = np.zeros(self.t, dtype=bool)
        mask[selected[selected < self.t]] = True
        starts = column_starts(self.t, bins)
        return np.add.reduceat(mask, starts) / np.diff(np.append(starts, self.t)).clip(min=1)

    def selection_image(self, selected: np.ndarray | None) -> Image.Image:
        """Bars over the faded target: the share of each of BINS stretches of the clip trained on this
        step, and a dashed line at the share a uniform choice gives everywhere, a quarter of the way up
        (the full height is four times the uniform share, or all of a stretch). Random sampling: bars along
        the line; INT: tall where the fit is worst, short elsewhere; full batch: every bar full."""
        img = self.faded.copy()
        draw = ImageDraw.Draw(img)
        share = np.ones(BINS) if selected is None else self.density(selected, BINS)
        uniform = 1.0 if selected is None else min(1.0, len(selected) / self.t)
        full = min(1.0, BARS_UP_TO * uniform)
        edges = np.linspace(0, WIDTH, BINS + 1)
        top = HEIGHT - 1
        for i, value in enumerate(np.minimum(share / full, 1.0)):
            if value > 0:
                draw.rectangle((edges[i] + 1, top - round((HEIGHT - 4) * value), edges[i + 1] - 1, top), fill=BAR)
        y = top - round((HEIGHT - 4) * uniform / full)
        for x in range(0, WIDTH, 12):  # dashed
            draw.line([(x, y), (x + 6, y)], fill=UNIFORM, width=2)
        return img

    def error_image(self, wave: np.ndarray) -> Image.Image:
        """|reconstruction − target| along time over the faded target (full height = ERROR_VMAX)."""
        err = np.clip(np.abs(wave / self.peak - self.target) / ERROR_VMAX, 0, 1)
        img = self.faded.copy()
        draw = ImageDraw.Draw(img)
        _, hi = column_ranges(err, WIDTH)
        for x in range(WIDTH):
            draw.line([(x, HEIGHT - 1), (x, HEIGHT - 1 - hi[x] * (HEIGHT - 2))], fill=ERROR)
        return img

    def reconstruction_image(self, wave: np.ndarray) -> Image.Image:
        img = self.faded.copy()
        _envelope(ImageDraw.Draw(img), wave / self.peak, RECON)
        return img

    def wav(self, wave: np.ndarray) -> Media:
        import soundfile as sf

        buf = io.BytesIO()
        sf.write(buf, np.clip(wave, -1, 1), self.rate, format="WAV", subtype="PCM_16")
        return Media(".wav", buf.getvalue())

    def draw(self, snap: Snapshot | None, mode: str) -> tuple[Any, Any, Any]:
        """(waveform panel, reconstruction panel or None, player: Media, KEEP between refreshes, or None)."""
        wave = None if snap is None else snap.reconstruction
        if snap is None or mode == "plain":
            first = self.plain.copy()
        elif mode == "error" and wave is not None:
            first = self.error_image(wave)
        else:
            first = self.selection_image(snap.selected)
        if wave is None:
            return _array(first), None, None
        now = time.monotonic()
        due = snap.done or now - self._played.get(snap.method, -PLAYER_SECONDS) >= PLAYER_SECONDS
        if due:
            self._played[snap.method] = now
        return _array(first), _array(self.reconstruction_image(wave)), self.wav(wave) if due else KEEP

    def selection_frame(self, mask: np.ndarray, step: int) -> np.ndarray:
        return caption_frame(_array(self.selection_image(np.nonzero(mask[: self.t])[0])), f"step {step}")


@TABS.register("audio")
class AudioTab(ModalityTab):
    modality = "audio"
    title = "Audio"
    preset_folder = "audio"
    first_preset = "melody"
    panels = (
        Panel(
            "overlay",
            "where it trains (dashed: uniform)",
            smooth=True,
            by_mode=(("error", "|error| along time"), ("plain", "the target")),
        ),
        Panel("recon", "reconstruction (blue) over the target (grey)", smooth=True),
        Panel("player", "listen to the reconstruction", kind="audio"),
    )
    panel_layout = "stack"
    needs = (("soundfile", "soundfile"),)
    lecture_drawing = AudioLecture

    def picture(self, value: Any) -> gr.Audio:
        return gr.Audio(
            value,
            label="Clip to fit (the original)",
            type="filepath",
            interactive=False,
            elem_id=f"{self.prefix}picture",
        )

    def canvas(self, signal: Signal) -> AudioCanvas:
        return AudioCanvas(signal)

    def describe(self, signal: Signal) -> str:
        meta = signal.metadata
        return (
            f"Working clip **{meta['seconds']:.2f} s** sampled at {meta['sample_rate']:,} Hz "
            f"({signal.n:,} samples); peak {meta['peak']:.2f} of full scale, restored in the players."
        )

    def caption(self, path: Path) -> str:
        import soundfile as sf

        info = sf.info(str(path))
        return f"{path.stem} · {info.duration:.1f} s at {info.samplerate:,} Hz"

    def thumbnail(self, path: Path, folder: Path) -> str:
        """A waveform picture of the preset (written once into `folder`)."""
        from intcore.modalities import load_audio

        out = folder / f"{path.stem}-{path.suffix.lstrip('.')}.png"
        if not out.exists():
            signal = load_audio(path)
            img = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
            _envelope(ImageDraw.Draw(img), signal.values[:, 0].numpy(), WAVE, HEIGHT / 2, HEIGHT / 2 - 1)
            folder.mkdir(parents=True, exist_ok=True)
            img.save(out)
        return str(out)

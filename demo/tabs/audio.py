"""The audio tab: a clip in; per column the waveform with this step's training samples and WHERE they
are (the share of samples trained on along time), the reconstruction over the target, and a player."""
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

from ..drawing.colors import HIGHLIGHT_RGB, caption_frame
from ..drawing.waveform import HEIGHT, WIDTH, column_ranges, column_starts
from ..lecture.audio import AudioLecture
from ..server.media import KEEP, Media
from .base import TABS, ModalityTab, Panel

DENSITY = 56
"""px along the bottom of the selection panel: the share of each stretch of time that is trained on"""
ERROR_VMAX = 0.25
"""error panel scale: errors at or above this (of amplitude 1) fill the height"""
PLAYER_SECONDS = 8.0
"""refresh a column's player at most this often (and always at the end of the run)"""
WAVE_H = HEIGHT - DENSITY - 4
MID, HALF = WAVE_H / 2, WAVE_H / 2 - 1  # the waveform's zero line and amplitude 1, in px
BACKGROUND = (250, 250, 250)
WAVE = (70, 70, 70)
TARGET_FADED = (200, 200, 200)
RECON = (46, 134, 171)
ERROR = (228, 87, 46)
GUIDE = (215, 215, 215)


def _envelope(draw: ImageDraw.ImageDraw, wave: np.ndarray, color: tuple[int, int, int], mid: float = MID,
              half: float = HALF) -> None:
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
        self.full_height = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
        _envelope(ImageDraw.Draw(self.full_height), self.target, TARGET_FADED, HEIGHT / 2, HEIGHT / 2 - 1)

    def density(self, selected: np.ndarray) -> np.ndarray:
        """Share of the samples under each pixel column that are trained on this step: (WIDTH,) in [0, 1]."""
        mask = np.zeros(self.t, dtype=bool)
        mask[selected[selected < self.t]] = True
        starts = column_starts(self.t, WIDTH)
        return np.add.reduceat(mask, starts) / np.diff(np.append(starts, self.t)).clip(min=1)

    def selection_image(self, selected: np.ndarray | None) -> Image.Image:
        """The target faded with the selected samples lit, and below it a bar chart of how densely each
        stretch of time is trained on (uniform sampling: flat; INT: high where the fit is worst)."""
        if selected is None:
            img = self.plain.copy()
            ImageDraw.Draw(img).text((4, HEIGHT - DENSITY + 18), "full batch: every sample, every step", fill=WAVE)
            return img
        img = self.faded.copy()
        mask = np.zeros(self.t, dtype=bool)
        mask[selected[selected < self.t]] = True
        starts = column_starts(self.t, WIDTH)
        lo = np.minimum.reduceat(np.where(mask, self.target, np.inf), starts)
        hi = np.maximum.reduceat(np.where(mask, self.target, -np.inf), starts)
        density = self.density(selected)
        draw = ImageDraw.Draw(img)
        for x in np.nonzero(np.isfinite(hi))[0]:
            draw.line([(x, MID - hi[x] * HALF), (x, MID - lo[x] * HALF)], fill=HIGHLIGHT_RGB)
        base = HEIGHT - 1
        draw.line([(0, base - DENSITY + 2), (WIDTH, base - DENSITY + 2)], fill=GUIDE)  # 100 %
        for x in range(WIDTH):
            if density[x] > 0:
                draw.line([(x, base - round((DENSITY - 2) * density[x])), (x, base)], fill=(200, 150, 0))
        draw.text((4, base - DENSITY + 4), "share trained on (top: 100 %)", fill=(90, 90, 90))
        return img

    def error_image(self, wave: np.ndarray) -> Image.Image:
        """|reconstruction − target| along time over the faded target (full height = ERROR_VMAX)."""
        err = np.clip(np.abs(wave / self.peak - self.target) / ERROR_VMAX, 0, 1)
        img = self.full_height.copy()
        draw = ImageDraw.Draw(img)
        _, hi = column_ranges(err, WIDTH)
        for x in range(WIDTH):
            draw.line([(x, HEIGHT - 1), (x, HEIGHT - 1 - hi[x] * (HEIGHT - 2))], fill=ERROR)
        draw.text((4, 4), f"|error| (top: {ERROR_VMAX:g} of full scale)", fill=(90, 90, 90))
        return img

    def reconstruction_image(self, wave: np.ndarray) -> Image.Image:
        img = self.full_height.copy()
        _envelope(ImageDraw.Draw(img), wave / self.peak, RECON, HEIGHT / 2, HEIGHT / 2 - 1)
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
    panels = (Panel("overlay", "samples trained on, and where (or the error)", smooth=True),
              Panel("recon", "reconstruction over the target", smooth=True),
              Panel("player", "listen to the reconstruction", kind="audio"))
    panel_layout = "stack"
    needs = (("soundfile", "soundfile"),)
    lecture_drawing = AudioLecture

    def picture(self, value: Any) -> gr.Audio:
        return gr.Audio(value, label="Clip to fit (the original)", type="filepath", interactive=False,
                        elem_id=f"{self.prefix}picture")

    def canvas(self, signal: Signal) -> AudioCanvas:
        return AudioCanvas(signal)

    def describe(self, signal: Signal) -> str:
        meta = signal.metadata
        return (f"Working clip **{meta['seconds']:.2f} s** sampled at {meta['sample_rate']:,} Hz "
                f"({signal.n:,} samples); peak {meta['peak']:.2f} of full scale, restored in the players.")

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

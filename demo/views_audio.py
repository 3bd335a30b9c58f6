"""What an audio column shows: the waveform with this step's training samples lit, the reconstruction
over the target with its error, and a player for the reconstruction (refreshed at a slow cadence so a
listener is not cut off every update). Drawing only, like demo.views."""
from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from intcore.signals import Signal
from intcore.trainer import Snapshot

from .media import KEEP, Media

WIDTH, HEIGHT = 640, 180
ERROR_VMAX = 0.25
"""error panel scale, as demo.views.ERROR_VMAX: errors at or above this (of amplitude 1) fill the height"""
PLAYER_SECONDS = 8.0
"""refresh a column's player at most this often (and always at the end of the run)"""
STRIP = 10  # px along the bottom: how densely each stretch of time is selected
MID, HALF = (HEIGHT - STRIP) / 2, (HEIGHT - STRIP) / 2 - 1  # the waveform's zero line and amplitude 1, in px
HIGHLIGHT = (255, 214, 0)  # the colour demo.views lights selected pixels with
BACKGROUND = (250, 250, 250)
WAVE = (70, 70, 70)
TARGET_FADED = (200, 200, 200)
RECON = (46, 134, 171)
ERROR = (228, 87, 46)


def _columns(wave: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel column, the min and max of the samples that fall in it: (width,), (width,)."""
    starts = np.linspace(0, len(wave), width, endpoint=False).astype(int)  # a repeated start: one sample
    return np.minimum.reduceat(wave, starts), np.maximum.reduceat(wave, starts)


def _envelope(draw: ImageDraw.ImageDraw, wave: np.ndarray, color: tuple[int, int, int]) -> None:
    """Min-max envelope of `wave` (values in [-1, 1]) above the density strip."""
    lo, hi = _columns(wave, WIDTH)
    for x in range(WIDTH):
        draw.line([(x, MID - hi[x] * HALF), (x, MID - lo[x] * HALF)], fill=color)


def _png_array(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"))


class AudioCanvas:
    """Panels: (waveform with selection or error, reconstruction over the target, player)."""

    panels = ("waveform", "reconstruction", "player")

    def __init__(self, signal: Signal) -> None:
        self.signal = signal
        (self.t,) = signal.shape
        self.rate = int(signal.metadata["sample_rate"])
        self.peak = float(signal.metadata.get("peak", 1.0))
        self.target = signal.values[: self.t, 0].float().numpy()  # (T,) in [-1, 1], normalised
        self._played: dict[str, float] = {}
        base = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
        _envelope(ImageDraw.Draw(base), self.target, WAVE)
        self.plain = base
        faded = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
        _envelope(ImageDraw.Draw(faded), self.target, TARGET_FADED)
        self.faded = faded

    def selection_image(self, selected: np.ndarray | None) -> Image.Image:
        """The target faded, the selected samples lit on top, and a strip along the bottom showing how
        densely each stretch of time is selected."""
        if selected is None:
            return self.plain.copy()
        img = self.faded.copy()
        mask = np.zeros(self.t, dtype=bool)
        mask[selected[selected < self.t]] = True
        starts = np.linspace(0, self.t, WIDTH, endpoint=False).astype(int)
        lo = np.minimum.reduceat(np.where(mask, self.target, np.inf), starts)
        hi = np.maximum.reduceat(np.where(mask, self.target, -np.inf), starts)
        density = np.add.reduceat(mask, starts) / np.diff(np.append(starts, self.t)).clip(min=1)
        draw = ImageDraw.Draw(img)
        for x in np.nonzero(np.isfinite(hi))[0]:
            draw.line([(x, MID - hi[x] * HALF), (x, MID - lo[x] * HALF)], fill=HIGHLIGHT)
            draw.line([(x, HEIGHT - 1 - round((STRIP - 2) * density[x])), (x, HEIGHT - 1)], fill=HIGHLIGHT)
        return img

    def error_image(self, wave: np.ndarray) -> Image.Image:
        """|reconstruction − target| along time (normalised amplitude; full height = ERROR_VMAX)."""
        err = np.clip(np.abs(wave / self.peak - self.target) / ERROR_VMAX, 0, 1)
        img = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
        draw = ImageDraw.Draw(img)
        _, hi = _columns(err, WIDTH)
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

    def draw(self, snap: Snapshot | None, mode: str):
        """(waveform panel, reconstruction panel or None, player: Media, KEEP between refreshes, or None)."""
        wave = None if snap is None else snap.reconstruction
        if snap is None or mode == "plain":
            first = self.plain.copy()
        elif mode == "error heatmap" and wave is not None:
            first = self.error_image(wave)
        else:
            first = self.selection_image(snap.selected)
        if wave is None:
            return _png_array(first), None, None
        now = time.monotonic()
        due = snap.done or now - self._played.get(snap.method, -PLAYER_SECONDS) >= PLAYER_SECONDS
        if due:
            self._played[snap.method] = now
        return _png_array(first), _png_array(self.reconstruction_image(wave)), self.wav(wave) if due else KEEP

    def selection_frame(self, mask: np.ndarray, step: int) -> np.ndarray:
        """One GIF frame: the tracked sampler's selection, captioned with the step."""
        img = self.selection_image(np.nonzero(mask[: self.t])[0])
        draw = ImageDraw.Draw(img)
        draw.rectangle((0, 0, 78, 14), fill=(0, 0, 0))
        draw.text((3, 2), f"step {step}", fill=(255, 255, 255))
        return _png_array(img)


def thumbnail(path: Path, folder: Path) -> str:
    """A waveform picture of an audio preset for the presets gallery (written once into `folder`)."""
    from intcore.modalities import load_audio

    out = folder / f"{path.stem}-{path.suffix.lstrip('.')}.png"
    if not out.exists():
        signal = load_audio(path)
        img = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
        _envelope(ImageDraw.Draw(img), signal.values[:, 0].numpy(), WAVE)
        folder.mkdir(parents=True, exist_ok=True)
        img.save(out)
    return str(out)

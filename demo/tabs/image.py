"""The image tab: a picture in, per column the selection (or error) overlay and the reconstruction."""

from __future__ import annotations

import math
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from intcore.signals import Signal
from intcore.trainer import Snapshot

from ..drawing.colors import HIGHLIGHT, INFERNO_LUT, caption_frame, to_uint8
from ..lecture.image import ImageLecture
from .base import TABS, ModalityTab, Panel

ERROR_VMAX = 0.25
"""heatmap scale: per-pixel error |f(x) − f*(x)| (L2 over channels, pixels in [0, 1]) shown saturated
at or above this, so the map darkens visibly as the fit improves"""
PANEL_HEIGHT = 200


class ImageCanvas:
    """What an image column shows: the overlay panel (selection / error heatmap / plain target) and the
    current reconstruction."""

    def __init__(self, signal: Signal) -> None:
        h, w = signal.shape
        self.shape = (h, w)
        self.grid = h * w
        target = ((signal.values[: self.grid].float().numpy() + 1.0) / 2.0).reshape(h, w, -1)  # (H, W, c) in [0, 1]
        self.target = target[..., 0] if target.shape[2] == 1 else target
        self.target_rgb = to_uint8(self.target)
        grey = self.target if self.target.ndim == 2 else self.target @ np.array([0.299, 0.587, 0.114], np.float32)
        self.dimmed = to_uint8(0.12 + 0.3 * grey)  # the target, faded, under the highlighted selection

    def selection(self, selected: np.ndarray | None) -> np.ndarray:
        """The target faded to grey with this step's training pixels lit; full batch: the target itself."""
        if selected is None:
            return self.target_rgb
        mask = np.zeros(self.grid, dtype=bool)
        mask[selected[selected < self.grid]] = True
        out = self.dimmed.copy()
        out[mask.reshape(self.shape)] = HIGHLIGHT
        return out

    def error(self, reconstruction: np.ndarray) -> np.ndarray:
        """Per-pixel error |f(x) − f*(x)| (L2 over channels) through the Inferno colour map."""
        diff = np.asarray(reconstruction, np.float32) - self.target
        err = np.abs(diff) if diff.ndim == 2 else np.linalg.norm(diff, axis=2)  # (H, W)
        idx = np.clip(err / ERROR_VMAX * 255, 0, 255).astype(np.uint8)
        return INFERNO_LUT[idx]

    def overlay(self, snap: Snapshot | None, mode: str) -> np.ndarray:
        if snap is None or mode == "plain":
            return self.target_rgb
        if mode == "error" and snap.reconstruction is not None:
            return self.error(snap.reconstruction)
        return self.selection(snap.selected)

    def draw(self, snap: Snapshot | None, mode: str) -> tuple[np.ndarray, np.ndarray | None]:
        """(overlay, reconstruction or None before the first look)."""
        recon = None if snap is None or snap.reconstruction is None else to_uint8(snap.reconstruction)
        return self.overlay(snap, mode), recon

    def selection_frame(self, mask: np.ndarray, step: int) -> np.ndarray:
        """One GIF frame, drawn like the live overlay, enlarged to at least 256 px and captioned."""
        frame = self.dimmed.copy()
        frame[mask[: self.grid].reshape(self.shape)] = HIGHLIGHT
        scale = max(1, math.ceil(256 / max(self.shape)))
        img = Image.fromarray(frame).resize((self.shape[1] * scale, self.shape[0] * scale), Image.Resampling.NEAREST)
        return caption_frame(np.asarray(img), f"step {step}")


@TABS.register("image")
class ImageTab(ModalityTab):
    modality = "image"
    title = "Image"
    preset_folder = "images"
    first_preset = "kodim23"
    panels = (
        Panel(
            "overlay",
            "the pixels trained on (yellow)",
            by_mode=(("error", "|error| per pixel (bright: wrong)"), ("plain", "the target")),
        ),
        Panel("recon", "reconstruction"),
    )
    lecture_drawing = ImageLecture

    def picture(self, value: Any) -> gr.Image:
        return gr.Image(
            value,
            label="Picture to fit",
            type="filepath",
            image_mode=None,
            format="png",
            interactive=False,
            height=PANEL_HEIGHT,
            elem_id=f"{self.prefix}picture",
            buttons=["fullscreen"],
        )

    def canvas(self, signal: Signal) -> ImageCanvas:
        return ImageCanvas(signal)

    def describe(self, signal: Signal) -> str:
        h, w = signal.shape
        meta = signal.metadata
        text = f"Working size **{w}×{h}** px ({'grey' if meta.get('channels') == 1 else 'RGB'})"
        return text + "."

"""`ModalityTab`: everything one modality's tab needs from the app, behind one small interface.

A tab module subclasses `ModalityTab` and registers it in `TABS`; the app builds one comparison tab per
registered class and never branches on the modality. What a tab supplies:

- its input widget (`picture`) and what that widget shows for a chosen file (`picture_value`);
- the pictures of one racing column (`panels`), which its `Canvas` fills, one value per panel;
- the notice under the input (`describe`), the presets gallery's pictures (`thumbnail`);
- the working-size setting and the default budget (training seconds per sampler) on each device;
- lecture mode's drawing (`lecture_drawing`): step and kernel pictures, and what a click points at.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np

from intcore.modalities import get_modality
from intcore.presets import assets_dir
from intcore.registry import Registry
from intcore.signals import Signal
from intcore.trainer import Snapshot

from ..lecture.base import LectureDrawing

ASSETS = assets_dir()

OVERLAY_MODES = ("selection", "error", "plain")
"""what the first panel of every column shows: this step's training points, the current error, or the target"""


class Canvas(Protocol):
    """Draws one job's columns. Built once per job from the signal (keeps the target in display form)."""

    def draw(self, snap: Snapshot | None, mode: str) -> tuple[Any, ...]:
        """One value per panel of the tab (`ModalityTab.panels`, in order): a picture array (uint8 RGB),
        a `Media` file, None (clear it), or `KEEP` (leave it as it is)."""

    def selection_frame(self, mask: np.ndarray, step: int) -> np.ndarray:
        """One frame of the selection GIF: the tracked sampler's (N,) bool selection at `step`."""


@dataclass(frozen=True)
class Panel:
    """One picture (or player) in a racing column, filled by the canvas (one value per panel, in order)."""

    slot: str
    """its name; the page's element id is f"{prefix}{slot}-{column}" (e.g. overlay-1, recon-2)"""
    label: str
    kind: str = "image"
    """image or audio"""
    smooth: bool = False
    """draw scaled pictures smoothly (plots, renderings) instead of as crisp pixels (images)"""
    by_mode: tuple[tuple[str, str], ...] = ()
    """(mode, label) pairs: the label while the first picture shows that mode (OVERLAY_MODES); else `label`"""

    def label_for(self, mode: str) -> str:
        return dict(self.by_mode).get(mode, self.label)


class ModalityTab(ABC):
    """One modality's tab. Subclasses set the class attributes and implement the widgets and drawing."""

    modality: ClassVar[str]
    title: ClassVar[str]
    preset_folder: ClassVar[str]
    """folder under assets/ that holds the presets"""
    first_preset: ClassVar[str] = ""
    """the preset chosen when the page opens (else the first in name order)"""
    metric_decimals: ClassVar[int] = 2
    panels: ClassVar[tuple[Panel, ...]] = ()
    """one racing column's pictures, in the order its canvas draws them"""
    panel_layout: ClassVar[str] = "row"
    """"row": a column's panels side by side; "stack": one above the other"""
    lecture_drawing: ClassVar[type[LectureDrawing] | None] = None
    """lecture mode's pictures and clicks for this modality (a demo.lecture.base.LectureDrawing subclass);
    None: the tab has no lecture mode"""
    needs: ClassVar[tuple[tuple[str, str], ...]] = ()
    """optional packages the tab cannot work without: (module, pip package) pairs"""

    def __init__(self) -> None:
        self.spec = get_modality(self.modality)

    # ------------------------------------------------------------ files

    @property
    def prefix(self) -> str:
        """elem_id prefix of this tab's widgets ("" for the image tab, which scripts and tests know)."""
        return "" if self.modality == "image" else f"{self.modality}-"

    def presets(self) -> list[Path]:
        return sorted(p for p in (ASSETS / self.preset_folder).glob("*") if p.suffix.lower() in self.spec.extensions)

    def first(self) -> Path | None:
        presets = self.presets()
        return next((p for p in presets if p.stem == self.first_preset), presets[0] if presets else None)

    @classmethod
    def missing(cls) -> list[str]:
        """The pip packages of `needs` that cannot be imported here (empty: the tab works)."""
        import importlib

        absent = []
        for module, package in cls.needs:
            try:
                importlib.import_module(module)
            except ImportError:
                absent.append(package)
        return absent

    # ------------------------------------------------------------ widgets

    @abstractmethod
    def picture(self, value: Any) -> Any:
        """The input widget that shows the chosen signal (elem_id f"{prefix}picture")."""

    def picture_value(self, path: Path, signal: Signal, folder: Path) -> Any:
        """What the input widget shows for a chosen file (default: the file itself)."""
        return str(path)

    @abstractmethod
    def canvas(self, signal: Signal) -> Canvas:
        """The drawing of one job's columns."""

    @abstractmethod
    def describe(self, signal: Signal) -> str:
        """A loaded signal -> one line (markdown) for the notice under the input."""

    def notices(self, signal: Signal) -> list[str]:
        """Warnings about how the file was read (trimmed, mixed down, not watertight, ...)."""
        return list(signal.metadata.get("notices", []))

    def thumbnail(self, path: Path, folder: Path) -> str:
        """(preset, folder for generated pictures) -> the picture the presets gallery shows for it."""
        return str(path)

    def export(self, reconstruction: Any, signal: Signal, path: Path) -> Path:
        """Write a reconstruction for download (default: the modality's own format); returns the path."""
        return self.spec.save(reconstruction, signal, path)

    def caption(self, path: Path) -> str:
        """The presets gallery's caption for a preset."""
        return path.stem


TABS: Registry[ModalityTab] = Registry("tab")
"""modality -> its tab class, in the order the app shows them"""

"""Modalities, one registered class each, and `load_signal`, which picks one by file extension."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..signals import Signal
from . import image  # noqa: F401, I001  (registers "image" first: the CLI and app list it first)
from . import audio, shape  # noqa: F401  (register "audio" and "shape")
from .base import MODALITIES, Modality, get_modality, load_options, modality_for_path
from .audio import load_audio
from .image import load_image
from .shape import load_shape

__all__ = ["MODALITIES", "Modality", "get_modality", "load_audio", "load_image", "load_options", "load_shape", "load_signal",
           "modality_for_path"]


def load_signal(path: str | Path, modality: str | None = None, **options: Any) -> Signal:
    """Load a file as a Signal; the modality comes from the extension unless named."""
    name = modality or modality_for_path(path)
    return get_modality(name).load(path, **options)

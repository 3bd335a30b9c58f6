"""Modalities, one registered class each, and `load_signal`, which picks one by file extension."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..signals import Signal
from . import image  # noqa: F401  (registers "image")
from .base import MODALITIES, Modality, get_modality, modality_for_path
from .image import load_image

__all__ = ["MODALITIES", "Modality", "get_modality", "load_image", "load_signal", "modality_for_path"]


def load_signal(path: str | Path, modality: str | None = None, **options: Any) -> Signal:
    """Load a file as a Signal; the modality comes from the extension unless named."""
    name = modality or modality_for_path(path)
    return get_modality(name).load(path, **options)

"""What a canvas panel may hand the app besides a picture array: a media file's bytes, or KEEP."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Media:
    """A file for a panel that shows media (a WAV for a player, a GLB for a 3D view): its suffix and bytes."""

    suffix: str
    data: bytes


KEEP = object()
"""A panel value meaning "leave this panel as it is" (slow-cadence panels between their refreshes)."""

"""Media files a page loads by URL (a WAV for a column's player), written into the session's folder,
which the app serves as static files (so they never enter Gradio's cache). Pictures do not come here:
they travel inside the live view's messages as PNG data URLs."""

from __future__ import annotations

import collections
import threading
from pathlib import Path

from .media import Media
from .writes import write_whole


class FrameStore:
    """Writes a slot's media files and deletes each once `keep` newer ones exist for the same slot (a page
    may still be loading the latest few)."""

    def __init__(self, folder: Path, keep: int = 6) -> None:
        self.folder = folder
        self.keep = keep
        self._files: dict[str, collections.deque[Path]] = collections.defaultdict(collections.deque)
        self._count = 0
        self._lock = threading.Lock()

    def write(self, slot: str, media: Media) -> str:
        """Write `media`'s bytes as a new file for `slot`; returns its path."""
        with self._lock:
            self._count += 1
            path = self.folder / f"{slot}-{self._count}{media.suffix}"
            old = self._files[slot]
            old.append(path)
            stale = [old.popleft() for _ in range(max(0, len(old) - self.keep))]
        write_whole(path, media.data)
        for p in stale:
            p.unlink(missing_ok=True)
        return str(path)

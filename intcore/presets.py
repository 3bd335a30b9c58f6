"""Where the shipped presets live: the top-level `assets/` folder of a checkout, or the same files
installed as package data (`pip install .` ships them as the `int_studio_assets` package)."""
from __future__ import annotations

from pathlib import Path


def assets_dir() -> Path:
    """The folder holding images/, audio/ and shapes/ presets."""
    try:
        import int_studio_assets  # present when installed with pip
    except ImportError:
        return Path(__file__).resolve().parents[1] / "assets"
    return Path(next(iter(int_studio_assets.__path__)))


def preset_files(kind: str) -> list[Path]:
    """The preset files of one kind ("images", "audio", "shapes"), by name."""
    folder = assets_dir() / kind
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []

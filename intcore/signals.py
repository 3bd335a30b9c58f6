"""`Signal`: one sampled signal as coordinates -> values, and the errors its loaders raise.

Every modality (image, audio, shape) becomes the same thing for the trainer and the samplers:
N coordinates in [-1, 1]^d, N value vectors, and the grid shape that puts them back together.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch


class SignalError(ValueError):
    """A signal could not be loaded. The message names the file and the problem."""

    def __init__(self, source: object, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class MissingFileError(SignalError):
    """The path does not exist or is not a file."""


class EmptyFileError(SignalError):
    """The file has zero bytes."""


class UnreadableFileError(SignalError):
    """The file exists but is not in a format we can read (e.g. a text file named .png)."""


class TruncatedFileError(SignalError):
    """The file starts like a valid file but its data ends early."""


class EmptySignalError(SignalError):
    """The file decodes to nothing usable: zero pixels, zero samples, a mesh with no faces, silence."""


class UnsupportedSignalError(SignalError):
    """A readable signal outside what we accept (unknown extension, absurd sample rate, too large)."""


@dataclass
class Signal:
    """One signal sampled on a grid, ready to fit.

    coords: (N, d) float32 in [-1, 1]; values: (N, c) float32 (the fitting target);
    shape: the grid that the first `prod(shape)` coordinates come from, in row-major order
    (images (H, W), audio (T,), shapes (R, R, R)); coordinates past it (e.g. near-surface points)
    are extra training samples that are not part of the grid.
    """

    coords: torch.Tensor
    values: torch.Tensor
    shape: tuple[int, ...]
    modality: str
    name: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.coords.ndim != 2 or self.values.ndim != 2:
            raise ValueError("coords and values must be 2-D: (N, d) and (N, c)")
        if self.coords.shape[0] != self.values.shape[0]:
            raise ValueError(f"{self.coords.shape[0]} coords but {self.values.shape[0]} values")

    @property
    def n(self) -> int:
        """Number of coordinates N."""
        return self.coords.shape[0]

    @property
    def in_features(self) -> int:
        return self.coords.shape[1]

    @property
    def out_features(self) -> int:
        return self.values.shape[1]


def grid_coords(shape: tuple[int, ...]) -> torch.Tensor:
    """Row-major grid coordinates in [-1, 1]^d for a grid of `shape`: (prod(shape), d)."""
    axes = [torch.linspace(-1.0, 1.0, s) if s > 1 else torch.zeros(1) for s in shape]
    mesh = torch.meshgrid(*axes, indexing="ij")
    return torch.stack(mesh, dim=-1).reshape(-1, len(shape)).float()


def check_file(path: str | Path) -> Path:
    """Common checks before decoding: the path exists, is a file, and is not empty."""
    p = Path(path)
    if not p.exists():
        raise MissingFileError(p, "no such file")
    if not p.is_file():
        raise MissingFileError(p, "not a file")
    if p.stat().st_size == 0:
        raise EmptyFileError(p, "the file is empty (0 bytes)")
    return p

"""`Modality`: what differs between images, audio and shapes, behind one interface.

The trainer and the samplers only ever see a `Signal` and call these methods, so a new modality is one
registered subclass; nothing in the training loop branches on the modality.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from ..metrics import psnr
from ..registry import Registry
from ..signals import Signal

MODALITIES: Registry["Modality"] = Registry("modality")


class Modality(ABC):
    """One kind of signal: how to load it, how wrong a prediction is, and how to turn one back into media."""

    name: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]] = ()
    metric: ClassVar[str] = "psnr"  # the quality reported for this modality; higher is better
    metric_unit: ClassVar[str] = "dB"
    data_range: ClassVar[float] = 2.0  # values live in [-1, 1]
    file_extension: ClassVar[str] = ""  # of the reconstruction that `save` writes
    default_model: ClassVar[dict[str, Any]] = {"w0": 30.0, "first_w0": 30.0}
    load_defaults: ClassVar[dict[str, dict[str, Any]]] = {}
    """options for `load` by device kind ("cpu", "gpu"), e.g. images {"cpu": {"max_side": 128}}: the
    size of the problem a default run fits on that device (the CLI and the app start from these)"""

    @abstractmethod
    def load(self, source: Any, **options: Any) -> Signal:  # each modality names its own options
        """Read a file (or an in-memory array) into a Signal; raise a SignalError on bad input."""

    @abstractmethod
    def reconstruct(self, pred: torch.Tensor, signal: Signal) -> Any:
        """Model output at all N coordinates (N, c) -> the medium (image array, waveform, mesh)."""

    @abstractmethod
    def save(self, reconstruction: Any, signal: Signal, path: Path) -> Path:
        """Write a reconstruction to `path` (suffix `file_extension`) and return the path written."""

    def error(self, pred: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Per-coordinate error |f(x) − f*(x)| (N,): the L2 norm over channels (INT, Alg. 1)."""
        return torch.linalg.vector_norm(pred - values, dim=1)

    def loss(self, pred: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Training loss on a batch: mean squared error over the batch and channels."""
        return F.mse_loss(pred, values)

    def quality(self, pred: torch.Tensor, signal: Signal, values: torch.Tensor) -> torch.Tensor:
        """Quality of a full prediction (0-d tensor, higher is better). `values` is the target on pred's device."""
        return psnr(pred, values, data_range=self.data_range)


def modality_for_path(path: str | Path) -> str:
    """The registered modality whose extensions include the file's suffix."""
    suffix = Path(path).suffix.lower()
    for name in MODALITIES:
        if suffix in MODALITIES[name].extensions:
            return name
    from ..signals import UnsupportedSignalError

    known = ", ".join(sorted({e for n in MODALITIES for e in MODALITIES[n].extensions}))
    raise UnsupportedSignalError(path, f"unsupported file type {suffix or '(no extension)'!r} (known: {known})")


def load_options(name: str) -> set[str]:
    """The option names a registered modality's `load` accepts besides the source (for the CLI and app)."""
    import inspect

    params = inspect.signature(MODALITIES[name].load).parameters
    return {p for p in params if p not in ("self", "source")}


def get_modality(name: str) -> Modality:
    return MODALITIES[name]()

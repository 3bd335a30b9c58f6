"""Images: PNG, JPEG, BMP, TIFF, WebP via Pillow, as (H, W) grids of grey or RGB values in [-1, 1]."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from ..signals import (
    EmptySignalError,
    Signal,
    TruncatedFileError,
    UnreadableFileError,
    UnsupportedSignalError,
    check_file,
    grid_coords,
)
from .base import MODALITIES, Modality

# Decompression-bomb guard: refuse images above this many pixels before decoding them.
MAX_PIXELS = 200_000_000


def _to_float_array(img: Image.Image) -> np.ndarray:
    """Any Pillow mode -> float32 (H, W) grey or (H, W, 3) RGB in [0, 1]; alpha is dropped."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max(initial=0) > 255 or img.mode.startswith("I;16") else 255.0
        return np.clip(arr / top, 0, 1).astype(np.float32)
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float32)
        lo, hi = float(arr.min(initial=0)), float(arr.max(initial=1))
        return ((arr - lo) / (hi - lo)).astype(np.float32) if hi > lo else np.zeros_like(arr)
    if img.mode in ("1", "L", "LA"):
        img = img.convert("L")
    else:  # P, PA, RGB, RGBA, CMYK, YCbCr, LAB, HSV, ...
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.float32) / 255.0


def _array_to_float(arr: np.ndarray, source: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[..., :3]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise UnsupportedSignalError(source, f"expected an (H, W), (H, W, 3) or (H, W, 4) array, got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.integer):
        top = 65535.0 if arr.dtype.itemsize >= 2 and arr.max(initial=0) > 255 else 255.0
        return (arr.astype(np.float32) / top).clip(0, 1)
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise UnsupportedSignalError(source, "the array contains NaN or infinite values")
    return arr.clip(0, 1)


def _downscale(arr: np.ndarray, max_side: int) -> np.ndarray:
    h, w = arr.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return arr
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    u8 = (arr * 255 + 0.5).astype(np.uint8)
    out = Image.fromarray(u8).resize(size, Image.Resampling.LANCZOS)
    return np.asarray(out, dtype=np.float32) / 255.0


@MODALITIES.register("image")
class ImageModality(Modality):
    """Pixel (row, col) in [-1, 1]² -> colour in [-1, 1]; PSNR over [0, 1] pixels (data range 1)."""

    extensions = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
    file_extension = ".png"
    load_defaults = {"cpu": {"max_side": 128}, "gpu": {"max_side": None}}

    def load(self, source: Any, max_side: int | None = None, name: str | None = None) -> Signal:
        return load_image(source, max_side=max_side, name=name)

    def reconstruct(self, pred: torch.Tensor, signal: Signal) -> np.ndarray:
        """(N, c) prediction -> float32 image (H, W) or (H, W, 3) in [0, 1]."""
        h, w = signal.shape
        img = ((pred[: h * w].float().clamp(-1, 1) + 1) / 2).reshape(h, w, -1)
        img = img.detach().cpu().numpy()
        return img[..., 0] if img.shape[2] == 1 else img

    def save(self, reconstruction: np.ndarray, signal: Signal, path: Path) -> Path:
        path = Path(path).with_suffix(self.file_extension)
        Image.fromarray((np.clip(reconstruction, 0, 1) * 255 + 0.5).astype(np.uint8)).save(path)
        return path


def load_image(source: str | Path | np.ndarray, max_side: int | None = None, name: str | None = None) -> Signal:
    """Load an image file (or an (H, W[, C]) array) as a Signal.

    Grey stays one channel, everything else becomes RGB; alpha is dropped, EXIF orientation applied,
    palette and 16-bit images converted. With `max_side`, images whose longer side exceeds it are
    downscaled (Lanczos) and `metadata["original_size"]` keeps the original (H, W).
    Raises a SignalError subclass naming the file and the problem for anything unreadable.
    """
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be a positive number of pixels, got {max_side}")
    if isinstance(source, np.ndarray):
        label = name or "array"
        arr = _array_to_float(source, label)
        fmt = "array"
    else:
        path = check_file(source)
        label = str(path)
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        try:
            with Image.open(path) as img:
                fmt = img.format or path.suffix.lstrip(".").upper()
                if img.width == 0 or img.height == 0:
                    raise EmptySignalError(path, "the image has zero width or height")
                img = ImageOps.exif_transpose(img)
                img.load()
                arr = _to_float_array(img)
        except UnidentifiedImageError:
            raise UnreadableFileError(path, "not an image Pillow can read (unknown or corrupt format)") from None
        except Image.DecompressionBombError:
            raise UnsupportedSignalError(path, f"the image has more than {MAX_PIXELS:,} pixels") from None
        except (OSError, SyntaxError, ValueError) as exc:
            if "truncated" in str(exc).lower() or isinstance(exc, (SyntaxError,)):
                raise TruncatedFileError(path, "the image data ends early (truncated file)") from None
            raise UnreadableFileError(path, f"cannot decode the image ({exc})") from None
        name = name or path.stem
    if arr.size == 0 or min(arr.shape[:2]) == 0:
        raise EmptySignalError(label, "the image has zero width or height")
    original = arr.shape[:2]
    if max_side is not None:
        arr = _downscale(arr, max_side)
    h, w = arr.shape[:2]
    values = torch.from_numpy(np.ascontiguousarray(arr)).reshape(h * w, -1) * 2 - 1
    return Signal(
        coords=grid_coords((h, w)),
        values=values.float(),
        shape=(h, w),
        modality="image",
        name=name or label,
        metadata={
            "source": label,
            "format": fmt,
            "original_size": tuple(int(s) for s in original),
            "size": (h, w),
            "channels": values.shape[1],
            "downscaled": (h, w) != tuple(original),
        },
    )

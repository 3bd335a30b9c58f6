"""Images: PNG, JPEG, BMP, TIFF, WebP via Pillow, as (H, W) grids of grey or RGB values in [-1, 1]."""
from __future__ import annotations

import logging
import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..signals import (
    EmptySignalError,
    Signal,
    SignalError,
    TruncatedFileError,
    UnreadableFileError,
    UnsupportedSignalError,
    check_file,
    grid_coords,
)
from .base import MODALITIES, Modality
from .sniff import mismatch

log = logging.getLogger(__name__)

MAX_PIXELS = 100_000_000
"""Decompression-bomb guard: files declaring more pixels are refused from their header, before decoding.
100 MP covers every camera's default resolution; a decoded 8-bit RGB picture of that size is 300 MB."""
# Pillow warns (and only refuses above twice its limit); our own check above refuses first, so its
# warning would only repeat ours on stderr.
Image.MAX_IMAGE_PIXELS = 2 * MAX_PIXELS
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def _to_float_array(img: Image.Image, sixteen_bit: bool = False) -> np.ndarray:
    """Any Pillow mode -> float32 (H, W) grey or (H, W, 3) RGB in [0, 1]; alpha is dropped.
    `sixteen_bit`: the pixels came from a 16-bit file (full scale 65,535 even if all are dark)."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if sixteen_bit or arr.max(initial=0) > 255 or img.mode.startswith("I;16") else 255.0
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
    """Lanczos to a longer side of `max_side`, channel by channel in float (16-bit precision survives)."""
    h, w = arr.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return arr
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    planes = arr[..., None] if arr.ndim == 2 else arr
    out = [np.asarray(Image.fromarray(np.ascontiguousarray(planes[..., c]), mode="F").resize(size, Image.Resampling.LANCZOS))
           for c in range(planes.shape[2])]
    resized = np.stack(out, axis=-1).clip(0, 1).astype(np.float32)
    return resized[..., 0] if arr.ndim == 2 else resized


@MODALITIES.register("image")
class ImageModality(Modality):
    """Pixel (row, col) in [-1, 1]² -> colour in [-1, 1]; PSNR over [0, 1] pixels (data range 1)."""

    extensions = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")
    file_extension = ".png"
    load_defaults = {"cpu": {"max_side": 128}, "gpu": {"max_side": None}}

    def load(self, source: Any, max_side: int | None = None, name: str | None = None) -> Signal:  # type: ignore[override]
        return load_image(source, max_side=max_side, name=name)

    def reconstruct(self, pred: torch.Tensor, signal: Signal) -> np.ndarray:
        """(N, c) prediction -> float32 image (H, W) or (H, W, 3) in [0, 1]."""
        h, w = signal.shape
        img = ((pred[: h * w].float().clamp(-1, 1) + 1) / 2).reshape(h, w, -1).detach().cpu().numpy()
        return img[..., 0] if img.shape[2] == 1 else img

    def save(self, reconstruction: np.ndarray, signal: Signal, path: Path) -> Path:
        path = Path(path).with_suffix(self.file_extension)
        Image.fromarray((np.clip(reconstruction, 0, 1) * 255 + 0.5).astype(np.uint8)).save(path)
        return path


def load_image(source: str | Path | np.ndarray, max_side: int | None = None, name: str | None = None) -> Signal:
    """Load an image file (or an (H, W[, C]) array) as a Signal.

    Grey stays one channel, everything else becomes RGB; alpha is dropped, EXIF orientation applied,
    palette, CMYK and 16-bit images converted, an animated file gives its first frame (with a notice).
    With `max_side`, images whose longer side exceeds it are downscaled (Lanczos) and
    `metadata["original_size"]` keeps the original (H, W). Files declaring more than `MAX_PIXELS` are
    refused from their header, before any pixel is decoded; large JPEGs are decoded at a reduced scale and
    other large images are box-reduced right after decoding, so no full-size float copy is ever made.
    Raises a SignalError subclass naming the file and the problem for anything unreadable.
    """
    if max_side is not None and max_side < 1:
        raise ValueError(f"max_side must be a positive number of pixels, got {max_side}")
    notices: list[str] = []
    if isinstance(source, np.ndarray):
        label = name or "array"
        arr = _array_to_float(source, label)
        original = arr.shape[:2]
        fmt = "array"
    else:
        path = check_file(source)
        label = str(path)
        arr, original, fmt = _decode(path, max_side, notices)
        name = name or path.stem
    if arr.size == 0 or min(arr.shape[:2]) == 0:
        raise EmptySignalError(label, "the image has zero width or height")
    if max_side is not None:
        arr = _downscale(arr, max_side)
    h, w = arr.shape[:2]
    if (h, w) != tuple(original):
        notices.append(f"downscaled from {original[1]}×{original[0]} to {w}×{h} px (max_side {max_side}): every "
                       "pixel is a point to fit, so a smaller picture keeps each step fast")
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
            "notices": notices,
        },
    )


def _decode(path: Path, max_side: int | None, notices: list[str]) -> tuple[np.ndarray, tuple[int, int], str]:
    """Decode a file at (about) the size it is needed: (float array, upright original (H, W), format)."""
    try:
        with Image.open(path) as img:
            fmt = img.format or path.suffix.lstrip(".").upper()
            w, h = img.size
            if w * h > MAX_PIXELS:  # from the header alone: nothing has been decoded yet
                raise UnsupportedSignalError(
                    path, f"the image declares {w:,} × {h:,} = {w * h / 1e6:,.0f} megapixels; at most "
                          f"{MAX_PIXELS / 1e6:.0f} megapixels are accepted (save a smaller copy)")
            if w == 0 or h == 0:
                raise EmptySignalError(path, "the image has zero width or height")
            orientation = img.getexif().get(_ORIENTATION, 1)
            upright = (w, h) if orientation not in _SWAPS_SIDES else (h, w)
            if getattr(img, "is_animated", False):
                notices.append("the image is animated: only its first frame is fitted")
            if max_side is not None and max(w, h) > max_side and fmt == "JPEG":
                scale = max_side / max(w, h)  # JPEG decodes at 1/2, 1/4 or 1/8 scale almost for free
                img.draft(img.mode if img.mode in ("RGB", "L") else None, (math.ceil(w * scale), math.ceil(h * scale)))
            img.load()
            if "A" in img.mode or "transparency" in img.info:
                notices.append("the transparency (alpha) is ignored: the stored colours are fitted")
            sixteen_bit = img.mode.startswith("I;16")
            small = _reduce(_reducible(img), max_side)
    except SignalError:
        raise
    except UnidentifiedImageError:
        raise UnreadableFileError(path, mismatch(path, "image") or
                                  "not an image this program can read (unknown or damaged format)") from None
    except Image.DecompressionBombError as exc:  # Pillow's own guard (above twice its limit) acts inside open()
        declared = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"declares {int(declared[1]) / 1e6:,.0f} megapixels" if declared else "is larger than that"
        raise UnsupportedSignalError(
            path, f"the image {size}; at most {MAX_PIXELS / 1e6:.0f} megapixels are accepted (save a smaller copy)") from None
    except MemoryError:
        raise UnsupportedSignalError(path, "the image is too large to decode in the memory available") from None
    except Exception as exc:  # Pillow's decoders raise OSError, SyntaxError, ValueError, EOFError, zlib.error, ...
        log.debug("decoding %s failed", path, exc_info=True)
        if "truncated" in str(exc).lower():
            raise TruncatedFileError(path, "the image data ends early (truncated file)") from None
        raise UnreadableFileError(path, "the image data is damaged: the header is readable but the pixels "
                                        "cannot be decoded") from None
    small = _upright(small, orientation)
    return _to_float_array(small, sixteen_bit), (upright[1], upright[0]), fmt


_ORIENTATION = 0x0112  # the EXIF tag
_SWAPS_SIDES = (5, 6, 7, 8)
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}


def _reducible(img: Image.Image) -> Image.Image:
    """The decoded image in a mode Pillow's reduce() and our float conversion take (one copy at most)."""
    if img.mode == "P":
        return img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("1", "PA"):
        return img.convert("L" if img.mode == "1" else "RGBA")
    if img.mode.startswith("I;16"):
        return img.convert("I")
    return img


def _reduce(img: Image.Image, max_side: int | None) -> Image.Image:
    """Box-average by the largest whole factor that keeps the longer side at least `max_side` (Lanczos
    then finishes from at most twice the target size)."""
    if max_side is None:
        return img
    factor = max(img.size) // max_side
    if factor < 2 or img.mode not in ("L", "LA", "RGB", "RGBA", "I", "F", "CMYK"):
        return img
    return img.reduce(factor)


def _upright(img: Image.Image, orientation: int) -> Image.Image:
    """Apply the EXIF orientation (after reducing, so on the small image)."""
    method = _TRANSPOSE.get(orientation)
    return img.transpose(method) if method is not None else img

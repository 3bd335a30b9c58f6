"""Image loading: every format and mode a user may hand us, and a clear error for every bad file."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from intcore import load_image, load_signal
from intcore.signals import (
    EmptyFileError,
    EmptySignalError,
    MissingFileError,
    SignalError,
    TruncatedFileError,
    UnreadableFileError,
    UnsupportedSignalError,
    grid_coords,
)


def test_rgb_png_becomes_a_grid_of_values_in_minus_one_one(rgb_png):
    s = load_image(rgb_png)
    assert s.shape == (32, 48) and s.n == 32 * 48
    assert s.coords.shape == (s.n, 2) and s.values.shape == (s.n, 3)
    assert s.coords.min() == -1 and s.coords.max() == 1
    assert s.values.min() >= -1 and s.values.max() <= 1
    raw = np.asarray(Image.open(rgb_png), dtype=np.float32) / 255
    assert torch.allclose((s.values.reshape(32, 48, 3) + 1) / 2, torch.from_numpy(raw), atol=1e-6)
    assert s.metadata["original_size"] == (32, 48) and s.metadata["downscaled"] is False


def test_grid_coords_are_row_major():
    c = grid_coords((2, 3))
    assert c.tolist() == [[-1, -1], [-1, 0], [-1, 1], [1, -1], [1, 0], [1, 1]]


@pytest.mark.parametrize("fmt, suffix", [("PNG", ".png"), ("JPEG", ".jpg"), ("BMP", ".bmp"), ("TIFF", ".tif"), ("WEBP", ".webp")])
def test_common_formats(tmp_path, fmt, suffix):
    img = Image.fromarray((np.random.default_rng(0).random((20, 30, 3)) * 255).astype(np.uint8))
    path = tmp_path / f"x{suffix}"
    img.save(path, format=fmt)
    s = load_signal(path)
    assert s.modality == "image" and s.shape == (20, 30) and s.out_features == 3


def test_grey_stays_one_channel_and_alpha_is_dropped(tmp_path):
    Image.fromarray(np.full((10, 12), 128, np.uint8), mode="L").save(tmp_path / "g.png")
    assert load_image(tmp_path / "g.png").out_features == 1
    rgba = np.zeros((10, 12, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 0  # fully transparent red: we keep the colour, drop alpha
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    s = load_image(tmp_path / "a.png")
    assert s.out_features == 3 and torch.allclose(s.values[:, 0], torch.ones(120))


def test_palette_and_16_bit_are_converted(tmp_path):
    Image.fromarray((np.arange(64).reshape(8, 8) * 4).astype(np.uint8)).convert("P").save(tmp_path / "p.png")
    assert load_image(tmp_path / "p.png").out_features == 3
    deep = (np.arange(64).reshape(8, 8) * 1000).astype(np.uint16)
    Image.fromarray(deep).save(tmp_path / "d.png")
    s = load_image(tmp_path / "d.png")
    v = (s.values[:, 0] + 1) / 2
    assert s.out_features == 1 and v.max() == pytest.approx(63000 / 65535, abs=1e-5)


def test_exif_orientation_is_applied(tmp_path):
    img = Image.fromarray(np.zeros((10, 20, 3), np.uint8))  # landscape pixels...
    exif = Image.Exif()
    exif[0x0112] = 6  # ...stored "rotate 90° CW": upright it is portrait
    img.save(tmp_path / "o.jpg", exif=exif)
    assert load_image(tmp_path / "o.jpg").shape == (20, 10)


def test_downscale_keeps_aspect_and_records_original_size(tmp_path):
    Image.fromarray(np.zeros((300, 600, 3), np.uint8)).save(tmp_path / "big.png")
    s = load_image(tmp_path / "big.png", max_side=128)
    assert s.shape == (64, 128)
    assert s.metadata["original_size"] == (300, 600) and s.metadata["downscaled"] is True
    assert load_image(tmp_path / "big.png", max_side=1000).shape == (300, 600)


def test_arrays_load_too():
    s = load_image(np.zeros((5, 7, 3), np.uint8), name="zeros")
    assert s.shape == (5, 7) and s.name == "zeros" and torch.all(s.values == -1)


def test_missing_file(tmp_path):
    with pytest.raises(MissingFileError) as e:
        load_image(tmp_path / "nope.png")
    assert "nope.png" in str(e.value) and "no such file" in str(e.value)


def test_empty_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(EmptyFileError, match="empty.png.*empty"):
        load_image(tmp_path / "empty.png")


def test_text_renamed_png(tmp_path):
    (tmp_path / "notes.png").write_text("this is not a picture\n")
    with pytest.raises(UnreadableFileError, match="notes.png.*not an image"):
        load_image(tmp_path / "notes.png")


def test_truncated_png(tmp_path, rgb_png):
    data = rgb_png.read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedFileError, match="cut.png.*truncated"):
        load_image(tmp_path / "cut.png")


def test_truncated_jpeg(tmp_path):
    buf = io.BytesIO()
    Image.fromarray((np.random.default_rng(1).random((64, 64, 3)) * 255).astype(np.uint8)).save(buf, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buf.getvalue()[:600])
    with pytest.raises(SignalError, match="cut.jpg"):
        load_image(tmp_path / "cut.jpg")


def test_zero_size_image():
    with pytest.raises(EmptySignalError, match="zero width or height"):
        load_image(np.zeros((0, 5, 3), np.uint8))


def test_directory_and_unknown_extension(tmp_path):
    with pytest.raises(MissingFileError, match="not a file"):
        load_image(tmp_path)
    (tmp_path / "x.xyz").write_text("?")
    with pytest.raises(UnsupportedSignalError, match="unsupported file type '.xyz'"):
        load_signal(tmp_path / "x.xyz")


def test_every_loader_error_is_a_signal_error_and_a_value_error():
    for cls in (MissingFileError, EmptyFileError, UnreadableFileError, TruncatedFileError, EmptySignalError,
                UnsupportedSignalError):
        assert issubclass(cls, SignalError) and issubclass(cls, ValueError)

"""Makers of bad and odd input files, each written for real into a folder (used by test_hostile_*.py and
bench/soak.py). Every maker takes the folder and returns the path it wrote; all files are small (the
"hour-long" and "millions of faces" files declare their size in the header and leave the body sparse).
"""
from __future__ import annotations

import io
import json
import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

RATE = 8000


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_declaring(width: int, height: int, body: bytes | None = None) -> bytes:
    """A PNG whose header declares width × height grey pixels; its IDAT holds only the first rows
    (or `body`), so the file is a few KB whatever it declares."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    if body is None:
        body = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", body)
            + _png_chunk(b"IEND", b""))


def tone(seconds: float = 0.25, rate: int = RATE, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return wave if channels == 1 else np.stack([wave * (0.5 + 0.5 * c / channels) for c in range(channels)], axis=1)


def wav_header(frames: int, rate: int, channels: int = 1, bits: int = 16) -> bytes:
    """A plain PCM RIFF/WAVE header declaring `frames` frames."""
    block = channels * bits // 8
    data = frames * block
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, bits)
            + b"data" + struct.pack("<I", data))


# ---------------------------------------------------------------- images


def bomb_png(folder: Path) -> Path:
    """A few-KB PNG declaring 32,000 × 32,000 pixels (1 gigapixel)."""
    path = folder / "bomb.png"
    path.write_bytes(png_declaring(32_000, 32_000))
    return path


def just_over_png(folder: Path) -> Path:
    """A few-KB PNG declaring 14,500 × 14,000 (203 MP): Pillow only warns at this size."""
    path = folder / "huge.png"
    path.write_bytes(png_declaring(14_500, 14_000))
    return path


def large_jpeg(folder: Path, width: int = 6000, height: int = 4000) -> Path:
    """A legal but large photo (24 MP): smooth colours, so the file stays small."""
    y, x = np.mgrid[0:height:8, 0:width:8]
    small = np.stack([x * 255 // width, y * 255 // height, (x + y) * 127 // (width + height)], -1).astype(np.uint8)
    path = folder / "large.jpg"
    Image.fromarray(small).resize((width, height), Image.Resampling.NEAREST).save(path, quality=80)
    return path


def large_png(folder: Path, width: int = 6000, height: int = 4000) -> Path:
    path = folder / "large.png"
    y, x = np.mgrid[0:height:8, 0:width:8]
    small = np.stack([x * 255 // width, y * 255 // height, x * 0 + 90], -1).astype(np.uint8)
    Image.fromarray(small).resize((width, height), Image.Resampling.NEAREST).save(path, compress_level=1)
    return path


def png_16_bit(folder: Path) -> Path:
    """A 16-bit grey ramp 0 … 65,535 across 64 × 32 pixels."""
    ramp = np.linspace(0, 65535, 64).round().astype(np.uint16)
    path = folder / "deep.png"
    Image.fromarray(np.tile(ramp, (32, 1))).save(path)
    return path


def palette_alpha_png(folder: Path) -> Path:
    """A palette PNG with a transparent palette entry (the tRNS chunk)."""
    index = (np.arange(32 * 32).reshape(32, 32) // 128 % 4).astype(np.uint8)
    img = Image.fromarray(index, mode="P")
    img.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0] + [0] * (256 * 3 - 12))
    path = folder / "palette.png"
    img.save(path, transparency=0)
    return path


def cmyk_jpeg(folder: Path) -> Path:
    """Left half pure cyan, right half pure yellow, stored as CMYK."""
    cmyk = np.zeros((24, 32, 4), np.uint8)
    cmyk[:, :16, 0] = 255
    cmyk[:, 16:, 2] = 255
    path = folder / "print.jpg"
    Image.fromarray(cmyk, mode="CMYK").save(path, quality=95)
    return path


def animated_gif(folder: Path) -> Path:
    """Three frames: white, black, black (the first frame is the one used)."""
    frames = [Image.new("L", (20, 16), v) for v in (255, 0, 0)]
    path = folder / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def exif_rotated_jpeg(folder: Path) -> Path:
    """Stored 40 wide × 20 high, left half red; EXIF orientation 6 (turn 90° clockwise to view):
    upright it is 20 wide × 40 high with red at the top."""
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20, 0] = 255
    arr[:, 20:, 2] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    path = folder / "phone.jpg"
    Image.fromarray(arr).save(path, exif=exif, quality=95)
    return path


def garbage_body_png(folder: Path) -> Path:
    """A valid 64 × 64 PNG header followed by random bytes where the compressed pixels should be."""
    path = folder / "garbage.png"
    path.write_bytes(png_declaring(64, 64, body=np.random.default_rng(0).bytes(2000)))
    return path


# ---------------------------------------------------------------- audio


def wav_zero_samples(folder: Path) -> Path:
    path = folder / "nothing.wav"
    path.write_bytes(wav_header(0, RATE))
    return path


def wav_one_sample(folder: Path) -> Path:
    path = folder / "click.wav"
    path.write_bytes(wav_header(1, RATE) + struct.pack("<h", 12000))
    return path


def wav_hour_long(folder: Path, rate: int = 44_100) -> Path:
    """An hour of 16-bit mono: one second of tone, then a sparse hole (317 MB declared, ~90 KB on disk)."""
    frames = 3600 * rate
    path = folder / "lecture.wav"
    head = (tone(1.0, rate) * 32767).astype("<i2").tobytes()
    with open(path, "wb") as fh:
        fh.write(wav_header(frames, rate) + head)
        fh.truncate(44 + frames * 2)
    return path


def wav_hour_long_small(folder: Path) -> Path:
    """An hour at 1 kHz, 8-bit (3.6 MB: small enough to upload): one second of tone, then silence."""
    import soundfile as sf

    data = np.zeros(3600 * 1000, np.float32)
    data[:1000] = tone(1.0, 1000)
    path = folder / "lecture.wav"
    sf.write(path, data, 1000, subtype="PCM_U8")
    return path


def wav_eight_channels(folder: Path) -> Path:
    import soundfile as sf

    path = folder / "surround.wav"
    sf.write(path, tone(0.25, RATE, channels=8), RATE, subtype="PCM_16")
    return path


def wav_192k(folder: Path) -> Path:
    import soundfile as sf

    path = folder / "studio.wav"
    sf.write(path, tone(0.05, 192_000), 192_000, subtype="PCM_24")
    return path


def wav_float_nan_inf(folder: Path) -> Path:
    import soundfile as sf

    data = tone(0.25)
    data[100], data[200] = np.nan, np.inf
    path = folder / "broken.wav"
    sf.write(path, data, RATE, subtype="FLOAT")
    return path


# ---------------------------------------------------------------- meshes

_TETRA_FACES = "f 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n"


def obj_nan_vertices(folder: Path) -> Path:
    path = folder / "nan.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nv nan 0 inf\n" + _TETRA_FACES)
    return path


def ply_point_cloud(folder: Path) -> Path:
    """300 points and no faces (what a phone's 3D scanner exports)."""
    pts = np.random.default_rng(0).normal(size=(300, 3)).astype("<f4")
    header = ("ply\nformat binary_little_endian 1.0\nelement vertex 300\nproperty float x\nproperty float y\n"
              "property float z\nend_header\n").encode()
    path = folder / "scan.ply"
    path.write_bytes(header + pts.tobytes())
    return path


def obj_flat(folder: Path) -> Path:
    """A square of two triangles in a tilted plane: an area but no volume."""
    path = folder / "sheet.obj"
    path.write_text("v 0 0 0\nv 1 0 1\nv 1 1 1\nv 0 1 0\nf 1 2 3\nf 1 3 4\n")
    return path


def obj_degenerate(folder: Path) -> Path:
    """One triangle whose corners lie on a line (zero area)."""
    path = folder / "line.obj"
    path.write_text("v 0 0 0\nv 1 1 1\nv 2 2 2\nf 1 2 3\n")
    return path


def stl_millions(folder: Path, faces: int = 6_000_000) -> Path:
    """A binary STL declaring `faces` triangles (300 MB declared, sparse on disk)."""
    path = folder / "scan.stl"
    with open(path, "wb") as fh:
        fh.write(b"\0" * 80 + struct.pack("<I", faces))
        fh.truncate(84 + 50 * faces)
    return path


def obj_millions(folder: Path, faces: int = 2_100_000) -> Path:
    """An OBJ of `faces` face lines over one tetrahedron's corners (17 MB: small enough to upload)."""
    path = folder / "dense.obj"
    with open(path, "wb") as fh:
        fh.write(b"v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\n")
        fh.write(b"f 1 3 2\n" * faces)
    return path


def glb_scene(folder: Path) -> Path:
    """A GLB scene of three separate meshes (two boxes and a sphere)."""
    import trimesh

    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box((1, 1, 1)), node_name="a")
    scene.add_geometry(trimesh.creation.box((0.5, 2, 0.5)).apply_translation((2, 0, 0)), node_name="b")
    scene.add_geometry(trimesh.creation.icosphere(1, 0.6).apply_translation((0, 2, 0)), node_name="c")
    path = folder / "scene.glb"
    path.write_bytes(scene.export(file_type="glb"))
    return path


def obj_latin1(folder: Path) -> Path:
    """A valid tetrahedron whose comment is Latin-1 (not UTF-8): "modèle créé à Zürich"."""
    path = folder / "modele.obj"
    path.write_bytes("# modèle créé à Zürich\nv 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\n".encode("latin-1")
                     + _TETRA_FACES.encode())
    return path


def obj_garbage(folder: Path) -> Path:
    path = folder / "junk.obj"
    path.write_bytes(np.random.default_rng(3).bytes(3000))
    return path


# ---------------------------------------------------------------- any modality


def empty(folder: Path, suffix: str) -> Path:
    path = folder / f"empty{suffix}"
    path.write_bytes(b"")
    return path


def wav_named_png(folder: Path) -> Path:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, tone(), RATE, format="WAV", subtype="PCM_16")
    path = folder / "holiday.png"
    path.write_bytes(buf.getvalue())
    return path


def picture_named(path: Path, fmt: str, colour: tuple[int, int, int]) -> Path:
    """An 8 × 8 picture in `fmt` (PNG, JPEG) written under a name that says otherwise."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buf, fmt)
    path.write_bytes(buf.getvalue())
    return path


def png_named_wav(folder: Path) -> Path:
    return picture_named(folder / "song.wav", "PNG", (200, 10, 10))


def jpeg_named_obj(folder: Path) -> Path:
    return picture_named(folder / "teapot.obj", "JPEG", (10, 200, 10))


def heic_named_jpg(folder: Path) -> Path:
    """The start of a phone's HEIC photo (an ISO-BMFF 'ftyp' box, brand heic), named .jpg."""
    path = folder / "IMG_0001.jpg"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + np.random.default_rng(5).bytes(2000))
    return path


def over_cap(folder: Path, suffix: str, megabytes: int) -> Path:
    """A file of `megabytes` MB (sparse zeros after a plausible header)."""
    path = folder / f"big{suffix}"
    with open(path, "wb") as fh:
        fh.write(json.dumps({"not": "a signal"}).encode())
        fh.truncate(megabytes * 2**20)
    return path


# ---------------------------------------------------------------- the catalogue

LEAKS = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception)\b|numpy|Probabilit|PIL\b|Pillow|trimesh|soundfile|libsndfile|"
                   r"module|struct\.|zlib|\.py\b|no vertices found")
"""words that belong to the code, not to a user: exception names, library and module names, numpy's phrases"""


@dataclass(frozen=True)
class Entry:
    """One catalogue line: a file, and whether it is refused or accepted, with the words the message has."""

    id: str
    make: Callable[[Path], Path]
    refused: bool
    words: str
    """a phrase the refusal (or, for accepted files, a notice) must contain; "" for accepted without notice"""
    options: dict = field(default_factory=dict)
    """loader options (the CLI's --max-side / --max-seconds / --grid)"""
    upload: Callable[[Path], Path] | None = None
    """the file the app is given when `make`'s is over the upload cap (None: the same file)"""


CATALOGUE = [
    # images
    Entry("decompression bomb (1 gigapixel PNG)", bomb_png, True, "1,024 megapixels"),
    Entry("203 MP PNG (Pillow only warns)", just_over_png, True, "203 megapixels"),
    Entry("large JPEG (24 MP)", large_jpeg, False, "", {"max_side": 64}),
    Entry("large PNG (24 MP)", large_png, False, "", {"max_side": 64}),
    Entry("16-bit PNG", png_16_bit, False, ""),
    Entry("palette PNG with transparency", palette_alpha_png, False, "transparency (alpha) is ignored"),
    Entry("CMYK JPEG", cmyk_jpeg, False, ""),
    Entry("animated GIF", animated_gif, False, "only its first frame"),
    Entry("EXIF-rotated JPEG", exif_rotated_jpeg, False, ""),
    Entry("valid PNG header, garbage body", garbage_body_png, True, "image data is damaged"),
    # audio
    Entry("WAV with 0 samples", wav_zero_samples, True, "zero samples"),
    Entry("WAV with 1 sample", wav_one_sample, True, "only 1 sample"),
    Entry("hour-long WAV", wav_hour_long, False, "trimmed to the first 1.00 s of 3600.00 s", {"max_seconds": 1.0},
          upload=wav_hour_long_small),
    Entry("8-channel WAV", wav_eight_channels, False, "8 channels are mixed down"),
    Entry("192 kHz WAV", wav_192k, False, "192,000 Hz"),
    Entry("float WAV with NaN and inf", wav_float_nan_inf, True, "NaN or infinite samples"),
    # meshes
    Entry("OBJ with NaN/inf corners", obj_nan_vertices, True, "NaN or infinite coordinates", {"grid": 8}),
    Entry("point-cloud PLY (no faces)", ply_point_cloud, True, "300 points but no faces", {"grid": 8}),
    Entry("flat mesh", obj_flat, True, "mesh is flat", {"grid": 8}),
    Entry("degenerate triangle", obj_degenerate, True, "its only face has zero area", {"grid": 8}),
    Entry("mesh of millions of faces (6 M-face STL; the app gets a 2.1 M-face OBJ)", stl_millions, True,
          "000 faces; at most 2,000,000", {"grid": 8}, upload=obj_millions),
        Entry("GLB scene of three meshes", glb_scene, False, "3 meshes are merged", {"grid": 8}),
    Entry("OBJ with a Latin-1 comment", obj_latin1, False, "", {"grid": 8}),
    Entry("OBJ of random bytes", obj_garbage, True, "cannot read the mesh", {"grid": 8}),
    # any modality
    Entry("empty .png", lambda d: empty(d, ".png"), True, "empty (0 bytes)"),
    Entry("empty .wav", lambda d: empty(d, ".wav"), True, "empty (0 bytes)"),
    Entry("empty .obj", lambda d: empty(d, ".obj"), True, "empty (0 bytes)", {"grid": 8}),
    Entry(".png holding a WAV", wav_named_png, True, "WAV audio file, not an image"),
    Entry(".wav holding a PNG", png_named_wav, True, "PNG image, not audio"),
    Entry("HEIC photo named .jpg", heic_named_jpg, True, "HEIC photo, a format this program cannot read"),
    Entry(".obj holding a JPEG", jpeg_named_obj, True, "JPEG image, not a 3D mesh", {"grid": 8}),
]

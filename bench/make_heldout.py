"""Make the held-out signals the teacher benchmark is judged on: signals no default was tuned on, none
of them shipped in assets/.

    python bench/make_heldout.py OUT [--kodak FOLDER]

Writes OUT/image, OUT/audio and OUT/shape:
- photos: kodim03, kodim15 and kodim20 from the Kodak folder given by --kodak (skipped without it), and
  scikit-image's `coffee` (a photo from another camera and another collection);
- music: a piano-like chord progression (3 s; additive partials with decays) and a drum-and-bass loop
  (4 s; pitched kicks, noise snares, a square-wave bass), both synthesised here with numpy;
- speech: two sentences spoken by espeak-ng (4 s each, a low and a high voice at 16 kHz; skipped when
  espeak-ng is not installed: `apt-get install espeak-ng`);
- meshes from two generators the shape presets do not use: metaballs with a tunnel through them
  (marching cubes of an implicit field, scikit-image) and a chess pawn (a revolved profile, trimesh).
The signals the defaults were tuned on (the presets, kodim14, a plucked arpeggio, a third espeak-ng
sentence) are not among them.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

RATE = 16000


def photos(out: Path, kodak: Path | None) -> None:
    from PIL import Image
    from skimage import data

    if kodak is not None:
        for name in ("kodim03", "kodim15", "kodim20"):
            shutil.copy(kodak / f"{name}.png", out / f"{name}.png")
    Image.fromarray(data.coffee()).save(out / "coffee.png")


def music(out: Path) -> None:
    import soundfile as sf

    t = np.arange(int(3.0 * RATE)) / RATE
    y = np.zeros_like(t)
    chords = [(0.0, [261.6, 329.6, 392.0]), (0.75, [293.7, 370.0, 440.0]), (1.5, [246.9, 311.1, 370.0]),
              (2.25, [261.6, 329.6, 392.0, 523.3])]
    for start, chord in chords:
        on = t >= start
        tt = t[on] - start
        for f in chord:
            for h, a in ((1, 1.0), (2, 0.45), (3, 0.25), (4, 0.12), (5, 0.06)):
                y[on] += a * np.exp(-tt * (2.5 + h)) * np.sin(2 * np.pi * f * h * tt * (1 + 0.0004 * h))
    sf.write(out / "piano.wav", (0.8 * y / np.abs(y).max()).astype(np.float32), RATE)

    rng = np.random.default_rng(7)
    t = np.arange(int(4.0 * RATE)) / RATE
    y = np.zeros_like(t)
    for beat in np.arange(0, 4, 0.5):
        on = t >= beat
        tt = t[on] - beat
        y[on] += 0.9 * np.exp(-tt * 18) * np.sin(2 * np.pi * (55 + 90 * np.exp(-tt * 30)) * tt)  # kick
        if int(beat * 2) % 2 == 1:
            y[on] += rng.standard_normal(on.sum()) * np.exp(-tt * 40) * 0.4  # snare
    for i, f in enumerate([55, 55, 65.4, 73.4, 55, 49, 65.4, 82.4]):
        on = (t >= i * 0.5) & (t < i * 0.5 + 0.5)
        tt = t[on] - i * 0.5
        y[on] += 0.35 * np.sign(np.sin(2 * np.pi * f * tt)) * np.exp(-tt * 3)
    sf.write(out / "drumbass.wav", (0.85 * y / np.abs(y).max()).astype(np.float32), RATE)


def speech(out: Path) -> None:
    import soundfile as sf

    if shutil.which("espeak-ng") is None:
        print("make_heldout: espeak-ng is not installed; no speech clips (apt-get install espeak-ng)")
        return
    lines = {"speech-male.wav": ("en", "150", "50", "The quick brown fox jumps over the lazy dog near the river bank."),
             "speech-female.wav": ("en+f3", "170", "70", "Seven silver ships sailed silently, but nobody noticed them at all.")}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (voice, speed, pitch, text) in lines.items():
            raw = Path(tmp) / name
            subprocess.run(["espeak-ng", "-v", voice, "-s", speed, "-p", pitch, "-w", str(raw), text], check=True)
            y, rate = sf.read(raw, dtype="float32")
            if y.ndim > 1:
                y = y.mean(axis=1)
            samples = np.interp(np.arange(0, len(y) / rate, 1 / RATE), np.arange(len(y)) / rate, y)[: 4 * RATE]
            sf.write(out / name, samples.astype(np.float32), RATE)


def meshes(out: Path) -> None:
    import trimesh
    from skimage.measure import marching_cubes

    g = np.linspace(-1.2, 1.2, 96)
    x, y, z = np.meshgrid(g, g, g, indexing="ij")
    field = np.zeros_like(x)
    for (cx, cy, cz), r in (((-0.4, 0, 0), 0.35), ((0.4, 0.1, 0), 0.3), ((0, 0.5, 0.2), 0.25), ((0.1, -0.4, -0.3), 0.28)):
        field += r**2 / ((x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 + 1e-6)
    field -= 0.6 * np.exp(-(x**2 + (y - 0.05) ** 2) / 0.02)  # a tunnel along z
    verts, faces, _, _ = marching_cubes(field, level=1.0, spacing=(g[1] - g[0],) * 3)
    blob = trimesh.Trimesh(verts - 1.2, faces)
    blob.fill_holes()
    blob.export(out / "metaballs.ply")
    profile = np.array([[0, 0], [0.45, 0], [0.45, 0.08], [0.32, 0.14], [0.3, 0.2], [0.18, 0.3], [0.14, 0.55],
                        [0.24, 0.6], [0.12, 0.66], [0.2, 0.8], [0.18, 0.92], [0.08, 1.0], [0, 1.02]])
    trimesh.creation.revolve(profile, sections=64).export(out / "pawn.stl")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--kodak", type=Path, help="a folder with the Kodak photos kodim03, kodim15 and kodim20")
    args = ap.parse_args()
    for kind in ("image", "audio", "shape"):
        (args.out / kind).mkdir(parents=True, exist_ok=True)
    photos(args.out / "image", args.kodak)
    music(args.out / "audio")
    speech(args.out / "audio")
    meshes(args.out / "shape")
    for path in sorted(args.out.rglob("*.*")):
        print(path)


if __name__ == "__main__":
    main()

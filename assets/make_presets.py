"""Make the generated presets: two audio clips and three meshes, deterministically (no randomness).

    .venv/bin/python assets/make_presets.py

Writes assets/audio/{melody,chirp}.wav (16 kHz, 16-bit mono, under 3 s) and
assets/shapes/{mug.obj,chair.stl,blob.ply}. The mug is watertight (a closed revolved body and a closed
handle that reaches into its wall); the chair is the triangle soup of overlapping parts that the
winding-number inside test is for. Needs numpy, soundfile and trimesh.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import trimesh

HERE = Path(__file__).resolve().parent
RATE = 16_000


# ---------------------------------------------------------------- audio


def pluck(freq: float, seconds: float, rate: int = RATE) -> np.ndarray:
    """A plucked note: five harmonics falling off as 1/h², 5 ms attack, exponential decay."""
    t = np.arange(round(seconds * rate)) / rate
    tone = sum(np.sin(2 * np.pi * freq * h * t) / h**2 for h in range(1, 6))
    envelope = (1 - np.exp(-t / 0.005)) * np.exp(-t * 3.0)
    return tone * envelope


def melody() -> np.ndarray:
    """Eight notes of a C-major tune, 0.3 s apart, each ringing on under the next: 2.4 s."""
    notes = [262, 330, 392, 523, 494, 392, 440, 523]  # C4 E4 G4 C5 B4 G4 A4 C5 (Hz)
    step = 0.3
    out = np.zeros(round((step * len(notes) + 0.0) * RATE))
    for i, f in enumerate(notes):
        note = pluck(f, 0.6)
        start = round(i * step * RATE)
        end = min(len(out), start + len(note))
        out[start:end] += note[: end - start]
    return 0.8 * out / np.abs(out).max()


def chirp() -> np.ndarray:
    """An exponential sweep from 100 Hz to 4 kHz over 2 s, faded in and out, with a 2 Hz tremolo."""
    seconds, f0, f1 = 2.0, 100.0, 4000.0
    t = np.arange(round(seconds * RATE)) / RATE
    k = np.log(f1 / f0) / seconds
    phase = 2 * np.pi * f0 * (np.exp(k * t) - 1) / k
    fade = np.sin(np.pi * t / seconds) ** 0.5
    tremolo = 0.75 + 0.25 * np.cos(2 * np.pi * 2.0 * t)
    return 0.7 * np.sin(phase) * fade * tremolo


# ---------------------------------------------------------------- shapes


def mug() -> trimesh.Trimesh:
    """A thick-walled mug (a closed profile revolved) and a handle (a torus whose inner half lies inside the
    wall): two closed surfaces, so the mesh is watertight; where they overlap, both count as inside."""
    # Profile in (r, z), counter-clockwise: outer wall up, rim, inner wall down, inner floor, base.
    profile = np.array([[0.0, 0.0], [0.80, 0.0], [0.85, 0.05], [0.85, 1.6], [0.75, 1.6],
                        [0.75, 0.15], [0.0, 0.15]])
    body = trimesh.creation.revolve(profile, sections=48)
    handle = trimesh.creation.torus(major_radius=0.45, minor_radius=0.09, major_sections=32, minor_sections=12)
    handle.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    handle.apply_translation([0.8, 0.0, 0.85])
    mug = trimesh.util.concatenate([body, handle])
    assert mug.is_watertight, "the mug preset must be watertight"
    return mug


def chair() -> trimesh.Trimesh:
    """Seat, back and four legs as overlapping boxes in one triangle soup (no boolean union)."""
    parts = [
        ((1.0, 1.0, 0.1), (0.0, 0.0, 0.9)),  # seat
        ((1.0, 0.1, 1.0), (0.0, 0.45, 1.45)),  # back
    ]
    for x in (-0.42, 0.42):
        for y in (-0.42, 0.42):
            parts.append(((0.12, 0.12, 0.9), (x, y, 0.45)))  # legs, reaching into the seat
    return trimesh.util.concatenate([trimesh.creation.box(extents=e).apply_translation(c) for e, c in parts])


def blob() -> trimesh.Trimesh:
    """A sphere with smooth bumps: r = 1 + 0.25·sin(3θ)·sin(2φ) + 0.1·cos(5φ) (watertight)."""
    sphere = trimesh.creation.icosphere(subdivisions=4)
    v = sphere.vertices
    theta = np.arccos(np.clip(v[:, 2], -1, 1))
    phi = np.arctan2(v[:, 1], v[:, 0])
    r = 1 + 0.25 * np.sin(3 * theta) * np.sin(2 * phi) + 0.1 * np.cos(5 * phi)
    return trimesh.Trimesh(vertices=v * r[:, None], faces=sphere.faces, process=False)


def main() -> None:
    (HERE / "audio").mkdir(exist_ok=True)
    (HERE / "shapes").mkdir(exist_ok=True)
    for name, wave in (("melody", melody()), ("chirp", chirp())):
        sf.write(HERE / "audio" / f"{name}.wav", wave.astype(np.float32), RATE, subtype="PCM_16")
    mug().export(HERE / "shapes" / "mug.obj", include_normals=False, include_texture=False, header=None)
    chair().export(HERE / "shapes" / "chair.stl")
    blob().export(HERE / "shapes" / "blob.ply")
    for p in sorted((HERE / "audio").glob("*")) + sorted((HERE / "shapes").glob("*")):
        print(f"{p.relative_to(HERE)}: {p.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()

"""Pictures of 3D points and meshes drawn on the server with numpy (no WebGL in the browser).

A live 3D column would otherwise need one WebGL viewer per column, reloaded at every refresh, and
browsers keep only about 16 WebGL contexts: during a race the oldest viewers went blank. A picture is
an <img>: it never loses anything. Surfaces are drawn as dense surface samples splatted into a z-buffer
and lit from the viewer's side (Lambert), which reads well at panel size.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SIZE = 256
AZIMUTH, ELEVATION = 35.0, 22.0  # degrees: a three-quarter view from the front, slightly above
LIGHT = np.array([-0.35, 0.55, 0.76])  # in camera coordinates (x right, y up, z towards the viewer)
BACKGROUND = (250, 250, 250)
RECON_COLOR = (120, 150, 190)
Y_UP_FORMATS = {"GLB", "GLTF"}
"""formats whose vertical axis is y (glTF's rule); every other format is read as z-up (CAD, STL, the presets)"""


def up_axis(signal: Any) -> str:
    """A shape signal's vertical axis: "y" for glTF files, else "z"."""
    return "y" if str(signal.metadata.get("format", "")).upper() in Y_UP_FORMATS else "z"


def camera(up: str = "z", azimuth: float = AZIMUTH, elevation: float = ELEVATION) -> np.ndarray:
    """(3, 3) rotation: model coordinates -> camera coordinates (x right, y up, z towards the viewer).
    `up` is the model's vertical axis: "z" (CAD, STL, most OBJ exports of the presets) or "y" (glTF)."""
    a, e = math.radians(azimuth), math.radians(elevation)
    to_camera = np.array([math.cos(e) * math.sin(a), -math.cos(e) * math.cos(a), math.sin(e)])  # z-up world
    forward = -to_camera
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    upward = np.cross(right, forward)
    rotation = np.stack([right, upward, to_camera])  # rows: camera axes in z-up world coordinates
    if up == "y":  # model (x, y, z) with y up -> z-up world (x, -z, y)
        rotation = rotation @ np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
    return rotation


def splat(
    points: np.ndarray,
    colors: np.ndarray,
    rotation: np.ndarray,
    size: int = SIZE,
    radius: int = 1,
    image: np.ndarray | None = None,
    extent: float = 1.5,
) -> np.ndarray:
    """Draw points (P, 3) in [-1, 1]³ with colours (P, 3) uint8 as squares of 2·radius+1 px, nearest on
    top; returns (size, size, 3) uint8 (on `image` if given, else on a plain background)."""
    out = np.empty((size, size, 3), np.uint8) if image is None else image.copy()
    if image is None:
        out[:] = BACKGROUND
    if len(points) == 0:
        return out
    cam = points @ rotation.T  # (P, 3)
    scale = (size - 1) / (2 * extent)
    px = np.round(cam[:, 0] * scale + (size - 1) / 2).astype(np.int64)
    py = np.round((size - 1) / 2 - cam[:, 1] * scale).astype(np.int64)
    offsets = [(dx, dy) for dx in range(-radius, radius + 1) for dy in range(-radius, radius + 1)]
    xs = np.concatenate([px + dx for dx, _ in offsets])
    ys = np.concatenate([py + dy for _, dy in offsets])
    depth = np.tile(cam[:, 2], len(offsets))
    index = np.tile(np.arange(len(points)), len(offsets))
    keep = (xs >= 0) & (xs < size) & (ys >= 0) & (ys < size)
    xs, ys, depth, index = xs[keep], ys[keep], depth[keep], index[keep]
    pixel = ys * size + xs
    order = np.lexsort((-depth, pixel))  # by pixel, nearest first
    first = np.ones(len(order), bool)
    first[1:] = pixel[order][1:] != pixel[order][:-1]
    win = order[first]
    out.reshape(-1, 3)[pixel[win]] = colors[index[win]]
    return out


def shade(normals: np.ndarray, rotation: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Lambert shading, two-sided: normals (P, 3) in model coordinates, base colours (P, 3) or (3,) -> uint8."""
    n = normals @ rotation.T
    light = LIGHT / np.linalg.norm(LIGHT)
    lambert = np.abs(n @ light)[:, None]  # (P, 1)
    return np.clip(np.asarray(base, np.float64) * (0.35 + 0.65 * lambert), 0, 255).astype(np.uint8)


def surface_samples(mesh, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`count` points on a trimesh surface (area-weighted) and their face normals: (P, 3), (P, 3)."""
    import trimesh

    if len(mesh.faces) == 0:
        return np.zeros((0, 3)), np.zeros((0, 3))
    points, faces = trimesh.sample.sample_surface(mesh, count, seed=seed)
    return np.asarray(points), np.asarray(mesh.face_normals)[faces]


def render_surface(
    mesh, rotation: np.ndarray, color=(120, 150, 190), count: int = 40_000, size: int = SIZE
) -> np.ndarray:
    """A shaded picture of a mesh in [-1, 1]³: (size, size, 3) uint8."""
    points, normals = surface_samples(mesh, count)
    return splat(points, shade(normals, rotation, np.array(color)), rotation, size)

"""3D shapes: OBJ, PLY, STL, GLB/glTF, OFF meshes (via trimesh) as occupancy over the unit cube.

Point x in [-1, 1]³ -> occupancy logit; the target is 1 inside the shape and 0 outside. Ground truth
comes from the generalised winding number (Jacobson et al., "Robust Inside-Outside Segmentation using
Generalized Winding Numbers", SIGGRAPH 2013), which stays meaningful on meshes with holes,
self-intersections and several overlapping parts, where ray-parity tests and `contains` break.
We use libigl's `fast_winding_number` (Barill et al., SIGGRAPH 2018): a Barnes-Hut tree over the triangle
soup, measured at 6 s for 10⁶ queries against 8·10⁴ triangles on two CPU cores (0.005 % of points
mislabelled on a sphere), shipped as a wheel that needs no compiler. trimesh's own `contains` needs
watertight meshes (and rtree).

trimesh, libigl and scikit-image are imported inside the functions that need them: the training
path works on machines without them.
"""
from __future__ import annotations

import logging
import re
import struct
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ..metrics import iou
from ..signals import (
    EmptySignalError,
    Signal,
    UnreadableFileError,
    UnsupportedSignalError,
    check_file,
    grid_coords,
)
from .base import MODALITIES, Modality
from .sniff import mismatch

log = logging.getLogger(__name__)
# trimesh logs parser complaints; without a handler Python prints them on stderr, beside our own message.
logging.getLogger("trimesh").addHandler(logging.NullHandler())

MAX_FACES = 2_000_000
"""refuse bigger meshes, from the file's header where it states a count: a 1.3 M-face mesh takes 7–11 s
and 0.8–1.1 GB to load and label at grid 32 on a 2-core CPU (docs/hardening.md)"""
DEFAULT_GRID = 32
MAX_GRID = 256  # 256³ = 16.8 M grid points; beyond that the fit does not fit in memory
MARGIN = 0.05  # the shape fills [-1 + MARGIN, 1 - MARGIN]³, so the grid sees empty space all round


def _require(module: str, package: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"3D shapes need the {package} package: pip install {package}") from None


def winding_numbers(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Generalised winding number of the triangle soup (vertices (V, 3), faces (F, 3)) at points (Q, 3): (Q,).

    ≈1 inside a closed, outward-oriented surface, ≈0 outside, and a smooth value in between near holes;
    thresholding at ½ gives the robust inside test.
    """
    igl = _require("igl", "libigl")
    v = np.ascontiguousarray(vertices, dtype=np.float64)
    f = np.ascontiguousarray(faces, dtype=np.int64)
    q = np.ascontiguousarray(points, dtype=np.float64)
    return np.asarray(igl.fast_winding_number(v, f, q))


def _check_has_volume(label: str, corners: np.ndarray, triangles: np.ndarray) -> None:
    """Refuse meshes that enclose nothing to fill: every face of zero area, or every corner in one plane.
    `corners` (V, 3) and `triangles` (F, 3, 3) are already scaled into the unit cube."""
    area = np.linalg.norm(np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]), axis=1)
    if not area.sum() > 1e-12:
        faces = "its only face has" if len(triangles) == 1 else f"all {len(triangles):,} faces have"
        raise EmptySignalError(label, f"{faces} zero area (the corners lie on a line or a point): there is no "
                                      "surface to fill")
    spread = np.linalg.eigvalsh(np.cov(corners.T)) if len(corners) > 3 else np.zeros(3)
    if spread[0] <= 1e-10 * max(spread[-1], 1e-30):
        raise EmptySignalError(label, "the mesh is flat (all its corners lie in one plane): it encloses no "
                                      "volume to fill")


def sample_surface(vertices: np.ndarray, faces: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` points uniformly distributed over the surface's area: (count, 3)."""
    tri = vertices[faces]  # (F, 3, 3)
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    which = rng.choice(len(faces), size=count, p=area / area.sum())
    u, v = rng.random((2, count))
    flip = u + v > 1  # fold the unit square onto the triangle
    u, v = np.where(flip, 1 - u, u), np.where(flip, 1 - v, v)
    a, b, c = tri[which, 0], tri[which, 1], tri[which, 2]
    return a + u[:, None] * (b - a) + v[:, None] * (c - a)


def declared_faces(path: Path) -> int | None:
    """The number of faces a mesh file says it has, read without parsing the mesh (None: not stated).

    Binary STL and GLB state it in their headers, PLY and OFF in their text headers; for OBJ the face
    lines are counted (a fast byte scan)."""
    suffix = path.suffix.lower()
    with open(path, "rb") as fh:
        head = fh.read(4096)
        if suffix == ".stl" and len(head) >= 84:  # binary: 80-byte header, count, 50 bytes a face
            count = struct.unpack("<I", head[80:84])[0]
            return count if path.stat().st_size == 84 + 50 * count else None
        if suffix == ".ply" and head.startswith(b"ply"):
            found = re.search(rb"element\s+face\s+(\d+)", head)
            return int(found[1]) if found else 0
        if suffix == ".off" and head.startswith(b"OFF"):
            numbers = re.findall(rb"\d+", re.sub(rb"#[^\n]*", b"", head[3:]))
            return int(numbers[1]) if len(numbers) >= 2 else None
        if suffix == ".glb" and head[:4] == b"glTF" and len(head) >= 20:
            return _glb_faces(path)
        if suffix == ".obj":
            fh.seek(0)
            count, previous = 0, b"\n"
            while chunk := fh.read(1 << 22):
                count += (previous[-1:] + chunk).count(b"\nf ")
                previous = chunk
            return count + head.startswith(b"f ")
    return None


def _glb_faces(path: Path) -> int | None:
    """Triangles in a GLB's mesh primitives, from the accessor counts in its JSON chunk."""
    import json

    with open(path, "rb") as fh:
        fh.seek(12)
        length, kind = struct.unpack("<I4s", fh.read(8))
        if kind != b"JSON" or length > 64 * 2**20:
            return None
        try:
            gltf = json.loads(fh.read(length))
            accessors = gltf.get("accessors", [])
            total = 0
            for mesh in gltf.get("meshes", []):
                for prim in mesh.get("primitives", []):
                    which = prim.get("indices", prim.get("attributes", {}).get("POSITION"))
                    total += int(accessors[which]["count"]) // 3 if which is not None else 0
            return total
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return None


def _read_mesh(path: Path, notices: list[str]):
    """The file's triangles as one unprocessed trimesh.Trimesh (a scene's meshes merged, with a notice);
    any parser failure, point cloud or empty file becomes a SignalError in plain words."""
    trimesh = _require("trimesh", "trimesh")
    kind = path.suffix.lstrip(".").upper()
    faces = declared_faces(path)
    if faces is not None and faces > MAX_FACES:
        raise UnsupportedSignalError(path, f"the mesh has {faces:,} faces; at most {MAX_FACES:,} are accepted "
                                           "(simplify it first, e.g. with a decimate modifier)")
    try:
        loaded = trimesh.load(str(path), process=False)
    except MemoryError:
        raise UnsupportedSignalError(path, "the mesh is too large to read in the memory available") from None
    except Exception:  # trimesh's parsers raise ValueError, KeyError, IndexError, struct.error, ImportError, ...
        log.debug("reading %s failed", path, exc_info=True)
        raise UnreadableFileError(path, mismatch(path, "shape") or
                                  f"cannot read the mesh: damaged, truncated or not a valid {kind} file") from None
    if isinstance(loaded, trimesh.Scene):
        meshes = [g for g in loaded.geometry.values() if isinstance(g, trimesh.Trimesh) and len(g.faces)]
        if len(meshes) > 1:
            notices.append(f"the scene's {len(meshes)} meshes are merged into one shape")
        loaded = loaded.to_mesh() if meshes else trimesh.Trimesh()
    if isinstance(loaded, trimesh.PointCloud) or (isinstance(loaded, trimesh.Trimesh) and len(loaded.faces) == 0
                                                   and len(loaded.vertices) > 0):
        raise EmptySignalError(path, f"the file holds {len(loaded.vertices):,} points but no faces (a point "
                                     "cloud): a surface made of triangles is needed")
    if not isinstance(loaded, trimesh.Trimesh) or len(loaded.faces) == 0:
        raise EmptySignalError(path, mismatch(path, "shape") or
                               f"cannot read the mesh: the file holds no triangles (empty, damaged or not a valid "
                               f"{kind} file)")
    return loaded


def load_shape(
    source: str | Path | Any,
    grid: int | None = 32,
    near_surface: int | None = None,
    sigma: float | None = None,
    seed: int = 0,
    name: str | None = None,
) -> Signal:
    """Load a mesh file (or a trimesh.Trimesh) as an occupancy Signal.

    The mesh is centred and scaled uniformly into [-1 + MARGIN, 1 - MARGIN]³. Coordinates: the `grid`³
    regular grid (signal.shape = (grid, grid, grid), row-major) followed by `near_surface` points
    (default: a quarter of the grid's count) drawn on the surface and jittered by N(0, sigma²) (default sigma:
    half a grid spacing). Each is labelled inside (1) where the generalised winding number is ≥ ½.
    Raises a SignalError subclass for unreadable files, meshes without faces, flat or huge meshes.
    """
    grid = DEFAULT_GRID if grid is None else int(grid)
    if not 2 <= grid <= MAX_GRID:
        raise ValueError(f"grid must be between 2 and {MAX_GRID} points per side, got {grid}")
    if near_surface is not None and near_surface < 0:
        raise ValueError(f"near_surface must be zero or more points, got {near_surface}")
    trimesh = _require("trimesh", "trimesh")
    notices: list[str] = []
    if isinstance(source, trimesh.Trimesh):
        mesh, label, fmt = source, name or "mesh", "trimesh"
    else:
        path = check_file(source)
        label, fmt = str(path), path.suffix.lstrip(".").upper()
        mesh = _read_mesh(path, notices)
        name = name or path.stem
    vertices = np.asarray(mesh.vertices, dtype=np.float64)  # (V, 3)
    faces = np.asarray(mesh.faces, dtype=np.int64)  # (F, 3)
    if len(faces) == 0:
        raise EmptySignalError(label, f"the mesh has {len(vertices):,} points but no faces (a point cloud): "
                                      "a surface made of triangles is needed")
    if len(faces) > MAX_FACES:
        raise UnsupportedSignalError(label, f"the mesh has {len(faces):,} faces; at most {MAX_FACES:,} are accepted")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise UnreadableFileError(label, "the mesh is damaged: its faces refer to corners it does not have")
    used_ids = np.unique(faces)
    if not np.isfinite(vertices[used_ids]).all():
        raise UnsupportedSignalError(label, "the mesh has corners at NaN or infinite coordinates")
    used = vertices[used_ids]
    lo, hi = used.min(axis=0), used.max(axis=0)
    extent = float((hi - lo).max())
    if not np.isfinite(extent):
        raise UnsupportedSignalError(label, "the mesh's coordinates are too large to measure")
    if extent <= 0:
        raise EmptySignalError(label, "all faces collapse to a single point (zero size)")
    center = (lo + hi) / 2
    scale = 2 * (1 - MARGIN) / extent
    vertices = (vertices - center) * scale  # now inside [-1 + MARGIN, 1 - MARGIN]³
    vertices[np.setdiff1d(np.arange(len(vertices)), used_ids)] = 0.0  # unused corners may be NaN: harmless
    _check_has_volume(label, vertices[used_ids], vertices[faces])
    # Merge duplicate corners (STL stores each triangle's own), so watertightness means what it says.
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=True)
    vertices, faces = np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int64)

    # Coordinates: the regular grid first (the part IoU and marching cubes read), then near-surface points.
    rng = np.random.default_rng(seed)
    grid_pts = grid_coords((grid, grid, grid))  # (R³, 3)
    count = grid**3 // 4 if near_surface is None else near_surface
    sigma = 1.0 / (grid - 1) if sigma is None else sigma  # half a grid spacing (the spacing is 2 / (R - 1))
    near = sample_surface(vertices, faces, count, rng) + rng.normal(0.0, sigma, (count, 3))
    near = np.clip(near, -1.0, 1.0)
    coords = torch.cat([grid_pts, torch.from_numpy(near).float()])  # (N, 3)
    wn = winding_numbers(vertices, faces, coords.numpy())
    occupancy = torch.from_numpy(wn >= 0.5).float()[:, None]  # (N, 1)
    inside = float(occupancy[: grid**3].mean())
    watertight = bool(mesh.is_watertight)
    if not watertight:
        notices.append("the mesh is not watertight; inside/outside comes from the generalised winding number")
    if inside == 0.0:
        notices.append(f"no grid point is inside the shape at grid {grid}: it is too thin; raise the grid or close the mesh")
    return Signal(
        coords=coords,
        values=occupancy,
        shape=(grid, grid, grid),
        modality="shape",
        name=name or label,
        metadata={
            "source": label,
            "format": fmt,
            "vertices": len(vertices),
            "faces": len(faces),
            "watertight": watertight,
            "grid": grid,
            "near_surface": count,
            "sigma": sigma,
            "inside_fraction": inside,
            "center": [float(c) for c in center],
            "scale": scale,
            "notices": notices,
        },
    )


@MODALITIES.register("shape")
class ShapeModality(Modality):
    """Point x in [-1, 1]³ -> occupancy logit. Trained with binary cross-entropy on the logits; INT's
    error is |sigmoid(logit) − occupancy|; quality is IoU on the grid (the paper reports IoU)."""

    extensions = (".obj", ".ply", ".stl", ".glb", ".gltf", ".off")
    metric = "iou"
    metric_unit = ""
    data_range = 1.0
    file_extension = ".glb"
    default_model = {"first_w0": 30.0, "w0": 30.0}
    load_defaults = {"cpu": {"grid": DEFAULT_GRID}, "gpu": {"grid": 64}}

    def load(self, source: Any, grid: int | None = DEFAULT_GRID, near_surface: int | None = None,  # type: ignore[override]
             sigma: float | None = None,
             seed: int = 0, name: str | None = None) -> Signal:
        return load_shape(source, grid=grid, near_surface=near_surface, sigma=sigma, seed=seed, name=name)

    def error(self, pred: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """|sigmoid(logit) − occupancy| (N,)."""
        return (torch.sigmoid(pred) - values).abs().squeeze(1)

    def loss(self, pred: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Binary cross-entropy on the logits, mean over the batch."""
        return F.binary_cross_entropy_with_logits(pred, values)

    def quality(self, pred: torch.Tensor, signal: Signal, values: torch.Tensor) -> torch.Tensor:
        """IoU of {logit > 0} and {occupancy} over the grid points only (not the near-surface extras)."""
        g = int(np.prod(signal.shape))
        return iou(pred[:g, 0] > 0, values[:g, 0] > 0.5)

    def reconstruct(self, pred: torch.Tensor, signal: Signal):
        """Grid logits -> the 0-level surface by marching cubes, as a trimesh.Trimesh in [-1, 1]³
        (empty when the prediction has no surface on the grid)."""
        trimesh = _require("trimesh", "trimesh")
        measure = _require("skimage.measure", "scikit-image")
        r = signal.shape[0]
        logits = pred[: r**3, 0].detach().float().cpu().numpy().reshape(signal.shape)  # (R, R, R), axis i = coordinate i
        if not (logits.max() > 0 > logits.min()):
            return trimesh.Trimesh()
        # Pad with "outside" so surfaces touching the cube's faces still close.
        volume = np.pad(logits, 1, constant_values=min(float(logits.min()), -1.0))
        verts, faces, _, _ = measure.marching_cubes(volume, level=0.0)
        verts = (verts - 1) * (2.0 / (r - 1)) - 1.0  # padded grid index -> [-1, 1]
        # marching_cubes winds the triangles towards increasing values (inward here): flip to face outward.
        return trimesh.Trimesh(vertices=verts, faces=faces[:, ::-1], process=False)

    def save(self, reconstruction, signal: Signal, path: Path) -> Path:
        """Binary glTF (GLB) in the input mesh's coordinates; an empty reconstruction writes a GLB with an
        empty scene."""
        path = Path(path).with_suffix(self.file_extension)
        if len(reconstruction.faces) == 0:  # trimesh refuses to export empty scenes
            path.write_bytes(_EMPTY_GLB)
            return path
        mesh = reconstruction.copy()
        # Back from the fitting cube to the input mesh's own coordinates (load_shape centred and scaled it).
        center, scale = signal.metadata.get("center"), signal.metadata.get("scale")
        if center is not None and scale:
            mesh.vertices = mesh.vertices / scale + np.asarray(center)
        path.write_bytes(mesh.export(file_type="glb"))
        return path


def _glb(gltf: dict[str, Any]) -> bytes:
    """A GLB holding only a JSON chunk (glTF 2.0 spec, "Binary glTF Layout")."""
    import json
    import struct

    body = json.dumps(gltf, separators=(",", ":")).encode()
    body += b" " * (-len(body) % 4)  # chunks are 4-byte aligned, JSON padded with spaces
    chunk = struct.pack("<I4s", len(body), b"JSON") + body
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunk)) + chunk


_EMPTY_GLB = _glb({"asset": {"version": "2.0", "generator": "intcore"}, "scene": 0, "scenes": [{"nodes": []}]})

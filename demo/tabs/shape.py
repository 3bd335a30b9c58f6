"""The 3D-shape tab: a mesh in; per column a picture of the points trained on (or of the error on the
reconstructed surface) and a picture of the reconstruction, both drawn on the server (demo.render3d),
so a race never creates WebGL contexts. The one 3D viewer shows the input mesh as a GLB with normals."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from intcore.signals import Signal
from intcore.trainer import Snapshot

from ..drawing.colors import caption_frame
from ..drawing.render3d import RECON_COLOR, Y_UP_FORMATS, camera, render_surface, shade, splat, surface_samples, up_axis
from ..lecture.shape import ShapeLecture
from ..server.writes import write_whole
from .base import TABS, ModalityTab, Panel

INSIDE, OUTSIDE = np.array([228, 87, 46], np.uint8), np.array([46, 134, 171], np.uint8)
MAX_POINTS = 4000
"""points drawn per selection picture (a fixed random subset of the selection beyond that)"""
ERROR_SPACINGS = 1.5
"""error view scale: a reconstructed surface point this many grid spacings (or more) from the true
surface is drawn at the top of the colour map"""
ON_SURFACE, FAR = np.array([205.0, 215.0, 228.0]), np.array([200.0, 30.0, 20.0])
"""the error view's colours: light grey-blue on the true surface, red at ERROR_SPACINGS or more (a light
start, so that a good fit reads as a light, shaded shape rather than a black one)"""


def to_gltf_frame(vertices: np.ndarray, up: str) -> np.ndarray:
    """Vertices with `up` vertical -> glTF's frame (y up): z-up (x, y, z) becomes (x, z, −y)."""
    return vertices if up == "y" else np.stack([vertices[:, 0], vertices[:, 2], -vertices[:, 1]], axis=1)


def glb_with_normals(mesh, up: str) -> bytes:
    """A mesh as GLB (y up, vertex normals, a light grey material) that any glTF viewer shades."""
    import trimesh

    copy = trimesh.Trimesh(
        vertices=to_gltf_frame(np.asarray(mesh.vertices, np.float64), up), faces=np.asarray(mesh.faces), process=False
    )
    copy.visual = trimesh.visual.ColorVisuals(copy, face_colors=[200, 200, 205, 255])
    return trimesh.exchange.gltf.export_glb(trimesh.Scene(copy), include_normals=True)


class ShapeCanvas:
    """Panels: (the selected points over the faded target, or the error on the reconstructed surface;
    the shaded reconstruction)."""

    def __init__(self, signal: Signal) -> None:
        from scipy.spatial import cKDTree

        self.n = signal.n
        self.coords = signal.coords.float().numpy()  # (N, 3)
        self.inside = signal.values[:, 0].numpy() > 0.5  # (N,)
        self.rotation = camera(up_axis(signal))
        r = signal.shape[0]
        self.spacing = 2.0 / (r - 1)
        self.target = occupancy_mesh(self.inside[: r**3].reshape(signal.shape))
        points, normals = surface_samples(self.target, 40_000)
        self.target_tree = cKDTree(points) if len(points) else None
        self.plain = splat(points, shade(normals, self.rotation, np.array((150, 150, 150))), self.rotation)
        faded = (0.45 * self.plain.astype(np.float32) + 0.55 * 250).astype(np.uint8)
        self.faded = faded
        rng = np.random.default_rng(0)
        self._everything = rng.choice(signal.n, size=min(signal.n, MAX_POINTS), replace=False)
        self._rng = rng

    def selection(self, selected: np.ndarray | None) -> np.ndarray:
        """The target surface faded, the training points on top (inside: red, outside: blue)."""
        idx = self._everything if selected is None else selected
        if len(idx) > MAX_POINTS:
            idx = np.sort(self._rng.choice(idx, size=MAX_POINTS, replace=False))
        colors = np.where(self.inside[idx, None], INSIDE, OUTSIDE)
        return splat(self.coords[idx], colors, self.rotation, image=self.faded, radius=1)

    def error(self, mesh) -> np.ndarray:
        """The reconstructed surface coloured by its distance to the true surface (grey-blue: on it; red:
        ERROR_SPACINGS grid spacings or more away)."""
        points, normals = surface_samples(mesh, 40_000)
        if len(points) == 0 or self.target_tree is None:
            return caption_frame(self.faded, "no surface yet")
        distance, _ = self.target_tree.query(points)
        t = np.clip(distance / (ERROR_SPACINGS * self.spacing), 0, 1)[:, None]
        colors = shade(normals, self.rotation, ON_SURFACE + t * (FAR - ON_SURFACE))
        return splat(points, colors, self.rotation, image=self.faded)

    def draw(self, snap: Snapshot | None, mode: str) -> tuple[np.ndarray, np.ndarray | None]:
        mesh = None if snap is None else snap.reconstruction
        if snap is None or mode == "plain":
            first = self.plain
        elif mode == "error" and mesh is not None:
            first = self.error(mesh)
        else:
            first = self.selection(snap.selected)
        if mesh is None:
            return first, None
        if len(mesh.faces) == 0:
            return first, caption_frame(np.full_like(self.plain, 250), "no surface yet (all inside or all outside)")
        return first, render_surface(mesh, self.rotation, RECON_COLOR)

    def selection_frame(self, mask: np.ndarray, step: int) -> np.ndarray:
        return caption_frame(self.selection(np.nonzero(mask)[0]), f"step {step}")


def occupancy_mesh(occupied: np.ndarray):
    """The boundary of a boolean (R, R, R) grid (axis i = coordinate i, spanning [-1, 1]) as a trimesh."""
    import trimesh
    from skimage import measure

    r = occupied.shape[0]
    if not occupied.any() or occupied.all():
        return trimesh.Trimesh()
    volume = np.pad(occupied.astype(np.float32), 1)
    verts, faces, _, _ = measure.marching_cubes(volume, level=0.5)
    return trimesh.Trimesh(vertices=(verts - 1) * (2.0 / (r - 1)) - 1.0, faces=faces, process=False)


@TABS.register("shape")
class ShapeTab(ModalityTab):
    modality = "shape"
    title = "3D shape"
    preset_folder = "shapes"
    first_preset = "mug"
    metric_decimals = 4
    needs = (("trimesh", "trimesh"), ("igl", "libigl"))
    panels = (
        Panel(
            "overlay",
            "trained on (red in, blue out)",
            smooth=True,
            by_mode=(("error", "red: off the true surface"), ("plain", "the target")),
        ),
        Panel("recon", "reconstruction", smooth=True),
    )
    lecture_drawing = ShapeLecture

    def picture(self, value: Any) -> gr.Model3D:
        return gr.Model3D(
            value,
            label="Mesh to fit (drag to turn)",
            interactive=False,
            height=210,
            elem_id=f"{self.prefix}picture",
            clear_color=(0.97, 0.97, 0.97, 1.0),
        )

    def picture_value(self, path: Path, signal: Signal, folder: Path) -> str:
        """The input mesh as a GLB with normals, y up, in the file's own coordinates (written once)."""
        import trimesh

        key = hashlib.sha1(f"{Path(path).resolve()}:{Path(path).stat().st_mtime_ns}".encode()).hexdigest()[:10]
        out = folder / f"{Path(path).stem}-{key}-{up_axis(signal)}.glb"
        if not out.exists():
            mesh = trimesh.load(str(path), force="mesh")
            folder.mkdir(parents=True, exist_ok=True)
            write_whole(out, glb_with_normals(mesh, up_axis(signal)))
        return str(out)

    def canvas(self, signal: Signal) -> ShapeCanvas:
        return ShapeCanvas(signal)

    def describe(self, signal: Signal) -> str:
        meta = signal.metadata
        r = signal.shape[0]
        return (
            f"Occupancy on a **{r}³ grid** plus {meta['near_surface']:,} points near the surface; the mesh has "
            f"{meta['faces']:,} faces ({'watertight' if meta['watertight'] else 'open'}), "
            f"{meta['inside_fraction']:.0%} of the grid inside; read as {up_axis(signal)}-up."
        )

    def export(self, reconstruction, signal: Signal, path: Path) -> Path:
        """The reconstruction as GLB in the input file's own coordinates (y up, with normals)."""
        meta = signal.metadata
        vertices = np.asarray(reconstruction.vertices, np.float64) / meta["scale"] + np.asarray(meta["center"])
        import trimesh

        mesh = trimesh.Trimesh(vertices=vertices, faces=np.asarray(reconstruction.faces), process=False)
        path = Path(path).with_suffix(".glb")
        if len(mesh.faces) == 0:
            return self.spec.save(reconstruction, signal, path)
        path.write_bytes(glb_with_normals(mesh, up_axis(signal)))
        return path

    def thumbnail(self, path: Path, folder: Path) -> str:
        """A shaded picture of the preset mesh (written once into `folder`)."""
        from PIL import Image

        out = folder / f"{path.stem}-{path.suffix.lstrip('.')}.png"
        if not out.exists():
            import trimesh

            mesh = trimesh.load(str(path), force="mesh")
            v = np.asarray(mesh.vertices, np.float64)
            lo, hi = v.min(axis=0), v.max(axis=0)
            unit = trimesh.Trimesh(
                vertices=(v - (lo + hi) / 2) * (1.9 / float((hi - lo).max())),
                faces=np.asarray(mesh.faces),
                process=False,
            )
            fmt = path.suffix.lstrip(".").upper()
            picture = render_surface(unit, camera("y" if fmt in Y_UP_FORMATS else "z"), count=30_000, size=200)
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(picture).save(out)
        return str(out)

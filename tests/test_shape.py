"""3D shapes: the loader and its errors, the inside test on open meshes, IoU, loss/error, reconstruction."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

trimesh = pytest.importorskip("trimesh")
pytest.importorskip("igl")

from intcore.metrics import iou  # noqa: E402
from intcore.modalities import get_modality, load_shape, load_signal, modality_for_path  # noqa: E402
from intcore.modalities.shape import winding_numbers  # noqa: E402
from intcore.signals import EmptyFileError, EmptySignalError, MissingFileError, SignalError, UnreadableFileError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def open_torus() -> trimesh.Trimesh:
    """A torus (R = 1, r = 0.4) with a patch cut from the top of its tube around +x: not watertight
    (the patch leaves the bounding box, and so the normalisation, unchanged)."""
    torus = trimesh.creation.torus(major_radius=1.0, minor_radius=0.4, major_sections=32, minor_sections=16)
    centres = torus.triangles_center
    torus.update_faces(~((centres[:, 2] > 0.2) & (centres[:, 0] > 0.5) & (np.abs(centres[:, 1]) < 0.4)))
    return torus


@pytest.mark.parametrize("suffix", [".obj", ".ply", ".stl", ".glb", ".off"])
def test_reads_every_format_into_the_unit_cube(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"box{suffix}"
    trimesh.creation.box(extents=(4.0, 2.0, 1.0)).apply_translation((10, 0, 0)).export(path)
    assert modality_for_path(path) == "shape"
    sig = load_signal(path, grid=8)
    assert sig.modality == "shape" and sig.shape == (8, 8, 8)
    assert sig.n == 8**3 + 8**3 // 4 and sig.coords.shape == (sig.n, 3) and sig.values.shape == (sig.n, 1)
    assert sig.coords.abs().max() <= 1.0
    assert set(sig.values.unique().tolist()) <= {0.0, 1.0}
    assert sig.metadata["watertight"] and sig.metadata["scale"] == pytest.approx(2 * 0.95 / 4.0)
    # The box is centred and scaled to span [-0.95, 0.95] on its longest axis: the grid's middle is inside.
    inside = sig.values[: 8**3, 0].reshape(8, 8, 8)
    assert inside[3:5, 3:5, 3:5].all() and not inside[0].any()


def test_scene_with_several_meshes_is_concatenated(tmp_path: Path) -> None:
    scene = trimesh.Scene([trimesh.creation.box(), trimesh.creation.icosphere().apply_translation((3, 0, 0))])
    path = tmp_path / "scene.glb"
    scene.export(path)
    sig = load_shape(path, grid=16)
    assert sig.metadata["faces"] == 12 + 1280


def test_sphere_occupancy_matches_the_analytic_inside() -> None:
    sig = load_shape(trimesh.creation.icosphere(subdivisions=4), grid=16, near_surface=2000)
    radius = sig.coords.norm(dim=1)
    truth = radius < 0.95  # the unit sphere scaled by 0.95
    agree = (sig.values[:, 0].bool() == truth).float()
    clear = (radius - 0.95).abs() > 0.03  # away from the facets' and the bounding box's rounding
    assert agree[: 16**3][clear[: 16**3]].mean() == 1.0
    assert agree[16**3:].mean() > 0.95  # near-surface points
    near = radius[16**3:]
    assert (near - 0.95).abs().median() < 0.1  # they really are near the surface


def test_inside_test_on_a_mesh_with_a_hole() -> None:
    torus = open_torus()
    assert not torus.is_watertight
    # Points in the tube, including right under the hole; then the torus's centre hole and far outside.
    inside = np.array([[-1.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0], [1.0, 0, 0], [1.2, 0, 0]])
    outside = np.array([[0.0, 0, 0], [2.0, 0, 0], [0, 0, 1.0], [1.0, 0, 0.8]])  # the last: above the hole
    wn = winding_numbers(torus.vertices, torus.faces, np.concatenate([inside, outside]))
    assert (wn[: len(inside)] >= 0.5).all(), wn
    assert (wn[len(inside):] < 0.5).all(), wn


def test_open_mesh_loads_with_a_notice_and_sensible_labels() -> None:
    sig = load_shape(open_torus(), grid=24)
    assert not sig.metadata["watertight"]
    assert any("not watertight" in note for note in sig.metadata["notices"])
    closed = load_shape(trimesh.creation.torus(major_radius=1.0, minor_radius=0.4, major_sections=32, minor_sections=16), grid=24)
    g = 24**3
    assert iou(sig.values[:g, 0] > 0.5, closed.values[:g, 0] > 0.5) > 0.97


def test_self_intersecting_parts_are_one_solid() -> None:
    """Two overlapping boxes as one triangle soup (no boolean union): the overlap is inside, not a hole."""
    a = trimesh.creation.box(extents=(2, 1, 1)).apply_translation((-0.5, 0, 0))
    b = trimesh.creation.box(extents=(2, 1, 1)).apply_translation((0.5, 0, 0))
    soup = trimesh.util.concatenate([a, b])
    wn = winding_numbers(soup.vertices, soup.faces, np.array([[0.0, 0, 0], [-1.2, 0, 0], [1.2, 0, 0], [0, 0, 0.8]]))
    assert (wn[:3] >= 0.5).all() and wn[3] < 0.5


def test_iou_identical_and_disjoint_volumes() -> None:
    a = torch.zeros(8, 8, 8, dtype=torch.bool)
    a[:4] = True
    b = torch.zeros_like(a)
    b[4:] = True
    assert iou(a, a).item() == 1.0
    assert iou(a, b).item() == 0.0
    half = torch.zeros_like(a)
    half[:2] = True
    assert iou(half, a).item() == pytest.approx(0.5)


def test_quality_is_iou_on_the_grid_only() -> None:
    sig = load_shape(trimesh.creation.icosphere(), grid=12)
    shape = get_modality("shape")
    g = 12**3
    perfect = (sig.values * 2 - 1) * 10  # logits of the ground truth
    assert shape.quality(perfect, sig, sig.values).item() == 1.0
    wrong_extras = perfect.clone()
    wrong_extras[g:] *= -1  # the near-surface extras do not count
    assert shape.quality(wrong_extras, sig, sig.values).item() == 1.0
    assert shape.quality(-perfect, sig, sig.values).item() == 0.0
    assert shape.metric == "iou"


def test_loss_is_bce_on_logits_and_error_is_probability_gap() -> None:
    shape = get_modality("shape")
    logits = torch.tensor([[0.0], [10.0], [-10.0]])
    target = torch.tensor([[1.0], [1.0], [1.0]])
    assert torch.allclose(shape.error(logits, target), torch.tensor([0.5, 0.0, 1.0]), atol=1e-4)
    expected = torch.nn.functional.binary_cross_entropy(torch.sigmoid(logits), target)
    assert shape.loss(logits, target).item() == pytest.approx(expected.item(), rel=1e-4)


def test_reconstruction_round_trip_to_glb(tmp_path: Path) -> None:
    sig = load_shape(trimesh.creation.icosphere(subdivisions=3), grid=24)
    shape = get_modality("shape")
    mesh = shape.reconstruct((sig.values * 2 - 1) * 5, sig)  # the ground truth as the prediction
    assert mesh.is_watertight and mesh.volume > 0  # outward-facing triangles
    assert mesh.volume == pytest.approx(4 / 3 * np.pi * 0.95**3, rel=0.1)
    out = shape.save(mesh, sig, tmp_path / "recon")
    assert out.suffix == ".glb"
    again = trimesh.load(out, force="mesh")
    assert len(again.faces) == len(mesh.faces)
    # No surface on the grid (all outside): an empty but valid GLB.
    empty = shape.reconstruct(-torch.ones_like(sig.values), sig)
    assert len(empty.faces) == 0
    out = shape.save(empty, sig, tmp_path / "empty")
    assert out.read_bytes()[:4] == b"glTF" and len(trimesh.load(out).geometry) == 0


def test_fit_briefly_raises_iou() -> None:
    from intcore.models import ModelConfig
    from intcore.samplers import make_sampler
    from intcore.trainer import TrainConfig, Trainer

    sig = load_shape(trimesh.creation.icosphere(subdivisions=2), grid=12, near_surface=500)
    model = ModelConfig(width=32, hidden_layers=2).replace(**get_modality("shape").default_model)
    config = TrainConfig(steps=40, lr=3e-3, eval_every=10, device="cpu")
    snaps = list(Trainer(sig, make_sampler("int"), model=model, config=config).run())
    assert snaps[-1].metric == "iou"
    assert snaps[-1].best_quality > 0.7 > snaps[0].quality
    assert isinstance(snaps[-1].reconstruction, trimesh.Trimesh)


# ---------------------------------------------------------------- errors a user can run into


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError):
        load_shape(tmp_path / "nope.obj")
    (tmp_path / "empty.obj").write_bytes(b"")
    with pytest.raises(EmptyFileError):
        load_shape(tmp_path / "empty.obj")


@pytest.mark.parametrize("suffix", [".obj", ".stl"])
def test_text_renamed_as_a_mesh(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"notes{suffix}"
    path.write_text("these are my notes, not a mesh\n" * 5)
    with pytest.raises(SignalError, match="no vertices|cannot read"):
        load_shape(path)


@pytest.mark.parametrize("suffix", [".ply", ".glb", ".off"])
def test_garbage_binary_formats_are_unreadable(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(b"\x00\x01garbage" * 7)
    with pytest.raises(UnreadableFileError, match="cannot read the mesh"):
        load_shape(path)


@pytest.mark.parametrize("suffix", [".ply", ".glb"])
def test_truncated_mesh_files(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"sphere{suffix}"
    trimesh.creation.icosphere().export(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableFileError, match="damaged, truncated"):
        load_shape(path)


def test_mesh_without_faces(tmp_path: Path) -> None:
    path = tmp_path / "points.obj"
    path.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n")
    with pytest.raises(EmptySignalError):
        load_shape(path)
    cloud = trimesh.Trimesh(vertices=np.random.default_rng(0).random((10, 3)), faces=np.zeros((0, 3), int), process=False)
    with pytest.raises(EmptySignalError, match="no faces"):
        load_shape(cloud)


def test_faces_collapsed_to_a_point() -> None:
    flat = trimesh.Trimesh(vertices=np.zeros((3, 3)), faces=[[0, 1, 2]], process=False)
    with pytest.raises(EmptySignalError, match="zero size"):
        load_shape(flat)


def test_bad_grid_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="grid"):
        load_shape(trimesh.creation.box(), grid=1)


def test_presets_load_and_the_first_one_shown_is_watertight() -> None:
    presets = sorted((ROOT / "assets" / "shapes").glob("*"))
    assert len(presets) >= 3
    signals = {p.stem: load_signal(p, grid=16) for p in presets}
    assert signals["mug"].metadata["watertight"] and not signals["mug"].metadata["notices"]
    assert all(0.01 < s.metadata["inside_fraction"] < 0.9 for s in signals.values())


# ---------------------------------------------------------------- end to end


@pytest.mark.parametrize("preset", ["mug.obj", "chair.stl"])
def test_int_beats_random_at_equal_steps(preset: str) -> None:
    """The teacher's choice matters: from the same weights, INT's 20 % beat a uniform 20 % (deterministic)."""
    from intcore.models import ModelConfig
    from intcore.runs import race
    from intcore.samplers import make_sampler
    from intcore.trainer import TrainConfig

    sig = load_signal(ROOT / "assets" / "shapes" / preset, grid=12, near_surface=512)
    model = ModelConfig(width=32, hidden_layers=3).replace(**get_modality("shape").default_model)
    results = race(sig, {m: make_sampler(m) for m in ("int", "random")}, model,
                   TrainConfig(steps=40, lr=3e-3, eval_every=10, device="cpu"))
    assert results["int"].best_quality > results["random"].best_quality + 0.1


def test_cli_compare_on_a_mesh(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from intcore.cli import main

    out = tmp_path / "out"
    open_mesh = trimesh.creation.icosphere(subdivisions=2)
    open_mesh.update_faces(open_mesh.triangles_center[:, 2] < 0.8)  # a hole at the top: not watertight
    open_mesh.export(tmp_path / "cup.obj")
    code = main(["compare", str(tmp_path / "cup.obj"), "--grid", "10", "--steps", "6", "--width", "16",
                 "--hidden-layers", "2", "--eval-every", "3", "--device", "cpu", "--quiet", "--out", str(out)])
    assert code == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["modality"] == "shape" and summary["shape"] == [10, 10, 10]
    assert summary["metric"] == "iou" and "target" in summary and all("iou" in r and "best_iou" in r for r in summary["runs"].values())
    assert any("not watertight" in n for n in summary["notices"]) and "not watertight" in captured.err
    for method in ("int", "full", "random"):
        assert (out / f"cup-{method}.glb").read_bytes()[:4] == b"glTF"


def test_cli_refuses_options_of_other_modalities(capsys: pytest.CaptureFixture[str]) -> None:
    from intcore.cli import main

    assert main(["fit", str(ROOT / "assets" / "shapes" / "mug.obj"), "--max-seconds", "1", "--steps", "1"]) == 2
    assert "max-seconds does not apply to shape" in capsys.readouterr().err


def test_saved_reconstruction_is_in_the_input_meshes_coordinates(tmp_path: Path) -> None:
    """The GLB a user downloads overlays the mesh they gave, not the unit cube we fitted in."""
    import trimesh

    box = trimesh.creation.box(extents=(4.0, 2.0, 2.0))
    box.apply_translation((10.0, -3.0, 5.0))
    source = tmp_path / "box.stl"
    box.export(source)
    modality = get_modality("shape")
    signal = modality.load(source, grid=16)
    values = signal.values.clone()
    logits = (values * 2 - 1) * 5  # a perfect prediction as logits
    path = modality.save(modality.reconstruct(logits, signal), signal, tmp_path / "recon")
    saved = trimesh.load(path, force="mesh")
    assert np.allclose(saved.bounds, box.bounds, atol=4.0 / 15)  # within one grid spacing of the input

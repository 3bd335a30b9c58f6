"""The Audio and 3D-shape tabs through the public API (gradio_client), and their canvases directly.

Tiny nets on a 0.1 s clip and an 8³ grid keep every run to a few seconds on a 2-core CPU.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import ROOT, client_for, need_gradio

gr, gradio_client, *_ = need_gradio("soundfile", "trimesh", "igl")

from demo.drawing.waveform import WIDTH  # noqa: E402
from demo.server.media import KEEP, Media  # noqa: E402
from demo.tabs.audio import BAR, AudioCanvas, AudioTab  # noqa: E402
from demo.tabs.shape import ShapeCanvas, ShapeTab  # noqa: E402
from intcore.modalities import get_modality, load_signal  # noqa: E402
from intcore.trainer import Snapshot  # noqa: E402

CLIP = ROOT / "assets" / "audio" / "melody.wav"
MESH = ROOT / "assets" / "shapes" / "mug.obj"
TINY = dict(samplers="int,full,random", ratio=0.2, steps=60, lr=1e-3, width=16, hidden_layers=2, seed=0, eval_every=5)


def snapshot(signal, selected, reconstruction, done=False) -> Snapshot:
    return Snapshot(method="int", step=10, train_seconds=1.0, loss=0.1, quality=1.0, best_quality=1.0,
                    metric=get_modality(signal.modality).metric, ratio=0.2, progress=0.5, done=done,
                    selected=selected, reconstruction=reconstruction)


def test_audio_canvas_panels_show_where_the_selection_is_and_player_cadence() -> None:
    signal = load_signal(CLIP, max_seconds=0.5)
    canvas = AudioCanvas(signal)
    wave = get_modality("audio").reconstruct(signal.values * 0.9, signal)
    early = np.arange(0, signal.n // 4)  # every sample of the first quarter: dense there, empty after
    waveform, recon, player = canvas.draw(snapshot(signal, early, wave), "selection")
    assert waveform.ndim == 3 and recon.shape == waveform.shape
    assert isinstance(player, Media) and player.suffix == ".wav" and player.data[:4] == b"RIFF"
    bars = lambda img: (img == BAR).all(axis=2).sum(axis=0)  # noqa: E731  (bar pixels in each pixel column)
    assert np.median(bars(waveform)[: WIDTH // 5]) > 0.9 * waveform.shape[0] and bars(waveform)[WIDTH // 2:].max() == 0
    density = canvas.density(early)
    assert density[: len(density) // 5].min() == 1.0 and density[len(density) // 2 :].max() == 0.0
    # A uniform choice of as many samples draws bars along the uniform line: the two pictures tell the
    # teacher's choice from a random one at a glance (the old ones were both solid yellow).
    uniform = np.random.default_rng(0).choice(signal.n, size=len(early), replace=False)
    spread = canvas.draw(snapshot(signal, uniform, wave), "selection")[0]
    heights = bars(spread)[bars(spread) > 0]
    assert heights.std() < 0.2 * heights.mean() and bars(waveform).std() > 3 * heights.std()
    error, _, again = canvas.draw(snapshot(signal, early, wave), "error")
    assert again is KEEP  # the player is not reloaded on every refresh
    assert not np.array_equal(error, waveform), "the error view looks like the selection view"
    _, _, final = canvas.draw(snapshot(signal, early, wave, done=True), "plain")
    assert isinstance(final, Media)
    assert canvas.selection_frame(np.isin(np.arange(signal.n), early), 10).ndim == 3


def test_audio_notice_says_a_stereo_file_was_mixed_to_mono(tmp_path) -> None:
    import soundfile as sf

    t = np.linspace(0, 0.2, 1600, endpoint=False)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)], axis=1) * 0.5, 8000)
    notes = AudioTab().notices(load_signal(path))
    assert any("2 channels" in n and "mono" in n for n in notes)
    assert "Hz" in AudioTab().caption(CLIP)  # a preset's caption says what its number is


def test_shape_canvas_draws_pictures_and_a_distinct_error_view() -> None:
    signal = load_signal(MESH, grid=16)
    canvas = ShapeCanvas(signal)
    good = get_modality("shape").reconstruct((signal.values * 2 - 1) * 5, signal)
    selected = torch.randperm(signal.n)[: signal.n // 5].numpy()
    first, recon = canvas.draw(snapshot(signal, selected, good), "selection")
    assert first.shape == recon.shape and first.ndim == 3 and first.dtype == np.uint8
    assert (recon != 250).any(axis=2).mean() > 0.05, "the reconstruction picture is empty"
    error_good, _ = canvas.draw(snapshot(signal, selected, good), "error")
    assert not np.array_equal(error_good, first), "the error view is the selection view"
    # A blob that misses the mug shows more error (redder) than the mug's own surface, and a good fit reads
    # as a light shape (the error view was once nearly black when the fit was good).
    import trimesh

    wrong = trimesh.creation.icosphere(subdivisions=3, radius=0.3)
    error_bad, _ = canvas.draw(snapshot(signal, selected, wrong), "error")
    drawn = lambda img: img[(img != canvas.faded).any(axis=2)].astype(float)  # noqa: E731  (the surface drawn)
    redness = lambda img: (drawn(img)[:, 0] - drawn(img)[:, 2]).mean()  # noqa: E731
    assert redness(error_bad) > redness(error_good) + 20
    assert drawn(error_good).mean() > 120


def test_shape_preview_and_download_are_glb_with_normals_y_up_in_input_coordinates(tmp_path) -> None:
    import trimesh

    tab = ShapeTab()
    signal = load_signal(MESH, grid=16)
    preview = trimesh.load(tab.picture_value(MESH, signal, tmp_path), force="mesh")
    source = trimesh.load(str(MESH), force="mesh")
    assert "NORMAL" in open(tab.picture_value(MESH, signal, tmp_path), "rb").read(4000).decode("latin-1")
    lo, hi = source.bounds
    assert np.allclose(preview.bounds[1], [hi[0], hi[2], -lo[1]], atol=1e-4)  # z-up file -> y up, same units
    mesh = get_modality("shape").reconstruct((signal.values * 2 - 1) * 5, signal)
    out = trimesh.load(tab.export(mesh, signal, tmp_path / "recon"), force="mesh")
    assert np.allclose(out.extents, [hi[0] - lo[0], hi[2] - lo[2], hi[1] - lo[1]], rtol=0.15)


# ---------------------------------------------------------------- through the app's API


def run_to_end(url: str, api: str, **settings) -> tuple[dict, list[str]]:
    """The final (status, file names) of a race through the streaming API."""
    client = client_for(url)
    status, files = client.submit(api_name=api, **settings).result(timeout=120)
    return status, [Path(f["path"] if isinstance(f, dict) else f).name for f in files]


def test_audio_tab_races_three_samplers(served) -> None:
    _, url = served
    status, files = run_to_end(url, "/audio-compare", picture=gradio_client.handle_file(str(CLIP)),
                               first_w0=3000, max_seconds=0.1, **TINY)
    assert status["metric"] == "psnr" and set(status["samplers"]) == {"int", "full", "random"}
    assert all(r["step"] == 60 for r in status["samplers"].values())
    assert {f"melody-{m}.wav" for m in ("int", "full", "random")} <= set(files)


def test_shape_tab_races_three_samplers(served) -> None:
    _, url = served
    status, files = run_to_end(url, "/shape-compare", picture=gradio_client.handle_file(str(MESH)),
                               first_w0=30, grid=8, **TINY)
    assert status["metric"] == "iou" and set(status["samplers"]) == {"int", "full", "random"}
    assert all(0 <= r["iou"] <= 1 for r in status["samplers"].values())
    assert {f"mug-{m}.glb" for m in ("int", "full", "random")} <= set(files)


@pytest.mark.parametrize("api,name,content", [
    ("/audio-upload", "silence.wav", "silent"),
    ("/audio-upload", "notes.wav", "text"),
    ("/shape-upload", "notes.obj", "text"),
])
def test_bad_uploads_warn_and_keep_the_previous_choice(served, tmp_path, api, name, content) -> None:
    _, url = served
    path = tmp_path / name
    if content == "silent":
        import soundfile as sf

        sf.write(path, np.zeros(8000, np.float32), 8000)
    else:
        path.write_text("not a signal\n" * 10)
    client = client_for(url)
    _, notice = client.predict(gradio_client.handle_file(str(path)), 1.0, api_name=api)
    assert "could not be read" in notice


def test_each_tab_names_the_format_of_its_reconstructions(served) -> None:
    app, _ = served
    labels = {b.elem_id: b.label for b in app.blocks.values() if (getattr(b, "elem_id", None) or "").endswith("downloads")}
    assert "reconstructions (PNG)" in labels["downloads"]
    assert "reconstructions (WAV)" in labels["audio-downloads"]
    assert "reconstructions (GLB)" in labels["shape-downloads"]

"""The Audio and 3D-shape tabs through the public API (gradio_client), and their canvases directly.

Tiny nets on a 0.1 s clip and an 8³ grid keep every run to a few seconds on a 2-core CPU.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_HEARTBEAT_INTERVAL", "1")

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")
pytest.importorskip("soundfile")
pytest.importorskip("trimesh")
pytest.importorskip("igl")

from demo.media import KEEP, Media  # noqa: E402
from demo.views_audio import AudioCanvas  # noqa: E402
from demo.views_shape import ShapeCanvas  # noqa: E402
from intcore.modalities import get_modality, load_signal  # noqa: E402
from intcore.trainer import Snapshot  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "assets" / "audio" / "melody.wav"
MESH = ROOT / "assets" / "shapes" / "mug.obj"
TINY = dict(
    sampler_1="int", sampler_2="full", sampler_3="random", ratio=0.2, schedule="default", interval="default",
    budget="steps", amount=60, lr=1e-3, width=16, depth=2, seed=0, eval_every=5, target=0,
    overlay="selection", x_axis="training seconds",
)


def snapshot(signal, selected, reconstruction, done=False) -> Snapshot:
    return Snapshot(method="int", step=10, train_seconds=1.0, loss=0.1, quality=1.0, best_quality=1.0,
                    metric=get_modality(signal.modality).metric, ratio=0.2, progress=0.5, done=done,
                    selected=selected, reconstruction=reconstruction)


def test_audio_canvas_panels_and_player_cadence() -> None:
    signal = load_signal(CLIP, max_seconds=0.5)
    canvas = AudioCanvas(signal)
    wave = get_modality("audio").reconstruct(signal.values * 0.9, signal)
    selected = np.arange(0, signal.n, 5)
    waveform, recon, player = canvas.draw(snapshot(signal, selected, wave), "selection")
    assert waveform.ndim == 3 and recon.shape == waveform.shape
    assert isinstance(player, Media) and player.suffix == ".wav" and player.data[:4] == b"RIFF"
    assert (waveform == (255, 214, 0)).all(axis=2).any()  # the selection is lit
    _, _, again = canvas.draw(snapshot(signal, selected, wave), "error heatmap")
    assert again is KEEP  # the player is not reloaded on every refresh
    _, _, final = canvas.draw(snapshot(signal, selected, wave, done=True), "plain")
    assert isinstance(final, Media)
    assert canvas.selection_frame(np.isin(np.arange(signal.n), selected), 10).ndim == 3


def test_shape_canvas_panels_and_mesh_cadence() -> None:
    signal = load_signal(MESH, grid=16)
    canvas = ShapeCanvas(signal)
    mesh = get_modality("shape").reconstruct((signal.values * 2 - 1) * 5, signal)
    selected = torch.randperm(signal.n)[: signal.n // 5].numpy()
    figure, glb = canvas.draw(snapshot(signal, selected, mesh), "selection")
    shown = sum(len(trace.x) for trace in figure.data)
    assert shown == min(len(selected), 3000)
    assert isinstance(glb, Media) and glb.data[:4] == b"glTF"
    assert canvas.draw(snapshot(signal, selected, mesh), "selection")[1] is KEEP
    assert isinstance(canvas.draw(snapshot(signal, selected, mesh, done=True), "selection")[1], Media)


# ---------------------------------------------------------------- through the app's API


def run_to_end(url: str, api: str, **settings) -> tuple[list, dict]:
    client = gradio_client.Client(url, verbose=False, download_files=False)
    job = client.submit(api_name=api, **settings)
    end = time.monotonic() + 120
    while not job.done() and time.monotonic() < end:
        time.sleep(0.2)
    assert job.done(), "the race did not finish in time"
    outputs = job.outputs()
    statuses = [o for out in outputs for o in out if isinstance(o, dict) and "samplers" in o]
    return outputs, statuses[-1]


def files_by_panel(outputs: list, suffix: str) -> dict[int, str]:
    """Output position -> the last file with `suffix` streamed there (panels skip unchanged updates)."""
    found = {}
    for out in outputs:
        for i, o in enumerate(out):
            if isinstance(o, dict) and str(o.get("path", "")).endswith(suffix):
                found[i] = o["path"]
    return found


def test_audio_tab_races_three_samplers(served) -> None:
    _, url = served
    outputs, status = run_to_end(url, "/audio-compare", picture=gradio_client.handle_file(str(CLIP)),
                                 w0=3000, size=0.1, **TINY)
    assert status["metric"] == "psnr" and set(status["samplers"]) == {"int", "full", "random"}
    assert all(r["step"] == 60 for r in status["samplers"].values())
    assert len(files_by_panel(outputs, ".wav")) == 3  # one reconstruction player per sampler


def test_shape_tab_races_three_samplers(served) -> None:
    _, url = served
    outputs, status = run_to_end(url, "/shape-compare", picture=gradio_client.handle_file(str(MESH)),
                                 w0=30, size=8, **TINY)
    assert status["metric"] == "iou" and set(status["samplers"]) == {"int", "full", "random"}
    assert all(0 <= r["iou"] <= 1 for r in status["samplers"].values())
    assert len(files_by_panel(outputs, ".glb")) == 3  # one 3D reconstruction per sampler


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
    client = gradio_client.Client(url, verbose=False, download_files=False)
    _, notice = client.predict(gradio_client.handle_file(str(path)), 1.0, api_name=api)
    assert "could not be read" in notice


def test_each_tab_names_the_format_of_its_reconstructions(served) -> None:
    app, _ = served
    labels = {b.elem_id: b.label for b in app.blocks.values() if (getattr(b, "elem_id", None) or "").endswith("downloads")}
    assert "reconstructions (PNG)" in labels["downloads"]
    assert "reconstructions (WAV)" in labels["audio-downloads"]
    assert "reconstructions (GLB)" in labels["shape-downloads"]

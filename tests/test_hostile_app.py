"""The catalogue of bad and odd input through the app, as a browser's upload button sends it (the public
API via gradio_client): each file is refused with a visible warning (the toast and the notice under the
picture) or accepted with its notice, and meanwhile another session's race keeps streaming.

The same files go through the loader and the command line in test_hostile_input.py.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from helpers import PREFIX, PRESET, client_for, need_gradio

gr, gradio_client, *_ = need_gradio("soundfile", "trimesh", "igl")

import hostile_files as H  # noqa: E402
from hostile_files import CATALOGUE, LEAKS, Entry  # noqa: E402

from intcore.modalities import modality_for_path  # noqa: E402

SIZE = {"image": 64, "audio": 1.0, "shape": 8}
"""the working-size setting sent with each upload (the tab's max side, max seconds or grid)"""
RACE = dict(picture=None, samplers="int,full", steps=100_000, lr=1e-3, width=8, hidden_layers=1, seed=0, eval_every=2,
            max_side=16)


def upload(client, path: Path, modality: str, size: float) -> tuple[str, list[str]]:
    """Upload through the tab's upload endpoint: (the notice under the picture, the toasts shown)."""
    job = client.submit(gradio_client.handle_file(str(path)), size, api_name=f"/{PREFIX[modality]}upload")
    _picture, notice = job.result(timeout=120)
    toasts = []
    updates = job.communicator.updates
    while True:
        try:
            update = updates.get_nowait()
        except asyncio.QueueEmpty:
            break
        log = getattr(update, "log", None)
        if log:
            toasts.append(log[0])
    return notice, toasts


@pytest.fixture(scope="module")
def bystander(served):
    """Another session racing all along (a long, tiny race): returns a function giving how many updates
    it has received so far."""
    _, url = served
    client = client_for(url)
    job = client.submit(**{**RACE, "picture": gradio_client.handle_file(str(PRESET))}, api_name="/compare")

    def received() -> int:
        statuses = [s for s, _ in job.outputs() if isinstance(s, dict) and "samplers" in s]
        assert not any(s.get("error") for s in statuses), statuses[-1]["error"]
        return len(statuses)

    end = time.monotonic() + 60
    while received() < 2 and time.monotonic() < end:
        time.sleep(0.1)
    assert received() >= 2, "the bystander's race did not start"
    yield received
    client.predict(api_name="/stop")
    job.result(timeout=60)
    client.close()


def keeps_streaming(received, before: int, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if received() > before:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def uploader(served):
    client = client_for(served[1])
    yield client
    client.close()


@pytest.mark.parametrize("entry", CATALOGUE, ids=[e.id for e in CATALOGUE])
def test_upload(entry: Entry, tmp_path: Path, uploader, bystander):
    path = (entry.upload or entry.make)(tmp_path)
    modality = modality_for_path(path)
    size = next(iter(entry.options.values()), SIZE[modality])
    before = bystander()
    notice, toasts = upload(uploader, path, modality, size)
    if entry.refused:
        assert "could not be read" in notice and path.name in notice, notice
        assert len(toasts) == 1 and entry.words in toasts[0], toasts
        assert not LEAKS.search(toasts[0].replace(str(path), "")), toasts[0]
    else:
        assert "could not be read" not in notice and entry.words in notice, notice
        assert not LEAKS.search(notice), notice
    assert keeps_streaming(bystander, before), "the other session's race stopped streaming"


@pytest.mark.parametrize("modality,suffix", [("image", ".png"), ("audio", ".wav"), ("shape", ".obj")])
def test_zero_byte_upload(modality, suffix, tmp_path, uploader, bystander):
    before = bystander()
    notice, toasts = upload(uploader, H.empty(tmp_path, suffix), modality, SIZE[modality])
    assert "could not be read" in notice and any("empty (0 bytes)" in t for t in toasts), (notice, toasts)
    assert keeps_streaming(bystander, before)


def test_upload_over_the_size_cap(tmp_path, uploader, bystander):
    from demo.ui.app import MAX_UPLOAD_MB

    before = bystander()
    notice, toasts = upload(uploader, H.over_cap(tmp_path, ".png", MAX_UPLOAD_MB + 1), "image", 64)
    assert f"over the {MAX_UPLOAD_MB} MB limit" in notice and any("limit" in t for t in toasts), (notice, toasts)
    assert keeps_streaming(bystander, before)


def test_upload_far_over_the_cap_is_stopped_at_the_door(served, tmp_path, bystander):
    """Above twice the cap Gradio refuses the upload itself: nothing reaches the app's handlers."""
    import httpx

    from demo.ui.app import MAX_UPLOAD_MB

    _, url = served
    big = H.over_cap(tmp_path, ".png", 2 * MAX_UPLOAD_MB + 1)
    before = bystander()
    with open(big, "rb") as fh:
        r = httpx.post(f"{url}gradio_api/upload", files={"files": ("big.png", fh, "image/png")}, timeout=60)
    assert r.status_code == 413, (r.status_code, r.text[:200])
    assert keeps_streaming(bystander, before)


def test_accepted_odd_files_race(served, tmp_path, uploader, bystander):
    """An accepted odd file is not just described: a race on it runs (the animated GIF, 8 channels)."""
    for path, modality, size in ((H.animated_gif(tmp_path), "image", {"max_side": 16}),
                                 (H.wav_eight_channels(tmp_path), "audio", {"max_seconds": 0.05})):
        race = {k: v for k, v in RACE.items() if k != "max_side"}
        status, _files = uploader.predict(**{**race, "picture": gradio_client.handle_file(str(path)), "steps": 6,
                                             **size, "first_w0": 3000 if modality == "audio" else 30},
                                          api_name=f"/{PREFIX[modality]}compare")
        assert status["state"] == "done" and all(r["step"] == 6 for r in status["samplers"].values()), status

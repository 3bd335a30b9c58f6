"""A full disk: a failed write is one sentence, the race ends normally, other sessions keep running, and
the server recovers as soon as space returns. The fault is injected where the write happens (ENOSPC)."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest
from helpers import PRESET, client_for, need_gradio, tiny_race, wait_for

gr, gradio_client = need_gradio()

import demo.server.upload_guard as guard  # noqa: E402
import demo.ui.results as results  # noqa: E402
from demo.drawing.story import status_line  # noqa: E402
from demo.server.media import Media  # noqa: E402
from demo.server.sessions import Session  # noqa: E402
from demo.server.writes import is_write_failure, write_failure, write_whole  # noqa: E402
from demo.ui.live import panel_url  # noqa: E402

RACE = dict(samplers="int,full", lr=1e-3, width=8, hidden_layers=1, seed=0, eval_every=2, max_side=16)


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize(
    "exc,sentence",
    [
        (OSError(errno.ENOSPC, "No space left on device"), "could not write the downloads: the disk is full"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "could not write the downloads: the disk quota is used up"),
        (MemoryError(), "could not write the downloads: the server ran out of memory"),
        (OSError(errno.EROFS, "Read-only file system"), "could not write the downloads: the folder is read-only"),
        (OSError(errno.EIO, "Input/output error"), "could not write the downloads: input/output error"),
    ],
)
def test_a_failed_write_is_one_plain_sentence(exc, sentence):
    assert is_write_failure(exc) and write_failure("the downloads", exc) == sentence


def test_a_folder_deleted_under_the_write_is_not_called_a_full_disk():
    assert not is_write_failure(FileNotFoundError(errno.ENOENT, "gone")) and not is_write_failure(ValueError())


def test_a_whole_file_or_none(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError):
        write_whole(tmp_path / "preview.glb", b"x" * 1000)
    assert list(tmp_path.iterdir()) == []


def test_a_player_file_that_cannot_be_written_leaves_the_panel_empty_and_the_status_says_why(tmp_path, monkeypatch):
    race = tiny_race(steps=4)
    session = Session(key="k", folder=tmp_path / "s")
    session.race = race
    monkeypatch.setattr(Path, "write_bytes", disk_full)
    before = race.version
    assert panel_url(session, "c1recon", Media(".wav", b"RIFF")) is None
    assert race.write_error == "could not write the players' audio: the disk is full" and race.version > before
    status = race.status()
    assert status["write_error"] == race.write_error
    status["state"] = "done"
    assert "⚠️ Could not write the players' audio: the disk is full." in status_line(status, None, 2)
    monkeypatch.undo()  # space is back: the next write works and nothing remembers the failure
    assert panel_url(session, "c1recon", Media(".wav", b"RIFF")).endswith(".wav")


@pytest.fixture(scope="module")
def bystander(served):
    """Another session's long race, streaming all along: a function giving how many updates it has had."""
    client = client_for(served[1])
    job = client.submit(
        picture=gradio_client.handle_file(str(PRESET)), **RACE, steps=100_000, api_name="/compare"
    )

    def received() -> int:
        return len([s for s, _ in job.outputs() if isinstance(s, dict) and s.get("state") == "running"])

    assert wait_for(lambda: received() >= 2, timeout=60), "the bystander's race did not start"
    yield received
    client.predict(api_name="/stop")
    job.result(timeout=60)
    client.close()


def test_downloads_on_a_full_disk_end_the_race_normally_with_one_sentence_and_no_half_files(
    served, bystander, monkeypatch
):
    app, url = served
    client = client_for(url)
    try:
        monkeypatch.setattr(results, "write_json", disk_full)  # the curves and pictures are written, then the disk fills
        before = bystander()
        status, files = client.predict(
            picture=gradio_client.handle_file(str(PRESET)), **RACE, steps=6, api_name="/compare"
        )
        assert status["state"] == "done" and status["error"] is None, status
        assert status["write_error"] == "could not write the downloads: the disk is full" and files is None, status
        folders = [s.folder / "results" for s in app.session_table.sessions() if (s.folder / "results").exists()]
        assert folders and all(list(f.iterdir()) == [] for f in folders)  # nothing half written is offered
        assert wait_for(lambda: bystander() > before, timeout=30), "the other session's race stopped streaming"
        monkeypatch.undo()  # space is back
        status, files = client.predict(
            picture=gradio_client.handle_file(str(PRESET)), **RACE, steps=6, api_name="/compare"
        )
        assert status["write_error"] is None and any(str(f.get("path", f)).endswith("-summary.json") for f in files), (status, files)
    finally:
        client.close()


def test_an_upload_without_room_is_refused_at_the_door_with_a_sentence(served, tmp_path, monkeypatch):
    import httpx

    app, url = served
    table = app.session_table
    picture = PRESET.read_bytes()

    def post() -> httpx.Response:
        return httpx.post(f"{url}gradio_api/upload", files={"files": ("p.png", picture, "image/png")}, timeout=60)

    real = guard.shutil.disk_usage
    monkeypatch.setattr(guard.shutil, "disk_usage", lambda p: real(p)._replace(free=len(picture)))
    r = post()
    assert r.status_code == 507 and r.text == "could not keep the upload: the server's disk is full", r.text
    monkeypatch.undo()
    assert post().status_code == 200  # space is back

    monkeypatch.setattr(table, "upload_dir", tmp_path / "cache")  # a cache the app counts, under a tiny cap
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "in-use.bin").write_bytes(b"x" * 1000)
    monkeypatch.setattr(table, "max_temp_bytes", table.temp_bytes() + len(picture) // 2)
    r = post()
    assert r.status_code == 507 and "--max-temp-mb" in r.text, r.text
    assert guard_reserved(app) == 0  # a refused upload holds no room


def guard_reserved(app) -> int:
    """Bytes the upload guard still holds for uploads on their way (0 once they are all answered)."""
    stack = app.server_app if hasattr(app, "server_app") else app.app
    layer = getattr(stack, "middleware_stack", None)
    while layer is not None and not isinstance(layer, guard.UploadGuard):
        layer = getattr(layer, "app", None)
    assert layer is not None, "the upload guard is not in the app's middleware"
    time.sleep(0.1)
    return layer.reserved

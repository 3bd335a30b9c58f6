"""Leaving and cleaning up: sessions that raced through the plain REST API (no page, so no unload event)
are closed soon after their race ends or their client goes away; the sessions' files stay under a cap,
the longest-finished dropped first; a finished job keeps nothing on the device; one user cannot stop,
read or download another's job.
"""
from __future__ import annotations

import gc
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import PRESET, client_for, need_gradio, tiny_race, wait_for

gr, gradio_client, httpx = need_gradio("httpx")

from demo.server.sessions import LEASE_SECONDS, SessionTable  # noqa: E402
from intcore.trainer import Trainer  # noqa: E402

SETTINGS = dict(samplers="int,full", steps=10, lr=1e-3, width=8, hidden_layers=1, seed=0, eval_every=2, max_side=16)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------- through the plain REST API


def rest_upload(url: str, path: Path) -> dict:
    with open(path, "rb") as fh:
        r = httpx.post(f"{url}gradio_api/upload", files={"files": (path.name, fh, "image/png")}, timeout=30)
    r.raise_for_status()
    return {"path": r.json()[0], "meta": {"_type": "gradio.FileData"}}


def rest_compare(url: str, **settings):
    """POST /gradio_api/call/compare as curl would: (event id, the SSE stream's response context)."""
    picture = rest_upload(url, PRESET)
    values = {**SETTINGS, **settings, "picture": picture}
    info = httpx.get(f"{url}gradio_api/info", timeout=30).json()["named_endpoints"]["/compare"]["parameters"]
    order = [p["parameter_name"] for p in info]  # the endpoint's inputs in order (the REST API takes a list)
    r = httpx.post(f"{url}gradio_api/call/compare", json={"data": [values.get(k) for k in order]}, timeout=30)
    r.raise_for_status()
    event_id = r.json()["event_id"]
    return httpx.stream("GET", f"{url}gradio_api/call/compare/{event_id}", timeout=120)


def sessions_and_folders(app) -> tuple[list, list[Path]]:
    table = app.session_table
    return table.sessions(), [p for p in table.root.iterdir() if p.is_dir() and len(p.name) == 32]


def test_rest_race_is_cleaned_up_after_it_ends(served):
    app, url = served
    with rest_compare(url) as stream:
        events = [line for line in stream.iter_lines() if line.startswith("event:")]
    assert events[-1] == "event: complete", events
    sessions, folders = sessions_and_folders(app)
    assert sessions and folders, "the race left no session to clean up (nothing tested)"
    ended = time.monotonic()
    assert wait_for(lambda: sessions_and_folders(app) == ([], []), timeout=10), sessions_and_folders(app)
    assert time.monotonic() - ended < 10
    assert app.session_table.running() == []


def test_rest_client_that_leaves_mid_race_has_its_job_stopped(served):
    app, url = served
    with rest_compare(url, steps=100_000) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:") and '"samplers"' in line and '"step": 0' not in line:
                break  # the race is running: now hang up
    sessions, _ = sessions_and_folders(app)
    jobs = [s.race for s in sessions if s.race is not None]
    assert jobs and not jobs[0].finished
    left = time.monotonic()
    assert wait_for(lambda: jobs[0].finished and sessions_and_folders(app) == ([], []), timeout=15)
    assert time.monotonic() - left < 15
    assert jobs[0].state == "stopped"


def test_a_page_session_outlives_the_lease(served):
    """A page (Gradio's load event ran for it) keeps its session while idle: only unload closes it."""
    app, url = served
    table = app.session_table
    table.attach_page("page-1")
    session = table.session(table.key("page-1", "image"))
    (session.folder / "kept.txt").write_text("mine")
    time.sleep(LEASE_SECONDS + 2.5)  # two sweeps past the lease
    assert table.get(session.key) is session and (session.folder / "kept.txt").exists()
    table.close_browser("page-1")
    assert table.get(session.key) is None and not session.folder.exists()


def test_gradio_forgets_a_session_once_the_app_has_closed_it(served):
    """Gradio keeps ~0.8 MB of component configs per session for an hour after its page closed (API
    clients: until 10,000 sessions): the server grew with every visitor. Once the app has closed a
    browser session, Gradio's copy goes too."""
    app, url = served
    client = client_for(url)
    try:
        status, _ = client.predict(picture=gradio_client.handle_file(str(PRESET)), samplers="int,full", steps=4,
                                   width=8, hidden_layers=1, max_side=16, api_name="/compare")
        assert status["state"] == "done"
        assert client.session_hash in app.state_holder.session_data
        # no page: the lease sweep closes its session, and with it Gradio's state
        assert wait_for(lambda: client.session_hash not in app.state_holder.session_data, timeout=LEASE_SECONDS + 10)
    finally:
        client.close()
    table = app.session_table
    table.attach_page("page-2")
    table.session(table.key("page-2", "image"))
    app.state_holder["page-2"]  # Gradio made its state when the page loaded
    table.close_browser("page-2")  # unload
    assert "page-2" not in app.state_holder.session_data


def test_the_browser_gone_hook_runs_once_its_last_page_and_session_are_gone(tmp_path):
    table = SessionTable(root=tmp_path, sweep_seconds=None)
    gone: list[str] = []
    table.on_browser_gone.append(gone.append)
    try:
        table.attach_page("b")
        table.session("b/image")
        table.session("b/audio")
        table.close("b/image")
        assert gone == []  # its page and another tab's session are still there
        table.close_browser("b")
        assert gone == ["b"]
        table.session("api/image")
        table.close("api/image")  # no page: its last session closed
        assert gone == ["b", "api"]
        table.close_browser("never-used")  # a page that never pressed anything
        assert gone == ["b", "api", "never-used"]
    finally:
        table.shutdown()


# ---------------------------------------------------------------- the sweep, with an injected clock


def test_sweep_closes_unused_sessions_without_a_page(tmp_path):
    clock = FakeClock()
    table = SessionTable(root=tmp_path, lease_seconds=4, sweep_seconds=None, clock=clock)
    try:
        api = table.session("api/image")
        table.attach_page("tab")
        page = table.session("tab/image")
        job = table.submit("poller/image", tiny_race(steps=100_000))
        clock.now += 3
        table.sweep()
        assert {s.key for s in table.sessions()} == {"api/image", "tab/image", "poller/image"}
        table.queue_position(job)  # a stream polling its job keeps the session in use
        clock.now += 3
        table.sweep()
        assert {s.key for s in table.sessions()} == {"tab/image", "poller/image"}
        assert not api.folder.exists() and page.folder.exists()
        clock.now += 5
        table.sweep()
        assert {s.key for s in table.sessions()} == {"tab/image"}
        assert job.wait(10) and job.state == "stopped"
    finally:
        table.shutdown()


def test_temp_cap_drops_the_longest_finished_sessions_first(tmp_path):
    clock = FakeClock()
    table = SessionTable(root=tmp_path, max_temp_bytes=2_500_000, sweep_seconds=None, clock=clock,
                         lease_seconds=1e9)
    try:
        finished = []
        for name in ("first", "second", "third"):
            job = table.submit(f"{name}/image", tiny_race(steps=5))
            assert job.wait(60)
            finished.append(table.get(f"{name}/image"))
            clock.now += 10
        running = table.submit("running/image", tiny_race(steps=100_000))
        running.toggle_pause()  # paused, not finished: its files must stay
        for session in [*finished, table.get("running/image")]:
            (session.folder / "frames.bin").write_bytes(np.zeros(1_000_000, np.uint8).tobytes())
        assert table.temp_bytes() >= 4_000_000
        table.sweep()
        left = {s.key.split("/")[0]: (s.folder / "frames.bin").exists() for s in table.sessions()}
        assert left == {"first": False, "second": False, "third": True, "running": True}
        assert table.temp_bytes() <= 2_500_000
        assert all(s.folder.is_dir() for s in table.sessions())  # emptied, still usable
    finally:
        table.shutdown()


def megabyte_upload(uploads: Path, name: str, age: float) -> Path:
    """A 1 MB file as Gradio keeps an upload (a folder of its own), last written `age` seconds ago."""
    path = uploads / f"{name}-hash" / f"{name}.png"
    path.parent.mkdir(parents=True)
    path.write_bytes(np.zeros(1_000_000, np.uint8).tobytes())
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_temp_cap_counts_the_upload_cache_and_drops_unused_uploads_oldest_first(tmp_path):
    uploads = tmp_path / "uploads"
    table = SessionTable(root=tmp_path / "sessions", max_temp_bytes=2_500_000, sweep_seconds=None,
                         lease_seconds=1e9, upload_dir=uploads)
    try:
        files = {name: megabyte_upload(uploads, name, age)
                 for name, age in (("oldest", 900), ("in-use", 800), ("older", 600), ("newer", 300), ("fresh", 5))}
        # An API client's race loaded its picture straight from the cache: that upload is in use.
        table.session("client/image").loaded[(str(files["in-use"]), ())] = None
        assert table.temp_bytes() == 5_000_000
        table.sweep()
        left = {name: path.exists() for name, path in files.items()}
        assert left == {"oldest": False, "in-use": True, "older": False, "newer": False, "fresh": True}
        assert not (uploads / "oldest-hash").exists() and uploads.is_dir()
        assert table.temp_bytes() <= 2_500_000
    finally:
        table.shutdown()


def test_a_young_upload_that_a_session_used_and_left_goes_at_once_under_the_cap(tmp_path):
    """The grace is for an upload whose call has not come yet; one whose race has been and gone can make
    room at once (without that, a tight --max-temp-mb refused new uploads for a minute after each race)."""
    uploads = tmp_path / "uploads"
    table = SessionTable(root=tmp_path / "sessions", max_temp_bytes=1_500_000, sweep_seconds=None,
                         lease_seconds=1e9, upload_dir=uploads)
    try:
        used = megabyte_upload(uploads, "used", 5)
        waiting = megabyte_upload(uploads, "waiting", 5)
        table.session("client/image").loaded[(str(used), ())] = None
        table.sweep()  # over the cap, but both are young: one is in use, the other's call may be coming
        assert used.exists() and waiting.exists()
        table.close("client/image")  # its race is over
        assert table.make_room(0)
        assert not used.exists() and waiting.exists()
    finally:
        table.shutdown()


def test_unused_uploads_go_before_a_finished_sessions_files(tmp_path):
    uploads = tmp_path / "uploads"
    table = SessionTable(root=tmp_path / "sessions", max_temp_bytes=1_500_000, sweep_seconds=None,
                         lease_seconds=1e9, upload_dir=uploads)
    try:
        job = table.submit("done/image", tiny_race(steps=5))
        assert job.wait(60)
        kept = table.get("done/image").folder / "frames.bin"
        kept.write_bytes(np.zeros(1_000_000, np.uint8).tobytes())
        upload = megabyte_upload(uploads, "photo", 600)
        table.sweep()
        assert kept.exists() and not upload.exists()
    finally:
        table.shutdown()


def test_python_m_demo_owns_its_upload_cache_and_leaves_a_shared_one_alone(tmp_path, monkeypatch):
    from demo.__main__ import upload_cache

    monkeypatch.setenv("GRADIO_TEMP_DIR", "unset")  # so that the variable is restored after the test
    monkeypatch.delenv("GRADIO_TEMP_DIR")  # (a server served by this process reads it at every upload)
    own = tmp_path / "own"
    assert upload_cache(None, own) == own and os.environ["GRADIO_TEMP_DIR"] == str(own)
    named = upload_cache(tmp_path / "cache", own)
    assert named == (tmp_path / "cache").resolve() and named.is_dir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "shared"))
    assert upload_cache(None, own) is None  # someone else's, perhaps shared: neither counted nor trimmed


# ---------------------------------------------------------------- memory of a finished job


def test_a_finished_job_keeps_no_trainer_and_no_sampler_state(tmp_path):
    table = SessionTable(root=tmp_path, sweep_seconds=None)
    try:
        job = table.submit("a/image", tiny_race(steps=12))
        assert job.wait(60) and job.state == "done"
        gc.collect()
        alive = [o for o in gc.get_objects() if isinstance(o, Trainer) and o.pause_event is job.pause_event]
        assert alive == []
        for sampler in job.samplers.values():  # the race's own samplers never ran (copies did): no tensors
            assert not [k for k, v in vars(sampler).items() if isinstance(v, torch.Tensor)]
    finally:
        table.shutdown()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_finished_job_gives_its_gpu_memory_back(tmp_path):
    table = SessionTable(root=tmp_path, sweep_seconds=None)
    try:
        torch.cuda.synchronize()
        baseline = torch.cuda.memory_allocated()
        job = table.submit("gpu/image", tiny_race(steps=20, device="cuda"))
        assert job.wait(120) and job.state == "done", job.error
        assert torch.cuda.memory_allocated() == baseline
        assert torch.cuda.memory_reserved() <= baseline + 2 * 2**20
    finally:
        table.shutdown()


# ---------------------------------------------------------------- one user cannot touch another's job


def test_one_client_cannot_stop_read_or_download_another_clients_job(served):
    app, url = served
    alice, mallory = client_for(url), client_for(url)
    try:
        race = alice.submit(picture=gradio_client.handle_file(str(PRESET)), **{**SETTINGS, "steps": 100_000},
                            api_name="/compare")
        assert wait_for(lambda: len(race.outputs()) >= 2, timeout=60)
        job = app.session_table.get(app.session_table.key(alice.session_hash, "image")).race
        mallory.predict(api_name="/stop")
        mallory.predict(api_name="/pause")
        assert not isinstance(mallory.predict(api_name="/downloads"), list)  # nothing: a warning, no files
        time.sleep(1.0)
        assert job.state == "running"
        alice.predict(api_name="/stop")
        status, files = race.result(timeout=60)
        assert status["state"] == "stopped"
        folder = app.session_table.get(app.session_table.key(alice.session_hash, "image")).folder
        assert all(Path(f["path"] if isinstance(f, dict) else f).is_relative_to(folder) for f in files)
        assert len(folder.name) == 32  # a random folder name: another user cannot guess where the files are
    finally:
        alice.close()
        mallory.close()


def test_sweep_deletes_session_folders_no_session_owns(tmp_path):
    table = SessionTable(root=tmp_path, lease_seconds=0.0, sweep_seconds=None)
    try:
        kept = table.session("api/image")
        table.attach_page("api")
        orphan = tmp_path / ("ab" * 16)
        (orphan / "results").mkdir(parents=True)
        (orphan / "results" / "late.gif").write_bytes(b"GIF89a")
        time.sleep(0.05)
        table.sweep()
        assert not orphan.exists() and kept.folder.exists()
    finally:
        table.shutdown()


def test_close_waits_for_a_stream_writing_in_the_folder(tmp_path):
    table = SessionTable(root=tmp_path, sweep_seconds=None)
    try:
        session = table.session("api/image")
        written = threading.Event()

        def stream():
            with table.in_use(session):
                time.sleep(0.5)
                (session.folder / "results").mkdir(parents=True, exist_ok=True)
                (session.folder / "results" / "curves.csv").write_text("step\n")
                written.set()

        writer = threading.Thread(target=stream)
        writer.start()
        time.sleep(0.1)
        table.close("api/image")  # the page went away while the results were being written
        writer.join()
        assert written.is_set() and not session.folder.exists()
    finally:
        table.shutdown()

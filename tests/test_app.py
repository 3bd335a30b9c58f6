"""The app through its public API (gradio_client), launched in-process on a free localhost port (conftest.served).

A tiny net on a 24-px picture keeps every run to a few seconds on a 2-core CPU.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_HEARTBEAT_INTERVAL", "1")

gr = pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")


ROOT = Path(__file__).resolve().parents[1]
PRESET = ROOT / "assets" / "images" / "camera.png"
TINY = dict(
    sampler_1="int", sampler_2="full", sampler_3="random", ratio=0.2, schedule="default", interval="default",
    budget="steps", amount=4000, lr=1e-3, width=16, depth=2, w0=30, seed=0, eval_every=5, size=24, target=0,
    overlay="selection", x_axis="training seconds",
)
STATUS = 12  # index of the JSON status among the compare outputs (3 heads + 6 panels, plot, table, text)


def client_for(url: str):
    return gradio_client.Client(url, verbose=False, download_files=False)


def wait_for(condition, timeout: float = 20.0, every: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(every)
    return condition()


def stream_statuses(job, want: int, timeout: float = 90.0) -> list[dict]:
    """Statuses from the compare stream once `want` of them show every sampler past step 0 and the
    last one shows every sampler further on than the first."""
    seen: list[dict] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        statuses = [o[STATUS] for o in job.outputs() if isinstance(o[STATUS], dict) and "samplers" in o[STATUS]]
        seen = [s for s in statuses if all(r["step"] > 0 for r in s["samplers"].values())]
        if len(seen) >= want and all(
            seen[-1]["samplers"][m]["step"] > seen[0]["samplers"][m]["step"] for m in seen[0]["samplers"]
        ):
            break
        time.sleep(0.2)
    return seen


def test_compare_streams_rising_steps_then_stops(served):
    app, url = served
    client = client_for(url)
    try:
        job = client.submit(picture=gradio_client.handle_file(str(PRESET)), **TINY, api_name="/compare")
        statuses = stream_statuses(job, want=3)
        assert len(statuses) >= 3, f"too few live updates: {len(statuses)}"
        first, last = statuses[0], statuses[-1]
        assert set(last["samplers"]) == {"int", "full", "random"}
        for name in ("int", "full", "random"):
            assert last["samplers"][name]["step"] > first["samplers"][name]["step"], name
            assert last["samplers"][name]["train_seconds"] > 0
            assert last["samplers"][name]["psnr"] is not None and last["samplers"][name]["best_psnr"] is not None
        assert last["state"] in ("running", "paused")
        session = app.session_table.get(app.session_table.key(client.session_hash, "image"))
        assert session is not None and session.job is not None
        thread = session.job.thread
        assert thread is not None and thread.is_alive()

        client.predict(api_name="/stop")
        assert wait_for(lambda: not thread.is_alive(), timeout=10), "the job's thread outlived Stop"
        final = job.result()  # the stream ends on its own once the job has stopped
        assert final[STATUS]["state"] == "stopped"
        assert all(r["done"] for r in final[STATUS]["samplers"].values())
        files = final[STATUS + 1]
        names = {Path(f["path"] if isinstance(f, dict) else f).name for f in files}
        assert {"camera-int.png", "camera-curves.csv", "camera-summary.json", "camera-int-selection.gif"} <= names
        assert app.session_table.running() == []
    finally:
        client.close()


def test_corrupt_upload_warns_and_app_keeps_working(served, tmp_path):
    app, url = served
    bad = tmp_path / "notes.png"
    bad.write_text("this is text, not a PNG\n")
    client = client_for(url)
    try:
        picture, notice = client.predict(gradio_client.handle_file(str(bad)), 24, api_name="/upload")
        assert "could not be read" in notice
        job = client.submit(picture=gradio_client.handle_file(str(PRESET)), **{**TINY, "amount": 30},
                            api_name="/compare")
        final = job.result(timeout=120)
        assert final[STATUS]["state"] == "done"
        assert all(r["step"] == 30 for r in final[STATUS]["samplers"].values())
    finally:
        client.close()


def test_bad_settings_are_an_error_not_a_crash(served):
    _, url = served
    client = client_for(url)
    try:
        with pytest.raises(Exception, match="three different samplers"):
            client.predict(picture=gradio_client.handle_file(str(PRESET)), **{**TINY, "sampler_2": "int"},
                           api_name="/compare")
    finally:
        client.close()


def test_closing_the_session_stops_its_job(served):
    app, url = served
    client = client_for(url)
    job = client.submit(picture=gradio_client.handle_file(str(PRESET)), **TINY, api_name="/compare")
    assert stream_statuses(job, want=1), "no live update"
    key = app.session_table.key(client.session_hash, "image")
    thread = app.session_table.get(key).job.thread
    client.close()  # like closing the tab: the heartbeat ends and the app's unload handler runs
    assert wait_for(lambda: not thread.is_alive(), timeout=20), "the job kept training after its session closed"
    assert wait_for(lambda: app.session_table.get(key) is None, timeout=10)


def test_race_chart_is_valid_plotly_with_curves_target_and_markers():
    """The chart goes out as plotly JSON written by hand (demo.views.race_figure): plotly's own schema must
    accept it, and it must show each sampler's curve, the target line and where each curve reached it."""
    import json

    import plotly.graph_objects as go

    from demo.views import race_figure
    from intcore.runs import RunResult
    from intcore.trainer import Snapshot

    def run(method: str, points: list[tuple[float, float]]) -> RunResult:
        curve = [Snapshot(method, 10 * (i + 1), t, 0.0, q, q, "psnr", 0.2, 0.0) for i, (t, q) in enumerate(points)]
        return RunResult(method=method, description=method, curve=curve)

    results = {"int": run("int", [(1.0, 20.0), (2.0, 30.0), (3.0, float("inf"))]),
               "full": run("full", [(2.0, 18.0), (4.0, 26.0)])}
    plot = race_figure(results, {"int": "#e4572e", "full": "#2e86ab"}, "psnr", "dB", 25.0, "training seconds", "r1")
    assert plot.type == "plotly"
    spec = json.loads(plot.plot)
    fig = go.Figure(spec)  # raises on any property plotly does not know
    curves = {t.name.split(" ")[0]: t for t in fig.data if t.mode == "lines" and t.name != "target"}
    assert list(curves["int"].y) == [20.0, 30.0, 99.0]  # a perfect fit's infinite PSNR is drawn at the top
    target = next(t for t in fig.data if t.name == "target")
    assert list(target.y) == [25.0, 25.0] and list(target.x) == [0.0, 4.0]
    markers = [t for t in fig.data if t.mode == "markers"]
    assert [list(m.x) for m in markers] == [[1.5], [3.75]]  # linear interpolation to 25 dB
    by_steps = json.loads(race_figure(results, {"int": "r", "full": "b"}, "psnr", "dB", None, "steps", "r2").plot)
    assert by_steps["data"][0]["x"] == [10, 20, 30] and by_steps["data"][2]["x"] == []

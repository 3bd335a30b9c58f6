"""The app through its public API (gradio_client), launched in-process on a free localhost port
(conftest.served), and its live view and queue directly.

A tiny net on a 24-px picture keeps every run to a few seconds on a 2-core CPU.
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from helpers import PRESET, client_for, need_gradio, run_result, tiny_race, wait_for

gr, gradio_client = need_gradio()

from demo.server.sessions import SessionTable  # noqa: E402

TINY = dict(samplers="int,full,random", ratio=0.2, steps=4000, lr=1e-3, width=16, hidden_layers=2, first_w0=30,
            seed=0, eval_every=5, max_side=24)
"""a tiny race by the library's setting names (the compare endpoint's keywords)"""


def statuses_of(job) -> list[dict]:
    """The status JSON of every update the compare stream sent so far (each update is (status, files))."""
    return [status for status, _files in job.outputs() if isinstance(status, dict) and "samplers" in status]


def stream_statuses(job, want: int, timeout: float = 90.0) -> list[dict]:
    """Statuses once `want` of them show every sampler past step 0 and the last one shows every sampler
    further on than the first."""
    seen: list[dict] = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        seen = [s for s in statuses_of(job) if all(r["step"] > 0 for r in s["samplers"].values())]
        if len(seen) >= want and all(
            seen[-1]["samplers"][m]["step"] > seen[0]["samplers"][m]["step"] for m in seen[0]["samplers"]
        ):
            break
        time.sleep(0.2)
    return seen


# ---------------------------------------------------------------- the streaming API


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
        assert session is not None and session.race is not None
        thread = session.race.thread
        assert thread is not None and thread.is_alive()

        client.predict(api_name="/stop")
        assert wait_for(lambda: not thread.is_alive(), timeout=10), "the job's thread outlived Stop"
        status, files = job.result()  # the stream ends on its own once the job has stopped
        assert status["state"] == "stopped"
        assert all(r["done"] for r in status["samplers"].values())
        names = {Path(f["path"] if isinstance(f, dict) else f).name for f in files}
        assert {"camera-int.png", "camera-curves.csv", "camera-summary.json", "camera-int-selection.gif"} <= names
        assert app.session_table.running() == []
    finally:
        client.close()


def test_two_or_four_columns_race(served):
    _, url = served
    client = client_for(url)
    try:
        two = {**TINY, "steps": 10, "samplers": "int,full"}
        status, _ = client.predict(picture=gradio_client.handle_file(str(PRESET)), **two, api_name="/compare")
        assert list(status["samplers"]) == ["int", "full"]
        four = {**TINY, "steps": 10, "samplers": "int,full,random,int-progressive"}
        status, _ = client.predict(picture=gradio_client.handle_file(str(PRESET)), **four, api_name="/compare")
        assert list(status["samplers"]) == ["int", "full", "random", "int-progressive"]
        assert all(r["step"] == 10 for r in status["samplers"].values())
    finally:
        client.close()


def test_seconds_budget_is_training_time_per_sampler(served):
    _, url = served
    client = client_for(url)
    try:
        settings = {**TINY, "steps": None, "seconds": 1.0}
        status, files = client.predict(picture=gradio_client.handle_file(str(PRESET)), **settings, api_name="/compare")
        assert status["budget"] == {"seconds": 1.0}
        for name, run in status["samplers"].items():
            assert run["done"] and run["train_seconds"] >= 1.0, name
        # The summary carries the run spec in the CLI's names, so `intcore compare --config` reruns it.
        from intcore.spec import load_spec_file

        summary = next(Path(f["path"] if isinstance(f, dict) else f) for f in files
                       if str(f["path"] if isinstance(f, dict) else f).endswith("summary.json"))
        spec = load_spec_file(summary)
        assert spec.names == ["int", "full", "random"] and spec.train.seconds == 1.0 and spec.train.steps is None
        assert (spec.model.width, spec.model.hidden_layers, spec.signal.options) == (16, 2, {"max_side": 24})
    finally:
        client.close()


def test_corrupt_upload_warns_keeps_the_notice_and_app_keeps_working(served, tmp_path):
    app, url = served
    bad = tmp_path / "notes.png"
    bad.write_text("this is text, not a PNG\n")
    client = client_for(url)
    try:
        _picture, notice = client.predict(gradio_client.handle_file(str(bad)), 24, api_name="/upload")
        assert "could not be read" in notice
        assert "Working size" in notice, "the working-size note of the kept choice disappeared"
        status, _ = client.predict(picture=gradio_client.handle_file(str(PRESET)), **{**TINY, "steps": 30},
                                   api_name="/compare")
        assert status["state"] == "done"
        assert all(r["step"] == 30 for r in status["samplers"].values())
    finally:
        client.close()


def test_bad_settings_are_an_error_not_a_crash(served):
    _, url = served
    client = client_for(url)
    try:
        with pytest.raises(Exception, match="different samplers"):
            client.predict(picture=gradio_client.handle_file(str(PRESET)), **{**TINY, "samplers": "int,int"},
                           api_name="/compare")
        with pytest.raises(Exception, match="pick 2 to 4"):
            client.predict(picture=gradio_client.handle_file(str(PRESET)), **{**TINY, "samplers": "int"},
                           api_name="/compare")
        with pytest.raises(Exception, match="hidden_layers"):  # named by the library's name for it
            client.predict(picture=gradio_client.handle_file(str(PRESET)), **{**TINY, "hidden_layers": 0},
                           api_name="/compare")
        with pytest.raises(Exception, match="steps or seconds"):
            client.predict(picture=gradio_client.handle_file(str(PRESET)), **{**TINY, "seconds": 5},
                           api_name="/compare")
    finally:
        client.close()


def test_closing_the_session_stops_its_job(served):
    app, url = served
    client = client_for(url)
    job = client.submit(picture=gradio_client.handle_file(str(PRESET)), **TINY, api_name="/compare")
    assert stream_statuses(job, want=1), "no live update"
    key = app.session_table.key(client.session_hash, "image")
    thread = app.session_table.get(key).race.thread
    client.close()  # like closing the tab: the heartbeat ends and the app's unload handler runs
    assert wait_for(lambda: not thread.is_alive(), timeout=20), "the job kept training after its session closed"
    assert wait_for(lambda: app.session_table.get(key) is None, timeout=10)


def test_a_chosen_signal_is_loaded_once_and_reused_by_start(served):
    app, _ = served
    tab = app.race_tabs["image"]
    session = app.session_table.session(app.session_table.key("load-once", "image"))
    first = tab.load(session, str(PRESET), {"max_side": 24})
    assert tab.load(session, str(PRESET), {"max_side": 24}) is first
    race = tab.make_race(session, str(PRESET), TINY)
    assert race.signal is first, "Start loaded the file again"
    assert tab.load(session, str(PRESET), {"max_side": 32}) is not first  # another working size is another signal
    app.session_table.close(session.key)


# ---------------------------------------------------------------- the polled live view


def test_live_view_returns_what_changed_by_name(served):
    """What Start sends (the view's message, by component, with the token the page polls with), what a
    poll returns (only what changed; "" when nothing did), and that a token reads only its own race."""
    app, _ = served
    live = app.race_tabs["image"].live
    table = app.session_table
    session = table.session(table.key("live-view-test", "image"))
    job = table.submit(session.key, tiny_race(steps=20))
    started = live.started(session, job)
    assert set(started) == {live.view, live.pause, live.downloads}
    first = json.loads(started[live.view])
    token = first["token"]
    assert isinstance(token, str) and len(token) >= 16
    columns = first["columns"]
    assert [c["visible"] for c in columns] == [True, True, False, False]  # two samplers: two columns
    assert "int" in columns[0]["head"] and set(columns[0]["panels"]) == {"overlay", "recon"}
    assert job.wait(60)
    answer = live.poll({"token": token, "after": first["seq"]})  # "" if Start's message showed the end already
    message = json.loads(answer) if answer else first
    assert message["seq"] >= first["seq"]
    assert message["finished"] and "Done" in message["status"] and "<table>" in message["table"]
    status = json.loads(message["json"])  # the status JSON as the API returns it, shown on the page
    assert status["state"] == "done" and all(r["step"] == 20 for r in status["samplers"].values())
    assert [t["name"].split(" ")[0] for t in message["chart"]["data"][:2]] == ["int", "full"]
    assert message["chart"]["layout"]["uirevision"].startswith(job.id)  # the user's zoom survives refreshes
    urls = [u for c in message["columns"] for u in c.get("panels", {}).values() if u]
    assert urls and all(u.startswith("data:image/png;base64,") for u in urls)  # pictures inside the message
    assert live.poll({"token": token, "after": message["seq"]}) == "", "an unchanged job was sent again"
    # Another page's guess, garbage, and this page's token after Reset: nothing but "stop".
    for question in ({"token": "x" * 22, "after": 0}, {"token": None}, "garbage", None):
        assert live.poll(question) == "stop"
    table.reset(session.key)
    assert live.poll({"token": token, "after": 0}) == "stop"
    table.close(session.key)


def test_no_event_that_runs_at_page_load_writes_to_a_setting_control(served):
    """A value typed while an event with that control among its outputs is pending can be lost (a typed
    budget was, in about one race of twelve). So the only events at page load write to a hidden value;
    a link's settings reach the controls only through that value's change (which needs a link)."""
    app, _ = served
    controls = {c._id for tab in app.race_tabs.values() for c in tab.controls.all()}
    assert controls
    for dependency in app.config["dependencies"]:
        if any(trigger == "load" for _, trigger in dependency["targets"]):
            assert not controls & set(dependency["outputs"]), dependency


def test_the_page_head_script_comes_before_gradios_own(served):
    """The script that quiets the status tracker must run before Gradio's modules load (they keep their own
    reference to requestAnimationFrame), so it is inside the served HTML, first in <head>."""
    import urllib.request

    _, url = served
    page = urllib.request.urlopen(url, timeout=30).read().decode()
    head = page[page.index("<head>"):]
    assert "intStudioQuietTracker" in head
    assert head.index("intStudioQuietTracker") < head.index("<script type=\"module\"") if "<script type=\"module\"" in head \
        else head.index("intStudioQuietTracker") < head.index("</head>")


def test_race_chart_is_valid_plotly_with_curves_target_and_markers():
    """The chart goes out as plotly JSON written by hand (demo.drawing.chart.race_figure): plotly's own schema must
    accept it, and it must show each sampler's curve, the target line and where each curve reached it."""
    import plotly.graph_objects as go

    from demo.drawing.chart import race_figure

    results = {"int": run_result("int", [(1.0, 20.0), (2.0, 30.0), (3.0, float("inf"))]),
               "full": run_result("full", [(2.0, 18.0), (4.0, 26.0)])}
    spec = json.loads(json.dumps(race_figure(results, {"int": "#e4572e", "full": "#2e86ab"}, "psnr", "dB", 25.0,
                                             "training seconds", "r1"), allow_nan=False))
    fig = go.Figure(spec)  # raises on any property plotly does not know
    curves = {t.name.split(" ")[0]: t for t in fig.data if t.mode == "lines" and t.name != "target"}
    assert list(curves["int"].y) == [20.0, 30.0, 99.0]  # a perfect fit's infinite PSNR is drawn at the top
    target = next(t for t in fig.data if t.name == "target")
    assert list(target.y) == [25.0, 25.0] and list(target.x) == [0.0, 4.0]
    markers = [t for t in fig.data if t.mode == "markers"]
    assert [list(m.x) for m in markers] == [[1.5], [3.75]]  # linear interpolation to 25 dB
    by_steps = race_figure(results, {"int": "r", "full": "b"}, "psnr", "dB", None, "steps", "r2")
    assert by_steps["data"][0]["x"] == [10, 20, 30] and by_steps["data"][2]["x"] == []


def test_race_chart_spans_a_known_budget_so_a_growing_race_moves_only_points():
    """When the budget is in the x axis's unit the axis spans the whole race from the start and the
    target line spans the axis: new points change the curves, not the layout (the live view then
    redraws only the curves' paths)."""
    from types import SimpleNamespace

    from demo.drawing.chart import race_figure
    from demo.ui.live import budget_end

    def chart(points: list[tuple[float, float]], x_axis: str = "training seconds", x_end: float | None = 10.0):
        return race_figure({"int": run_result("int", points)}, {"int": "r"}, "psnr", "dB", 22.0, x_axis, "r",
                           x_end=x_end)

    early = chart([(1.0, 20.0), (2.0, 24.0)])
    later = chart([(1.0, 20.0), (2.0, 24.0), (3.0, 25.0)])
    assert early["layout"] == later["layout"] and early["layout"]["xaxis"]["range"] == [0.0, 10.1]
    assert early["data"][1]["x"] == later["data"][1]["x"] == [0.0, 10.1]  # the target line
    past = chart([(1.0, 20.0), (12.0, 25.0)])
    assert past["layout"]["xaxis"]["range"] == [0.0, 12.0]  # a curve past the budget stays in view
    unknown = chart([(1.0, 20.0), (2.0, 24.0)], "steps", None)
    assert "range" not in unknown["layout"]["xaxis"]  # autorange

    def FakeRace(seconds, steps):  # noqa: N802 (reads like the class it stands for)
        return SimpleNamespace(config=SimpleNamespace(seconds=seconds, steps=steps))

    assert budget_end(FakeRace(20.0, 300), "training seconds") == 20.0
    assert budget_end(FakeRace(20.0, 300), "steps") is None  # how many steps fit in 20 s is not known
    assert budget_end(FakeRace(None, 300), "steps") == 300.0
    assert budget_end(FakeRace(None, 300), "training seconds") is None


def test_status_line_says_where_the_race_stands_and_the_librarys_verdict():
    from demo.drawing.story import status_line, turns_sentence

    status = {"state": "running", "signal": {"name": "x", "shape": [8, 8], "modality": "image"}, "device": "cpu",
              "budget": {"seconds": 10.0}, "queue_position": None,
              "samplers": {"int": {"train_seconds": 3.2, "step": 40}, "full": {"train_seconds": 2.9, "step": 10}}}
    line = status_line(status, "at equal training time (2.9 s) int leads with 30.00 dB (full 28.00)", 2)
    # the race's progress is the column that trained least: no column looks further along than the race
    assert line.startswith("**Running** · x (8×8 px) on cpu · training time 2.9 of 10 s each")
    assert "At equal training time (2.9 s) int leads" in line
    assert "take at least 20 s of wall time" in turns_sentence(2, status["budget"])
    queued = status_line({**status, "state": "queued", "queue_position": 2}, None, 2)
    assert "number 2 in line" in queued


def test_race_judges_with_the_library_and_keeps_an_untyped_target_until_the_end(tmp_path):
    """The headline, the table's savings and the status come from intcore.verdict.judge; a race without a
    typed target has none while it runs (the chart draws no target line) and the library's default one
    (intcore.runs.default_target) once it has ended; a typed target is there from Start and never moves."""
    from intcore.runs import default_target
    from intcore.verdict import judge

    table = SessionTable(max_jobs=1, root=tmp_path, sweep_seconds=None)  # no lease sweep: nobody polls these
    try:
        race = table.submit("a/image", tiny_race(steps=20, samplers=("int", "full", "random")))
        assert wait_for(lambda: race.version >= 3, 60)
        if not race.finished:
            assert race.target() is None and race.status()["target"] is None
        assert race.wait(60)
        results = race.results_view()
        assert race.target() == default_target(results)
        status = race.status()
        expected = judge(results, race.target())
        assert status["verdict"]["text"] == expected.headline()
        assert status["samplers"]["int"]["time_saving_vs_full"] == expected.saving_vs_full["int"]
        assert status["samplers"]["int"]["time_saving_vs_random"] == expected.saving_vs_random["int"]

        typed = table.submit("b/image", tiny_race(steps=400, samplers=("int", "full"), target=99.0))
        assert typed.target() == 99.0 and typed.status()["target"] == 99.0 and typed.status()["target_typed"]
        typed.stop()
        assert typed.wait(60) and typed.target() == 99.0  # never moves
    finally:
        table.shutdown()


def test_a_typed_target_stops_each_column_that_reaches_it_as_the_library_does(tmp_path):
    """The app's race runs intcore.runs.race_snapshots: a column that reaches a typed target stops there."""
    table = SessionTable(max_jobs=1, root=tmp_path, sweep_seconds=None)  # no lease sweep: nobody polls these
    try:
        race = table.submit("a/image", tiny_race(steps=2000, samplers=("int", "full"), target=12.0))
        assert race.wait(120) and race.state == "done"
        for method, result in race.results_view().items():
            assert result.final.quality >= 12.0, method
            assert result.final.step < 2000, f"{method} trained on past the target"
    finally:
        table.shutdown()


# ---------------------------------------------------------------- the queue


def test_queue_runs_at_most_max_jobs_and_reports_positions(tmp_path):
    table = SessionTable(max_jobs=1, root=tmp_path, sweep_seconds=None)  # no lease sweep: nobody polls these
    try:
        first = table.submit("a/image", tiny_race(steps=400))
        first.pause_event.set()  # hold the only slot while the others queue
        second = table.submit("b/image", tiny_race(steps=10))
        third = table.submit("c/image", tiny_race(steps=10))
        assert [j.state for j in (first, second, third)] == ["paused", "queued", "queued"]
        assert (table.queue_position(second), table.queue_position(third)) == (1, 2)
        assert second.status(table.queue_position(second))["queue_position"] == 1
        table.reset("b/image")  # a queued job given up: the next one moves up
        assert second.finished and table.queue_position(third) == 1
        first.stop()
        first.pause_event.clear()
        assert third.wait(60) and third.state == "done"
        assert table.running() == []
    finally:
        table.shutdown()


def test_two_jobs_submitted_together_both_run_and_finish(tmp_path):
    table = SessionTable(max_jobs=2, root=tmp_path, sweep_seconds=None)  # no lease sweep: nobody polls these
    jobs: dict[str, object] = {}
    try:
        threads = [threading.Thread(target=lambda k=k: jobs.__setitem__(k, table.submit(f"{k}/image", tiny_race(20))))
                   for k in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(j.wait(60) for j in jobs.values())
        assert [j.state for j in jobs.values()] == ["done", "done"]
        assert all(r["step"] == 20 for j in jobs.values() for r in j.status()["samplers"].values())
    finally:
        table.shutdown()

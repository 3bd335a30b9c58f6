"""Step mode through the app's job and lecture state, without a browser: exactly one step per column per
request, the step explained from the weights before and after it, a kernel row at the shown weights."""
from __future__ import annotations

import time

import torch

from demo.lecture.image import ImageLecture
from demo.lecture.state import LectureState
from demo.server.race import Race
from demo.server.sessions import SessionTable
from intcore.spec import make_spec
from intcore.teach import explain_step, kernel_row

WAIT = 120.0


def _until(condition, what: str) -> None:
    end = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_job_steps_every_column_once_per_request_and_keeps_the_weights_to_explain_it(rgb_png, tmp_path):
    run = make_spec(rgb_png, device="cpu", samplers=["int", "full", "random"], width=16, hidden_layers=2,
                    steps=100_000, eval_every=5, lr=5e-4, lr_schedule="constant", max_side=48)
    signal = run.load_signal()
    race = Race(run, signal)
    state = LectureState(run, signal, ImageLecture)
    race.listeners.append(state)
    table = SessionTable(max_jobs=1, root=tmp_path)
    table.attach_page("page")  # a page holds the session open, however long the test takes
    job = table.submit(table.key("page", "image"), race)
    try:
        assert not job.step()  # not paused: no step is requested
        _until(lambda: len(job.snapshot_view()[0]) == 3, "every column's first snapshot")
        job.toggle_pause()
        _until(job.settled, "the pause to reach the training thread")
        before = {m: s.step for m, s in job.snapshot_view()[0].items()}
        for click in range(1, 4):
            count = state.stepped
            assert job.step()
            assert state.wait_for_steps(count + 3, WAIT)
            _until(job.settled, "the job to wait again")
            assert {m: s.step for m, s in job.snapshot_view()[0].items()} == {m: s + click for m, s in before.items()}
        pair = state.step_pair("int")
        assert pair is not None and pair[2] == before["int"] + 2  # weights at t and t + 1
        snap = state.latest_stepped["int"]
        expl = explain_step(state.model, pair[0], pair[1], signal, torch.from_numpy(snap.selected), t=pair[2],
                            T=None, ratio=snap.ratio, lr=5e-4, loss=snap.loss)
        assert expl.state.k == snap.selected.shape[0] and expl.effect.cosine > 0.9
        assert state.recorder.frames >= 1
        step, weights = state.weights_at("full")
        assert step == before["full"] + 3
        row = kernel_row(state.model, weights, signal.coords[0], signal.coords)
        assert row.shape == (signal.n,) and row[0] > 0
    finally:
        job.stop()
        job.toggle_pause()
        assert job.wait(WAIT)
        table.shutdown()


def test_two_quick_step_presses_take_two_steps_each_explained_as_its_own(served):
    """Pressing → twice before the first answer arrives: the presses take turns, so the page gets two
    answers whose step lines follow each other (t → t+1, then t+1 → t+2), never the first step twice."""
    import threading
    from types import SimpleNamespace

    from helpers import tiny_race

    app, _ = served
    ct = app.race_tabs["image"]
    table = app.session_table
    request = SimpleNamespace(session_hash="two-presses")
    table.attach_page(request.session_hash)
    session = table.session(table.key(request.session_hash, "image"))
    job = tiny_race(steps=100_000)
    ct.lecture.prepare(session, job)
    table.submit(session.key, job)
    try:
        _until(lambda: len(job.snapshot_view()[0]) == 2, "every column's first snapshot")
        job.toggle_pause()
        _until(job.settled, "the pause to reach the training thread")
        at = {m: s.step for m, s in job.snapshot_view()[0].items()}
        answers: list = []
        presses = [threading.Thread(target=lambda: answers.append(ct.lecture.take_step(0.5, request)))
                   for _ in range(2)]
        for press in presses:
            press.start()
        for press in presses:
            press.join(WAIT)
        lines = sorted((a[4].rsplit("Steps: ", 1)[1] for a in answers), key=lambda line: int(line.split()[1]))
        i, f = at["int"], at["full"]
        assert lines == [f"int {i} → {i + 1}, full {f} → {f + 1}.", f"int {i + 1} → {i + 2}, full {f + 1} → {f + 2}."]
        assert job.snapshot_view()[0]["int"].step == i + 2
    finally:
        table.close(session.key)

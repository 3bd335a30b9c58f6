"""Step mode: while paused, every requested step runs exactly one training step and shows it."""
from __future__ import annotations

import queue
import threading

import pytest

from intcore import ModelConfig, TrainConfig, Trainer, load_image, make_sampler
from intcore.runs import interleave
from intcore.samplers import IntSampler

TINY = ModelConfig(width=16, hidden_layers=2)
WAIT = 120  # seconds before a stuck test fails instead of hanging (not a speed bound)


def _drain(gen, out: queue.Queue) -> threading.Thread:
    def run():
        try:
            for snap in gen:
                out.put(snap)
        finally:
            out.put(None)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_each_requested_step_runs_one_step_and_then_resuming_continues_the_schedule(rgb_png):
    signal = load_image(rgb_png)
    trainer = Trainer(signal, make_sampler("int", ratio=0.25), model=TINY,
                      config=TrainConfig(steps=20, eval_every=5, device="cpu", record_selection=True))
    trainer.pause()  # paused before the first step: nothing runs until asked
    snaps: queue.Queue = queue.Queue()
    thread = _drain(trainer.run(), snaps)
    seen = []
    for _ in range(3):
        trainer.request_steps(1)
        snap = snaps.get(timeout=WAIT)
        seen.append(snap.step)
        assert snap.extra.get("stepped") is True  # viewers can tell a requested step from an evaluation
        assert snap.selected.shape == (signal.n // 4,)  # the step's own selection travels with it
    assert seen == [1, 2, 3]
    assert snaps.empty()
    trainer.request_steps(2)
    assert [snaps.get(timeout=WAIT).step for _ in range(2)] == [4, 5]
    trainer.resume()
    rest = []
    while (snap := snaps.get(timeout=WAIT)) is not None:
        rest.append((snap.step, snap.done))
        assert "stepped" not in snap.extra
    thread.join(WAIT)
    assert rest == [(10, False), (15, False), (20, True)]


def test_step_requests_left_when_resuming_are_dropped(rgb_png):
    signal = load_image(rgb_png)
    trainer = Trainer(signal, make_sampler("full"), model=TINY, config=TrainConfig(steps=4, eval_every=2, device="cpu"))
    trainer.pause()
    trainer.request_steps(3)
    trainer.resume()  # before the run ever waited: the three requests must not turn into extra snapshots
    steps = [s.step for s in trainer.run()]
    assert steps == [2, 4]
    with pytest.raises(ValueError):
        trainer.request_steps(0)


class PausingInt(IntSampler):
    """INT that pauses the race from inside its own step `at` (a pause that lands mid-interval)."""

    def __init__(self, pause_event: threading.Event, at: int) -> None:
        super().__init__(ratio=0.2)
        self.pause_event, self.at = pause_event, at

    def select(self, ctx):
        if ctx.step == self.at:
            self.pause_event.set()
        return super().select(ctx)


def test_a_paused_race_advances_every_column_by_exactly_one_step_per_request(rgb_png):
    signal = load_image(rgb_png)
    pause, stop = threading.Event(), threading.Event()
    config = TrainConfig(steps=200, eval_every=5, device="cpu")
    samplers = {"int": PausingInt(pause, at=7), "full": make_sampler("full"), "random": make_sampler("random")}
    trainers = [Trainer(signal, s, model=TINY, config=config, method=m, stop_event=stop, pause_event=pause)
                for m, s in samplers.items()]
    snaps: queue.Queue = queue.Queue()
    thread = _drain(interleave(trainers), snaps)
    latest: dict[str, int] = {}
    while set(latest) != set(samplers) or latest["int"] != 8:  # int paused itself after its 8th step
        snap = snaps.get(timeout=WAIT)
        latest[snap.method] = snap.step
    assert latest == {"int": 8, "full": 5, "random": 5}  # the others wait at their last evaluation
    before = dict(latest)
    for click in range(1, 4):
        for t in trainers:
            t.request_steps(1)
        for _ in trainers:
            snap = snaps.get(timeout=WAIT)
            latest[snap.method] = snap.step
        assert latest == {m: s + click for m, s in before.items()}
    assert snaps.empty()
    stop.set()
    while snaps.get(timeout=WAIT) is not None:
        pass
    thread.join(WAIT)


def test_a_requested_step_that_ends_the_budget_is_the_final_snapshot(rgb_png):
    signal = load_image(rgb_png)
    trainer = Trainer(signal, make_sampler("full"), model=TINY, config=TrainConfig(steps=2, eval_every=5, device="cpu"))
    trainer.pause()
    trainer.request_steps(2)
    snaps = list(trainer.run())
    assert [(s.step, s.done, s.extra.get("stepped")) for s in snaps] == [(1, False, True), (2, True, True)]

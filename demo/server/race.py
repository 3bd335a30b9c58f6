"""One race of 2–4 samplers on one signal, run by one background thread: `Race`.

A race is a `RunSpec` (the library's own description of a run: signal, model, training, one sampler spec
per column, an optional target) and the signal it names, already loaded. Its thread builds one `Trainer`
per column and runs them by the library's race rule (`intcore.runs.race_snapshots`: interleaved, each
column stops once it reaches a typed target); the app adds only what a viewer needs: pause, stop, step
mode, and a copy of every snapshot for the page.

Each trainer's clock runs only inside its own steps and stands still while the others train
(intcore.device.TrainingClock), so the race is fair on a shared machine. Pause and stop are events the
trainers check before every step, so both act within one step.

The target: a typed one is known at Start and never moves; without one, the library's default target
(`intcore.runs.default_target`) is computed once the race has ended. The verdict (who leads at equal
training time, who reached the target first, the savings) is the library's (`intcore.verdict.judge`).
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import logging
import math
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from intcore.memory import out_of_memory_message, trim_host_memory
from intcore.modalities import get_modality
from intcore.runs import RunResult, default_target, race_snapshots
from intcore.signals import Signal
from intcore.spec import RunSpec
from intcore.trainer import Snapshot, Trainer
from intcore.verdict import Verdict, judge

from .jsonsafe import json_number

log = logging.getLogger(__name__)

MAX_GIF_FRAMES = 120
"""selection masks kept for the GIF; past this, every other one is dropped and the stride doubles"""

Listener = Callable[["Race", Snapshot], None]


class Race:
    """One race of several samplers on one signal, run by one background thread."""

    def __init__(self, run: RunSpec, signal: Signal, listeners: list[Listener] | None = None) -> None:
        self.id = uuid.uuid4().hex[:8]
        self.run = run
        """the library's spec of this race (written into the summary: `intcore compare --config` reruns it)"""
        self.signal = signal
        self.listeners: list[Listener] = list(listeners or [])
        """called with every snapshot in the race's thread (lecture mode's recorders); keep them quick"""
        self.samplers = run.build_samplers()
        self.methods = list(self.samplers)
        # Every snapshot carries the selection and a reconstruction: the columns draw both.
        self.config = dataclasses.replace(run.train, record_selection=True, recon_every=run.train.eval_every)
        self.device = torch.device(self.config.device)
        self.modality = get_modality(signal.modality)
        self.stop_event = threading.Event()
        self.pause_event = threading.Event()
        self.results = {m: RunResult(method=m, description=s.describe()) for m, s in self.samplers.items()}
        self.latest: dict[str, Snapshot] = {}
        self.tracked = next((m for m, s in self.samplers.items() if s.uses_errors), self.methods[0])
        """the sampler whose selections the GIF shows and step mode explains (the first that scores errors)"""
        self.selections: list[tuple[int, np.ndarray]] = []  # (step, packed (N,) bool mask)
        self._stride, self._seen = 1, 0
        self.version = 0
        """bumped at every snapshot, so a viewer can tell whether anything changed"""
        self.error: str | None = None
        self.write_error: str | None = None
        """the latest failed write of this race's files, in one sentence (demo.server.writes); the race
        itself goes on"""
        self.trainers: dict[str, Trainer] = {}
        """while the race runs: method -> its Trainer (step mode asks them for single steps)"""
        self.thread: threading.Thread | None = None
        self.started_at: float | None = None
        self.finished_at: float | None = None
        """when it ended, by the session table's clock (set by the table)"""
        self.owner: str | None = None
        """the key of the session that submitted it (set by SessionTable.submit)"""
        self._finished = threading.Event()
        self._lock = threading.Lock()

    # ------------------------------------------------------------ state seen from the UI thread

    @property
    def state(self) -> str:
        if self._finished.is_set():
            if self.error:
                return "error"
            return "stopped" if self.stop_event.is_set() else "done"
        if self.thread is None:
            return "queued"
        return "paused" if self.pause_event.is_set() else "running"

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the race has finished (or `timeout` passes); True if it has."""
        return self._finished.wait(timeout)

    def snapshot_view(self) -> tuple[dict[str, Snapshot], int]:
        with self._lock:
            return dict(self.latest), self.version

    def note_write_failure(self, sentence: str | None) -> None:
        """Say that writing this race's files failed (None: the latest write worked); the page shows it."""
        with self._lock:
            if sentence != self.write_error:
                self.write_error = sentence
                self.version += 1

    def results_view(self) -> dict[str, RunResult]:
        """A copy of every sampler's curve so far (safe to read while the race runs)."""
        with self._lock:
            return {m: RunResult(r.method, r.description, list(r.curve)) for m, r in self.results.items()}

    # ------------------------------------------------------------ control

    def stop(self) -> None:
        self.stop_event.set()
        for trainer in list(self.trainers.values()):
            trainer.stop()

    def toggle_pause(self) -> bool:
        """Pause a running race or resume a paused one; returns True if it is now paused."""
        if self.pause_event.is_set() or self.finished:
            self.pause_event.clear()
            return False
        self.pause_event.set()
        return True

    def settled(self) -> bool:
        """Paused, and the pause has reached the training thread: every column's latest snapshot is
        where it stands (a pause that lands mid-interval first shows the step it stopped at)."""
        return self.state == "paused" and any(t.waiting.is_set() for t in list(self.trainers.values()))

    def step(self) -> bool:
        """Step mode: advance every column by exactly one training step. Only while paused (and
        running); returns whether the steps were requested."""
        trainers = [t for t in self.trainers.values() if not t.stop_event.is_set()]
        if self.state != "paused" or not trainers:
            return False
        for trainer in trainers:
            trainer.request_steps(1)
        return True

    def start(self, on_exit: Callable[[Race], None]) -> None:
        self.thread = threading.Thread(target=self._run, args=(on_exit,), name=f"int-race-{self.id}", daemon=True)
        self.started_at = time.time()
        self.thread.start()

    def finish_unstarted(self) -> None:
        """A queued race that will never run (its session closed or restarted)."""
        self.stop_event.set()
        self._finished.set()

    # ------------------------------------------------------------ the worker thread

    def _run(self, on_exit: Callable[[Race], None]) -> None:
        try:
            # Each column gets its own stop event (the race rule stops a column at the target) and a copy
            # of its sampler (samplers keep device tensors between steps: nothing on the device outlives
            # the race through the samplers this object keeps for its viewers).
            self.trainers = {
                method: Trainer(
                    self.signal,
                    copy.deepcopy(sampler),
                    model=self.run.model,
                    config=self.config,
                    method=method,
                    pause_event=self.pause_event,
                )
                for method, sampler in self.samplers.items()
            }
            if self.stop_event.is_set():  # Stop came while the trainers were being made
                self.stop()
            for snap in race_snapshots(self.trainers, self.run.target):
                self._record(snap)
        except Exception as exc:  # a crash must end the race, not the app
            message = out_of_memory_message(exc, self.run, self.steps_taken())
            if message is None:
                log.exception("race %s failed", self.id)
                self.error = f"{type(exc).__name__}: {exc}"
            else:  # out of memory: one sentence that names the setting to lower, and no traceback
                log.warning("race %s: %s", self.id, message)
                self.error = message
            # Whoever still holds the exception must not keep the failed step's tensors alive through it.
            traceback.clear_frames(exc.__traceback__)
        finally:
            self.trainers = {}  # drop the models, optimisers and samplers before freeing the device's cache
            free_device_memory(self.device)
            self._finished.set()
            on_exit(self)

    def steps_taken(self) -> int | None:
        """The most steps any column has shown so far (None before the first snapshot)."""
        with self._lock:
            return max((s.step for s in self.latest.values()), default=None)

    def _record(self, snap: Snapshot) -> None:
        light = dataclasses.replace(snap, reconstruction=None, selected=None)
        with self._lock:
            self.results[snap.method].curve.append(light)
            self.latest[snap.method] = snap
            if snap.method == self.tracked and snap.selected is not None:
                self._keep_selection(snap.step, snap.selected)
            self.version += 1
        for listener in self.listeners:
            listener(self, snap)

    def _keep_selection(self, step: int, selected: np.ndarray) -> None:
        self._seen += 1
        if (self._seen - 1) % self._stride:
            return
        mask = np.zeros(self.signal.n, dtype=bool)
        mask[selected] = True
        self.selections.append((step, np.packbits(mask)))
        if len(self.selections) > MAX_GIF_FRAMES:
            self.selections = self.selections[::2]
            self._stride *= 2

    def selection_masks(self) -> list[tuple[int, np.ndarray]]:
        """The tracked sampler's selections so far: (step, (N,) bool mask)."""
        with self._lock:
            kept = list(self.selections)
        n = self.signal.n
        return [(step, np.unpackbits(packed, count=n).astype(bool)) for step, packed in kept]

    # ------------------------------------------------------------ reading the race

    def target(self) -> float | None:
        """The quality target: the typed one (known at Start, never moves), else the library's default
        target once the race has ended; None while an untyped race runs."""
        if self.run.target is not None:
            return self.run.target
        if not self.finished:
            return None
        results = {m: r for m, r in self.results_view().items() if r.curve}
        if not results:
            return None
        value = default_target(results)
        return value if math.isfinite(value) else None

    def verdict(self) -> Verdict | None:
        """The library's verdict on the race so far (None before every column has an evaluation)."""
        results = self.results_view()
        if not all(r.curve for r in results.values()):
            return None
        return judge(results, self.target())

    def status(self, queue_position: int | None = None) -> dict[str, Any]:
        """The machine-readable status (the API's JSON output): per sampler its step, training seconds,
        current and best quality, ratio, time to the target and the time savings against full batch and
        random sampling; the verdict; the budget, the target and the state."""
        metric = self.modality.metric
        target = self.target()
        latest, _ = self.snapshot_view()
        results = self.results_view()
        verdict = self.verdict()
        samplers: dict[str, Any] = {}
        for column, m in enumerate(self.methods, start=1):
            snap, res = latest.get(m), results[m]
            samplers[m] = {
                "column": column,
                "description": res.description,
                "options": self.run.samplers[column - 1].options,
                "step": snap.step if snap else 0,
                "train_seconds": round(snap.train_seconds, 4) if snap else 0.0,
                metric: json_number(snap.quality) if snap else None,
                f"best_{metric}": json_number(snap.best_quality) if snap else None,
                "ratio": round(snap.ratio, 4) if snap else None,
                "seconds_to_target": json_number(res.seconds_to(target)) if target is not None and res.curve else None,
                "time_saving_vs_full": verdict.saving_vs_full.get(m) if verdict and target is not None else None,
                "time_saving_vs_random": verdict.saving_vs_random.get(m) if verdict and target is not None else None,
                "done": bool(snap and snap.done),
            }
        signal = self.signal
        budget = {"seconds": self.config.seconds} if self.config.seconds else {"steps": self.config.steps}
        return {
            "race": self.id,
            "state": self.state,
            "queue_position": queue_position,
            "signal": {"name": signal.name, "modality": signal.modality, "shape": list(signal.shape), "n": signal.n},
            "device": str(self.device),
            "budget": budget,
            "metric": metric,
            "unit": self.modality.metric_unit,
            "target": json_number(target),
            "target_typed": self.run.target is not None,
            "samplers": samplers,
            "verdict": verdict.to_dict() if verdict is not None else None,
            "error": self.error,
            "write_error": self.write_error,
        }


def free_device_memory(device: torch.device) -> None:
    """Give the memory of finished trainers back: collect them (models and optimisers can sit in reference
    cycles), hand the C heap's free pages back to the system (so the process's RSS falls back, on Linux),
    then hand the caching allocator's free blocks back to the GPU."""
    gc.collect()
    trim_host_memory()
    if device.type == "cuda" and torch.cuda.is_available():
        with torch.cuda.device(device):
            torch.cuda.synchronize()  # kernels still queued may use blocks the cache would release
            torch.cuda.empty_cache()

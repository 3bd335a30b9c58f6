"""Lecture mode's memory of one page's race: `LectureState`.

It listens to the race's snapshots in the race's thread: it copies each column's weights at every
snapshot (a few hundred kB, off the training clock) so that a step can be explained and a kernel row
computed at the weights the page shows, and it records the race for the GIF export. The mathematics is
in intcore.teach; the pictures come from the tab's lecture drawing (demo.lecture.base).
"""

from __future__ import annotations

import threading

import torch

from intcore.modalities import get_modality
from intcore.models import build_model
from intcore.signals import Signal
from intcore.spec import RunSpec
from intcore.teach import Params, StepExplanation, parameters_of
from intcore.trainer import Snapshot

from ..drawing.colors import COLUMN_COLORS
from ..server.race import Race
from .base import LectureDrawing
from .recorder import RaceRecorder


class LectureState:
    """One page's lecture memory for its latest race: each column's weights at its last two snapshots,
    how many step-mode snapshots arrived, and the race recording. Written by the race's thread.

    When every column has ended, the weights move off the accelerator (the initial ones and each column's
    last; the step pairs are dropped, as no step can follow): a finished race holds no device memory,
    and its kernel view still works, on the CPU."""

    def __init__(self, run: RunSpec, signal: Signal, drawing: type[LectureDrawing]) -> None:
        self.drawing = drawing
        self.weights: dict[str, list[tuple[int, Params]]] = {}
        self.stepped = 0
        self.latest_stepped: dict[str, Snapshot] = {}
        self.explained: StepExplanation | None = None
        """the latest step explained (redrawn when the cut moves)"""
        self.last_click: tuple[int, tuple[int, int], tuple[int, int], str] | None = None
        """(column, click (x, y), picture (h, w), source) of the kernel view now shown"""
        self.shown: dict[str, tuple[int, int]] = {}
        """(height, width) of the lecture pictures last sent to the page: "step" and "kernel" """
        modality = get_modality(signal.modality)
        self.recorder = RaceRecorder(
            run.names,
            COLUMN_COLORS,
            picture=self.drawing(signal).race_frame,
            metric=modality.metric,
            unit=modality.metric_unit,
            side=self.drawing.race_frame_side,
        )
        self.changed = threading.Condition()
        self.stepping = threading.Lock()
        """one Step at a time per page: a second press waits for the first step and its explanation"""
        self.ended: set[str] = set()
        self.methods = set(run.names)
        self.model = build_model(run.model, signal.in_features, signal.out_features, run.train.seed)
        self.device = torch.device(run.train.device)
        self.initial = {k: v.to(self.device) for k, v in parameters_of(self.model).items()}

    def __call__(self, race: Race, snap: Snapshot) -> None:
        trainer = race.trainers.get(snap.method)
        if trainer is not None and trainer.model is not None:
            kept = self.weights.setdefault(snap.method, [])
            kept.append((snap.step, parameters_of(trainer.model)))
            del kept[:-2]
        self.recorder.add(snap)
        if snap.extra.get("stepped"):
            with self.changed:
                self.stepped += 1
                self.latest_stepped[snap.method] = snap
                self.changed.notify_all()
        if snap.done:
            self.ended.add(snap.method)
            if self.ended >= self.methods:
                self.release()

    def release(self) -> None:
        """The race is over: keep each column's last weights and the initial ones in host memory only."""
        cpu = torch.device("cpu")
        self.weights = {
            m: [(step, {k: v.to(cpu) for k, v in w.items()})]
            for m, kept in self.weights.items()
            for step, w in kept[-1:]
        }
        self.initial = {k: v.to(cpu) for k, v in self.initial.items()}
        self.device = cpu

    def held_on(self, device_type: str) -> int:
        """How many weight tensors this state holds on devices of `device_type` ("cpu", "cuda", ...)."""
        tensors = [*self.initial.values(), *(v for kept in self.weights.values() for _, w in kept for v in w.values())]
        return sum(t.device.type == device_type for t in tensors)

    def wait_for_steps(self, count: int, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.stepped >= count, timeout)

    def weights_at(self, method: str) -> tuple[int, Params] | None:
        kept = self.weights.get(method)
        return kept[-1] if kept else None

    def step_pair(self, method: str) -> tuple[Params, Params, int] | None:
        """(weights before, weights after, t) of the method's latest single step, when both are known."""
        kept = list(self.weights.get(method, []))
        if not kept:
            return None
        after_step, after = kept[-1]
        if len(kept) == 2 and kept[0][0] == after_step - 1:
            return kept[0][1], after, after_step - 1
        if after_step == 1:  # the first step starts from the initial weights
            return self.initial, after, 0
        return None

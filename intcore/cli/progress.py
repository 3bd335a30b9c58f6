"""Progress on stderr: a live bar per run on a terminal, plain lines when stderr is a file or a pipe."""
from __future__ import annotations

import sys
import time
from typing import TextIO

from ..trainer import Snapshot, TrainConfig


class Progress:
    """One run's progress over steps (or training seconds).

    On a terminal: a tqdm bar (cursor movement keeps the bars in place). Elsewhere (a log file, CI): a
    plain line at most every `every` seconds and at the end, so a redirected stderr holds readable text
    and no escape codes.
    """

    def __init__(self, config: TrainConfig, label: str, quiet: bool, position: int = 0,
                 stream: TextIO | None = None, every: float = 10.0) -> None:
        self.stream = stream or sys.stderr
        self.by_time = config.seconds is not None
        self.total = float(config.seconds if config.seconds is not None else config.steps or 0)
        self.label, self.quiet, self.every = label, quiet, every
        self.done = 0.0
        self._last_line = -float("inf")
        self.bar = None
        if not quiet and self.stream.isatty():
            from tqdm import tqdm

            unit = "s" if self.by_time else "step"
            self.bar = tqdm(total=self.total, desc=label, unit=unit, file=self.stream, leave=True, position=position,
                            bar_format="{desc:>16} {percentage:3.0f}%|{bar:24}| {n:.1f}/{total:.1f} {unit} {postfix}"
                            if self.by_time else
                            "{desc:>16} {percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} {unit} {postfix}")

    def __call__(self, snap: Snapshot) -> None:
        now = snap.train_seconds if self.by_time else float(snap.step)
        if self.bar is not None:
            self.bar.update(now - self.done)
            self.bar.set_postfix_str(f"{snap.metric} {snap.quality:.2f}")
            if snap.done:
                self.bar.close()
        elif not self.quiet and (snap.done or time.monotonic() - self._last_line >= self.every):
            self._last_line = time.monotonic()
            amount = f"{now:.1f}/{self.total:.1f} s" if self.by_time else f"{int(now)}/{int(self.total)} steps"
            state = "done" if snap.done else f"{100 * min(now / max(self.total, 1e-9), 1):3.0f}%"
            print(f"{self.label}: {state} {amount}, {snap.metric} {snap.quality:.2f}", file=self.stream, flush=True)
        self.done = now

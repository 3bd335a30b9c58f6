"""The benchmark's progress on stderr: jobs done, the share of the running ones, elapsed time and an
ETA. On a terminal one line redrawn in place; elsewhere (a log file, CI, a pipe) a plain line per
finished job and at most every `every` seconds in between, with no escape codes."""
from __future__ import annotations

import sys
import time
from typing import Callable, TextIO


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class JobProgress:
    def __init__(self, total: int, quiet: bool = False, stream: TextIO | None = None, every: float = 10.0,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.total, self.quiet, self.every, self.now = total, quiet, every, now
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done = 0
        self.partial = 0.0
        """fraction of the job running in this process (0 for jobs elsewhere: Ray reports whole jobs)"""
        self.status = ""
        self.start = now()
        self._last_line = -float("inf")

    def eta(self) -> float | None:
        """Seconds left at the rate so far; None before any progress."""
        value = self.done + self.partial
        if value <= 0:
            return None
        return (self.now() - self.start) / value * (self.total - value)

    def line(self) -> str:
        eta = self.eta()
        pct = 100 * (self.done + self.partial) / max(self.total, 1)
        return (f"bench {self.done}/{self.total} jobs {pct:3.0f}% [{_clock(self.now() - self.start)} elapsed, "
                f"ETA {'?' if eta is None else _clock(eta)}] {self.status}")

    def update(self, partial: float, status: str = "") -> None:
        self.partial, self.status = min(max(partial, 0.0), 1.0), status or self.status
        self._show(force=False)

    def job_done(self, text: str) -> None:
        self.done += 1
        self.partial = 0.0
        self.write(f"bench: {text}")
        self._show(force=not self.tty)

    def write(self, text: str) -> None:
        if self.quiet:
            return
        if self.tty:
            self.stream.write("\r\033[K")
        print(text, file=self.stream, flush=True)
        if self.tty:
            self._show(force=True)

    def _show(self, force: bool) -> None:
        if self.quiet:
            return
        if self.tty:
            self.stream.write("\r\033[K" + self.line()[: 160])
            self.stream.flush()
        elif force or self.now() - self._last_line >= self.every:
            self._last_line = self.now()
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        if not self.quiet and self.tty:
            self.stream.write("\n")
            self.stream.flush()

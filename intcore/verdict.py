"""Who won a race, said honestly: the leader among *all* columns at equal training time, and who
reached the target first. The CLI's `verdict:` line, `summary.json`'s `verdict`, the benchmark and the
app's headline all come from `judge`.

Rules (docs/measuring.md):
- **Equal time.** Runs are compared at the training time of the run that trained least, T = min over
  runs of its last snapshot's training seconds (at the end of a race with a seconds budget, the budget).
  Each run's quality at T is its curve read at T, linearly interpolated between its two evaluations
  around T. The leader has the highest quality at T; every run within `TIE[metric]` of it shares the lead.
- **First to the target.** Each run's training seconds to the target (`RunResult.seconds_to`); the
  fastest is first, and every run within `TIME_TIE` (relative) of it shares first place.
- **Savings.** 1 − t_run / t_baseline at the same target, against full batch and against random
  (`intcore.runs.time_savings`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .runs import RunResult, quality_at, time_savings

TIE: dict[str, float] = {"psnr": 0.1, "iou": 0.001}
"""quality differences at or below this are ties (0.1 dB of PSNR; 0.1 % IoU)"""

TIME_TIE = 0.05
"""times to the target within this fraction of the fastest are ties (5 %)"""

UNITS: dict[str, str] = {"psnr": "dB", "iou": "IoU"}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one race (see the module docstring for the rules)."""

    metric: str
    target: float | None
    equal_seconds: float
    """the equal training time compared: the shortest run's training seconds"""
    quality_at_equal: dict[str, float | None]
    """each run's quality at equal_seconds (None: no evaluation yet)"""
    leaders: list[str]
    """the run(s) with the highest quality at equal time; more than one is a tie"""
    seconds_to_target: dict[str, float | None] = field(default_factory=dict)
    first_to_target: list[str] = field(default_factory=list)
    """the run(s) that reached the target first; empty: nobody reached it; more than one: a tie"""
    saving_vs_full: dict[str, float | None] = field(default_factory=dict)
    saving_vs_random: dict[str, float | None] = field(default_factory=dict)

    @property
    def tie(self) -> bool:
        return len(self.leaders) > 1

    def headline(self) -> str:
        """One sentence: who leads at equal time (with every column's quality) and who reached the
        target first (with every column's time)."""
        fmt = _formatter(self.metric)
        unit = UNITS.get(self.metric, "")
        known = {m: q for m, q in self.quality_at_equal.items() if q is not None}
        if not known:
            return "no evaluation yet"
        order = sorted(known, key=lambda m: -known[m])
        unknown = [m for m in self.quality_at_equal if m not in known]
        others = ", ".join([f"{m} {fmt(known[m])}" for m in order if m not in self.leaders]
                           + [f"{m} not evaluated by then" for m in unknown])
        best = fmt(known[self.leaders[0]])
        at = f"at equal training time ({self.equal_seconds:.1f} s)"
        if self.tie:
            lead = f"{at} {_join(self.leaders)} tie at {best} {unit}"
        else:
            lead = f"{at} {self.leaders[0]} leads with {best} {unit}"
        text = lead + (f" ({others})" if others else "")
        if self.target is not None:
            times = {m: t for m, t in self.seconds_to_target.items() if t is not None}
            never = [m for m, t in self.seconds_to_target.items() if t is None]
            goal = f"the target {fmt(self.target)} {unit}"
            if not self.first_to_target:
                text += f"; nobody reached {goal} yet"
            else:
                firsts = self.first_to_target
                verb = "tie for first to" if len(firsts) > 1 else "first to"
                rest = ", ".join(f"{m} {times[m]:.1f} s" for m in sorted(times, key=lambda m: times[m]) if m not in firsts)
                if never:
                    rest += (", " if rest else "") + ", ".join(f"{m} not reached" for m in never)
                lead_times = ", ".join(f"{times[m]:.1f} s" for m in firsts)
                text += f"; {_join(firsts)} {verb} {goal} ({lead_times}" + (f"; {rest})" if rest else ")")
        return text

    def line(self) -> str:
        """The CLI's one line: `verdict: ` + the headline."""
        return f"verdict: {self.headline()}"

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON."""
        return {
            "equal_seconds": round(self.equal_seconds, 4),
            "quality_at_equal": {m: _round(q) for m, q in self.quality_at_equal.items()},
            "leaders": list(self.leaders),
            "tie": self.tie,
            "target": _round(self.target),
            "seconds_to_target": {m: _round(t) for m, t in self.seconds_to_target.items()},
            "first_to_target": list(self.first_to_target),
            "text": self.headline(),
        }


def judge(results: dict[str, RunResult], target: float | None = None) -> Verdict:
    """The verdict on a race (finished or still running) from every run's curve so far."""
    runs = {m: r for m, r in results.items() if r.curve}
    if not runs:
        raise ValueError("no run has an evaluation yet")
    metric = next(iter(runs.values())).final.metric
    equal = min(r.final.train_seconds for r in runs.values())
    at_equal = {m: quality_at([(s.train_seconds, s.quality) for s in r.curve], equal) for m, r in runs.items()}
    known = {m: q for m, q in at_equal.items() if q is not None and not math.isnan(q)}
    leaders: list[str] = []
    if known:
        top = max(known.values())
        tie = TIE.get(metric, 0.0)
        leaders = sorted((m for m, q in known.items() if top - q <= tie + 1e-12), key=lambda m: -known[m])
    seconds: dict[str, float | None] = {}
    first: list[str] = []
    vs_full: dict[str, float | None] = {}
    vs_random: dict[str, float | None] = {}
    if target is not None:
        seconds = {m: r.seconds_to(target) for m, r in runs.items()}
        reached = {m: t for m, t in seconds.items() if t is not None}
        if reached:
            fastest = min(reached.values())
            first = sorted((m for m, t in reached.items() if t <= fastest * (1 + TIME_TIE) + 1e-9), key=lambda m: reached[m])
        vs_full = time_savings(runs, target, baseline="full")
        vs_random = time_savings(runs, target, baseline="random")
    return Verdict(metric=metric, target=target, equal_seconds=equal, quality_at_equal=at_equal, leaders=leaders,
                   seconds_to_target=seconds, first_to_target=first, saving_vs_full=vs_full,
                   saving_vs_random=vs_random)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _formatter(metric: str):
    digits = 4 if metric == "iou" else 2
    return lambda x: f"{x:.{digits}f}"


def _round(x: float | None) -> float | None:
    if x is None or math.isnan(x):
        return None
    if math.isinf(x):
        return 999.0 if x > 0 else -999.0
    return round(x, 4)

"""The race told in words: the status line under the buttons.

Three statements, each shown only once it means something:
- who is ahead at equal training time (each sampler's best quality up to the time the slowest-clocked
  sampler has trained so far), since an equal step count would give full batch more training time;
- who reached the quality target first, in training seconds;
- the headline saving against full batch, only once the race has ended and both reached the target,
  with the range that one evaluation interval of either curve leaves open.
"""
from __future__ import annotations

import math
from typing import Any

from intcore.runs import RunResult


def best_by(result: RunResult, seconds: float) -> float | None:
    """The best quality `result` reached within its first `seconds` of training (None if not evaluated yet)."""
    seen = [s.quality for s in result.curve if s.train_seconds <= seconds + 1e-9 and not math.isnan(s.quality)]
    return max(seen) if seen else None


def equal_time(results: dict[str, RunResult]) -> tuple[float, dict[str, float]] | None:
    """(t, best quality of each sampler within t) at t = the least training time any sampler has had;
    samplers not yet evaluated by then are left out; None unless at least two are compared."""
    if len(results) < 2 or not all(r.curve for r in results.values()):
        return None
    t = min(r.curve[-1].train_seconds for r in results.values())
    found = {m: q for m, r in results.items() if (q := best_by(r, t)) is not None}
    if t <= 0 or len(found) < 2:
        return None
    return t, found


def evaluation_gap(result: RunResult, seconds: float) -> float:
    """Training seconds between the two evaluations around `seconds` (the time resolution there)."""
    times = [s.train_seconds for s in result.curve]
    for a, b in zip(times, times[1:]):
        if a <= seconds <= b:
            return b - a
    return 0.0


def saving_range(tracked: RunResult, full: RunResult, target: float) -> tuple[float, float, float] | None:
    """(saving, low, high): 1 − t_tracked / t_full at the target, and its range when each time may be off
    by one evaluation interval (the curves are only known at evaluations)."""
    t_a, t_b = tracked.seconds_to(target), full.seconds_to(target)
    if t_a is None or not t_b:
        return None
    da, db = evaluation_gap(tracked, t_a), evaluation_gap(full, t_b)
    low = 1 - (t_a + da) / max(t_b - db, 1e-9) if t_b - db > 0 else -math.inf
    high = 1 - max(t_a - da, 0.0) / (t_b + db)
    return 1 - t_a / t_b, low, high


def size_words(signal: dict[str, Any]) -> str:
    """The working size in words: "128×85 px", "22,050 samples", "32³ grid"."""
    shape = signal["shape"]
    if signal.get("modality") == "audio":
        return f"{shape[0]:,} samples"
    if signal.get("modality") == "shape":
        return f"{shape[0]}³ grid"
    return "×".join(str(s) for s in reversed(shape)) + " px"


def status_line(job: Any, status: dict[str, Any], max_jobs: int, decimals: int = 2) -> str:
    """One short paragraph about the race: state and progress, who leads at equal time, who reached the
    target first and (at the end) the time saving."""
    state = status["state"]
    sig = status["signal"]
    where = f"{sig['name']} ({size_words(sig)}) on {status['device']}"
    if state == "queued":
        pos = status["queue_position"]
        return f"**Queued**: number {pos} in line ({max_jobs} comparisons train at once) · {where}"
    if state == "error":
        return f"**Failed**: {status['error']}"
    runs = status["samplers"]
    budget = status["budget"]
    if "seconds" in budget:
        progress = ", ".join(f"{m} {r['train_seconds']:.1f} s ({r['step']} steps)" for m, r in runs.items())
        line = f"**{state.capitalize()}** · {where} · training time: {progress} of {budget['seconds']:g} s each"
    else:
        progress = ", ".join(f"{m} {r['step']}" for m, r in runs.items())
        line = f"**{state.capitalize()}** · {where} · steps: {progress} of {budget['steps']} each"
    unit = status["unit"]
    fmt = f"{{:.{decimals}f}}{' ' + unit if unit else ''}"
    results = job.results_view()
    level = equal_time(results)
    # The job's own target, not the status's rounded copy: the default target is one sampler's best
    # quality, and rounded up it is a quality that sampler never reached ("not yet", no saving at the end).
    target = job.target()
    reached = {m: r.seconds_to(target) for m, r in results.items()} if target is not None else {}
    tracked, full = results.get(job.tracked), results.get("full")
    finished = state in ("done", "stopped")
    saving = (saving_range(tracked, full, target)
              if finished and target is not None and tracked is not None and full is not None
              and job.tracked != "full" else None)
    if level is not None:
        t, best = level
        order = sorted(best, key=lambda m: -best[m])
        lead = order[0]
        rest = ", ".join(f"{m} {fmt.format(best[m])}" for m in order[1:])
        line += f"  \nAt equal training time ({t:.1f} s each): **{lead}** leads with {fmt.format(best[lead])}; {rest}."
    if target is not None and any(v is not None for v in reached.values()):
        arrived = sorted((v, m) for m, v in reached.items() if v is not None)
        first = f"**{arrived[0][1]}** after {arrived[0][0]:.1f} s"
        then = "".join(f", {m} after {v:.1f} s" for v, m in arrived[1:])
        missing = [m for m, v in reached.items() if v is None]
        line += f"  \nFirst to the target {fmt.format(target)}: {first}{then}" + (
            f"; {', '.join(missing)} not yet." if missing else ".")
    if saving is not None:
        value, low, high = saving
        word = "less" if value > 0 else "more"
        line += (f"  \n**{job.tracked}** needed **{abs(value):.0%} {word} training time** than full batch to reach "
                 f"the target (between {low:+.0%} and {high:+.0%} saving, given one evaluation interval of "
                 "uncertainty on each curve; one run, one seed).")
    return line

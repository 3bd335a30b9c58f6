"""The race told in words: the status line above the columns.

- where the race stands: its state, the signal, each column's training time (or steps) against the budget;
- the library's verdict (`intcore.verdict`): who leads at equal training time and who reached the target
  first, ties called ties; the page never judges a race itself;
- (`turns_sentence`, shown beside the table) why a race of N columns × T seconds takes at least N·T
  seconds of wall time: the columns take turns.
"""

from __future__ import annotations

from typing import Any


def size_words(signal: dict[str, Any]) -> str:
    """The working size in words: "128×85 px", "22,050 samples", "32³ grid"."""
    shape = signal["shape"]
    if signal.get("modality") == "audio":
        return f"{shape[0]:,} samples"
    if signal.get("modality") == "shape":
        return f"{shape[0]}³ grid"
    return "×".join(str(s) for s in reversed(shape)) + " px"


def turns_sentence(columns: int, budget: dict[str, Any]) -> str:
    """Why the wall clock runs longer than the budget: one sentence."""
    if "seconds" in budget:
        total = columns * budget["seconds"]
        return (
            f"The {columns} columns take turns on this machine and each column's clock counts only its own "
            f"training, so {columns} × {budget['seconds']:g} s of training take at least {total:g} s of "
            "wall time."
        )
    return (
        f"The {columns} columns take turns on this machine and each column's clock counts only its own "
        "training steps, so the wall clock runs longer than any one column's."
    )


def status_line(status: dict[str, Any], headline: str | None, max_jobs: int) -> str:
    """One short paragraph (the app's little markdown: **bold**, line breaks "  \\n") about the race."""
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
        slowest = min(r["train_seconds"] for r in runs.values())
        progress = f"training time {slowest:.1f} of {budget['seconds']:g} s each"
    else:
        progress = f"step {min(r['step'] for r in runs.values())} of {budget['steps']} each"
    line = f"**{state.capitalize()}** · {where} · {progress}"
    if headline:
        line += f"  \n{headline[0].upper()}{headline[1:]}."
    if status.get("write_error"):
        problem = status["write_error"]
        line += f"  \n⚠️ {problem[0].upper()}{problem[1:]}."
    elif state in ("done", "stopped"):
        line += "  \nThe reconstructions, curves and summary are in the side panel's *Link & files* tab."
    return line

"""Statistics over a row's jobs (its signals × seeds): mean ± standard deviation, and a Student-t
confidence interval for the mean time saving.

The interval treats the jobs as independent draws; seeds of one signal are not quite independent of
each other, so with several seeds per signal read it as a guide, not a test.
"""
from __future__ import annotations

import math
import statistics
from typing import Any, Sequence

CONFIDENCE = 0.95


def finite(xs: Sequence[float | None]) -> list[float]:
    return [x for x in xs if x is not None and math.isfinite(x)]


def mean_std(xs: Sequence[float | None]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation of the finite values (std 0 for one value; None for none)."""
    kept = finite(xs)
    if not kept:
        return None, None
    return statistics.fmean(kept), (statistics.stdev(kept) if len(kept) > 1 else 0.0)


def t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t with `df` degrees of freedom."""
    from scipy.stats import t  # scipy comes with scikit-image, a core requirement

    return float(t.ppf(p, df))


def confidence_interval(xs: Sequence[float | None], level: float = CONFIDENCE) -> tuple[float, float] | None:
    """Two-sided Student-t interval for the mean of the finite values; None with fewer than two."""
    kept = finite(xs)
    if len(kept) < 2:
        return None
    m, s = statistics.fmean(kept), statistics.stdev(kept)
    half = t_quantile(0.5 + level / 2, len(kept) - 1) * s / math.sqrt(len(kept))
    return m - half, m + half


def summarise_row(metric: str, jobs: list[dict[str, Any]], names: list[str]) -> dict[str, Any]:
    """Per sampler, over the row's finished jobs: quality, training time, time to target, saving
    against full (mean, std, confidence interval) and against random, quality at equal time. A sampler
    that applied to none of the jobs is {"not_applicable": reason}."""
    out: dict[str, Any] = {}
    tol = 0.01 if metric == "iou" else 0.5
    for name in names:
        runs = [(j["runs"][name], j) for j in jobs if name in j["runs"]]
        if not runs:
            reasons = [j["not_applicable"].get(name) for j in jobs if name in j.get("not_applicable", {})]
            out[name] = {"not_applicable": reasons[0] if reasons else "no finished job", "jobs": 0}
            continue
        q_mean, q_std = mean_std([r["quality"] for r, _ in runs])
        tt_mean, tt_std = mean_std([r["seconds_to_target"] for r, _ in runs])
        eq_mean, eq_std = mean_std([r["quality_at_equal_time"] for r, _ in runs])
        entry: dict[str, Any] = {
            "quality_mean": q_mean, "quality_std": q_std,
            "train_seconds_mean": mean_std([r["train_seconds"] for r, _ in runs])[0],
            "seconds_to_target_mean": tt_mean, "seconds_to_target_std": tt_std,
            "quality_at_equal_time_mean": eq_mean, "quality_at_equal_time_std": eq_std,
            "reached_target": sum(r["seconds_to_target"] is not None for r, _ in runs), "jobs": len(runs),
        }
        if name != "full":
            savings = [r["saving"] for r, _ in runs]
            sv_mean, sv_std = mean_std(savings)
            ci = confidence_interval(savings)
            d_mean, _ = mean_std([r["quality"] - j["runs"]["full"]["quality"] for r, j in runs
                                  if r["quality"] is not None and j["runs"]["full"]["quality"] is not None])
            entry.update({"saving_mean": sv_mean, "saving_std": sv_std, "saving_ci": list(ci) if ci else None,
                          "saving_jobs": len(finite(savings)), "quality_minus_full": d_mean,
                          "within_tolerance": d_mean is not None and d_mean >= -tol})
        if name != "random" and any("random" in j["runs"] for _, j in runs):
            vs = [r.get("saving_vs_random") for r, _ in runs]
            vr_mean, vr_std = mean_std(vs)
            ci = confidence_interval(vs)
            entry.update({"saving_vs_random_mean": vr_mean, "saving_vs_random_std": vr_std,
                          "saving_vs_random_ci": list(ci) if ci else None, "saving_vs_random_jobs": len(finite(vs))})
        out[name] = entry
    return out

"""The benchmark's outputs: table.md (the paper's table, then savings against random and quality at
equal time, then every sampler × signal over its seeds with the verdict's counts), results.json (every job with its run spec, and the per-row summary), results.csv (one
line per job and sampler), curves.csv and curves.svg. CSV and JSON go through intcore.runs' writers.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..runs import write_csv, write_json
from ..svg import line_panels
from .stats import confidence_interval, finite, mean_std

RESULT_COLUMNS = ["row", "signal", "seed", "sampler", "status", "steps", "train_seconds", "quality", "best_quality",
                  "seconds_to_target", "saving", "saving_vs_random", "quality_at_equal_time", "note"]
CURVE_COLUMNS = ["row", "signal", "seed", "method", "train_seconds", "quality"]


def _q(x: float | None, metric: str) -> str:
    if x is None:
        return "—"
    return f"{100 * x:.2f}" if metric == "iou" else f"{x:.2f}"


def _quality(e: dict[str, Any], key: str, metric: str) -> str:
    unit = "% IoU" if metric == "iou" else "dB"
    if e[key + "_mean"] is None:
        return "—"
    return f"{_q(e[key + '_mean'], metric)} ± {_q(e[key + '_std'], metric)} {unit}"


def _saving(mean: float | None, ci: list[float] | None) -> str:
    """A saving as the change in time against the baseline (−40 % = 40 % less time), with its interval."""
    text = f"{-100 * mean:+.1f} %"
    if ci:
        text += f", 95 % CI [{-100 * ci[1]:+.1f}, {-100 * ci[0]:+.1f}]"
    return text


def _signals_cell(r: dict[str, Any], seeds: int) -> str:
    n = len({j["signal"] for j in r["signals"]})
    return f"{n} × {seeds} seeds" if seeds > 1 else str(n)


def markdown_table(report: dict[str, Any]) -> str:
    names = report["samplers"]
    others = [n for n in names if n != "full"]
    seeds = len(report["seeds"])
    head = ["modality", "signals", "full: time / quality"] + [f"{n}: time (saving) / quality" for n in others] + ["peak memory"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    done = {row: r for row, r in report["rows"].items() if "summary" in r}
    for row, r in report["rows"].items():
        if row not in done:
            why = f"skipped: {r['skipped']}" if "skipped" in r else f"failed: {r['failed'][0]['error']}"
            lines.append(f"| {row} | {why} |" + " |" * (len(head) - 2))
            continue
        metric, summary = r["metric"], r["summary"]
        full = summary["full"]
        cells = [row, _signals_cell(r, seeds),
                 f"{full['seconds_to_target_mean']:.2f} s / {_quality(full, 'quality', metric)}"
                 if full["seconds_to_target_mean"] is not None else f"— / {_quality(full, 'quality', metric)}"]
        for n in others:
            e = summary[n]
            if "not_applicable" in e:
                cells.append("n/a")
                continue
            if e["seconds_to_target_mean"] is None or e["saving_mean"] is None:
                t = f"did not reach full's quality ({e['reached_target']}/{e['jobs']})"
            else:
                reached = "" if e["reached_target"] == e["jobs"] else f", reached on {e['reached_target']}/{e['jobs']}"
                t = f"{e['seconds_to_target_mean']:.2f} s ({_saving(e['saving_mean'], e['saving_ci'])}{reached})"
            cells.append(f"{t} / {_quality(e, 'quality', metric)}")
        cells.append(f"{r['peak_memory_mb']:,.0f} MB")
        lines.append("| " + " | ".join(cells) + " |")

    if "random" in names and done:
        vs = [n for n in names if n != "random"]
        lines += ["", "Against random (time to random's final quality on each job; −40 % = 40 % less time than random):", "",
                  "| modality | " + " | ".join(f"{n}: saving vs random" for n in vs) + " |", "|" + "---|" * (len(vs) + 1)]
        for row, r in done.items():
            cells = [row]
            for n in vs:
                e = r["summary"][n]
                mean = e.get("saving_vs_random_mean")
                cells.append("n/a" if "not_applicable" in e else "—" if mean is None else
                             _saving(mean, e.get("saving_vs_random_ci")) + f" ({e['saving_vs_random_jobs']}/{e['jobs']})")
            lines.append("| " + " | ".join(cells) + " |")

    if done:
        lines += ["", "Quality at equal time (each job at the shortest run's training time; — where a run had no "
                  "evaluation yet by then, as with short step budgets):", "",
                  "| modality | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
        for row, r in done.items():
            cells = [row] + ["n/a" if "not_applicable" in r["summary"][n] else
                             _quality(r["summary"][n], "quality_at_equal_time", r["metric"]) for n in names]
            lines.append("| " + " | ".join(cells) + " |")

    target_rule = (f"the time to reach {report['target']}" if report.get("target") is not None
                   else "the training time to reach full batch's final quality on each job")
    notes = [
        "",
        f"Time: {target_rule} (mean over jobs: signals × seeds); saving: 1 − sampler's time / full's time, "
        "mean over the jobs where it reached it, with a 95 % Student-t interval. Quality: final quality after the "
        "budget, mean ± std over jobs. Within a job every sampler starts from the same initial weights, gets the "
        "same training-time budget, and the runs are interleaved on one device.",
        "",
    ]
    for row, r in report["rows"].items():
        if row in done:
            s = r["settings"]
            budget = f"{s['steps']} steps" if s.get("steps") else f"{s['seconds']:g} s"
            opts = ", ".join(f"{k}={v}" for k, v in s["load"].items())
            notes.append(f"- {row}: {r['source']}{f' ({opts})' if opts else ''}; SIREN {s['hidden_layers']}×{s['width']}, "
                         f"Adam lr {s['lr']:g}, {budget} per sampler, N = {r['n_mean']:,.0f} coordinates per signal")
        for n, e in r.get("summary", {}).items():
            if "not_applicable" in e:
                notes.append(f"- {row}: {n} is n/a: {e['not_applicable']}")
        for f in r.get("failed", []):
            notes.append(f"- {row}: job {f['signal']} seed {f['seed']} failed: {f['error']}")
    jobs = report["jobs"]
    notes.append(f"- jobs: {jobs['total']} ({jobs['done_before']} kept from an earlier run, {jobs['run_now']} run now, "
                 f"{jobs['failed']} failed); runner: {report['runner']}")
    notes.append(f"- device: {report['device_name']}; torch {report['torch']}, {report['threads']} threads per job, "
                 f"precision {report['precision']}, compile {report['compile']}; load average at start "
                 f"{report['load_average'][0]:.2f}, at end {report['load_average_end'][0]:.2f}; {report['date']}")
    notes.append(f"- command: `{report['command']}`")
    return "\n".join(lines + notes) + "\n"


def _mean_ci(xs: list[float | None], fmt: str) -> str:
    """mean ± the half-width of the 95 % Student-t interval (± std of one value: —), over the finite values."""
    vals = finite(xs)
    if not vals:
        return "—"
    m, _ = mean_std(vals)
    ci = confidence_interval(vals)
    return f"{m:{fmt}}" + (f" ± {(ci[1] - ci[0]) / 2:{fmt}}" if ci else "")


def per_signal_table(report: dict[str, Any]) -> str:
    """Every sampler × signal over its seeds: final quality, time to full batch's final quality (and
    that time over random's and over full's, per seed), ms per step, and how often the verdict named
    it the leader at equal time / first to the target (a tie counts for each runner in it)."""
    names = report["samplers"]
    lines = ["", "Per signal (mean ± 95 % interval over seeds; time: training seconds to full batch's final quality; "
             "/random and /full: that time over random's and full's on the same seed, — where either never got "
             "there; leads: seeds on which the verdict named it the leader at equal time, and first to the target):",
             "", "| signal | sampler | seeds | final | s to target | /random | /full | ms per step | leads | first |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row, r in report["rows"].items():
        by_signal: dict[str, list[dict[str, Any]]] = {}
        for j in r.get("signals", []):
            by_signal.setdefault(j["signal"], []).append(j)
        metric = r.get("metric", "psnr")
        for signal, jobs in by_signal.items():
            for n in names:
                runs = [(j["runs"][n], j) for j in jobs if n in j["runs"]]
                if not runs:
                    continue
                scale = 100.0 if metric == "iou" else 1.0

                def ratio(run: dict[str, Any], job: dict[str, Any], base: str) -> float | None:
                    t, b = run.get("seconds_to_target"), job["runs"].get(base, {}).get("seconds_to_target")
                    return None if t is None or not b else t / b

                leads = sum(n in j.get("verdict", {}).get("leaders", []) for _, j in runs)
                first = sum(n in j.get("verdict", {}).get("first_to_target", []) for _, j in runs)
                lines.append("| " + " | ".join([
                    f"{Path(signal).name} ({row})", n, str(len(runs)),
                    _mean_ci([None if x["quality"] is None else scale * x["quality"] for x, _ in runs], ".2f"),
                    _mean_ci([x["seconds_to_target"] for x, _ in runs], ".2f"),
                    _mean_ci([ratio(x, j, "random") for x, j in runs], ".2f"),
                    _mean_ci([ratio(x, j, "full") for x, j in runs], ".2f"),
                    _mean_ci([x.get("ms_per_step") for x, _ in runs], ".1f"),
                    f"{leads}/{len(runs)}", f"{first}/{len(runs)}"]) + " |")
    return "\n".join(lines) + "\n"


def result_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One line per job and sampler (a failed job: one line with its error; n/a samplers say why)."""
    rows = []
    for row, r in report["rows"].items():
        for j in r.get("signals", []):
            base = {"row": row, "signal": j["signal"], "seed": j["seed"]}
            for n, run in j["runs"].items():
                rows.append({**base, "sampler": n, "status": "ok", **{k: run.get(k) for k in RESULT_COLUMNS[5:-1]}})
            for n, why in j.get("not_applicable", {}).items():
                rows.append({**base, "sampler": n, "status": "n/a", "note": why})
        for j in r.get("failed", []):
            rows.append({"row": row, "signal": j["signal"], "seed": j["seed"], "status": "error", "note": j["error"]})
    return rows


def write_reports(report: dict[str, Any], jobs: list[dict[str, Any]], out: Path) -> str:
    """Write every output under `out`; returns the markdown table. `jobs` are the finished job results
    with their curves (results.json keeps the numbers, the curves go to curves.csv and curves.svg)."""
    table = markdown_table(report) + per_signal_table(report)
    (out / "table.md").write_text(table)
    write_json(report, out / "results.json")
    write_csv(result_rows(report), out / "results.csv", RESULT_COLUMNS)
    curves = [{"row": j["row"], "signal": j["signal"], "seed": j["seed"], "method": n, "train_seconds": t, "quality": q}
              for j in jobs for n, run in j["runs"].items() for t, q in run["curve"]]
    write_csv(curves, out / "curves.csv", CURVE_COLUMNS)
    panels = []
    for row, r in report["rows"].items():
        if "summary" not in r:
            continue
        series: dict[str, list[list[tuple[float, float]]]] = {}
        for j in jobs:
            if j["row"] == row:
                for n, run in j["runs"].items():
                    series.setdefault(n, []).append([(t, q) for t, q in run["curve"] if q is not None])
        panels.append((f"{row} ({len(r['signals'])} jobs)", "IoU" if r["metric"] == "iou" else "PSNR (dB)", series))
    if panels:
        line_panels(panels, out / "curves.svg")
    return table

"""`cmd_bench(args)`: plan the jobs (rows of the paper's table, or every file of a --dataset, times
--seeds), keep the ones finished by an earlier run, run the rest here or on Ray, and write the report.

Every finished job is stored under --out/jobs the moment it returns, so an interrupted benchmark loses
at most the jobs in flight; the same command again runs only what is missing.
"""
from __future__ import annotations

import argparse
import os
import platform
import shlex
import signal
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import torch

from ..device import cpu_threads, resolve_device
from ..modalities import MODALITIES
from ..samplers import SAMPLERS
from ..spec import SETTINGS
from ..trainer import Snapshot
from .jobs import Job, JobStore, make_jobs
from .measure import run_job
from .progress import JobProgress
from .report import write_reports
from .rows import ROWS, RowPlan, RowSkipped, image_folder, plan_dataset, plan_row, row_settings
from .stats import summarise_row


def _names(text: str | None, what: str) -> list[str]:
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def sampler_names(text: str) -> list[str]:
    """The raced samplers: full first (every saving's baseline), then the others in the order given."""
    names = _names(text, "samplers")
    for n in names:
        if n not in SAMPLERS:
            raise ValueError(f"unknown sampler {n!r} (known: {', '.join(SAMPLERS.names())})")
    names = ["full"] + [n for n in dict.fromkeys(names) if n != "full"]
    if len(names) < 2:
        raise ValueError("--samplers needs at least one sampler besides full")
    return names


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} logical cores"


def plan(args: argparse.Namespace) -> tuple[list[RowPlan | tuple[str, str]], bool]:
    """The rows to run: RowPlans, or (row, reason) for a row skipped here; and whether it is a dataset run."""
    quick = bool(args.quick)
    if getattr(args, "dataset", None) is not None:
        if args.signals or args.kodak or args.modalities:
            raise ValueError("--dataset replaces --modalities, --signals and --kodak (choose its modalities with --modality)")
        modalities = _names(getattr(args, "modality", None), "modality") or None
        for m in modalities or []:
            if m not in MODALITIES:
                raise ValueError(f"unknown modality {m!r} (known: {', '.join(MODALITIES.names())})")
        return list(plan_dataset(args.dataset, modalities, args.max_signals)), True
    if getattr(args, "modality", None):
        raise ValueError("--modality goes with --dataset; the paper's rows are chosen with --modalities")
    rows = _names(args.modalities or ",".join(ROWS), "modalities")
    known = list(dict.fromkeys([*ROWS, *MODALITIES.names()]))
    for r in rows:
        if r not in known:
            raise ValueError(f"unknown modality row {r!r} (known: {', '.join(known)})")
    if args.signals and len(rows) != 1:
        raise ValueError("--signals needs exactly one row in --modalities")
    if args.kodak is not None:
        image_folder(args.kodak)  # fail early on a bad folder
    plans: list[RowPlan | tuple[str, str]] = []
    for r in rows:
        try:
            plans.append(plan_row(r, row_settings(r, quick), args.kodak, args.signals, args.max_signals,
                                  args.megapixels))
        except RowSkipped as exc:
            plans.append((r, str(exc)))
    return plans, False


def sigterm_as_interrupt() -> Callable[[], None]:
    """Until the returned function is called, SIGTERM (a scheduler's or `kill`'s stop) ends the run as
    Ctrl-C does: finished jobs kept, Ray's tasks cancelled. Only the main thread can install handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, interrupt)

    def restore() -> None:
        signal.signal(signal.SIGTERM, old)

    return restore


def command_line() -> str:
    if sys.argv[1:2] == ["bench"]:
        return "python -m intcore " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    return "intcore.benchmark (called from Python)"


def cmd_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark `args` describes (see intcore/cli/bench.py for the options); the summary the
    command prints as its last line. Bad input raises ValueError before anything runs."""
    names = sampler_names(args.samplers)
    given = {k: getattr(args, k, None) for k in SETTINGS}
    seed0 = given.pop("seed") or 0
    seeds = list(range(seed0, seed0 + (getattr(args, "seeds", None) or 1)))
    ray_address = getattr(args, "ray", None)
    use_ray = ray_address is not None
    if getattr(args, "workers", None) and not (use_ray and ray_address == "local"):
        raise ValueError("--workers sets the size of a local Ray (--ray with no address); a cluster decides its own")
    device = resolve_device(args.device or "auto")
    threads = args.threads or (1 if use_ray else cpu_threads())

    plans, dataset = plan(args)
    jobs: dict[str, list[Job]] = {}
    skipped: dict[str, str] = {}
    for p in plans:
        if isinstance(p, tuple):
            skipped[p[0]] = p[1]
        else:
            s = row_settings(p.row if not dataset else p.modality, bool(args.quick))
            jobs[p.row] = make_jobs(p, s, given, seeds, str(device), names, args.target)
    all_jobs = [j for js in jobs.values() for j in js]

    out = args.out or Path("runs") / "bench"
    out.mkdir(parents=True, exist_ok=True)
    store = JobStore(out)
    results: dict[str, dict[str, Any]] = {}
    for j in ([] if getattr(args, "fresh", False) else all_jobs):
        kept = store.load(j)
        if kept is not None:
            results[j.id] = kept
    done_before = len(results)
    todo = [j for j in all_jobs if j.id not in results]

    report: dict[str, Any] = {
        "command": command_line(), "date": time.strftime("%Y-%m-%d %H:%M %Z"), "device": str(device),
        "device_name": device_name(device), "torch": torch.__version__, "threads": threads,
        "precision": given.get("precision") or "fp32", "compile": given.get("compile") or "off",
        "quick": bool(args.quick), "samplers": names, "target": args.target, "steps": given.get("steps"),
        "seeds": seeds, "dataset": str(args.dataset) if dataset else None,
        "load_average": list(os.getloadavg()), "rows": {},
    }
    bar = JobProgress(len(todo), quiet=args.quiet)
    for row, reason in skipped.items():
        bar.write(f"bench: skipping {row}: {reason}")
    if done_before:
        bar.write(f"bench: {done_before} of {len(all_jobs)} jobs already done in {store.folder}, running {len(todo)} "
                  "(--fresh measures them all again)")
    wall0 = time.perf_counter()
    failed: list[dict[str, Any]] = []
    runner_text = f"in-process, {threads} CPU thread{'s' if threads > 1 else ''}" if device.type == "cpu" else "in-process"
    runner = None
    if use_ray and todo:
        from .ray_runner import RayRunner

        runner = RayRunner(None if ray_address == "local" else ray_address, str(device), threads, args.workers)
        runner_text = runner.describe()
    elif use_ray:
        runner_text = "Ray (nothing left to run)"
    restore_sigterm = sigterm_as_interrupt()
    try:
        stream = runner.run([j.to_dict() for j in todo]) if runner else _in_process(todo, threads, bar)
        for result in stream:
            if result["status"] == "ok":
                store.save(result)
                results[result["id"]] = result
                bar.job_done(f"{result['row']} {result['signal']} seed {result['seed']} done "
                             f"({result['wall_seconds']:.0f} s on {result['worker']})")
            else:
                failed.append(result)
                bar.job_done(f"{result['row']} {result['signal']} seed {result['seed']} FAILED: {result['error']}")
    except KeyboardInterrupt:
        bar.close()
        done = len(results)
        print(f"bench: interrupted; {done} of {len(all_jobs)} jobs are kept in {store.folder}: "
              "run the same command again to finish the rest", file=sys.stderr)
        raise
    finally:
        restore_sigterm()
        if runner is not None:
            runner.close()
    bar.close()

    report["runner"] = runner_text
    report["load_average_end"] = list(os.getloadavg())
    report["wall_seconds"] = round(time.perf_counter() - wall0, 1)
    report["jobs"] = {"total": len(all_jobs), "done_before": done_before, "run_now": len(todo), "failed": len(failed)}
    finished = []
    where = {p.row: p.where for p in plans if not isinstance(p, tuple)}
    for row in [p.row if not isinstance(p, tuple) else p[0] for p in plans]:
        if row in skipped:
            report["rows"][row] = {"skipped": skipped[row]}
            continue
        row_jobs = [results[j.id] for j in jobs[row] if j.id in results]
        row_failed = [{k: f.get(k) for k in ("signal", "seed", "error", "where")} for f in failed if f["row"] == row]
        finished += row_jobs
        if not row_jobs:
            report["rows"][row] = {"failed": row_failed or [{"signal": "-", "seed": "-", "error": "no job finished"}]}
            continue
        report["rows"][row] = row_report(row, row_jobs, row_failed, names, where[row])
    table = write_reports(report, finished, out)
    print(table)
    print(f"wrote {out}/table.md, results.json, results.csv, curves.csv, curves.svg ({report['wall_seconds']:.0f} s wall)")
    return {"table": str(out / "table.md"), "results": str(out / "results.json"), "wall_seconds": report["wall_seconds"],
            "jobs": report["jobs"], "rows": {r: (v.get("summary") or v) for r, v in report["rows"].items()}}


def row_report(row: str, row_jobs: list[dict[str, Any]], row_failed: list[dict[str, Any]], names: list[str],
               where: str) -> dict[str, Any]:
    """One row of results.json: where its signals come from, its settings (from the first job's spec),
    the summary over its jobs, and every job's numbers (curves left to curves.csv)."""
    from ..modalities import get_modality

    first = row_jobs[0]
    spec = first["spec"]
    metric = get_modality(first["modality"]).metric
    train = spec["train"]
    source = where
    if first.get("note"):
        source = f"{source}: {first['note']}"
    return {
        "metric": metric, "source": source,
        "settings": {"width": spec["model"]["width"], "hidden_layers": spec["model"]["hidden_layers"], "lr": train["lr"],
                     "seconds": train["seconds"], "steps": train["steps"], "eval_every": train["eval_every"],
                     "load": spec["signal"]["options"]},
        "n_mean": statistics.fmean(j["n"] for j in row_jobs),
        "peak_memory_mb": max(j["peak_memory_mb"] for j in row_jobs),
        "peak_memory_kind": first["peak_memory_kind"],
        "summary": summarise_row(metric, row_jobs, names),
        "signals": [{**j, "runs": {n: {k: v for k, v in r.items() if k != "curve"} for n, r in j["runs"].items()}}
                    for j in row_jobs],
        "failed": row_failed,
    }


def _in_process(todo: list[Job], threads: int, bar: JobProgress) -> Iterator[dict[str, Any]]:
    """Run the jobs one after another in this process, the bar following each run's budget."""
    torch.set_num_threads(threads)
    for job in todo:
        spec = job.spec
        budget = spec["train"]["seconds"] or spec["train"]["steps"]
        by_time = spec["train"]["seconds"] is not None
        share = {s["name"]: 0.0 for s in spec["samplers"]}

        def on_snapshot(snap: Snapshot, job: Job = job) -> None:
            share[snap.method] = 1.0 if snap.done else min(1.0, (snap.train_seconds if by_time else snap.step) / budget)
            bar.update(sum(share.values()) / len(share), f"{job.row} {job.signal} seed {job.seed} {snap.method} {snap.quality:.3g}")

        yield run_job(job.to_dict(), threads, on_snapshot)

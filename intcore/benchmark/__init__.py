"""`python -m intcore bench`: the INT paper's results table, reproduced on this machine, and the same
race over any folder of signals, several seeds each, resumable, in this process or on Ray.

Zhang et al., "Nonparametric Teaching of Implicit Neural Representations" (ICML 2024) report, per
modality, full-batch training time / quality against INT's (audio, image, megapixel, 3D shape). The
benchmark measures the same rows here, fairly:

- a job is one signal and one seed; in it every sampler starts from the same initial weights and gets
  the same training-time budget, and the runs are interleaved (`runs.race`) on one device, so a busy
  neighbour on the machine slows them alike;
- the target of a job is full batch's final quality; a sampler's time saving there is
  1 − (its training time to reach the target) / (full batch's training time to reach it);
- a row's qualities are mean ± std over its jobs, its saving has a 95 % confidence interval.

One module per concern: `signals` (which signals, how each row trains), `jobs` (a job's run spec and
the store that makes reruns resume), `measure` (one job), `stats`, `report`, `progress`,
`ray_runner` (jobs as Ray tasks), `command` (the command itself).
"""
from __future__ import annotations

from .command import cmd_bench, sampler_names
from .jobs import Job, JobStore, make_jobs
from .measure import quality_at, run_job
from .rows import FULL, MOSAIC_GRID, QUICK, ROWS, build_mosaic, dataset_files
from .stats import confidence_interval, mean_std, summarise_row

__all__ = ["FULL", "MOSAIC_GRID", "QUICK", "ROWS", "Job", "JobStore", "build_mosaic", "cmd_bench", "confidence_interval",
           "dataset_files", "make_jobs", "mean_std", "quality_at", "run_job", "sampler_names", "summarise_row"]

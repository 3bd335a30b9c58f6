"""`bench`: the command-line face of intcore.benchmark (the INT paper's table, measured on this machine, or
any folder of signals with --dataset, in this process or on Ray)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..benchmark import ROWS
from ..modalities import MODALITIES
from .options import add_settings, positive_float, positive_int


def register(subparsers: Any) -> None:
    """Add `bench` to the `python -m intcore` command line (cli.build_parser calls this)."""
    p = subparsers.add_parser("bench", help="reproduce the INT paper's table (full batch vs INT per modality) on this "
                                            "machine, or race samplers over a folder of signals")
    p.add_argument("--modalities", default=None, help=f"comma-separated rows (default {','.join(ROWS)})")
    p.add_argument("--samplers", default="full,int-official",
                   help="comma-separated samplers; full is always run as the baseline (default full,int-official: the "
                        "paper's INT). A sampler that does not apply to a signal's modality is reported as n/a")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    p.add_argument("--quick", action="store_true", help="small signals and budgets: under 10 minutes on a 2-core CPU")
    p.add_argument("--out", type=Path, help="folder for table.md, results.json, results.csv, curves.csv, curves.svg and "
                                            "the finished jobs that a rerun skips (default runs/bench)")
    p.add_argument("--kodak", type=Path, help="folder of Kodak images for the image and megapixel rows (default: assets/images)")
    p.add_argument("--signals", help="comma-separated files to use instead of the row's own (one modality row only)")
    p.add_argument("--dataset", type=Path, help="race on every signal file under this folder (recursively, by extension), "
                                                "one row per modality; replaces --modalities, --signals and --kodak")
    p.add_argument("--modality", help=f"with --dataset: only these modalities (comma-separated: {', '.join(MODALITIES.names())})")
    p.add_argument("--seeds", type=positive_int, help="run every signal with this many seeds (--seed, --seed + 1, ...; default 1)")
    p.add_argument("--max-signals", type=positive_int, help="use at most this many signals per row")
    p.add_argument("--target", type=float, help="stop each run at this quality (dB, or IoU in [0, 1]) and time the runs to it")
    p.add_argument("--megapixels", type=positive_float, help="size of the megapixel row's mosaic (default 16; 0.25 with --quick)")
    add_settings(p)  # --max-side, --width, --hidden-layers, --seconds | --steps, --lr, --seed, --precision, ...
    p.add_argument("--threads", "--threads-per-job", dest="threads", type=positive_int,
                   help="CPU threads per job: torch's threads here, or the CPUs each Ray task reserves "
                        "(default: one per idle core here, 1 per job on Ray)")
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="run one Ray task per (signal, seed): the flag alone starts a local Ray, an address "
                        "(auto, HOST:6379, ray://HOST:10001) joins that cluster (needs: pip install -r requirements-ray.txt)")
    p.add_argument("--workers", type=positive_int, help="with a local Ray: jobs at once (default: cores / threads per job)")
    p.add_argument("--fresh", action="store_true", help="measure every job again, ignoring the finished ones kept under --out")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(handler=run_bench)


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    from ..benchmark import cmd_bench

    return cmd_bench(args)

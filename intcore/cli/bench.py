"""`bench`: the command-line face of intcore.bench (the INT paper's table, measured on this machine)."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..bench import ROWS
from ..trainer import COMPILE_MODES, PRECISIONS
from .options import positive_float, positive_int


def register(subparsers: Any) -> None:
    """Add `bench` to the `python -m intcore` command line (cli.build_parser calls this)."""
    p = subparsers.add_parser("bench", help="reproduce the INT paper's table (full batch vs INT per modality) on this machine")
    p.add_argument("--modalities", default=",".join(ROWS), help=f"comma-separated rows (default {','.join(ROWS)})")
    p.add_argument("--samplers", default="full,int-official",
                   help="comma-separated samplers; full is always run as the baseline (default full,int-official: the paper's INT)")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    p.add_argument("--quick", action="store_true", help="small signals and budgets: under 10 minutes on a 2-core CPU")
    p.add_argument("--out", type=Path, help="folder for table.md, results.json, curves.csv, curves.svg (default runs/bench)")
    p.add_argument("--kodak", type=Path, help="folder of Kodak images for the image and megapixel rows (default: assets/images)")
    p.add_argument("--signals", help="comma-separated files to use instead of the row's own (one modality row only)")
    p.add_argument("--max-signals", type=positive_int, help="use at most this many signals per row")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=positive_float, help="training-time budget per method and signal (overrides the rows')")
    budget.add_argument("--steps", type=positive_int, help="step budget per method and signal instead of a time budget")
    p.add_argument("--target", type=float, help="stop each run at this quality (dB, or IoU in [0, 1]) and time the runs to it")
    p.add_argument("--megapixels", type=positive_float, help="size of the megapixel row's mosaic (default 16; 0.25 with --quick)")
    p.add_argument("--max-side", type=positive_int, help="downscale images so the longer side is at most this")
    p.add_argument("--width", type=positive_int, help="SIREN width for every row")
    p.add_argument("--hidden-layers", type=positive_int, help="SIREN sine layers for every row")
    p.add_argument("--lr", type=positive_float, help="Adam learning rate for every row")
    p.add_argument("--eval-every", type=positive_int, help="evaluate every N steps")
    p.add_argument("--precision", choices=PRECISIONS, default="fp32", help="fp32 (default) or bf16 autocast (only where it shows PSNR parity)")
    p.add_argument("--compile", choices=COMPILE_MODES, default="off", help="torch.compile mode for the model (default off)")
    p.add_argument("--threads", type=positive_int, help="CPU threads for torch (default: one per core not already busy, see device.cpu_threads)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run_bench)


def run_bench(args: argparse.Namespace) -> dict[str, Any]:
    from ..bench import cmd_bench

    return cmd_bench(args)

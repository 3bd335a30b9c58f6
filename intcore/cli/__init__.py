"""Command line: `python -m intcore fit|compare|bench` (or the `intcore` console script).

Human-readable progress and tables go to stderr/stdout; the last line of stdout is always one JSON
object, so scripts can read `tail -n 1`. Bad input exits with code 2 and a single line on stderr.
"""
from __future__ import annotations

import json
import sys
from typing import Sequence

from ..signals import SignalError
from . import bench, commands
from .options import EXIT_BAD_INPUT, OneLineParser, UsageError

__all__ = ["build_parser", "main", "UsageError", "EXIT_BAD_INPUT"]


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="intcore", description="Fit implicit neural representations with INT and its baselines.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    commands.register(sub)
    bench.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        summary = args.handler(args)
    except (UsageError, SignalError, ValueError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"intcore: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ImportError as exc:  # an optional package (soundfile, trimesh, libigl) is missing here
        print(f"intcore: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("intcore: interrupted", file=sys.stderr)
        return 130
    print(json.dumps(summary))
    return 0

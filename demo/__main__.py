"""`python -m demo`: start the INT Studio app on this machine (never a public link unless --share)."""
from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m demo", description="INT Studio: watch INT, full batch and random sampling fit a signal, live.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    p.add_argument("--max-jobs", type=int, default=2, help="comparisons that train at once; later ones queue (default 2)")
    p.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    args = p.parse_args(argv)
    if args.max_jobs < 1:
        p.error("--max-jobs must be at least 1")
    # A closed tab is noticed at the next heartbeat: 15 s by default, 3 s here, so its job stops soon.
    os.environ.setdefault("GRADIO_HEARTBEAT_INTERVAL", "3")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

    from .app import build_app, launch

    try:
        app = build_app(device=args.device, max_jobs=args.max_jobs)
    except ValueError as exc:  # e.g. --device cuda on a machine without one
        print(f"demo: error: {exc}", file=sys.stderr)
        return 2
    print(f"INT Studio on http://{args.host}:{args.port}  (device {args.device}, up to {args.max_jobs} jobs at once; Ctrl+C to quit)", flush=True)
    try:
        launch(app, host=args.host, port=args.port, share=args.share)
    finally:
        app.session_table.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

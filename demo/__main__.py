"""`python -m demo`: start the INT Studio app on this machine.

Safe by default: it listens on 127.0.0.1 (this machine only) unless `--host` says otherwise, and then
says that anyone on that network can use it; no public link unless `--share`; `--auth user:password`
puts a login in front of it (for a classroom server).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import sys
from pathlib import Path

from .server.workspace import Workspace


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"demo: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _auth(text: str) -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not sep or not user or not password:
        raise argparse.ArgumentTypeError("give it as user:password (both non-empty)")
    return user, password


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_notice(host: str, share: bool, auth: bool) -> list[str]:
    """What the chosen address and link mean for who can use this machine (printed at start)."""
    lines = []
    if not is_loopback(host):
        lines.append(
            f"note: listening on {host}: anyone who can reach this machine on that network can use it "
            "(its CPU/GPU time and the files uploaded to it)" + ("" if auth else "; --auth user:password adds a login")
        )
    if share:
        lines.append(
            "note: --share opens a public gradio.live link: anyone on the internet with the link can use "
            "this machine" + ("" if auth else "; --auth user:password adds a login")
        )
    return lines


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="python -m demo", description="INT Studio: watch INT, full batch and random sampling fit a signal, live."
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every network it is on)",
    )
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    p.add_argument(
        "--max-jobs", type=int, default=2, help="comparisons that train at once; later ones queue (default 2)"
    )
    p.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    p.add_argument("--auth", type=_auth, metavar="USER:PASSWORD", help="ask for this user name and password first")
    p.add_argument(
        "--workdir",
        type=Path,
        help="folder for the sessions' files (default: this server's own folder under "
        "$TMPDIR/int-studio-<uid>, deleted at exit, and by the next start if the server was killed)",
    )
    p.add_argument(
        "--upload-dir",
        type=Path,
        help="folder for Gradio's upload cache, used by this server alone (default: in this server's own "
        "folder, as --workdir; with GRADIO_TEMP_DIR set and no --upload-dir, that folder, "
        "which other apps may share, is neither counted nor trimmed)",
    )
    p.add_argument(
        "--max-temp-mb",
        type=int,
        default=2048,
        help="cap on the sessions' files (uploads, live pictures, downloads) and the upload cache together; "
        "past it the uploads no session uses are dropped, oldest first, then the files of the "
        "sessions that finished longest ago (default 2048)",
    )
    return p


def upload_cache(upload_dir: Path | None, own: Path) -> Path | None:
    """The upload cache this server owns and counts in --max-temp-mb (None: GRADIO_TEMP_DIR, set by
    someone else, perhaps shared); sets GRADIO_TEMP_DIR for Gradio. `own`: the default, in this server's
    own folder.

    Gradio's default, /tmp/gradio, is shared by every Gradio app on the machine, whose cache cleaners then
    delete each other's uploads (the soak test saw a race fail on its vanished preset)."""
    if upload_dir is not None:
        upload_dir = upload_dir.expanduser().resolve()
        upload_dir.mkdir(parents=True, exist_ok=True)
        os.environ["GRADIO_TEMP_DIR"] = str(upload_dir)
        return upload_dir
    if "GRADIO_TEMP_DIR" in os.environ:
        return None
    os.environ["GRADIO_TEMP_DIR"] = str(own)
    return own


def stop_on_sigterm() -> None:
    """SIGTERM (systemd, docker stop, a test's terminate()) ends the server as Ctrl+C does, so the clean-up
    after launch runs: without it the sessions' folder and the upload cache stayed in /tmp."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    if args.max_jobs < 1:
        p.error("--max-jobs must be at least 1")
    if args.max_temp_mb < 1:
        p.error("--max-temp-mb must be at least 1")
    # A closed tab is noticed at the next heartbeat: 15 s by default, 3 s here, so its job stops soon.
    os.environ.setdefault("GRADIO_HEARTBEAT_INTERVAL", "3")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    # This server's own folder; a start also deletes what killed servers left (demo.server.workspace).
    workspace = Workspace.claim()
    uploads = upload_cache(args.upload_dir, workspace.uploads)

    from .ui.app import build_app, launch

    try:
        app = build_app(device=args.device, max_jobs=args.max_jobs, workdir=args.workdir or workspace.sessions)
    except ValueError as exc:  # e.g. --device cuda on a machine without one
        print(f"demo: error: {exc}", file=sys.stderr)
        workspace.release()
        return 2
    app.session_table.max_temp_bytes = args.max_temp_mb * 2**20
    app.session_table.upload_dir = uploads
    print(
        f"INT Studio on http://{args.host}:{args.port}  (device {args.device}, up to {args.max_jobs} jobs at once; "
        "Ctrl+C to quit)",
        flush=True,
    )
    for line in exposure_notice(args.host, args.share, args.auth is not None):
        print(line, flush=True)
    stop_on_sigterm()
    try:
        launch(app, host=args.host, port=args.port, share=args.share, auth=args.auth)
    except KeyboardInterrupt:  # Ctrl+C or SIGTERM while launch() was still starting (once it serves, it catches them)
        app.close()
    finally:
        app.session_table.shutdown()
        workspace.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())

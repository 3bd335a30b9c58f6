"""What each part of the live view costs the browser: Chromium's CPU during one image race, in windows
with one kind of update withheld in the page (the chart's redraws, the pictures), then restored.

    python bench/live_view_parts.py [--seconds 10] [--chromium /usr/bin/chromium]

The app is launched in this process with the image tab's defaults; one headless Chromium page is measured
idle first, then starts a race and, window by window, replaces plotly's redraw functions or the pictures' `src` updates by no-ops
(the poll, the status line and the table go on as usual). Prints one line per window: Chromium's CPU
(all its processes, from /proc) and the page's polls per second. Linux only; needs the app and test extras.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app_overhead import CHROMIUM_ARGS, chromium_cpu_seconds, cpu_between  # noqa: E402

from demo.ui.app import build_app, launch_in_background  # noqa: E402

KEEP = "window.__kept = window.__kept || {react: Plotly.react, setAttribute: Element.prototype.setAttribute};"
NO_CHART = "Plotly.react = () => Promise.resolve();"
NO_PICTURES = ("Element.prototype.setAttribute = function (k, v) { if (k === 'src' && String(v).startsWith('data:'))"
               " return; return window.__kept.setAttribute.call(this, k, v); };")
RESTORE = "Plotly.react = window.__kept.react; Element.prototype.setAttribute = window.__kept.setAttribute;"
WINDOWS = [("everything", RESTORE), ("no chart", RESTORE + NO_CHART), ("everything", RESTORE),
           ("no pictures", RESTORE + NO_PICTURES), ("no chart, no pictures", NO_CHART + NO_PICTURES),
           ("everything", RESTORE)]


def measure(page, name: str, seconds: float) -> None:
    """One window: Chromium's CPU (cores) and the page's polls per second over `seconds`."""
    polls = "() => window.intStudio?.polls ?? 0"
    polls0, cpu0, t0 = page.evaluate(polls), chromium_cpu_seconds(), time.monotonic()
    page.wait_for_timeout(seconds * 1000)
    polls1, cpu1, t1 = page.evaluate(polls), chromium_cpu_seconds(), time.monotonic()
    print(f"{name:<24} Chromium {cpu_between(cpu0, cpu1) / (t1 - t0):.3f} cores, "
          f"{(polls1 - polls0) / (t1 - t0):.2f} polls/s, load {os.getloadavg()[0]:.2f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="length of each window (default 10)")
    p.add_argument("--chromium", default=os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="live-view-parts-"))
    app = build_app(device="cpu", max_jobs=2, workdir=workdir)
    url = launch_in_background(app)
    budget = (len(WINDOWS) + 1) * args.seconds + 10  # the race outlasts every window
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(url)
            page.wait_for_selector("#start")
            page.wait_for_timeout(2000)
            page.click("#settings button")
            page.locator("#seconds input[type=number]").fill(str(budget))
            page.locator("#seconds input[type=number]").press("Tab")
            page.click("#settings button")
            page.wait_for_timeout(1000)
            measure(page, "no race yet (idle page)", args.seconds)
            page.click("#start")
            page.mouse.move(1, 1)
            page.wait_for_timeout(3000)  # past the first seconds, when the chart's axes still grow
            page.evaluate(f"() => {{ {KEEP} }}")
            for name, script in WINDOWS:
                page.evaluate(f"() => {{ {script} }}")
                measure(page, name, args.seconds)
            browser.close()
    finally:
        app.close()
        app.session_table.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

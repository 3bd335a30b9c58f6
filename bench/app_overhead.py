"""How much the app's live view slows training (issue 5, item 4: by no more than 10 %).

The app trains in one background thread per session while the server draws the live view (overlays,
reconstructions, the plotly chart, the table) 2.5 times a second and the browser renders it, all on
the same machine. The trainers' clocks count only their own steps, so drawing can never be *counted*
as training time, but on a small CPU it can steal cycles from the training thread and make every step
slower. This script measures exactly that:

  viewed    the real app (launched in this process, as `python -m demo` does) driven by headless
            Chromium: the page as a user opens it, the default preset and settings, Start, wait for Done.
  api       the same race through the app's streaming API (`/compare`) by gradio_client in another
            process: the server draws every update, no browser renders it.
  headless  the very same race (the job's own JobSpec, deep-copied: same signal, samplers, model,
            budget and seed) run by `demo.session.Job` with nobody drawing it.

Both run the same steps from the same weights, so the training seconds compare directly:
overhead = viewed (or api) training seconds / headless training seconds − 1, per sampler and in total.
The kinds alternate (viewed, api, headless, then the reverse, ...) so a drift in the machine's speed hits
all of them.

    python bench/app_overhead.py [--reps 2] [--tab image] [--device cpu] [--chromium /usr/bin/chromium]

Needs gradio, plotly and playwright (requirements-dev.txt) and a Chromium binary.
"""
from __future__ import annotations

import argparse
import copy
import os
import platform
import shutil
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from demo.app import TABS, build_app, launch_in_background  # noqa: E402
from demo.session import Job, JobSpec  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


KINDS = ["viewed", "api", "headless"]


def race_viewed(browser, url: str, app, tab: str, timeout: float, wait: bool = True) -> tuple[Job, float]:
    """One race in the browser with the tab's defaults; returns the finished job and the wall seconds
    from the click on Start to the page showing Done. wait=False: stop it at once (to learn its JobSpec)."""
    page = browser.new_page(viewport={"width": 1500, "height": 1150})
    page.set_default_timeout(120_000)
    try:
        page.goto(url)
        prefix = "" if tab == "image" else f"{tab}-"
        if prefix:
            page.get_by_role("tab", name=TABS[tab].title).click()
        page.wait_for_selector(f"#{prefix}start")
        page.wait_for_timeout(1500)  # the preset is chosen on arrival
        before = set(app.session_table.running())
        t0 = time.monotonic()
        page.click(f"#{prefix}start")
        job = None
        while job is None and time.monotonic() - t0 < 60:
            job = next(iter(set(app.session_table.running()) - before), None)
            time.sleep(0.05)
        if job is None:
            raise RuntimeError("the race did not start within 60 s")
        if not wait:
            job.stop()
            job.wait()
            return job, 0.0
        page.wait_for_function(
            f"() => (document.querySelector('#{prefix}status-text')?.innerText ?? '').includes('Done')",
            polling=1000, timeout=timeout * 1000)  # (the default polls every animation frame: a busy browser)
        wall = time.monotonic() - t0
        if job.error:
            raise RuntimeError(f"the race failed: {job.error}")
        return job, wall
    finally:
        page.close()


API_CLIENT = """
import json, sys
import gradio_client
url, params = sys.argv[1], json.loads(sys.argv[2])
params["picture"] = gradio_client.handle_file(params["picture"])
client = gradio_client.Client(url, verbose=False, download_files=False)
client.submit(api_name=params.pop("api_name"), **params).result(timeout=3600)
"""


def race_api(url: str, app, tab: str, spec: JobSpec, timeout: float) -> tuple[Job, float]:
    """The same race through the streaming API, consumed by gradio_client in a separate process."""
    prefix = "" if tab == "image" else f"{tab}-"
    names = list(spec.samplers)
    preset = next(p for p in TABS[tab].presets() if p.stem == spec.signal.name)  # what the page raced
    params = {
        "api_name": f"/{prefix}compare", "picture": str(preset),
        "sampler_1": names[0], "sampler_2": names[1], "sampler_3": names[2], "ratio": 0.2,
        "schedule": "default", "interval": "default", "budget": "steps", "amount": spec.config.steps,
        "lr": spec.config.lr, "width": spec.model.width, "depth": spec.model.hidden_layers,
        "w0": spec.model.first_w0, "seed": spec.config.seed, "eval_every": spec.config.eval_every,
        "size": max(spec.signal.shape) if tab == "image" else 0, "target": 0,
        "overlay": "selection", "x_axis": "training seconds",
    }
    before = set(app.session_table.running())
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", API_CLIENT, url, json.dumps(params)])
    job = None
    while job is None and time.monotonic() - t0 < 60 and proc.poll() is None:
        job = next(iter(set(app.session_table.running()) - before), None)
        time.sleep(0.05)
    if proc.wait(timeout) != 0 or job is None:
        raise RuntimeError("the API race failed")
    job.wait()
    return job, time.monotonic() - t0


def race_headless(spec: JobSpec) -> tuple[Job, float]:
    job = Job(copy.deepcopy(spec))
    t0 = time.monotonic()
    job.start(on_exit=lambda _: None)
    job.wait()
    if job.error:
        raise RuntimeError(f"the race failed: {job.error}")
    return job, time.monotonic() - t0


def seconds_by_method(job: Job) -> dict[str, tuple[int, float]]:
    """method -> (steps, training seconds) at the end of the race."""
    return {m: (s["step"], s["train_seconds"]) for m, s in job.status()["samplers"].items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=2, help="races of each kind (default 2)")
    p.add_argument("--tab", default="image", choices=["image", "audio", "shape"])
    p.add_argument("--device", default="cpu")
    p.add_argument("--chromium", default=os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium")
    p.add_argument("--threads", type=int, default=None, help="torch threads for both kinds (default: torch's)")
    p.add_argument("--kinds", default=",".join(KINDS),
                   help=f"which races, comma-separated (default {','.join(KINDS)}; headless is always run)")
    p.add_argument("--timeout", type=float, default=900, help="seconds one race may take (default 900)")
    args = p.parse_args(argv)
    kinds = [k for k in KINDS if k in args.kinds.split(",") or k == "headless"]

    from playwright.sync_api import sync_playwright

    if args.threads:
        torch.set_num_threads(args.threads)
    workdir = Path(tempfile.mkdtemp(prefix="app-overhead-"))
    app = build_app(device=args.device, max_jobs=2, workdir=workdir)
    url = launch_in_background(app)
    runs: dict[str, list[dict[str, tuple[int, float]]]] = {k: [] for k in KINDS}
    walls: dict[str, list[float]] = {k: [] for k in KINDS}
    load_start = os.getloadavg()[0]
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            spec = None
            order = []
            for rep in range(args.reps):
                order += kinds if rep % 2 == 0 else kinds[::-1]
            if "viewed" not in kinds:  # the spec the page would race: the tab's first preset and defaults
                job, _ = race_viewed(browser, url, app, args.tab, args.timeout, wait=False)
                spec = job.spec
            for i, kind in enumerate(order):
                if kind == "viewed":
                    job, wall = race_viewed(browser, url, app, args.tab, args.timeout)
                    spec = spec or job.spec
                elif kind == "api":
                    job, wall = race_api(url, app, args.tab, spec, args.timeout)
                else:
                    job, wall = race_headless(spec)
                runs[kind].append(seconds_by_method(job))
                walls[kind].append(wall)
                total = sum(t for _, t in runs[kind][-1].values())
                print(f"race {i + 1}/{len(order)} {kind:<8} wall {wall:6.1f} s, training {total:6.2f} s  "
                      + "  ".join(f"{m} {n} steps {t:.2f} s" for m, (n, t) in runs[kind][-1].items()), flush=True)
            browser.close()
    finally:
        app.close()
        app.session_table.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)

    methods = list(runs["headless"][0])
    print()
    print(f"tab: {args.tab}; signal: {spec.signal.name} {tuple(spec.signal.shape)}; "
          f"SIREN {spec.model.hidden_layers}x{spec.model.width}; budget {spec.config.steps} steps per sampler; "
          f"eval every {spec.config.eval_every}; device {args.device}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {os.cpu_count()} logical cores ({platform.machine()}); "
          f"load average {load_start:.2f} at start, {os.getloadavg()[0]:.2f} at end; {args.reps} races of each kind")
    print()
    print("| sampler | steps | headless: ms per step | API only (server draws): ms per step, overhead | "
          "viewed in the browser: ms per step, overhead |")
    print("|---|---|---|---|---|")

    def mean_ms(kind: str, m: str) -> tuple[float, float]:
        per = [1000 * r[m][1] / max(r[m][0], 1) for r in runs[kind]]
        return statistics.mean(per), (statistics.stdev(per) if len(per) > 1 else 0.0)

    for m in methods:
        h, hs = mean_ms("headless", m)
        cells = []
        for k in ("api", "viewed"):
            if runs[k]:
                v, vs = mean_ms(k, m)
                cells.append(f"{v:.1f} ± {vs:.1f}, {100 * (v / h - 1):+.1f} %")
            else:
                cells.append("not run")
        print(f"| {m} | {runs['headless'][0][m][0]} | {h:.1f} ± {hs:.1f} | " + " | ".join(cells) + " |")
    for label, values in (("training seconds", {k: [sum(t for _, t in r.values()) for r in runs[k]] for k in KINDS}),
                          ("wall seconds, Start to Done", walls)):
        h = statistics.mean(values["headless"])
        cells = [f"{statistics.mean(values[k]):.2f} s, {100 * (statistics.mean(values[k]) / h - 1):+.1f} %"
                 if values[k] else "not run" for k in ("api", "viewed")]
        print(f"| all: {label} | | {h:.2f} s | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

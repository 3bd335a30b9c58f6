"""How much the app's live view costs the training it shows, and what the browser spends on it.

The app trains in one background thread per session while the server draws the live view and the
browser renders it, all on the same machine. The trainers' clocks count only their own steps, so
drawing is never *counted* as training time, but on a small CPU it steals cycles from the training
thread and makes every step slower. Three kinds of race, interleaved (viewed, api, headless, then the
reverse, ...) so a drift in the machine's speed hits all of them alike:

  viewed    the real app (launched in this process, as `python -m demo` does) in headless Chromium:
            the page as a user opens it, the tab's default preset and settings, Start, wait for Done.
            Measured besides: Chromium's CPU time during the race (all its processes, from /proc) and
            the chart's redraws counted by the page itself (the chart script's own counters: all redraws,
            and how many of them were full plotly redraws rather than the curves' paths alone).
  api       the same race through the streaming `/compare` API, read by gradio_client in another
            process: the server reports every change, no browser renders anything.
  headless  the very same race (the page's own run spec and signal: same samplers, model, budget and
            seed) run by `demo.server.race.Race` with nobody watching.
  polled    (only with --kinds …,polled) the same race, and a thread of this process asks the live view
            for news as a page would (LiveView.poll every POLL_SECONDS): the server's drawing for a
            page without any browser, to tell its cost from Chromium's.

Overhead = ms per training step (viewed or api) / ms per step (headless) − 1, per sampler and overall.
One command, prints a markdown table (Linux: reads /proc for Chromium's CPU):

    python bench/app_overhead.py [--reps 3] [--tab image] [--device cpu] [--chromium /usr/bin/chromium]

Needs gradio, plotly and playwright (the app and test extras) and a Chromium binary.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from demo.server.race import Race  # noqa: E402
from demo.server.settings import show  # noqa: E402
from demo.ui.app import build_app, launch_in_background  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KINDS = ["viewed", "api", "headless"]
OPTIONAL_KINDS = ["polled"]
TICKS = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- Chromium's CPU time, from /proc


def descendants(root: int) -> list[int]:
    """Every live process below `root` in the process tree."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def chromium_cpu_seconds() -> dict[int, float]:
    """pid -> user + system CPU seconds of every Chromium process this script started."""
    out = {}
    for pid in descendants(os.getpid()):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
        except (OSError, ValueError):
            continue
        if "chrom" in name.lower() or "headless" in name.lower():
            out[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return out


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two readings (processes started in between count from zero)."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


# ---------------------------------------------------------------- the three kinds of race


class BudgetNotTaken(RuntimeError):
    """The page started a race with another budget than the one typed into it."""


def race_viewed_as_typed(browser, url: str, app, tab: str, timeout: float, wait: bool = True,
                         seconds: float | None = None, tries: int = 3) -> tuple[Race, dict]:
    """race_viewed, again (on a new page) when the page raced another budget than the one typed in
    (it happened once in 12 races: the typed value was lost)."""
    for _attempt in range(tries):
        try:
            return race_viewed(browser, url, app, tab, timeout, wait=wait, seconds=seconds)
        except BudgetNotTaken as e:
            print(f"  {e}; again", file=sys.stderr, flush=True)
    raise RuntimeError(f"the page did not take the {seconds} s budget in {tries} tries")


def race_viewed(browser, url: str, app, tab: str, timeout: float, wait: bool = True,
                seconds: float | None = None) -> tuple[Race, dict]:
    """One race in the browser with the tab's defaults. Returns the finished job and what was measured:
    wall seconds from Start to Done, Chromium's CPU seconds and the chart's redraws in that time.
    wait=False: stop the race at once (only to learn the run spec the page builds)."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.set_default_timeout(120_000)
    prefix = "" if tab == "image" else f"{tab}-"
    chart = f"{prefix}psnr-plot"
    try:
        page.goto(url)
        if prefix:
            page.get_by_role("tab", name=app.race_tabs[tab].tab.title).click()
        page.wait_for_selector(f"#{prefix}start")
        if seconds:  # a shorter (or longer) budget than the tab's default, typed in as a user would
            page.click(f"#{prefix}settings button")
            field = page.locator(f"#{prefix}seconds input[type=number]")
            field.fill(str(seconds))
            field.press("Tab")
            page.click(f"#{prefix}settings button")
        page.wait_for_timeout(2000)  # the page settles (plotly.js loaded, the preset shown)
        before_jobs = set(app.session_table.running())
        cpu0, t0 = chromium_cpu_seconds(), time.monotonic()
        page.click(f"#{prefix}start")
        job = None
        while job is None and time.monotonic() - t0 < 60:
            job = next(iter(set(app.session_table.running()) - before_jobs), None)
            time.sleep(0.05)
        if job is None:
            raise RuntimeError("the race did not start within 60 s")
        if seconds and job.config.seconds != seconds:  # the typed budget did not take: race again
            job.stop()
            job.wait()
            raise BudgetNotTaken(f"the page raced {job.config.seconds} s, not the {seconds} s typed in")
        if not wait:
            job.stop()
            job.wait()
            return job, {}
        # Poll the page once a second (the default polls every animation frame: a busy browser).
        page.wait_for_function(
            f"() => (document.querySelector('#{prefix}status-text')?.innerText ?? '').includes('Done')",
            polling=1000, timeout=timeout * 1000)
        wall = time.monotonic() - t0
        cpu = cpu_between(cpu0, chromium_cpu_seconds())
        updates = page.evaluate(f"() => (window.intStudio?.updates ?? {{}})['{chart}'] ?? 0")
        full = page.evaluate(f"() => (window.intStudio?.full ?? {{}})['{chart}'] ?? 0")
        status = page.inner_text(f"#{prefix}status-text")
        if job.error:
            raise RuntimeError(f"the race failed: {job.error}")
        return job, {"wall": wall, "chromium_cpu": cpu, "updates": updates, "full": full, "status": status}
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


def race_api(url: str, app, tab: str, race: Race, timeout: float) -> tuple[Race, dict]:
    """The same race through the streaming API (the same settings by their names), consumed by
    gradio_client in a separate process."""
    prefix = "" if tab == "image" else f"{tab}-"
    run = race.run
    preset = next(p for p in app.race_tabs[tab].presets if p.stem == race.signal.name)  # what the page raced
    budget = {"seconds": run.train.seconds} if run.train.seconds else {"steps": run.train.steps}
    params = {
        "api_name": f"/{prefix}compare", "picture": str(preset), "samplers": ",".join(run.names), **budget,
        "lr": run.train.lr, "width": run.model.width, "hidden_layers": run.model.hidden_layers,
        "first_w0": run.model.first_w0, "seed": run.train.seed, "eval_every": run.train.eval_every,
        **run.signal.options, "target": run.target or 0,
        "ratio": show([s.options.get("ratio") for s in run.samplers]),
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
    return job, {"wall": time.monotonic() - t0}


def race_headless(race: Race) -> tuple[Race, dict]:
    """The page's race with nobody watching: the same run spec and signal, and none of the page's
    listeners."""
    job = Race(race.run, race.signal)
    t0 = time.monotonic()
    job.start(on_exit=lambda _: None)
    job.wait()
    if job.error:
        raise RuntimeError(f"the race failed: {job.error}")
    return job, {"wall": time.monotonic() - t0}


def race_polled(app, tab: str, race: Race) -> tuple[Race, dict]:
    """The race with the live view's server side asked for news as a page would, no browser."""

    from demo.ui.live import POLL_SECONDS

    ct = app.race_tabs[tab]
    table = app.session_table
    key = table.key(f"polled-{time.monotonic_ns()}", tab)
    table.attach_page(key.split("/")[0])
    session = table.session(key)
    job = table.submit(key, Race(race.run, race.signal))
    started = json.loads(ct.live.started(session, job)[ct.live.view])
    token, after, polls = started["token"], started["seq"], 0
    t0 = time.monotonic()
    while not job.finished:
        asked = time.monotonic()
        answer = ct.live.poll({"token": token, "after": after})
        polls += 1
        if answer and answer != "stop":
            after = json.loads(answer)["seq"]
        time.sleep(max(0.05, POLL_SECONDS - (time.monotonic() - asked)))
    job.wait()
    wall = time.monotonic() - t0
    table.close(key)
    return job, {"wall": wall, "polls": polls}


def per_sampler(job: Race) -> dict[str, tuple[int, float]]:
    """method -> (steps, training seconds) at the end of the race."""
    return {m: (s["step"], s["train_seconds"]) for m, s in job.status()["samplers"].items()}


# ---------------------------------------------------------------- the report


def mean_sd(values: list[float]) -> str:
    if not values:
        return "not run"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {sd:.2f}"


def report(runs: dict[str, list[dict]], spec: Race, args, load: tuple[float, float]) -> str:
    budget = f"{spec.config.seconds:g} s" if spec.config.seconds else f"{spec.config.steps} steps"
    lines = [
        f"tab {args.tab}; signal {spec.signal.name} {tuple(spec.signal.shape)}; SIREN {spec.run.model.hidden_layers}×"
        f"{spec.run.model.width}; budget {budget} per sampler; eval every {spec.config.eval_every}; device {args.device};"
        f" torch {torch.__version__}, {torch.get_num_threads()} threads; {os.cpu_count()} logical cores "
        f"({platform.machine()}); load average {load[0]:.2f} at start, {load[1]:.2f} at end; "
        f"{args.reps} races of each kind",
        "",
        "| sampler | headless: ms per step | API only: ms per step, overhead | viewed in Chromium: ms per step, overhead |",
        "|---|---|---|---|",
    ]
    methods = list(runs["headless"][0]["samplers"])

    def ms(kind: str, m: str) -> list[float]:
        return [1000 * r["samplers"][m][1] / max(r["samplers"][m][0], 1) for r in runs[kind]]

    def total_ms(kind: str) -> list[float]:
        return [1000 * sum(t for _, t in r["samplers"].values()) / max(1, sum(n for n, _ in r["samplers"].values()))
                for r in runs[kind]]

    def cell(values: list[float], base: float) -> str:
        if not values:
            return "not run"
        return f"{mean_sd(values)}, {100 * (statistics.mean(values) / base - 1):+.1f} %"

    polled = bool(runs["polled"])
    if polled:  # the server's side of a page, without a browser
        lines[2] = lines[2] + " polled, no browser: ms per step, overhead |"
        lines[3] = lines[3] + "---|"
    for m in methods:
        h = statistics.mean(ms("headless", m))
        lines.append(f"| {m} | {mean_sd(ms('headless', m))} | {cell(ms('api', m), h)} | {cell(ms('viewed', m), h)} |"
                     + (f" {cell(ms('polled', m), h)} |" if polled else ""))
    h = statistics.mean(total_ms("headless"))
    lines.append(f"| **all steps** | {mean_sd(total_ms('headless'))} | {cell(total_ms('api'), h)} | "
                 f"{cell(total_ms('viewed'), h)} |" + (f" {cell(total_ms('polled'), h)} |" if polled else ""))
    viewed = runs["viewed"]
    if viewed:
        cores = [r["chromium_cpu"] / r["wall"] for r in viewed]
        hz = [r["updates"] / r["wall"] for r in viewed]
        lines += [
            "",
            "| viewed races | Chromium CPU (cores, mean over Start→Done) | chart redraws per second (counted in the page) "
            "| of which full plotly redraws | wall seconds Start→Done |",
            "|---|---|---|---|---|",
            f"| {len(viewed)} | {mean_sd(cores)} (target ≤ 0.15) | {mean_sd(hz)} (target ≥ 2) | "
            f"{mean_sd([100 * r['full'] / max(r['updates'], 1) for r in viewed])} % | "
            f"{mean_sd([r['wall'] for r in viewed])} |",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=3, help="races of each kind (default 3)")
    p.add_argument("--tab", default="image", choices=["image", "audio", "shape"])
    p.add_argument("--device", default="cpu")
    p.add_argument("--chromium", default=os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium")
    p.add_argument("--threads", type=int, default=None, help="torch threads for every kind (default: torch's)")
    p.add_argument("--kinds", default=",".join(KINDS),
                   help=f"which races, comma-separated (default {','.join(KINDS)}; headless is always run)")
    p.add_argument("--seconds", type=float, default=None,
                   help="training seconds per sampler (default: the tab's own default budget)")
    p.add_argument("--timeout", type=float, default=900, help="seconds one race may take (default 900)")
    args = p.parse_args(argv)
    kinds = [k for k in KINDS + OPTIONAL_KINDS if k in args.kinds.split(",") or k == "headless"]

    from playwright.sync_api import sync_playwright

    if args.threads:
        torch.set_num_threads(args.threads)
    workdir = Path(tempfile.mkdtemp(prefix="app-overhead-"))
    app = build_app(device=args.device, max_jobs=2, workdir=workdir)
    url = launch_in_background(app)
    runs: dict[str, list[dict]] = {k: [] for k in KINDS + OPTIONAL_KINDS}
    load_start = os.getloadavg()[0]
    spec = None
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            order: list[str] = []
            for rep in range(args.reps):
                order += kinds if rep % 2 == 0 else kinds[::-1]
            if order[0] != "viewed":  # learn the spec the page builds: the tab's first preset and defaults
                job, _ = race_viewed_as_typed(browser, url, app, args.tab, args.timeout, wait=False,
                                              seconds=args.seconds)
                spec = job
            for i, kind in enumerate(order):
                if kind == "viewed":
                    job, measured = race_viewed_as_typed(browser, url, app, args.tab, args.timeout,
                                                         seconds=args.seconds)
                    spec = spec or job
                elif kind == "api":
                    job, measured = race_api(url, app, args.tab, spec, args.timeout)
                elif kind == "polled":
                    job, measured = race_polled(app, args.tab, spec)
                else:
                    job, measured = race_headless(spec)
                measured["samplers"] = per_sampler(job)
                runs[kind].append(measured)
                extra = (f", Chromium {measured['chromium_cpu'] / measured['wall']:.3f} cores, "
                         f"{measured['updates'] / measured['wall']:.2f} chart redraws/s "
                         f"({measured['full']} of {measured['updates']} full)" if kind == "viewed" else "")
                print(f"race {i + 1}/{len(order)} {kind:<8} wall {measured['wall']:6.1f} s{extra}  "
                      + "  ".join(f"{m} {n} steps {t:.2f} s" for m, (n, t) in measured["samplers"].items()),
                      file=sys.stderr, flush=True)
                if kind == "viewed":  # what the page said at the end: who led at equal time, who reached the target
                    print("  page: " + " / ".join(measured["status"].splitlines()), file=sys.stderr, flush=True)
            browser.close()
    finally:
        app.close()
        app.session_table.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)
    print(report(runs, spec, args, (load_start, os.getloadavg()[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

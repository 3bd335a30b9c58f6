"""The app in a real browser: headless Chromium through Playwright, against the app launched in-process.

Skips only where no Chromium can be found, and never in CI (CI=true): there a missing browser fails.
Screenshots go to tests/artifacts/ (gitignored). With INT_STUDIO_DOCS_SCREENSHOT=1 the race runs with
the app's own defaults for longer and the screenshot is also written to docs/screenshot.png.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_HEARTBEAT_INTERVAL", "1")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
IN_CI = os.environ.get("CI", "").lower() == "true"
DOCS = os.environ.get("INT_STUDIO_DOCS_SCREENSHOT") == "1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Small and quick: a 48-px picture and a 2 × 32 SIREN; the docs screenshot keeps the app's defaults.
# Controls are found by the library's setting names (`#hidden-layers` is `hidden_layers`).
QUICK_SETTINGS = {"max-side": 48, "width": 32, "hidden-layers": 2, "eval-every": 5, "seconds": 120}

QUICK_OTHER = {"audio": {"max-seconds": 0.2, "width": 32, "hidden-layers": 2, "eval-every": 5, "seconds": 120},
               "shape": {"grid": 12, "width": 32, "hidden-layers": 2, "eval-every": 5, "seconds": 120}}

UI_TIMEOUT_MS = 90_000  # a click waits for the page's main thread, which a busy 2-core machine can starve

pytestmark = pytest.mark.browser


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def require(what: str, found: object) -> None:
    if not found:
        if IN_CI:
            pytest.fail(f"{what} is required in CI (CI=true) but was not found")
        pytest.skip(f"{what} not found: install Chromium (e.g. apt-get install chromium) to run the browser tests")


def open_app(browser, url: str, quick: bool = True, viewport=(1920, 1080), tab: str = "image"):
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(url)
    p = "" if tab == "image" else f"{tab}-"
    page.wait_for_selector("#start", timeout=60_000)
    if tab != "image":
        page.get_by_role("tab", name={"audio": "Audio", "shape": "3D shape"}[tab]).click()
    page.wait_for_selector(f"#{p}start", timeout=60_000)
    if tab == "image":
        page.wait_for_selector("#picture img", timeout=30_000)  # a preset is chosen on arrival
    if quick:
        page.click(f"#{p}settings button")  # open the Settings accordion
        settings = QUICK_SETTINGS if tab == "image" else QUICK_OTHER[tab]
        for elem_id, value in settings.items():
            field = page.locator(f"#{p}{elem_id} input[type=number]")
            field.fill(str(value))
            field.press("Tab")
        page.click(f"#{p}settings button")  # close it again
    return page


def chart_updates(page, chart: str = "psnr-plot") -> int:
    """How often the page redrew the race chart (a counter kept by the chart's own script)."""
    return page.evaluate(f"() => (window.intStudio?.updates ?? {{}})['{chart}'] ?? 0")


def plot_signature(page) -> str:
    """The drawn curves' SVG paths: they change whenever the chart gets new points."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#psnr-plot .scatterlayer path.js-line'))"
        ".map(p => p.getAttribute('d')).join('|')"
    )


def overlay_src(page, column: int) -> str | None:
    return page.evaluate(f"() => document.querySelector('#overlay-{column} img')?.getAttribute('src') ?? null")


def assert_in_view(page, selectors: list[str]) -> None:
    """Each element (every match of each selector) lies wholly inside the viewport, page scrolled to the top.
    The boxes are read in one go in the page (the live view replaces its table and pictures as it runs, so
    an element found first and measured later may be gone by then)."""
    page.evaluate("window.scrollTo(0, 0)")
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    for sel in selectors:
        boxes = page.evaluate("""(sel) => Array.from(document.querySelectorAll(sel)).map((e) => {
            const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })""", sel)
        assert boxes, f"{sel} is not on the page"
        for box in boxes:
            assert box["width"] > 0 and box["height"] > 0, f"{sel} is not shown: {box}"
            assert box["y"] >= 0 and box["y"] + box["height"] <= height + 0.5 \
                and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, \
                f"{sel} is not inside the {width}×{height} viewport: {box}"


def wait_until(page, condition, timeout: float = 60.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        page.wait_for_timeout(200)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"timed-out-{re.sub(r'[^a-z0-9]+', '-', what.lower()).strip('-')}.png"
    page.screenshot(path=str(shot), full_page=True)
    raise AssertionError(f"timed out waiting for {what} (page: {shot.relative_to(ROOT)})")


def test_start_shows_the_race_live_then_stop(browser, served, closing):
    app, url = served
    page = open_app(browser, url, quick=not DOCS)
    closing.append(page)
    page.click("#start")
    wait_until(page, lambda: page.locator("#psnr-plot .scatterlayer path.js-line").count() >= 3, 120,
               "three curves on the chart")
    chart_node = page.evaluate_handle("() => document.getElementById('psnr-plot')")
    plot_before, overlay_before, updates_before = plot_signature(page), overlay_src(page, 1), chart_updates(page)
    wait_until(page, lambda: plot_signature(page) != plot_before, 60, "the chart to change")
    wait_until(page, lambda: overlay_src(page, 1) not in (None, overlay_before), 60, "INT's overlay to change")
    wait_until(page, lambda: chart_updates(page) > updates_before + 1, 60, "the chart's own redraw counter to rise")
    # The chart is updated in place, never remounted: the same element holds it after the updates.
    assert page.evaluate("(node) => node === document.getElementById('psnr-plot')", chart_node)
    # A user's zoom (a drag across the plot, as with a mouse) survives the refreshes that follow it.
    ranges = "() => { const l = document.getElementById('psnr-plot')._fullLayout; return [l.xaxis.range, l.yaxis.range]; }"
    box, unzoomed = page.locator("#psnr-plot .nsewdrag").first.bounding_box(), page.evaluate(ranges)
    page.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.5 * box["height"], steps=5)
    page.mouse.move(box["x"] + 0.4 * box["width"], box["y"] + 0.7 * box["height"], steps=5)
    page.mouse.up()
    page.mouse.move(1, 1)  # off the chart
    zoomed, zoom = chart_updates(page), page.evaluate(ranges)
    wait_until(page, lambda: chart_updates(page) > zoomed + 2, 60, "more redraws after zooming")
    assert page.evaluate(ranges) == zoom, "the zoom was lost"
    assert zoom[0][1] - zoom[0][0] < 0.3 * (unzoomed[0][1] - unzoomed[0][0]), "the drag did not zoom"
    page.mouse.dblclick(box["x"] + 0.5 * box["width"], box["y"] + 0.5 * box["height"])  # unzoom, for the shots
    page.mouse.move(1, 1)
    assert page.locator("#recon-2 img").count() == 1, "full batch's reconstruction is missing"
    assert "Running" in page.inner_text("#status-text")
    # The status JSON on the page is the live one, not Start's (it showed step 0 until the race ended).
    page.click("#status-json summary")
    wait_until(page, lambda: all(r["step"] > 0 for r in json.loads(page.inner_text("#status"))["samplers"].values()),
               30, "the status JSON to show every column's progress")
    page.click("#status-json summary")
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "app-racing-1920x1080.png"))

    page.click("#pause")
    wait_until(page, lambda: page.inner_text("#pause").strip() == "Resume", 10, "Pause to become Resume")
    page.click("#pause")
    wait_until(page, lambda: page.inner_text("#pause").strip() == "Pause", 10, "Resume to become Pause")

    if DOCS:
        page.wait_for_timeout(150_000)  # let the race run a while for the README's picture
    page.click("#stop")
    # "Done" where the race finished its budget first (the longer docs run), else "Stopped".
    wait_until(page, lambda: any(w in page.inner_text("#status-text") for w in ("Stopped", "Done")), 30,
               "the status to say Stopped")
    assert "Link & files" in page.inner_text("#status-text")  # the end of a race says where its files are
    page.click("#files-tab-button")
    wait_until(page, lambda: page.locator("#downloads a").count() >= 4, 30, "the download links")
    assert app.session_table.running() == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "app-after-stop.png"), full_page=True)
    if DOCS:
        (ROOT / "docs").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "docs" / "screenshot.png"), full_page=True)


def synthetic_figure(points: int, target: float, title: str = "training seconds") -> dict:
    """A race chart as the live view sends it: three curves of `points` points each (rising to a plateau
    at 29 dB, which the fastest reaches in 13 points, so more points leave plotly's autorange as it was),
    the target line and the diamonds, on an x axis fixed to a 10-s budget."""
    from helpers import run_result

    from demo.drawing.chart import race_figure

    def run(method: str, rate: float):
        return run_result(method, [(0.2 * (i + 1), min(29.0, 30 - 15 * 0.8 ** (rate * (i + 1))))
                                   for i in range(points)], step_every=1)

    results = {"int": run("int", 1.0), "full": run("full", 0.5), "random": run("random", 0.3)}
    colors = {"int": "#e4572e", "full": "#2e86ab", "random": "#5b9c3a"}
    return race_figure(results, colors, "psnr", "dB", target, title, "u", height=290, x_end=10.0)


def test_chart_redraws_only_its_curves_when_only_points_move_and_looks_as_plotly_draws_it(browser, served, closing):
    """Between full plotly redraws the view redraws only the curves' paths and the diamonds (in plotly's
    own axis scales). What it draws must look like plotly's full redraw of the same figure, and anything
    more than moving points (a point above the autoranged y axis, a new layout) must get a full redraw."""
    import io
    import json

    import numpy as np
    from PIL import Image

    _, url = served
    page = open_app(browser, url, quick=False)
    closing.append(page)
    page.wait_for_function("() => window.Plotly && window.intStudio?.draw?.['psnr-plot']")
    counts = "() => [intStudio.full?.['psnr-plot'] ?? 0, intStudio.quick?.['psnr-plot'] ?? 0]"

    def draw(figure: dict) -> None:
        page.evaluate(f"() => intStudio.draw['psnr-plot']({json.dumps(figure)})")
        page.wait_for_timeout(300)  # plotly's promise settles

    def picture() -> np.ndarray:
        png = page.locator("#psnr-plot").screenshot()
        return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.int16)

    draw(synthetic_figure(20, 24.0))
    assert page.evaluate(counts) == [1, 0]
    before = picture()
    draw(synthetic_figure(35, 25.0))  # 15 more points each, the target and two diamonds move
    assert page.evaluate(counts) == [1, 1], "only points moved: the curves' paths alone should be redrawn"
    quick = picture()
    page.evaluate("() => document.getElementById('psnr-plot').dispatchEvent(new PointerEvent('pointerenter'))")
    page.wait_for_timeout(300)  # the pointer over the chart: a full redraw, so plotly's hover has every point
    page.evaluate("() => document.getElementById('psnr-plot').dispatchEvent(new PointerEvent('pointerleave'))")
    assert page.evaluate(counts) == [2, 1]
    full = picture()
    differs = lambda a, b: float(np.mean(np.abs(a - b) > 60))  # noqa: E731
    assert differs(before, quick) > 0.002, "the quick redraw did not change the chart"
    assert differs(quick, full) < 0.0005, f"the quick redraw differs from plotly's own: {differs(quick, full):.4f}"

    above = synthetic_figure(36, 25.0)
    above["data"][0]["y"][-1] = 45.0  # above the autoranged y axis
    draw(above)
    assert page.evaluate(counts) == [3, 1]
    assert page.evaluate("() => document.getElementById('psnr-plot')._fullLayout.yaxis.range[1]") > 45
    draw(synthetic_figure(37, 25.0, title="steps"))  # another layout (the x axis's title)
    assert page.evaluate(counts) == [4, 1]


def test_an_idle_page_does_not_animate_at_60_frames_a_second(browser, served, closing):
    """Gradio's status tracker runs a 60 fps animation loop from page load on (demo.page_head): the app's
    page-head script slows it to 4 Hz, so an idle page asks for far fewer than 60 frames a second."""
    _, url = served
    page = browser.new_page()
    closing.append(page)
    page.add_init_script("window.__frames = 0; const f = window.requestAnimationFrame.bind(window);"
                         "window.requestAnimationFrame = (cb) => { window.__frames++; return f(cb); };")
    page.goto(url)
    page.wait_for_selector("#start", timeout=60_000)
    assert page.evaluate("() => window.intStudioQuietTracker") is True
    # Svelte's own transitions after page load settle within seconds; the tracker's loop never does.
    rates = []
    for _ in range(15):
        page.evaluate("() => { window.__frames = 0; }")
        page.wait_for_timeout(2000)
        rates.append(page.evaluate("() => window.__frames") / 2)
        if rates[-1] < 30:
            break
    assert rates[-1] < 30, f"an idle page kept asking for animation frames: {rates} a second"


def test_corrupt_upload_warns_and_the_page_keeps_working(browser, served, tmp_path, closing):
    _, url = served
    page = open_app(browser, url)
    closing.append(page)
    bad = tmp_path / "holiday.png"
    bad.write_text("not a picture at all\n")
    with page.expect_file_chooser() as chooser:
        page.click("#upload")
    chooser.value.set_files(str(bad))
    page.wait_for_selector(".toast-body", timeout=30_000)
    assert "Cannot use this file" in page.inner_text(".toast-body")
    wait_until(page, lambda: "could not be read" in page.inner_text("#notice"), 10, "the notice")
    page.click("#start")
    wait_until(page, lambda: "Running" in page.inner_text("#status-text"), 60, "the race to start")
    wait_until(page, lambda: page.locator("#psnr-plot .scatterlayer path.js-line").count() >= 3, 60, "curves")
    page.click("#stop")
    wait_until(page, lambda: "Stopped" in page.inner_text("#status-text"), 30, "Stopped")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "app-after-bad-upload.png"), full_page=True)


def test_two_sessions_progress_and_closing_one_stops_its_job(browser, served, closing):
    app, url = served
    one, two = browser.new_context(), browser.new_context()
    closing.extend([one, two])
    pages = []
    for ctx in (one, two):
        page = ctx.new_page()
        page.set_viewport_size({"width": 1500, "height": 1150})
        page.set_default_timeout(UI_TIMEOUT_MS)
        pages.append(page)
    for page in pages:
        page.goto(url)
        page.wait_for_selector("#picture img", timeout=60_000)
        page.click("#settings button")
        for elem_id, value in QUICK_SETTINGS.items():
            page.locator(f"#{elem_id} input[type=number]").fill(str(value))
            page.locator(f"#{elem_id} input[type=number]").press("Tab")
        page.click("#start")
    for page in pages:
        wait_until(page, lambda: page.locator("#psnr-plot .scatterlayer path.js-line").count() >= 3, 120, "curves")
    wait_until(pages[0], lambda: len(app.session_table.running()) == 2, 10, "two running jobs")
    threads = {job.thread for job in app.session_table.running()}
    one.close()  # closing the tab: the heartbeat ends and the app's unload handler stops that job
    wait_until(pages[1], lambda: sum(t.is_alive() for t in threads) == 1, 30, "the closed session's job to stop")
    before = plot_signature(pages[1])
    wait_until(pages[1], lambda: plot_signature(pages[1]) != before, 30, "the other session to keep going")
    pages[1].click("#stop")
    wait_until(pages[1], lambda: not any(t.is_alive() for t in threads), 30, "both jobs to end")


@pytest.mark.parametrize("tab", ["shape", "audio"])
def test_other_tabs_race_and_3d_views_keep_their_pictures(browser, served, closing, tab):
    """The audio and 3D tabs race in the page; the 3D columns are pictures, so no WebGL context is lost."""
    _, url = served
    page = open_app(browser, url, tab=tab)
    closing.append(page)
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    p = f"{tab}-"
    page.click(f"#{p}start")
    wait_until(page, lambda: page.locator(f"#{p}psnr-plot .scatterlayer path.js-line").count() >= 3, 120, "curves")
    for column in (1, 2, 3):
        wait_until(page, lambda: page.locator(f"#{p}recon-{column} img").count() == 1, 60, f"reconstruction {column}")
    before = chart_updates(page, f"{p}psnr-plot")
    wait_until(page, lambda: chart_updates(page, f"{p}psnr-plot") > before + 2, 60, "more chart updates")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"app-{tab}-racing-1920x1080.png"))
    for size in ((1366, 768), (1920, 1080)):  # the columns' pictures, the chart and the table, without scrolling
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / f"app-{tab}-racing-{size[0]}x{size[1]}.png"))
        assert_in_view(page, [f"#{p}head-1", f"#{p}race .panel img", f"#{p}psnr-plot .main-svg", f"#{p}table table"])
    page.click(f"#{p}stop")
    wait_until(page, lambda: "Stopped" in page.inner_text(f"#{p}status-text"), 30, "Stopped")
    lost = [m for m in console if "Too many active WebGL contexts" in m or "context lost" in m.lower()]
    assert not lost, lost

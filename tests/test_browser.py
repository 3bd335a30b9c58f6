"""The app in a real browser: headless Chromium through Playwright, against the app launched in-process.

Skips only where no Chromium can be found, and never in CI (CI=true): there a missing browser fails.
Screenshots go to tests/artifacts/ (gitignored). With INT_STUDIO_DOCS_SCREENSHOT=1 the race runs with
the app's own defaults for longer and the screenshot is also written to docs/screenshot.png.
"""
from __future__ import annotations

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
QUICK_SETTINGS = {"size": 48, "width": 32, "depth": 2, "eval-every": 5, "amount": 5000}

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


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    require("the playwright package", sync_playwright)
    chromium = find_chromium()
    require("Chromium", chromium)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def closing():
    """Pages and browser contexts a test opens; closed afterwards even when it fails, so their races
    stop (the app's unload handler) and do not hold the shared app's job slots for the next test."""
    opened: list = []
    yield opened
    for thing in reversed(opened):
        try:
            thing.close()
        except Exception:
            pass


def open_app(browser, url: str, quick: bool = True):
    page = browser.new_page(viewport={"width": 1500, "height": 1150})
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector("#start", timeout=60_000)
    page.wait_for_selector("#picture img", timeout=30_000)  # a preset is chosen on arrival
    if quick:
        page.click("#settings button")  # open the Settings accordion
        for elem_id, value in QUICK_SETTINGS.items():
            field = page.locator(f"#{elem_id} input[type=number]")
            field.fill(str(value))
            field.press("Tab")
    return page


def plot_signature(page) -> str:
    """The drawn curves' SVG paths: they change whenever the chart gets new points."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('#psnr-plot .scatterlayer path.js-line'))"
        ".map(p => p.getAttribute('d')).join('|')"
    )


def overlay_src(page, column: int) -> str | None:
    return page.evaluate(f"() => document.querySelector('#overlay-{column} img')?.getAttribute('src') ?? null")


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
    plot_before, overlay_before = plot_signature(page), overlay_src(page, 1)
    wait_until(page, lambda: plot_signature(page) != plot_before, 60, "the chart to change")
    wait_until(page, lambda: overlay_src(page, 1) not in (None, overlay_before), 60, "INT's overlay to change")
    assert page.locator("#recon-2 img").count() == 1, "full batch's reconstruction is missing"
    assert "Running" in page.inner_text("#status-text")

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
    wait_until(page, lambda: page.locator("#downloads a").count() >= 4, 30, "the download links")
    assert app.session_table.running() == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "app-after-stop.png"), full_page=True)
    if DOCS:
        (ROOT / "docs").mkdir(exist_ok=True)
        page.screenshot(path=str(ROOT / "docs" / "screenshot.png"), full_page=True)


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

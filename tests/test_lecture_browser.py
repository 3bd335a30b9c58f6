"""Lecture mode in a real browser: a link restores a setup, Step advances every column by exactly one
step, a click shows the kernel view, Copy link gives a link that restores the same setup.

Headless Chromium through Playwright, against the app launched in-process (the `served` fixture).
With INT_STUDIO_LECTURE_SCREENSHOTS=1 the screenshots are also written to docs/ (docs/lecture.md uses them).
"""
from __future__ import annotations

import os
import re
from urllib.parse import parse_qs, urlparse

import pytest
from test_browser import ARTIFACTS, ROOT, UI_TIMEOUT_MS, assert_in_view, wait_until

pytestmark = pytest.mark.browser

DOCS = os.environ.get("INT_STUDIO_LECTURE_SCREENSHOTS") == "1"
# Small and quick (a 48-px cameraman, 2 × 32 SIREN), a long budget so that the race is still going when
# the test pauses it, and one invalid value (lr) that must come back as its default with a notice.
QUERY = ("tab=image&preset=camera&samplers=int,full,random&ratio=0.3&seed=3&seconds=300&max_side=48&width=32"
         "&hidden_layers=2&eval_every=5&lr=-1")
# The docs' pictures: the CPU defaults (128 px, 4 × 128 SIREN), paused after INT's 150th step.
DOCS_QUERY = "tab=image&preset=camera&samplers=int,full,random&ratio=0.2&seed=0&seconds=300&eval_every=10&lr=-1"
WARM_STEPS = 150 if DOCS else 10


def shoot(page, name: str, selector: str | None = None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target = page.locator(selector).first if selector else page
    target.screenshot(path=str(ARTIFACTS / name))
    if DOCS:
        target.screenshot(path=str(ROOT / "docs" / name))


def number(page, elem_id: str) -> float:
    return float(page.locator(f"#{elem_id} input[type=number]").first.input_value())


def table_steps(page) -> dict[str, int]:
    """Each column's step count as the live table shows it."""
    rows = page.evaluate("""() => Array.from(document.querySelectorAll('#table tbody tr'))
        .map(row => Array.from(row.querySelectorAll('td')).map(cell => cell.innerText.trim()))""")
    return {r[0]: int(r[1]) for r in rows if len(r) > 1 and r[1].isdigit()}


def stepped(page) -> dict[str, tuple[int, int]]:
    """The step caption's "Steps: int 160 → 161, full ..." as {column: (before, after)}."""
    if page.locator("#step-caption").count() == 0:  # the side panel's Step tab is not shown yet
        return {}
    text = page.inner_text("#step-caption").split("Steps:")[-1]
    return {m: (int(a), int(b)) for m, a, b in re.findall(r"([\w-]+) (\d+) → (\d+)", text)}


def open_link(browser, url: str):
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector("#start", timeout=60_000)
    wait_until(page, lambda: "restored from the link" in page.inner_text("#link-notice"), 60, "the link's settings")
    return page


def test_a_link_step_mode_the_kernel_view_and_copy_link(browser, served, closing):
    app, base = served
    page = open_link(browser, base + "?" + (DOCS_QUERY if DOCS else QUERY))
    closing.append(page)
    notice = page.inner_text("#link-notice")
    assert "lr=" in notice and "default" in notice  # the invalid value is named, its default used
    page.click("#settings button")
    if not DOCS:
        assert number(page, "ratio-1") == pytest.approx(0.3) and number(page, "seed") == 3
        assert number(page, "ratio-3") == pytest.approx(0.3)  # one ratio in a link: every column that takes one
        assert number(page, "max-side") == 48 and number(page, "width") == 32 and number(page, "hidden-layers") == 2
    assert number(page, "seconds") == 300 and number(page, "lr") == pytest.approx(5e-4)
    page.click("#settings button")
    shoot(page, "lecture-link-opened.png")

    page.keyboard.press("Space")  # Space starts the race ...
    wait_until(page, lambda: "Running" in page.inner_text("#status-text"), 60, "the race to start")
    wait_until(page, lambda: len(table_steps(page)) == 3 and min(table_steps(page).values()) >= WARM_STEPS, 300,
               "every column to train a little")
    assert list(table_steps(page)) == ["int", "full", "random"]  # the link's samplers, one per column
    page.keyboard.press("Space")  # ... and pauses it
    wait_until(page, lambda: page.inner_text("#pause").strip() == "Resume", 30, "Pause to become Resume")

    before: dict[str, int] = {}
    for click in range(1, 4):
        previous = stepped(page)
        page.keyboard.press("ArrowRight") if click == 2 else page.click("#step")  # the → key is Step too
        wait_until(page, lambda: stepped(page) not in ({}, previous), 120, f"step {click} to be explained")
        moved = stepped(page)
        assert set(moved) == {"int", "full", "random"} and all(b == a + 1 for a, b in moved.values()), \
            page.inner_text("#step-caption")
        if click == 1:
            before = {m: a for m, (a, _) in moved.items()}  # where the pause left each column
        wait_until(page, lambda: table_steps(page) == {m: s + click for m, s in before.items()}, 60,
                   f"every column to advance by exactly {click}")
    page.wait_for_timeout(2000)
    assert table_steps(page) == {m: s + 3 for m, s in before.items()}  # and not one more
    t = before["int"] + 2
    assert f"step t = {t} → {t + 1}" in page.inner_text("#algorithm")
    assert page.locator("#algorithm li.current").count() == 1
    assert page.locator("#step-change img").count() == 1 and page.locator("#step-predicted img").count() == 1
    cosine = float(re.search(r"cosine similarity ([0-9.]+)", page.inner_text("#step-caption")).group(1))
    assert cosine > 0.9  # one small Adam step is close to the kernel's linear prediction
    for width, height in ((1366, 768), (1920, 1080)):  # Step and its pictures sit beside the race
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(400)
        assert_in_view(page, ["#step", "#step-view", "#race .panel img", "#psnr-plot .main-svg"])
        shoot(page, f"lecture-step-beside-the-race-{width}x{height}.png")
    page.set_viewport_size({"width": 1600, "height": 1000})
    shoot(page, "lecture-step.png", "#step-view")
    shoot(page, "lecture-algorithm.png", "#algorithm")

    page.locator("#overlay-1 img").click()  # the middle of INT's overlay
    wait_until(page, lambda: "one update at x₀ moves these points this much" in page.inner_text("#kernel-caption"),
               60, "the kernel view")
    assert page.locator("#kernel-now img").count() == 1 and page.locator("#kernel-init img").count() == 1
    assert "int, pixel" in page.inner_text("#kernel-caption")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.wait_for_timeout(400)
    assert_in_view(page, ["#kernel-now img", "#kernel-init img"])  # the kernel view too, without scrolling
    page.set_viewport_size({"width": 1600, "height": 1000})
    shoot(page, "lecture-kernel.png", "#kernel-view")
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "lecture-paused.png")
    page.keyboard.press("p")  # presentation view: the race only, bigger type
    wait_until(page, lambda: not page.locator("#side").is_visible(), 10, "the presentation view")
    assert page.locator("#psnr-plot").is_visible() and page.locator("#overlay-1").is_visible()
    shoot(page, "lecture-presenting.png")
    page.keyboard.press("Escape")
    wait_until(page, lambda: page.locator("#side").is_visible(), 10, "the normal view")

    page.click("#files-tab-button")
    page.click("#race-gif")
    wait_until(page, lambda: page.locator("#lecture-exports a").count() == 1, 60, "the race GIF")
    assert ".gif" in page.locator("#lecture-exports a").first.get_attribute("href")

    # a page opened from a link shows that link (as restored) before anyone presses Copy link
    opened = page.locator("#link textarea, #link input").first.input_value()
    assert opened.startswith("http") and "seed=3" in opened or DOCS, opened
    page.click("#copy-link")
    wait_until(page, lambda: "?" in page.locator("#link textarea, #link input").first.input_value(), 30, "the link")
    link = page.locator("#link textarea, #link input").first.input_value()
    fields = {k: v[0] for k, v in parse_qs(urlparse(link).query).items()}
    assert fields["preset"] == "camera" and fields["samplers"] == "int,full,random"
    assert fields.get("ratio", "0.2,,0.2") == ("0.2,,0.2" if DOCS else "0.3,,0.3")
    assert (fields["seed"], fields["max_side"]) == (("0", "128") if DOCS else ("3", "48"))
    assert fields["seconds"] == "300" and fields["lr"] == "0.0005"

    again = open_link(browser, link)
    closing.append(again)
    assert "not valid" not in again.inner_text("#link-notice")
    again.click("#settings button")
    for elem_id in ("ratio-1", "ratio-3", "seed", "max-side", "width", "hidden-layers", "seconds", "lr", "eval-every",
                    "first-w0"):
        assert number(again, elem_id) == pytest.approx(number(page, elem_id)), elem_id
    page.click("#stop")

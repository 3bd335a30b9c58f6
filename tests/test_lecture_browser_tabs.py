"""Lecture mode on the audio and shape tabs in a real browser: a link opens its tab with its settings,
Space starts and pauses the race of the tab shown, Step advances every column by exactly one step (three
times), and a click on a column's picture opens the kernel view (on the shape tab, then a click on the
cross-section moves x₀). Screenshots at 1366×768 and 1920×1080 go to tests/artifacts/ (and to docs/ with
INT_STUDIO_LECTURE_SCREENSHOTS=1, which also uses the tabs' default working sizes and networks).
"""
from __future__ import annotations

import re

import pytest
from test_browser import UI_TIMEOUT_MS, assert_in_view, wait_until

pytestmark = pytest.mark.browser

from test_lecture_browser import DOCS, shoot  # noqa: E402 (the same screenshots switch and helper)

SMALL = "&width=32&hidden_layers=2"
# One invalid value per link (seed) must come back as its default with a notice.
QUERIES = {
    "audio": "tab=audio&preset=melody&samplers=int,full,random&ratio=0.3&seconds=300&eval_every=5&seed=-4"
             + ("" if DOCS else "&max_seconds=0.25" + SMALL),
    # target=0: no target, so no column stops at IoU 1 (the shape tab's default target) before it is paused
    "shape": "tab=shape&preset=mug&samplers=int,full,random&ratio=0.3&seconds=300&eval_every=5&seed=-4&target=0"
             + ("" if DOCS else "&grid=16" + SMALL),
}
WARM_STEPS = 100 if DOCS else 10
SIZES = ((1366, 768), (1920, 1080))


def table_steps(page, p: str) -> dict[str, int]:
    rows = page.evaluate(f"""() => Array.from(document.querySelectorAll('#{p}table tbody tr'))
        .map(row => Array.from(row.querySelectorAll('td')).map(cell => cell.innerText.trim()))""")
    return {r[0]: int(r[1]) for r in rows if len(r) > 1 and r[1].isdigit()}


def stepped(page, p: str) -> dict[str, tuple[int, int]]:
    if page.locator(f"#{p}step-caption").count() == 0:  # the side panel's Step tab is not shown yet
        return {}
    text = page.inner_text(f"#{p}step-caption").split("Steps:")[-1]
    return {m: (int(a), int(b)) for m, a, b in re.findall(r"([\w-]+) (\d+) → (\d+)", text)}


@pytest.mark.parametrize("tab", ["audio", "shape"])
def test_a_link_opens_the_tab_and_step_mode_and_the_kernel_view_work_there(browser, served, closing, tab):
    app, base = served
    p = f"{tab}-"
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    closing.append(page)
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.goto(base + "?" + QUERIES[tab])
    wait_until(page, lambda: "restored from the link" in page.inner_text(f"#{p}link-notice"), 90, "the link's settings")
    assert page.locator(f"#{p}start").is_visible() and not page.locator("#start").is_visible()  # the link's tab
    notice = page.inner_text(f"#{p}link-notice")
    assert "seed=" in notice and "default" in notice
    assert page.inner_text("#link-notice").strip() == ""  # the image tab stays quiet about another tab's link

    page.keyboard.press("Space")  # Space starts the race of the tab shown ...
    wait_until(page, lambda: "Running" in page.inner_text(f"#{p}status-text"), 60, "the race to start")
    wait_until(page, lambda: len(table_steps(page, p)) == 3 and min(table_steps(page, p).values()) >= WARM_STEPS,
               300, "every column to train a little")
    assert list(table_steps(page, p)) == ["int", "full", "random"]
    page.keyboard.press("Space")  # ... and pauses it
    wait_until(page, lambda: page.inner_text(f"#{p}pause").strip() == "Resume", 30, "Pause to become Resume")

    before: dict[str, int] = {}
    for click in range(1, 4):
        previous = stepped(page, p)
        page.keyboard.press("ArrowRight") if click == 2 else page.click(f"#{p}step")
        wait_until(page, lambda: stepped(page, p) not in ({}, previous), 120, f"step {click} to be explained")
        moved = stepped(page, p)
        assert set(moved) == {"int", "full", "random"} and all(b == a + 1 for a, b in moved.values()), \
            page.inner_text(f"#{p}step-caption")
        if click == 1:
            before = {m: a for m, (a, _) in moved.items()}
    wait_until(page, lambda: table_steps(page, p) == {m: s + 3 for m, s in before.items()}, 60,
               "every column to advance by exactly 3")
    page.wait_for_timeout(1500)
    assert table_steps(page, p) == {m: s + 3 for m, s in before.items()}  # and not one more
    t = before["int"] + 2
    assert f"step t = {t} → {t + 1}" in page.inner_text(f"#{p}algorithm")
    assert page.locator(f"#{p}algorithm li.current").count() == 1
    for elem in ("step-error", "step-change", "step-predicted"):
        assert page.locator(f"#{p}{elem} img").count() == 1, elem
    assert re.search(r"cosine similarity -?[0-9.]+", page.inner_text(f"#{p}step-caption"))
    # Algorithm 1 looks the same on every tab (its styles once styled the image tab's panel only)
    current = page.evaluate(f"() => getComputedStyle(document.querySelector('#{p}algorithm li.current')).backgroundColor")
    assert current == "rgb(255, 243, 176)", current

    page.locator(f"#{p}overlay-1 img").click()  # the middle of INT's first picture
    caption = f"#{p}kernel-caption"
    wait_until(page, lambda: "one update at x₀ moves these points this much" in page.inner_text(caption), 90,
               "the kernel view")
    assert page.locator(f"#{p}kernel-now img").count() == 1 and page.locator(f"#{p}kernel-init img").count() == 1
    first = page.inner_text(caption)
    assert ("time t₀" if tab == "audio" else "grid point") in first and first.startswith("int,")
    if tab == "shape":  # a click on the cross-section moves x₀
        img = page.locator(f"#{p}kernel-now img")
        box = img.bounding_box()
        img.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.6})
        wait_until(page, lambda: page.inner_text(caption) != first, 90, "the kernel view at the clicked point")
        assert "grid point" in page.inner_text(caption)

    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(500)
        assert_in_view(page, [f"#{p}step", f"#{p}step-view", f"#{p}race .panel img", f"#{p}psnr-plot .main-svg"])
        shoot(page, f"lecture-{tab}-{width}x{height}.png")
    shoot(page, f"lecture-{tab}-step.png", f"#{p}step-view")
    shoot(page, f"lecture-{tab}-kernel.png", f"#{p}kernel-view")

    page.click(f"#{p}files-tab-button")
    page.click(f"#{p}race-gif")
    wait_until(page, lambda: page.locator(f"#{p}lecture-exports a").count() == 1, 60, "the race GIF")
    assert ".gif" in page.locator(f"#{p}lecture-exports a").first.get_attribute("href")
    page.click(f"#{p}copy-link")
    wait_until(page, lambda: "tab=" + tab in page.locator(f"#{p}link textarea, #{p}link input").first.input_value(),
               30, "the link")
    page.click(f"#{p}stop")

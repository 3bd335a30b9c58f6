"""Shared fixtures: small real signals made on the fly (tests never read data from outside the repo)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"

torch.set_num_threads(max(1, min(2, torch.get_num_threads())))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app launched on a free local port, one per test module (fresh sessions): (app, url)."""
    from demo.ui.app import build_app, launch_in_background

    app = build_app(device="cpu", max_jobs=2, workdir=tmp_path_factory.mktemp("sessions"))
    url = launch_in_background(app)
    yield app, url
    app.close()
    app.session_table.shutdown()


@pytest.fixture
def rgb_png(tmp_path: Path) -> Path:
    """A 48×32 RGB PNG with edges and smooth regions."""
    y, x = np.mgrid[0:32, 0:48]
    img = np.stack([(x * 5) % 256, (y * 8) % 256, ((x // 8 + y // 8) % 2) * 255], axis=-1).astype(np.uint8)
    path = tmp_path / "pattern.png"
    Image.fromarray(img).save(path)
    return path


@pytest.fixture
def preset_image() -> Path:
    return ASSETS / "images" / "kodim23.png"


# ---------------------------------------------------------------- the browser tests' own fixtures


@pytest.fixture(scope="module")
def browser():
    from test_browser import CHROMIUM_ARGS, find_chromium, require

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

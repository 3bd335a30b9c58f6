"""What several test files share: Gradio set up for tests (or the module skipped), a client for a served
app, waiting for a condition, a tiny race on the first preset, a finished run's curve from (seconds,
quality) points, and a fixed error vector for samplers."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRESET = ROOT / "assets" / "images" / "camera.png"
PREFIX = {"image": "", "audio": "audio-", "shape": "shape-"}
"""how each tab's API names begin (compare, audio-compare, shape-compare)"""


def need_gradio(*more: str) -> tuple[ModuleType, ...]:
    """(gradio, gradio_client, *more) imported, or the calling test module skipped. Gradio is set for tests
    first: no analytics, and a 1-s heartbeat so that a closed page is noticed soon."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("GRADIO_HEARTBEAT_INTERVAL", "1")
    return tuple(pytest.importorskip(name) for name in ("gradio", "gradio_client", *more))


def client_for(url: str, auth: tuple[str, str] | None = None) -> Any:
    """A gradio_client for the app at `url` (logging in with `auth`) that leaves files on the server."""
    import gradio_client

    return gradio_client.Client(url, verbose=False, download_files=False, auth=auth)


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, every: float = 0.1) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; whether it holds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())


def tiny_race(steps: int = 30, seed: int = 0, max_side: int = 16, samplers: tuple[str, ...] = ("int", "full"),
              path: Path = PRESET, device: str = "cpu", **settings: Any) -> Any:
    """A Race of INT against full batch on the preset at `max_side` px with a 1 × 8 SIREN on CPU: a few
    seconds at most on a 2-core machine. `settings`: more of the library's settings by name."""
    from demo.server.race import Race
    from intcore.spec import make_spec

    options = {"max_side": max_side} if path.suffix == ".png" else {}
    run = make_spec(path, device=device, samplers=list(samplers), steps=steps, lr=1e-3, eval_every=5, seed=seed,
                    width=8, hidden_layers=1, **{**options, **settings})
    return Race(run, run.load_signal())


def run_result(method: str, points: list[tuple[float, float]], step_every: int = 10, finished: bool = True) -> Any:
    """A RunResult whose curve has one evaluation per (training seconds, quality) point, every
    `step_every` steps, with the running best as each snapshot's best quality (PSNR, ratio 0.2); its last
    snapshot used the whole budget (progress 1) unless `finished` is False (a run stopped early)."""
    from intcore.runs import RunResult
    from intcore.trainer import Snapshot

    best, curve = -float("inf"), []
    for i, (seconds, quality) in enumerate(points):
        best = max(best, quality)
        last = i == len(points) - 1
        curve.append(Snapshot(method, step_every * (i + 1), seconds, 0.0, quality, best, "psnr", 0.2,
                              1.0 if last and finished else 0.0))
    return RunResult(method=method, description=method, curve=curve)


class Scorer:
    """Hands out a fixed error vector (a sampler's teacher) and counts how often it was asked."""

    def __init__(self, errors: Any) -> None:
        self.errors = errors
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        return self.errors

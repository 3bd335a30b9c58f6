"""The soak test, short: three simulated users race random presets and settings through the app's API for
20 seconds (pressing Pause, Stop and Reset, leaving mid-race) against a server with two job slots; every
update must be the user's own with rising steps and sane queue positions, and the server's threads, open
files and temp bytes must return to their baseline. bench/soak.py runs the long version (5 users, 10 min).

It runs about a minute (the server's start, one warm-up race, 20 s of racing, the settling) and stops by
itself: every loop in the soak is bounded in time.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bench.soak_server import IDLE_ANYIO, thread_names, threads_left_over

pytest.importorskip("gradio")
pytest.importorskip("gradio_client")
pytest.importorskip("soundfile")
pytest.importorskip("trimesh")
anyio = pytest.importorskip("anyio")

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="samples the server through /proc")
def test_short_soak_passes_every_check(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--sessions", "3", "--seconds", "20",
                        "--max-jobs", "2", "--in-process", "--json", str(tmp_path / "soak.json")],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    result = json.loads((tmp_path / "soak.json").read_text()) if (tmp_path / "soak.json").exists() else None
    assert result is not None, r.stdout[-3000:] + r.stderr[-3000:]
    assert result["races"] >= 3 and result["updates"] > 0
    failed = [name for name, ok in result["checks"].items() if not ok]
    assert not failed, (failed, result["problems"], result["baseline"], result["final"], result["thread_names"])
    assert r.returncode == 0


def test_an_idle_anyio_worker_is_told_from_one_busy_in_a_handler():
    inside, release = threading.Event(), threading.Event()

    def handler() -> None:
        inside.set()
        release.wait(30)

    async def serve() -> tuple[list[str], list[str]]:
        await anyio.to_thread.run_sync(lambda: None)  # one worker, soon back in its queue waiting for work
        idle = thread_names()
        for _ in range(500):  # it hands back the result first, then returns to its queue
            if IDLE_ANYIO in idle:
                break
            await anyio.sleep(0.01)
            idle = thread_names()
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.to_thread.run_sync, handler)  # the same worker, now busy
            while not inside.is_set():
                await anyio.sleep(0.01)
            busy = thread_names()
            release.set()
        return idle, busy

    idle, busy = anyio.run(serve)
    assert idle.count(IDLE_ANYIO) == 1 and "AnyIO worker thread" not in idle
    assert busy.count("AnyIO worker thread") == 1 and IDLE_ANYIO not in busy
    assert "MainThread" in idle and len(idle) >= len(threading.enumerate())


def test_left_over_threads_are_named_and_idle_pool_workers_are_not_counted():
    baseline = ["MainThread", "Thread-1 (run)", "int-session-sweep", IDLE_ANYIO, "native:python"]
    assert threads_left_over(baseline, baseline + [IDLE_ANYIO]) == []  # the pool kept one more idle worker
    assert threads_left_over(baseline, [n for n in baseline if n != IDLE_ANYIO]) == []
    assert threads_left_over(baseline, baseline + ["AnyIO worker thread"]) == ["AnyIO worker thread"]  # stuck handler
    assert threads_left_over(baseline, baseline + ["int-job-1a2b3c4d"]) == ["int-job-1a2b3c4d"]
    assert threads_left_over(baseline, baseline + ["native:python"]) == ["native:python"]

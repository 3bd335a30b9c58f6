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
from pathlib import Path

import pytest

pytest.importorskip("gradio")
pytest.importorskip("gradio_client")
pytest.importorskip("soundfile")
pytest.importorskip("trimesh")

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
    assert not failed, (failed, result["problems"], result["baseline"], result["final"], result["python_threads"])
    assert r.returncode == 0

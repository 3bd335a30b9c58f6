"""`pip install .` gives a library with its presets and both commands, outside the checkout."""
from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=\[ ;]", r.strip(), maxsplit=1)[0].lower() for r in requirements if r.strip()}


def test_requirements_txt_installs_what_pyproject_declares_for_the_app():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    declared = _names(project["dependencies"] + extras["audio"] + extras["shape"] + extras["app"])
    declared = {d for d in declared if d != "int-studio"}
    lines = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert declared <= _names(lines), declared - _names(lines)


@pytest.mark.slow
def test_the_wheel_ships_presets_and_console_scripts(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", str(ROOT),
                            "-w", str(tmp_path)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("int_studio-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    shipped = {p.relative_to(ROOT / "assets").as_posix() for p in (ROOT / "assets").rglob("*")
               if p.is_file() and p.parent.name in ("images", "audio", "shapes")}
    assert shipped and {f"int_studio_assets/{s}" for s in shipped} <= names
    assert "intcore/cli/__init__.py" in names and "int_studio_app/ui/app.py" in names
    assert {f"int_studio_app/static/{p.name}" for p in (ROOT / "demo" / "static").iterdir()} <= names
    assert not [n for n in names if n.split("/")[0] == "demo"], "the wheel claims the generic top-level name demo"
    assert "intcore = intcore.cli:main" in entry_points and "int-studio = int_studio_app.__main__:main" in entry_points
    # installed outside the checkout, the app's package imports and finds its own front-end files
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    probe = subprocess.run([sys.executable, "-c", "from int_studio_app.ui import assets, app; "
                            "print(all((assets.STATIC / n).exists() for n in (*assets.SCRIPTS, 'app.css')))"],
                           capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": ""},
                           timeout=300)
    assert probe.stdout.strip() == "True", probe.stderr[-2000:]


def test_the_ray_extra_pins_what_requirements_ray_txt_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = [line for line in (ROOT / "requirements-ray.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert project["optional-dependencies"]["ray"] == pinned

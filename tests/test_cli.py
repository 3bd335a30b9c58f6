"""The command line as a user runs it: real files in, files and one JSON line out, exit 2 on bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "intcore", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=300)


TINY = ["--device", "cpu", "--width", "16", "--hidden-layers", "2", "--quiet"]


def test_fit_writes_reconstruction_curve_and_summary(rgb_png, tmp_path):
    out = tmp_path / "out"
    r = cli("fit", str(rgb_png), "--sampler", "int", "--steps", "20", "--eval-every", "5", "--out", str(out), *TINY)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["modality"] == "image" and summary["steps"] == 20 and summary["sampler"].startswith("INT")
    assert summary["psnr"] > 5 and summary["best_psnr"] >= summary["psnr"]
    assert (out / "reconstruction-int.png").stat().st_size > 0
    assert (out / "curve.csv").read_text().splitlines()[0].startswith("method,step,train_seconds,loss,psnr")
    assert json.loads((out / "summary.json").read_text())["steps"] == 20


def test_compare_reports_every_sampler_in_one_json_line(rgb_png, tmp_path):
    r = cli("compare", str(rgb_png), "--samplers", "int,full,random", "--steps", "20", "--eval-every", "5",
            "--out", str(tmp_path), *TINY)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(summary["runs"]) == {"int", "full", "random"}
    for run in summary["runs"].values():
        assert set(run) >= {"steps", "train_seconds", "psnr", "best_psnr", "seconds_to_target"}
        assert run["steps"] == 20
    assert summary["target"] == pytest.approx(summary["runs"]["full"]["psnr"], abs=1e-3)  # full batch's final
    assert set(summary["time_saving_vs_full"]) == {"int", "random"}
    assert set(summary["time_saving_vs_random"]) == {"int", "full"}
    assert summary["runs"]["full"]["seconds_to_target"] is not None
    assert "sampler" in r.stdout and "target" in r.stdout  # the readable table
    verdict = [line for line in r.stdout.splitlines() if line.startswith("verdict: ")]
    assert len(verdict) == 1 and "at equal training time" in verdict[0]
    assert summary["verdict"]["leaders"] and verdict[0] == "verdict: " + summary["verdict"]["text"]
    for name in ("int", "full", "random"):
        assert (tmp_path / f"reconstruction-{name}.png").exists()


def test_compare_with_a_time_budget_gives_each_sampler_that_time(rgb_png, tmp_path):
    r = cli("compare", str(rgb_png), "--samplers", "int,full", "--seconds", "0.5", "--out", str(tmp_path), *TINY)
    assert r.returncode == 0, r.stderr
    runs = json.loads(r.stdout.strip().splitlines()[-1])["runs"]
    for run in runs.values():  # each stops at the first step past the budget (the bound is in test_trainer)
        assert run["train_seconds"] >= 0.5 and run["steps"] > 0


def one_line_error(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0]


def test_missing_path(tmp_path):
    one_line_error(cli("fit", str(tmp_path / "nope.png"), *TINY), "nope.png", "no such file")


def test_text_file_renamed_png(tmp_path):
    p = tmp_path / "fake.png"
    p.write_text("hello, I am text\n")
    one_line_error(cli("compare", str(p), *TINY), "fake.png", "not an image")


def test_truncated_png(tmp_path, rgb_png):
    p = tmp_path / "half.png"
    data = rgb_png.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    one_line_error(cli("fit", str(p), *TINY), "half.png", "truncated")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--samplers", "int,bogus"], "unknown sampler 'bogus'"),
        (["--ratio", "1.5"], "ratio"),
        (["--steps", "0"], "--steps"),
        (["--interval", "sometimes"], "interval"),
        (["--steps", "5", "--seconds", "2"], "not allowed with"),
        (["--depth", "2"], "unrecognized arguments: --depth"),
        (["--max-seconds", "2"], "max-seconds does not apply to image signals"),
        (["--device", "cuda"], "cuda"),
    ],
)
def test_bad_options(rgb_png, args, needle):
    r = cli("compare", str(rgb_png), *TINY, *args) if "--device" not in args else cli(
        "compare", str(rgb_png), "--quiet", *args)
    if "--device" in args and r.returncode == 0:
        pytest.skip("this machine has a CUDA GPU")
    one_line_error(r, needle)


def test_progress_to_a_file_is_plain_text(rgb_png, tmp_path):
    """stderr redirected (a log, CI): readable lines, no cursor-movement codes, no float noise."""
    r = cli("compare", str(rgb_png), "--samplers", "int,full", "--seconds", "0.3", "--out", str(tmp_path),
            "--device", "cpu", "--width", "16", "--hidden-layers", "2")
    assert r.returncode == 0, r.stderr
    assert "\x1b[" not in r.stderr and "\r" not in r.stderr
    done = [line for line in r.stderr.splitlines() if ": done " in line]
    assert len(done) == 2
    for line in done:  # e.g. "int: done 0.3/0.3 s, psnr 12.34"
        amount = line.split(": done ")[1].split(" s,")[0]
        assert all(len(part.split(".")[1]) == 1 for part in amount.split("/")), line

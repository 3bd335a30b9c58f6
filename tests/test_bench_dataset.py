"""`bench --dataset`: every file of a folder, several seeds, resumable; failing jobs and samplers that do
not apply are reported while the rest finish; the same table on a local Ray. Tiny signals, CPU."""
from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
from PIL import Image

from intcore.benchmark import JobStore, confidence_interval, quality_at
from intcore.cli import main
from intcore.samplers import SAMPLERS, Sampler, SelectionContext

TINY = ["--device", "cpu", "--steps", "4", "--eval-every", "2", "--width", "8", "--hidden-layers", "1", "--max-side", "16",
        "--max-seconds", "0.05", "--quiet"]


def png(path: Path, seed: int, size: tuple[int, int] = (12, 16)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """Three images, one of them in a subfolder, and a file of no modality that must be left out."""
    root = tmp_path / "set"
    png(root / "a.png", 0)
    png(root / "b.png", 1)
    png(root / "nested" / "c.png", 2)
    (root / "notes.txt").write_text("not a signal")
    return root


def bench(out: Path, *argv: str) -> dict:
    assert main(["bench", *TINY, "--out", str(out), *argv]) == 0
    return json.loads((out / "results.json").read_text())


def test_every_file_and_seed_is_a_job_with_its_run_spec(dataset, tmp_path):
    report = bench(tmp_path / "out", "--dataset", str(dataset), "--seeds", "2", "--samplers", "full,int")
    row = report["rows"]["image"]
    assert sorted({(j["signal"], j["seed"]) for j in row["signals"]}) == [
        (s, seed) for s in ("a.png", "b.png", "nested/c.png") for seed in (0, 1)]
    first = row["signals"][0]
    assert first["spec"]["train"]["seed"] == first["seed"] and first["spec"]["signal"]["options"] == {"max_side": 16}
    assert [s["name"] for s in first["spec"]["samplers"]] == ["full", "int"]
    int_summary = row["summary"]["int"]
    assert int_summary["jobs"] == 6 and int_summary["quality_std"] is not None
    assert report["jobs"] == {"total": 6, "done_before": 0, "run_now": 6, "failed": 0}
    assert "| image | 3 × 2 seeds |" in (tmp_path / "out" / "table.md").read_text()
    lines = (tmp_path / "out" / "results.csv").read_text().splitlines()
    assert lines[0].startswith("row,signal,seed,sampler,status") and len(lines) == 1 + 6 * 2


def test_rerun_skips_finished_jobs(dataset, tmp_path):
    out = tmp_path / "out"
    bench(out, "--dataset", str(dataset), "--seeds", "2")
    stored = sorted((out / "jobs").glob("*.json"))
    assert len(stored) == 6
    kept = {p: p.read_text() for p in stored[2:]}
    for p in stored[:2]:  # as if the run had been interrupted before these two finished
        p.unlink()
    report = bench(out, "--dataset", str(dataset), "--seeds", "2")
    assert report["jobs"] == {"total": 6, "done_before": 4, "run_now": 2, "failed": 0}
    assert all(p.read_text() == text for p, text in kept.items())  # the kept jobs did not run again
    assert len(report["rows"]["image"]["signals"]) == 6
    again = bench(out, "--dataset", str(dataset), "--seeds", "2")
    assert again["jobs"]["done_before"] == 6 and again["jobs"]["run_now"] == 0
    changed = bench(out, "--dataset", str(dataset), "--seeds", "2", "--lr", "0.002")  # new settings: new jobs
    assert changed["jobs"]["done_before"] == 0


def test_a_failing_job_is_reported_and_the_rest_finish(dataset, tmp_path):
    (dataset / "broken.png").write_bytes(b"not a png at all")
    out = tmp_path / "out"
    report = bench(out, "--dataset", str(dataset))
    assert report["jobs"]["failed"] == 1 and len(report["rows"]["image"]["signals"]) == 3
    (failed,) = report["rows"]["image"]["failed"]
    assert failed["signal"] == "broken.png" and "not an image" in failed["error"]
    assert "job broken.png seed 0 failed" in (out / "table.md").read_text()
    assert ",error," in (out / "results.csv").read_text()
    rerun = bench(out, "--dataset", str(dataset))  # only the failed job runs again
    assert rerun["jobs"] == {"total": 4, "done_before": 3, "run_now": 1, "failed": 1}


class ImageOnly(Sampler):
    """Trains on everything; declares that it applies to images only."""

    modalities = ("image",)

    def select(self, ctx: SelectionContext) -> torch.Tensor | None:
        return None


class Refuses(Sampler):
    """Its first selection refuses the signal, as a sampler does that needs what a signal lacks."""

    def select(self, ctx: SelectionContext) -> torch.Tensor | None:
        raise ValueError("refuses this signal: choose another sampler")


@pytest.fixture
def odd_samplers(monkeypatch):
    for name, cls in (("image-only", ImageOnly), ("refuses", Refuses)):
        monkeypatch.setitem(SAMPLERS._items, name, cls)
        monkeypatch.setattr(cls, "name", name, raising=False)


def test_a_sampler_that_does_not_apply_is_na_and_the_others_race(dataset, tmp_path, odd_samplers):
    rate = 8000
    t = np.arange(int(0.05 * rate)) / rate
    soundfile.write(dataset / "tone.wav", np.sin(2 * np.pi * 440 * t).astype(np.float32), rate)
    out = tmp_path / "out"
    report = bench(out, "--dataset", str(dataset), "--samplers", "full,random,image-only,refuses")
    assert report["jobs"]["failed"] == 0
    audio, image = report["rows"]["audio"], report["rows"]["image"]
    assert audio["summary"]["image-only"] == {"not_applicable": "image-only does not apply to audio signals", "jobs": 0}
    assert image["summary"]["image-only"]["jobs"] == 3 and "saving_vs_random_mean" in image["summary"]["image-only"]
    for row in (audio, image):  # a refusal at the first selection: n/a, and the others raced without it
        assert row["summary"]["refuses"]["not_applicable"] == "refuses this signal: choose another sampler"
        assert row["summary"]["random"]["jobs"] == len(row["signals"])
    table = (out / "table.md").read_text()
    assert re.search(r"^\| audio \| 1 \| [^|]+ \| [^|]+ \| n/a \| n/a \|", table, re.M)
    assert re.search(r"^\| image \| 3 \| [^|]+ \| [^|]+ \| \d[^|]+ \| n/a \|", table, re.M)
    assert "audio: image-only is n/a: image-only does not apply to audio signals" in table
    assert "Against random" in table and "Quality at equal time" in table
    assert "refuses,n/a" in (out / "results.csv").read_text().replace("0,refuses,n/a", "refuses,n/a")


def test_every_registered_sampler_runs_or_is_na(tmp_path):
    """What a new sampler gets for free: it races in the benchmark on images and audio, or says n/a."""
    root = tmp_path / "set"
    png(root / "a.png", 0)
    rate = 8000
    soundfile.write(root / "tone.wav", np.sin(np.arange(400) / 3).astype(np.float32), rate)
    report = bench(tmp_path / "out", "--dataset", str(root), "--samplers", ",".join(SAMPLERS.names()))
    assert report["jobs"]["failed"] == 0
    for row in report["rows"].values():
        for name in SAMPLERS.names():
            entry = row["summary"][name]
            assert entry.get("jobs") == 1 or "not_applicable" in entry


def ray_or_skip():
    return pytest.importorskip("ray", reason="Ray is optional: pip install -r requirements-ray.txt")


def shape_of(table: str) -> list[tuple[str, int]]:
    """Each table line's first cell and its number of cells: what must not depend on where jobs ran
    (the numbers inside, and whether a tiny run reached full's quality, are timing noise)."""
    body = table.split("\n\n- ")[0]
    return [(line.split("|")[1].strip(), line.count("|")) for line in body.splitlines() if line.startswith("|")]


@pytest.mark.slow
def test_local_ray_gives_the_same_table_as_in_process(dataset, tmp_path, monkeypatch):
    ray_or_skip()
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")  # another cluster's address: --ray alone still starts its own
    args = ["--dataset", str(dataset), "--samplers", "full,random,int", "--seeds", "2"]
    here = bench(tmp_path / "here", *args)
    on_ray = bench(tmp_path / "ray", *args, "--ray", "--workers", "2")
    assert on_ray["runner"].startswith("local Ray, 2 workers, 1 CPU thread per job")
    assert shape_of((tmp_path / "ray" / "table.md").read_text()) == shape_of((tmp_path / "here" / "table.md").read_text())
    ids = lambda r: sorted(j["id"] for j in r["rows"]["image"]["signals"])  # noqa: E731
    assert ids(on_ray) == ids(here)  # the same jobs, the same run specs
    assert len({j["worker"] for j in on_ray["rows"]["image"]["signals"]}) <= 2  # two worker processes at most
    assert {j["worker"] for j in here["rows"]["image"]["signals"]} != {j["worker"] for j in on_ray["rows"]["image"]["signals"]}
    assert on_ray["rows"]["image"]["summary"].keys() == here["rows"]["image"]["summary"].keys()


def test_a_cluster_address_nobody_answers_is_one_line(dataset, tmp_path, capsys):
    ray_or_skip()
    code = main(["bench", *TINY, "--out", str(tmp_path / "out"), "--dataset", str(dataset), "--ray", "127.0.0.1:1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("intcore: error: --ray 127.0.0.1:1: no Ray cluster answers")


def test_missing_ray_is_one_line(dataset, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets where it is not installed
    code = main(["bench", *TINY, "--out", str(tmp_path / "out"), "--dataset", str(dataset), "--ray"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err == ["intcore: error: Ray is not installed; install it with: pip install -r requirements-ray.txt"]


@pytest.mark.parametrize("argv", [["--dataset", "/no/such/folder"], ["--modality", "smell"],
                                  ["--workers", "2"], ["--samplers", "full,nope"], ["--modalities", "image"],
                                  ["--modality", "image", "--dataset"]])
def test_bad_dataset_input_is_one_line_and_exit_2(dataset, tmp_path, argv, capsys):
    if argv[-1] == "--dataset":  # --modality without a dataset
        argv = argv[:-1]
    elif argv[0] != "--dataset":
        argv = ["--dataset", str(dataset), *argv]
    assert main(["bench", "--out", str(tmp_path), "--quiet", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("intcore: error:")


def test_empty_dataset_says_so(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["bench", "--out", str(tmp_path / "out"), "--quiet", "--dataset", str(tmp_path / "empty")]) == 2
    assert "no image, audio or shape files" in capsys.readouterr().err


def test_confidence_interval_is_student_t():
    lo, hi = confidence_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 / math.sqrt(3)  # t(0.975, 2 df) · s / √n with s = 1
    assert (lo, hi) == pytest.approx((2 - half, 2 + half))
    assert confidence_interval([0.5]) is None and confidence_interval([None, 0.5]) is None


def test_quality_at_interpolates_and_holds_the_last_value():
    curve = [(1.0, 10.0), (3.0, 20.0)]
    assert quality_at(curve, 2.0) == 15.0 and quality_at(curve, 3.0) == 20.0 and quality_at(curve, 9.0) == 20.0
    assert quality_at(curve, 0.5) is None


def test_job_store_keeps_only_whole_successful_results(tmp_path):
    store = JobStore(tmp_path)
    from intcore.benchmark import Job

    job = Job("image-a-seed0-0123456789", "image", "a.png", 0, {})
    assert store.load(job) is None
    store.save({"id": job.id, "status": "ok", "runs": {}})
    assert store.load(job)["status"] == "ok"
    assert [p.name for p in store.folder.iterdir()] == [f"{job.id}.json"]  # no temporary file left behind
    store.path(job).write_text('{"id": "image-a-seed0-0123456789", "sta')  # a truncated file from elsewhere
    assert store.load(job) is None


class Stream:
    """A stderr stand-in that says whether it is a terminal."""

    def __init__(self, tty: bool) -> None:
        self.tty, self.text = tty, ""

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_progress_eta_and_plain_lines_off_a_terminal():
    from intcore.benchmark.progress import JobProgress

    now = [0.0]
    log = Stream(tty=False)
    bar = JobProgress(4, stream=log, every=10.0, now=lambda: now[0])
    assert bar.eta() is None
    now[0] = 30.0
    bar.update(0.5, "image a.png seed 0 int 20.1")  # half a job in 30 s: 3.5 jobs left take 210 s
    assert bar.eta() == pytest.approx(210.0) and "ETA 3:30" in log.text
    now[0] = 35.0
    bar.update(0.75)  # within 10 s of the last line: no new line
    assert log.text.count("\n") == 1
    bar.job_done("image a.png seed 0 done")
    assert "bench: image a.png seed 0 done\n" in log.text and "bench 1/4 jobs" in log.text
    assert "\033" not in log.text and "\r" not in log.text
    term = Stream(tty=True)
    JobProgress(2, stream=term, now=lambda: 0.0).update(0.1)
    assert term.text.startswith("\r\033[K") and "\n" not in term.text  # one line redrawn in place


def test_sigterm_ends_the_run_like_ctrl_c_and_is_restored():
    import signal

    from intcore.benchmark.command import sigterm_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    restore = sigterm_as_interrupt()
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGTERM)
    restore()
    assert signal.getsignal(signal.SIGTERM) == before

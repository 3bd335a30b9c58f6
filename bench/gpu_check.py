"""Every GPU check of INT Studio in one call, each in its own process with its own time limit.

    python bench/gpu_check.py [--out DIR] [--budget 330] [--only env,steps,...] [--dry-run]

bench/gpu_check.sh is the command to run on a GPU machine (it first unpacks the app's dependencies,
see bench/gpu_pack_deps.sh); docs/gpu.md says what each number means. DRY_RUN=1 (or --dry-run) runs
the same checks on the CPU with tiny sizes in about two minutes: it tests the script, not the card
(its numbers mean nothing and its verdicts say "dry run").

The checks, in the order they run (most wanted first; one that fails or runs out of time prints its
error and the others still run; a check is skipped when less than 20 s of the budget is left):

  env      the card, torch, the measured bf16 and fp32 matrix rates and copy bandwidth, and which of
           the app's packages import
  tests    the CUDA tests (CUDA graphs, bf16 SIREN), pytest
  sync     host syncs in the training step, every registered sampler (CUDA sync debug mode, 20 vs 60
           steps: a count that grows with the steps is a sync in the step)
  steps    time per training step: melody (38 k samples) full vs 20 % steps, and kodim05 random vs the
           bf16 arithmetic floor; eager vs CUDA graphs, fp32 vs bf16
  app      `python -m demo --device cuda` starts (which tabs), then races through the `compare`
           endpoint with gradio_client: first update, updates per second, steps per second per column
           against the CLI's, memory after a stop, two sessions at once
  teachers the teachers' step costs on kodim05 (fp32; int-amortised's must be ≤ 1.15x random's) and
           one equal-time race of every default teacher with the CLI (fp32, its verdict line)
  race35   kodim05 (768x512) to 35 dB: the teachers raced for 10 s each with the CLI, bf16
  parity   PSNR of bf16 against fp32 at equal steps (bench/precision_parity.py), and its speed-up
  compile  what torch.compile ("default") gives on the random step: compile time and step time

Writes to DIR (default $OUT, else runs/gpu_check): results.json (every number), table.md (one row per
target, PASS / FAIL / info), log.txt (every check's output), tests.txt (pytest's report), race35.json
(the CLI's summary of the 35 dB race). The table is printed last.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KODIM05 = ROOT / "assets/images/kodim05.png"
KODIM23 = ROOT / "assets/images/kodim23.png"
CAMERA = ROOT / "assets/images/camera.png"
MELODY = ROOT / "assets/audio/melody.wav"
BF16_RATE_FALLBACK = 790e12
"""FLOP/s of a large bf16 matrix product on an H200 as this workplace measured it, used only when the
env check could not measure the card (docs/gpu.md)"""

# Per check: (time limit in seconds, what it does). The whole run is budgeted by --budget.
CHECKS: dict[str, tuple[int, str]] = {
    "env": (40, "card, rates, packages"),
    "tests": (90, "CUDA tests"),
    "sync": (60, "host syncs per sampler"),
    "steps": (80, "step times, floors"),
    "app": (120, "the app on the GPU"),
    "teachers": (95, "the teachers at equal time, fp32"),
    "race35": (90, "kodim05 to 35 dB"),
    "parity": (80, "bf16 vs fp32 PSNR"),
    "compile": (75, "torch.compile"),
}


# ------------------------------------------------------------------ sizes: the card, or a dry run


class Sizes:
    """Every size a check uses: the real ones on a GPU, tiny ones in a dry run on the CPU."""

    def __init__(self, dry: bool) -> None:
        self.dry = dry
        self.device = "cpu" if dry else "cuda"
        self.image_options: dict[str, Any] = {"max_side": 48} if dry else {}
        self.audio_options: dict[str, Any] = {"max_seconds": 0.1} if dry else {}
        self.model: dict[str, Any] = {"width": 16, "hidden_layers": 2} if dry else {"width": 256, "hidden_layers": 5}
        self.sync_steps = (4, 12) if dry else (20, 60)
        self.step_runs = {"melody": 20, "kodim05-random": 10, "kodim05-full": 5} if dry else \
            {"melody": 400, "kodim05-random": 300, "kodim05-full": 60}
        self.race_seconds = 2 if dry else 10
        self.teacher_seconds = 1.5 if dry else 8
        self.teacher_steps = 10 if dry else 300
        self.race_target = 14.0 if dry else 35.0
        self.parity_steps = {"random": 30, "full": 10} if dry else {"random": 1500, "full": 300}
        self.app_seconds = 1.5 if dry else 3.0
        self.compile_steps = 5 if dry else 300


# ------------------------------------------------------------------ helpers


def train_config(sizes: Sizes, **changes: Any) -> Any:
    """A TrainConfig for `sizes.device`; `cuda_graphs` is dropped where this version has no such setting."""
    from intcore import TrainConfig

    if "cuda_graphs" in changes and "cuda_graphs" not in TrainConfig.__dataclass_fields__:
        changes.pop("cuda_graphs")
    return TrainConfig(**{"device": sizes.device, **changes})


def graphs_supported() -> bool:
    from intcore import TrainConfig

    return "cuda_graphs" in TrainConfig.__dataclass_fields__


def model_for(signal: Any, sizes: Sizes) -> Any:
    import torch

    from intcore.defaults import defaults_for

    d = defaults_for(signal.modality, torch.device("cuda"))  # the GPU's model (first_w0 per modality), sized
    return d.model.replace(**sizes.model)


def lr_for(signal: Any) -> float:
    import torch

    from intcore.defaults import defaults_for

    return defaults_for(signal.modality, torch.device("cuda")).lr


def siren_flops_per_point(model: Any, in_features: int, out_features: int) -> int:
    """Forward FLOPs of one coordinate through a SIREN: 2 per multiply-add of each linear layer."""
    w, layers = model.width, model.hidden_layers
    return 2 * (in_features * w + (layers - 1) * w * w + w * out_features)


def time_steps(signal: Any, sampler: str, sizes: Sizes, steps: int, **config: Any) -> dict[str, Any]:
    """Train `steps` steps (one evaluation, at the end) and return the training seconds per step."""
    from intcore import Trainer, make_sampler

    cfg = train_config(sizes, steps=steps, eval_every=10**9, lr=lr_for(signal), **config)
    trainer = Trainer(signal, make_sampler(sampler), model=model_for(signal, sizes), config=cfg)
    start = time.perf_counter()
    last = list(trainer.run())[-1]
    out = {"sampler": sampler, "steps": last.step, "train_seconds": round(last.train_seconds, 4),
           "ms_per_step": round(1000 * last.train_seconds / max(last.step, 1), 4),
           "wall_seconds": round(time.perf_counter() - start, 2), "quality": round(last.quality, 3),
           **{k: v for k, v in config.items()}}
    stats = getattr(trainer, "graph_stats", None)
    if stats is not None:
        out["graphs"] = stats
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ the checks (each in its own process)


def check_env(sizes: Sizes) -> dict[str, Any]:
    import importlib

    import torch

    out: dict[str, Any] = {"python": platform.python_version(), "torch": torch.__version__,
                           "cuda": torch.version.cuda, "device": sizes.device}
    try:
        out["commit"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                       text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        out["commit"] = None
    packages = {}
    for name in ("gradio", "gradio_client", "plotly", "soundfile", "trimesh", "igl", "pytz", "scipy", "skimage",
                 "pandas"):
        try:
            module = importlib.import_module(name)
            packages[name] = getattr(module, "__version__", "yes")
        except Exception as exc:  # noqa: BLE001 (a missing or broken package is the finding)
            packages[name] = f"MISSING: {type(exc).__name__}: {exc}"[:200]
    out["packages"] = packages
    if sizes.dry:
        out["note"] = "dry run: no rates measured"
        return out
    out["gpu"] = torch.cuda.get_device_name(0)
    props = torch.cuda.get_device_properties(0)
    out["sms"], out["memory_gib"] = props.multi_processor_count, round(props.total_memory / 2**30, 1)
    try:
        out["nvidia_smi"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu",
             "--format=csv,noheader"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        out["nvidia_smi"] = str(exc)

    def rate(dtype: torch.dtype, n: int, reps: int) -> float:
        a = torch.randn(n, n, device="cuda", dtype=dtype)
        b = torch.randn(n, n, device="cuda", dtype=dtype)
        for _ in range(3):
            a @ b
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(reps):
            a @ b
        end.record()
        torch.cuda.synchronize()
        return 2 * n**3 * reps / (start.elapsed_time(end) / 1000)

    out["bf16_tflops"] = round(rate(torch.bfloat16, 8192, 20) / 1e12, 1)
    out["fp32_tflops"] = round(rate(torch.float32, 4096, 10) / 1e12, 1)  # TF32 off: plain fp32
    x = torch.randn(2**28, device="cuda")  # 1 GiB
    y = torch.empty_like(x)
    y.copy_(x)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(10):
        y.copy_(x)
    end.record()
    torch.cuda.synchronize()
    out["copy_tb_per_s"] = round(2 * x.numel() * 4 * 10 / (start.elapsed_time(end) / 1000) / 1e12, 2)
    return out


def check_tests(sizes: Sizes, out_dir: Path) -> dict[str, Any]:
    files = [f for f in ("tests/test_graphs.py", "tests/test_precision.py") if (ROOT / f).exists()]
    report = out_dir / "tests.txt"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *files]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=CHECKS["tests"][0] - 5,
                          env={**os.environ, "INT_STUDIO_GPU_CHECK": "1"})
    report.write_text(done.stdout + done.stderr)
    tail = [line for line in done.stdout.strip().splitlines() if line.strip()][-1:] or ["(no output)"]
    return {"files": files, "rc": done.returncode, "summary": tail[0], "passed": done.returncode == 0}


def check_sync(sizes: Sizes) -> dict[str, Any]:
    """Sync counts with 20 and 60 steps for every registered sampler, on the modality it applies to."""
    import warnings

    import torch

    from intcore import SAMPLERS, Trainer, load_signal, make_sampler

    signals = {"image": load_signal(KODIM05, max_side=128 if not sizes.dry else 48),
               "audio": load_signal(MELODY, **sizes.audio_options)}
    rows = []
    for name in SAMPLERS.names():
        cls = SAMPLERS[name]
        modality = "image" if cls.applies_to("image") else "audio" if cls.applies_to("audio") else None
        if modality is None:
            rows.append({"sampler": name, "skipped": "applies to neither images nor audio"})
            continue
        signal = signals[modality]
        counts = []
        try:
            for steps in sizes.sync_steps:
                cfg = train_config(sizes, steps=steps, eval_every=10**6, lr=lr_for(signal))
                if not sizes.dry:
                    torch.cuda.synchronize()
                    torch.cuda.set_sync_debug_mode("warn")
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    list(Trainer(signal, make_sampler(name), model=model_for(signal, sizes), config=cfg).run())
                if not sizes.dry:
                    torch.cuda.set_sync_debug_mode("default")
                counts.append(sum("synchroniz" in str(w.message) for w in caught))
        except Exception as exc:  # noqa: BLE001
            if not sizes.dry:
                torch.cuda.set_sync_debug_mode("default")
            rows.append({"sampler": name, "modality": modality, "error": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        per_step = (counts[1] - counts[0]) / (sizes.sync_steps[1] - sizes.sync_steps[0])
        rows.append({"sampler": name, "modality": modality, "syncs": counts, "per_step": round(per_step, 3),
                     "ok": None if sizes.dry else counts[0] == counts[1]})
    return {"steps": list(sizes.sync_steps), "rows": rows}


def check_steps(sizes: Sizes, env: dict[str, Any]) -> dict[str, Any]:
    """Time per training step on the melody (full vs 20 %) and kodim05 (random vs its floor)."""
    from intcore import load_signal

    graphs = graphs_supported()
    modes = [{"cuda_graphs": "off", "precision": "fp32"}, {"cuda_graphs": "off", "precision": "bf16"}]
    if graphs:
        modes += [{"cuda_graphs": "auto", "precision": "fp32"}, {"cuda_graphs": "auto", "precision": "bf16"}]
    out: dict[str, Any] = {"graphs_available": graphs, "rows": []}
    from intcore import SAMPLERS

    melody = load_signal(MELODY, **sizes.audio_options)
    teachers = ["int"] + [n for n in ("int-amortised",) if n in SAMPLERS.names()]
    for mode in modes:
        for sampler in ("full", "random", *teachers):
            row = time_steps(melody, sampler, sizes, sizes.step_runs["melody"], **mode)
            out["rows"].append({"signal": "melody", "n": melody.n, **row})
    image = load_signal(KODIM05, **sizes.image_options)
    for mode in modes:
        for sampler, runs in (("random", sizes.step_runs["kodim05-random"]), ("full", sizes.step_runs["kodim05-full"])):
            row = time_steps(image, sampler, sizes, runs, **mode)
            out["rows"].append({"signal": "kodim05", "n": image.n, **row})
    model = model_for(image, sizes)
    per_point = 3 * siren_flops_per_point(model, image.in_features, image.out_features)  # forward + backward
    k = math.ceil(0.2 * image.n)
    rate = (env.get("bf16_tflops") or BF16_RATE_FALLBACK / 1e12) * 1e12
    out["floor"] = {"signal": "kodim05", "k": k, "flops_per_point": per_point, "step_flops": per_point * k,
                    "bf16_flops_per_s": rate, "rate_source": "measured (env)" if env.get("bf16_tflops") else "fallback",
                    "floor_ms": round(1000 * per_point * k / rate, 6)}
    mel_model = model_for(melody, sizes)
    out["melody_full_step_flops"] = 3 * siren_flops_per_point(mel_model, melody.in_features, melody.out_features) * melody.n
    return out


def check_teachers(sizes: Sizes, out_dir: Path, work: Path) -> dict[str, Any]:
    """Each teacher's step cost on kodim05 at its own default ratio (fp32, graphs auto), and one race of
    them at equal training time (fp32) with the CLI: its verdict line and per-run steps and quality."""
    from intcore import SAMPLERS, load_signal

    names = [n for n in ("random", "int-amortised", "int-pool", "int") if n in SAMPLERS.names()]
    image = load_signal(KODIM05, **sizes.image_options)
    costs = [time_steps(image, n, sizes, sizes.teacher_steps, cuda_graphs="auto", precision="fp32") for n in names]
    for row in costs:
        print(row, flush=True)
    if os.environ.get("TEACHERS_RACE") == "0":  # costs only (a short rerun)
        return {"costs": costs}
    run_dir = work / "teachers"
    race = ["full", *[n for n in ("random", "int", "int-pool", "int-amortised") if n in SAMPLERS.names()]]
    cmd = [sys.executable, "-m", "intcore", "compare", str(KODIM05), "--device", sizes.device, "--samplers",
           ",".join(race), "--seconds", str(sizes.teacher_seconds), "--eval-every", "25" if not sizes.dry else "5",
           "--out", str(run_dir), "--quiet"]
    if sizes.dry:
        cmd += ["--max-side", "48", "--width", "16", "--hidden-layers", "2"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=CHECKS["teachers"][0] - 5)
    print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
    summary_path = next(iter(sorted(run_dir.glob("*summary.json"))), run_dir / "summary.json")  # <signal>-summary.json
    out: dict[str, Any] = {"costs": costs}
    if done.returncode != 0 or not summary_path.exists():
        out["race_error"] = f"intcore compare exited {done.returncode}: {done.stderr[-300:]}"
        return out
    summary = json.loads(summary_path.read_text())
    verdict = next((line for line in done.stdout.splitlines() if line.startswith("verdict: ")), None)
    out["race"] = {"command": "python " + " ".join(cmd[1:]).replace(str(ROOT) + "/", "").replace(str(work) + "/", ""),
                   "seconds": sizes.teacher_seconds, "target": summary.get("target"), "verdict": verdict,
                   "runs": {n: {k: r.get(k) for k in ("steps", "train_seconds", "psnr", "best_psnr", "seconds_to_target",
                                                     "largest_dip")} for n, r in summary["runs"].items()},
                   "time_saving_vs_full": summary.get("time_saving_vs_full"),
                   "time_saving_vs_random": summary.get("time_saving_vs_random")}
    return out


def check_race35(sizes: Sizes, out_dir: Path, work: Path) -> dict[str, Any]:
    """The CLI's race on kodim05 to the target: the teachers, bf16, each at most race_seconds."""
    from intcore import SAMPLERS

    names = [n for n in ("random", "int-pool", "int-amortised", "full") if n in SAMPLERS.names()]
    run_dir = work / "race35"
    cmd = [sys.executable, "-m", "intcore", "compare", str(KODIM05), "--device", sizes.device, "--samplers",
           ",".join(names), "--seconds", str(sizes.race_seconds), "--target", str(sizes.race_target),
           "--precision", "bf16", "--eval-every", "25" if not sizes.dry else "5", "--out", str(run_dir), "--quiet"]
    if sizes.dry:
        cmd += ["--max-side", "48", "--width", "16", "--hidden-layers", "2"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=CHECKS["race35"][0] - 5)
    print(done.stdout[-3000:], done.stderr[-3000:], sep="\n")
    summary_path = next(iter(sorted(run_dir.glob("*summary.json"))), run_dir / "summary.json")  # <signal>-summary.json
    if done.returncode != 0 or not summary_path.exists():
        return {"error": f"intcore compare exited {done.returncode}", "command": " ".join(cmd[1:])}
    summary = json.loads(summary_path.read_text())
    summary.pop("spec", None)
    (out_dir / "race35.json").write_text(json.dumps(summary, indent=1))
    runs = summary["runs"]
    return {"command": "python " + " ".join(cmd[1:]).replace(str(ROOT) + "/", "").replace(str(work) + "/", ""),
            "target": sizes.race_target, "seconds": sizes.race_seconds,
            "runs": {n: {k: r.get(k) for k in ("steps", "train_seconds", "psnr", "best_psnr", "seconds_to_target")}
                     for n, r in runs.items()}}


def check_parity(sizes: Sizes) -> dict[str, Any]:
    """bench/precision_parity.py's runs on the card's two test photos (full size), random and full."""
    import argparse as _argparse

    sys.path.insert(0, str(ROOT / "bench"))
    from precision_parity import run_one as parity_run

    rows: list[dict[str, Any]] = []
    plans = [(KODIM05, "random", ("fp32", "bf16", "bf16-plain")), (KODIM05, "full", ("fp32", "bf16")),
             (KODIM23, "random", ("fp32", "bf16"))]
    for path, sampler, precisions in plans:
        args = _argparse.Namespace(steps=sizes.parity_steps[sampler], max_side=48 if sizes.dry else 0,
                                   width=sizes.model["width"], hidden_layers=sizes.model["hidden_layers"], lr=1e-4,
                                   seed=0, device=sizes.device)
        ref = None
        for precision in precisions:
            row = parity_run(str(path), sampler, precision, args)
            ref = row["psnr"] if precision == "fp32" else ref
            row["gap_db"] = None if ref is None else round(row["psnr"] - ref, 3)
            print(row, flush=True)
            rows.append(row)
    return {"rows": rows}


def _status_of(output: Any) -> dict[str, Any] | None:
    """The status dict in one streamed output of `compare` ((status, files), or the status alone)."""
    items = output if isinstance(output, (list, tuple)) else [output]
    for item in items:
        if isinstance(item, str) and item.startswith("{"):
            try:
                item = json.loads(item)
            except json.JSONDecodeError:
                continue
        if isinstance(item, dict) and "samplers" in item:
            return item
    return None


def _compare_kwargs(endpoint: dict[str, Any], picture: Path, sizes: Sizes) -> dict[str, Any]:
    """The compare endpoint's arguments: the picture and a seconds budget; each other setting keeps the
    app's default (dry run: a tiny model) where the endpoint has a parameter of that name."""
    from gradio_client import handle_file

    params = {p["parameter_name"]: p for p in endpoint["parameters"]}
    wanted: dict[str, Any] = {"budget": "seconds", "amount": sizes.app_seconds, "seconds": sizes.app_seconds}
    if sizes.dry:
        wanted.update(width=16, depth=2, hidden_layers=2, size=32, max_side=32, eval_every=5)
    kwargs = {k: v for k, v in wanted.items() if k in params}
    picture_param = "picture" if "picture" in params else next(
        (n for n, p in params.items() if "file" in str(p.get("python_type", {}).get("type", "")).lower()
         or "image" in str(p.get("component", "")).lower()), None)
    if picture_param is None:
        raise RuntimeError(f"the compare endpoint has no picture parameter: {list(params)}")
    kwargs[picture_param] = handle_file(str(picture))
    for name, p in params.items():  # a parameter without a default that we did not set: take what the API shows
        if name not in kwargs and not p.get("parameter_has_default", True):
            raise RuntimeError(f"the compare endpoint needs {name!r}, which this check does not know")
    return kwargs


def race_id(status: dict[str, Any]) -> str | None:
    """The race's id in a status ("race"; "job" in earlier versions of the app)."""
    return status.get("race", status.get("job"))


def _race_through_api(client: Any, api_name: str, kwargs: dict[str, Any], stop_after: float | None = None,
                      stop_api: str | None = None) -> dict[str, Any]:
    """Submit one race, follow its stream; the times of its updates and its final status."""
    start = time.perf_counter()
    job = client.submit(api_name=api_name, **kwargs)
    seen = 0
    updates: list[tuple[float, dict[str, Any]]] = []
    stopped_at = None
    while True:
        done = job.done()
        outputs = job.outputs()
        now = time.perf_counter() - start
        for output in outputs[seen:]:
            status = _status_of(output)
            if status is not None:
                updates.append((now, status))
        seen = len(outputs)
        if done:
            break
        if stop_after is not None and stopped_at is None and now >= stop_after and stop_api:
            client.predict(api_name=stop_api)
            stopped_at = now
        time.sleep(0.02)
    final_output = job.result(timeout=60)
    final = _status_of(final_output) or (updates[-1][1] if updates else None)
    running = [t for t, s in updates if any(r.get("step", 0) > 0 for r in s["samplers"].values())]
    times = [t for t, _ in updates]
    return {
        "updates": len(updates),
        "first_update_s": round(times[0], 3) if times else None,
        "first_progress_s": round(running[0], 3) if running else None,
        "updates_per_s": round((len(times) - 1) / (times[-1] - times[0]), 2) if len(times) > 2 and times[-1] > times[0] else None,
        "wall_s": round(time.perf_counter() - start, 2),
        "stopped_at_s": None if stopped_at is None else round(stopped_at, 2),
        "jobs_seen": sorted({race_id(s) for _, s in updates if race_id(s) is not None}),
        "signals_seen": sorted({(s.get("signal") or {}).get("name") for _, s in updates if s.get("signal")}),
        "running_between": [running[0], running[-1]] if running else None,
        "final": final,
    }


def check_app(sizes: Sizes, work: Path) -> dict[str, Any]:
    import torch

    out: dict[str, Any] = {}
    # 1. `python -m demo --device ...` starts and serves its tabs.
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, "-m", "demo", "--device", sizes.device, "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    start = time.perf_counter()
    served = False
    try:
        while time.perf_counter() - start < 60 and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as reply:
                    served = reply.status == 200
                    break
            except OSError:
                time.sleep(0.5)
        out["demo_start_s"] = round(time.perf_counter() - start, 2) if served else None
        out["demo_started"] = served
        if served:
            from gradio_client import Client

            client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
            api = client.view_api(print_info=False, return_format="dict")
            out["compare_endpoints"] = sorted(n for n in api["named_endpoints"] if n.endswith("compare"))
            client.close() if hasattr(client, "close") else None
    finally:
        proc.terminate()
        try:
            text, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            text, _ = proc.communicate()
        out["demo_output_tail"] = text[-1500:]

    # 2. In this process (the same build_app + launch as `python -m demo`), so that its GPU memory can be read.
    from gradio_client import Client

    import importlib
    import importlib.util

    # demo.ui.app since the app's v3 layout; demo.app before it.
    app_module = importlib.import_module("demo.ui.app" if importlib.util.find_spec("demo.ui") else "demo.app")
    build_app, launch_in_background = app_module.build_app, app_module.launch_in_background

    os.environ.setdefault("GRADIO_TEMP_DIR", str(work / "gradio"))
    app = build_app(device=sizes.device, max_jobs=2, workdir=work / "sessions")
    url = launch_in_background(app)
    cuda = sizes.device == "cuda"

    def allocated() -> int | None:
        """Bytes allocated now, once no race runs. cuBLAS's workspaces (one per handle and stream, kept
        for the process's life, not a race's memory) are released first, so that the first race's
        set-up does not count as memory it kept; `workspaces` records what they held."""
        if not cuda:
            return None
        from intcore.device import allocated_bytes

        now, held = allocated_bytes(torch.device("cuda"))
        workspaces.append(held)
        return now

    workspaces: list[int] = []

    try:
        client = Client(url, verbose=False, download_files=False)
        api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        name = "/compare" if "/compare" in api else sorted(n for n in api if n.endswith("compare"))[0]
        stop_api = name[: -len("compare")] + "stop"
        kwargs = _compare_kwargs(api[name], KODIM05, sizes)
        before = allocated()
        race = _race_through_api(client, name, kwargs)
        final = race.pop("final") or {}
        out["race"] = race
        out["race_device"] = final.get("device")
        out["race_state"], out["race_error"] = final.get("state"), final.get("error")
        columns = {m: {"step": r.get("step"), "train_seconds": r.get("train_seconds"),
                       "steps_per_s": round(r["step"] / r["train_seconds"], 1) if r.get("train_seconds") else None}
                   for m, r in (final.get("samplers") or {}).items()}
        out["columns"] = columns
        time.sleep(1.0)
        after_done = allocated()
        # A race stopped part-way: its memory must go back too.
        stopped = _race_through_api(client, name, kwargs, stop_after=1.0 if sizes.dry else 2.0, stop_api=stop_api)
        out["stopped_state"] = (stopped.pop("final") or {}).get("state")
        time.sleep(1.5)
        after_stop = allocated()
        out["memory"] = {"before_start": before, "after_done": after_done, "after_stop": after_stop,
                         "back_to_before": None if before is None else (after_done == before and after_stop == before),
                         "cublas_workspaces_released": workspaces}
        client.close() if hasattr(client, "close") else None

        # The CLI on the same samplers and budget, for the steps per second per column.
        names = list(columns)
        cli_dir = work / "app-cli"
        cmd = [sys.executable, "-m", "intcore", "compare", str(KODIM05), "--device", sizes.device, "--samplers",
               ",".join(names), "--seconds", str(sizes.app_seconds), "--out", str(cli_dir), "--quiet"]
        if sizes.dry:
            cmd += ["--max-side", "32", "--width", "16", "--hidden-layers", "2", "--eval-every", "5"]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
        cli_summary = next(iter(sorted(cli_dir.glob("*summary.json"))), None)  # <signal>-summary.json
        if cli_summary is not None:
            runs = json.loads(cli_summary.read_text())["runs"]
            for m, r in runs.items():
                if m in columns:
                    rate = r["steps"] / r["train_seconds"] if r["train_seconds"] else None
                    columns[m]["cli_steps_per_s"] = None if rate is None else round(rate, 1)
                    if rate and columns[m]["steps_per_s"]:
                        columns[m]["app_over_cli"] = round(columns[m]["steps_per_s"] / rate, 3)
        else:
            out["cli_error"] = (done.stdout + done.stderr)[-1500:]

        # Two sessions at once, each on its own picture: each stream sees only its own job and signal.
        results: dict[str, Any] = {}

        def one(key: str, picture: Path) -> None:
            try:
                c = Client(url, verbose=False, download_files=False)
                r = _race_through_api(c, name, _compare_kwargs(api[name], picture, sizes))
                f = r.pop("final") or {}
                r["state"], r["error"] = f.get("state"), f.get("error")
                r["picture"] = picture.stem
                results[key] = r
            except Exception as exc:  # noqa: BLE001
                results[key] = {"error": f"{type(exc).__name__}: {exc}"}

        threads = [threading.Thread(target=one, args=(k, p)) for k, p in (("a", KODIM05), ("b", CAMERA))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
        ok = all(r.get("state") == "done" and not r.get("error") and len(r.get("jobs_seen", [])) == 1
                 and all(r["picture"] in (s or "") for s in r.get("signals_seen", [])) for r in results.values())
        a, b = results.get("a", {}).get("running_between"), results.get("b", {}).get("running_between")
        overlap = bool(a and b and max(a[0], b[0]) < min(a[1], b[1]))
        distinct = len({j for r in results.values() for j in r.get("jobs_seen", [])}) == 2
        out["two_sessions"] = {"ok": ok and distinct, "overlapped": overlap, "sessions": results}
        time.sleep(1.5)
        mem = out["memory"]
        mem["after_two_sessions"] = allocated()
        if mem["back_to_before"] is not None:
            mem["back_to_before"] = mem["back_to_before"] and mem["after_two_sessions"] == mem["before_start"]
    finally:
        app.close()
        app.session_table.shutdown()
    return out


def check_compile(sizes: Sizes) -> dict[str, Any]:
    """random 20 % on kodim05 in bf16: compile "default" against eager, same steps; compile time is the
    warm-up's wall time beyond eager's."""
    from intcore import load_signal

    image = load_signal(KODIM05, **sizes.image_options)
    rows = []
    for mode in ("off", "default"):
        row = time_steps(image, "random", sizes, sizes.compile_steps, precision="bf16", compile=mode)
        rows.append(row)
    eager, compiled = rows
    return {"rows": rows, "compile_overhead_s": round(compiled["wall_seconds"] - eager["wall_seconds"], 1),
            "speedup": round(eager["ms_per_step"] / compiled["ms_per_step"], 3) if compiled["ms_per_step"] else None}


# ------------------------------------------------------------------ the verdicts and the table


def verdicts(results: dict[str, Any], dry: bool) -> list[dict[str, str]]:
    """One row per target: what was measured and PASS / FAIL (info: a number with no target)."""
    rows: list[dict[str, str]] = []

    def add(target: str, measured: str, ok: bool | None) -> None:
        verdict = "info" if ok is None else ("PASS" if ok else "FAIL")
        rows.append({"target": target, "measured": measured, "verdict": f"dry run ({verdict})" if dry else verdict})

    def missing(name: str) -> str | None:
        r = results.get(name) or {}
        if "error" in r and len(r) <= 3:
            return f"did not run: {r['error'][:160]}"
        return None

    env = results.get("env") or {}
    if env:
        pk = env.get("packages", {})
        absent = [k for k, v in pk.items() if str(v).startswith("MISSING")]
        add("card", f"{env.get('gpu', env.get('device'))}, torch {env.get('torch')}, CUDA {env.get('cuda')}, "
            f"bf16 {env.get('bf16_tflops')} TFLOP/s, fp32 {env.get('fp32_tflops')} TFLOP/s, copy {env.get('copy_tb_per_s')} TB/s; "
            f"missing packages: {', '.join(absent) or 'none'}", None)
    t = results.get("tests") or {}
    add("CUDA tests pass", t.get("summary") or missing("tests") or "did not run", t.get("passed") if t else False)

    s = results.get("sync") or {}
    if "rows" in s:
        bad = [r["sampler"] for r in s["rows"] if r.get("ok") is False or "error" in r]
        shown = ", ".join(f"{r['sampler']} {r.get('syncs', r.get('error', r.get('skipped')))}" for r in s["rows"])
        add("no host sync per step, every sampler (syncs at 20 / 60 steps)", shown[:900],
            None if dry else not bad)
    else:
        add("no host sync per step, every sampler", missing("sync") or "did not run", False)

    st = results.get("steps") or {}
    if "rows" in st:
        def ms(signal: str, sampler: str, graphs: str, precision: str) -> float | None:
            for r in st["rows"]:
                if (r["signal"], r["sampler"], r.get("cuda_graphs", "off"), r.get("precision")) == (signal, sampler, graphs, precision):
                    return r["ms_per_step"]
            return None

        best = None
        for g in (("auto", "off") if st.get("graphs_available") else ("off",)):
            for p in ("fp32", "bf16"):
                full, rnd, it = ms("melody", "full", g, p), ms("melody", "random", g, p), ms("melody", "int", g, p)
                if full and rnd:
                    ratio = rnd / full
                    text = (f"graphs {g}, {p}: full {full:.3f} ms, random 20 % {rnd:.3f} ms ({ratio:.2f}x), "
                            f"int 20 % {it:.3f} ms ({it / full:.2f}x)" if it else "")
                    if best is None or ratio < best[0]:
                        best = (ratio, text)
                    add(f"melody: a 20 % step ≤ 0.4x a full step ({g}, {p})", text, ratio <= 0.4)
        used = [f"{r['signal']} {r['sampler']} {r.get('precision')}: {r['graphs'].get('replays')}/{r['steps']}"
                + (f" (off: {r['graphs']['disabled'][:80]})" if r["graphs"].get("disabled") else "")
                for r in st["rows"] if r.get("cuda_graphs") == "auto" and isinstance(r.get("graphs"), dict)]
        if used:
            add("steps replayed as CUDA graphs (graphs auto rows)", "; ".join(used), None)
        floor = st.get("floor", {})
        for g in (("auto", "off") if st.get("graphs_available") else ("off",)):
            for p in ("bf16", "fp32"):
                rnd = ms("kodim05", "random", g, p)
                if rnd and floor.get("floor_ms") is not None:
                    add(f"kodim05: random step ≤ 1.5x the bf16 floor ({g}, {p})",
                        f"{rnd:.3f} ms vs floor {floor['floor_ms']:.3f} ms ({floor['step_flops'] / 1e9:.1f} GFLOP at "
                        f"{floor['bf16_flops_per_s'] / 1e12:.0f} TFLOP/s, {floor['rate_source']}): {rnd / floor['floor_ms']:.1f}x",
                        rnd / floor["floor_ms"] <= 1.5)
    else:
        add("step times", missing("steps") or "did not run", False)

    te = results.get("teachers") or {}
    if te.get("costs"):
        by = {r["sampler"]: r["ms_per_step"] for r in te["costs"]}
        rnd = by.get("random")
        for name, ms_ in by.items():
            if name != "random" and rnd:
                add(f"kodim05 fp32: {name}'s step against random's" + (" (≤ 1.15x)" if name == "int-amortised" else ""),
                    f"{ms_:.3f} vs {rnd:.3f} ms ({ms_ / rnd:.2f}x)", ms_ / rnd <= 1.15 if name == "int-amortised" else None)
        race = te.get("race") or {}
        if race:
            add(f"kodim05 fp32, {race['seconds']:g} s each: the verdict", (race.get("verdict") or "no verdict line") + " | " +
                "; ".join(f"{n} {r['steps']} steps {r['psnr']} dB" for n, r in race["runs"].items()), None)
        else:
            add("kodim05 fp32 teacher race", te.get("race_error", "did not run")[:300], False)
    else:
        add("teachers' step costs", missing("teachers") or "did not run", False)

    r35 = results.get("race35") or {}
    if "runs" in r35:
        runs = r35["runs"]
        times = {n: r.get("seconds_to_target") for n, r in runs.items()}
        reached = {n: tt for n, tt in times.items() if tt is not None}
        best_name = min(reached, key=reached.get) if reached else None
        text = "; ".join(f"{n}: {'%.2f s' % tt if tt is not None else 'not reached (best %.2f dB)' % runs[n]['best_psnr']}"
                         for n, tt in times.items())
        add(f"kodim05 to {r35['target']:g} dB in ≤ 10 s (bf16; best: {best_name})", text,
            best_name is not None and reached[best_name] <= 10)
    else:
        add("kodim05 to 35 dB in ≤ 10 s", missing("race35") or "did not run", False)

    par = results.get("parity") or {}
    if par.get("rows"):
        for r in par["rows"]:
            if r["precision"] == "fp32":
                continue
            ref = next((x for x in par["rows"] if x["signal"] == r["signal"] and x["sampler"] == r["sampler"]
                        and x["precision"] == "fp32"), None)
            speed = ref["train_seconds"] / r["train_seconds"] if ref and r["train_seconds"] else None
            ok = None if r["precision"] == "bf16-plain" else abs(r["gap_db"]) <= 0.3 and (speed or 0) > 1.0
            add(f"bf16 parity ≤ 0.3 dB at equal steps, faster ({r['signal']}, {r['sampler']}, {r['precision']})",
                f"{r['steps']} steps: {r['psnr']:.2f} dB vs fp32 {ref['psnr'] if ref else float('nan'):.2f} "
                f"({r['gap_db']:+.2f} dB); {speed or float('nan'):.2f}x fp32's speed", ok)
    else:
        add("bf16 parity", missing("parity") or "did not run", False)

    app = results.get("app") or {}
    if app:
        add("python -m demo --device cuda starts", f"started: {app.get('demo_started')} in {app.get('demo_start_s')} s; "
            f"tabs: {', '.join(app.get('compare_endpoints') or []) or '?'}", app.get("demo_started"))
        race = app.get("race") or {}
        if race:
            add("app race streams from the GPU", f"device {app.get('race_device')}, state {app.get('race_state')}; first update "
                f"{race.get('first_update_s')} s, first progress {race.get('first_progress_s')} s, "
                f"{race.get('updates_per_s')} updates/s", app.get("race_state") == "done" and
                str(app.get("race_device", "")).startswith("cuda" if not dry else "cpu"))
            cols = app.get("columns") or {}
            add("app steps/s per column vs the CLI's", "; ".join(
                f"{m}: {c.get('steps_per_s')} vs {c.get('cli_steps_per_s')} ({c.get('app_over_cli')}x)" for m, c in cols.items()),
                None)
        mem = app.get("memory") or {}
        add("a stopped race frees its GPU memory", f"allocated before Start {mem.get('before_start')}, after the race "
            f"{mem.get('after_done')}, after a stop ({app.get('stopped_state')}) {mem.get('after_stop')}, after two "
            f"sessions {mem.get('after_two_sessions')} bytes", mem.get("back_to_before"))
        two = app.get("two_sessions") or {}
        add("two sessions at once stay correct", f"ok {two.get('ok')}, ran at the same time {two.get('overlapped')}",
            two.get("ok"))
        if "error" in app:
            add("app check", app["error"][:300], False)
    else:
        add("the app on the GPU", "did not run", False)

    comp = results.get("compile") or {}
    if comp.get("rows"):
        e, c = comp["rows"]
        add("torch.compile (default) vs eager, random bf16", f"{c['ms_per_step']:.3f} vs {e['ms_per_step']:.3f} ms/step "
            f"({comp['speedup']}x), compile costs {comp['compile_overhead_s']} s of wall time", None)
    else:
        add("torch.compile", missing("compile") or "did not run", None)
    return rows


def table(rows: list[dict[str, str]]) -> str:
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {r['target']} | {r['measured'].replace('|', '/')} | {r['verdict']} |" for r in rows]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ running the checks


def run_one(name: str, sizes: Sizes, parts: Path, out_dir: Path) -> None:
    """Run one check in this process and write its result to parts/NAME.json."""
    work = parts / "work"
    work.mkdir(parents=True, exist_ok=True)
    env = json.loads((parts / "env.json").read_text()) if (parts / "env.json").exists() else {}
    try:
        if name == "env":
            result = check_env(sizes)
        elif name == "tests":
            result = check_tests(sizes, out_dir)
        elif name == "sync":
            result = check_sync(sizes)
        elif name == "steps":
            result = check_steps(sizes, env)
        elif name == "teachers":
            result = check_teachers(sizes, out_dir, work)
        elif name == "race35":
            result = check_race35(sizes, out_dir, work)
        elif name == "parity":
            result = check_parity(sizes)
        elif name == "app":
            result = check_app(sizes, work)
        elif name == "compile":
            result = check_compile(sizes)
        else:
            raise ValueError(f"no check named {name}")
    except Exception as exc:  # noqa: BLE001 (the error is the result)
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"[:1000]}
    (parts / f"{name}.json").write_text(json.dumps(result, indent=1, default=str))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or ROOT / "runs/gpu_check"))
    p.add_argument("--budget", type=float, default=320, help="seconds for all checks together")
    p.add_argument("--only", help="comma-separated checks (default: all, in order)")
    p.add_argument("--dry-run", action="store_true", default=bool(os.environ.get("DRY_RUN")),
                   help="tiny sizes on the CPU, to test this script")
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--parts", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    sizes = Sizes(args.dry_run)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.one:
        run_one(args.one, sizes, args.parts, args.out)
        return 0

    names = args.only.split(",") if args.only else list(CHECKS)
    parts = Path(tempfile.mkdtemp(prefix="gpu-check-"))
    log = (args.out / "log.txt").open("w")
    start = time.perf_counter()
    results: dict[str, Any] = {"dry_run": sizes.dry, "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "checks": {}}
    for name in names:
        limit, what = CHECKS[name]
        left = args.budget - (time.perf_counter() - start)
        if left < 20:
            results["checks"][name] = {"status": "skipped", "reason": f"{left:.0f} s of the budget left"}
            print(f"== {name}: skipped ({left:.0f} s left)", flush=True)
            continue
        limit = min(limit, left)
        print(f"== {name} ({what}; limit {limit:.0f} s)", flush=True)
        log.write(f"\n===== {name} (limit {limit:.0f} s)\n")
        log.flush()
        t0 = time.perf_counter()
        cmd = [sys.executable, "-u", str(Path(__file__).resolve()), "--one", name, "--parts", str(parts),
               "--out", str(args.out)] + (["--dry-run"] if sizes.dry else [])
        try:
            done = subprocess.run(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=limit)
            status = "ok" if done.returncode == 0 else f"exit {done.returncode}"
        except subprocess.TimeoutExpired:
            status = f"timed out after {limit:.0f} s"
        seconds = round(time.perf_counter() - t0, 1)
        part = parts / f"{name}.json"
        result = json.loads(part.read_text()) if part.exists() else {"error": status}
        if status != "ok" and "error" not in result:
            result["error"] = status
        result["seconds"] = seconds
        results["checks"][name] = result
        err = result.get("error")
        print(f"   {name}: {status} in {seconds} s" + (f": {err[:200]}" if err else ""), flush=True)
        log.flush()
        (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str))  # after every check
    results["wall_seconds"] = round(time.perf_counter() - start, 1)
    rows = verdicts(results["checks"], sizes.dry)
    results["verdicts"] = rows
    (args.out / "results.json").write_text(json.dumps(results, indent=1, default=str))
    text = table(rows)
    (args.out / "table.md").write_text(text)
    log.close()
    shutil.rmtree(parts, ignore_errors=True)
    print(f"\nINT Studio GPU check, {results['started']}, {results['wall_seconds']} s"
          + (" (DRY RUN on the CPU: numbers mean nothing)" if sizes.dry else ""))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

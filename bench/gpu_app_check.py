"""The app's server side on a GPU, without a browser or gradio: a default image race (the GPU defaults:
the full-size preset, SIREN 5 × 256, the four default columns), step mode with its explanation, and the
memory handed back afterwards.

    python bench/gpu_app_check.py [--seconds 3]

Prints one line per check and exits 1 if any fails. Needs a CUDA device; uses demo.server, demo.lecture
and intcore only (no gradio, no audio or mesh packages).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo.lecture.image import ImageLecture  # noqa: E402
from demo.lecture.state import LectureState  # noqa: E402
from demo.server import settings as S  # noqa: E402
from demo.server.race import Race  # noqa: E402
from demo.server.sessions import SessionTable  # noqa: E402
from intcore.device import allocated_bytes  # noqa: E402
from intcore.teach import explain_step  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=3.0,
                   help="training seconds per column after the step check (default 3)")
    p.add_argument("--device", default="cuda", help="cuda (default), or cpu to try the script itself")
    args = p.parse_args()
    gpu = args.device != "cpu"
    if gpu and not torch.cuda.is_available():
        print("no CUDA device")
        return 1
    failures = []

    def check(what: str, ok: bool, detail: str = "") -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f": {detail}" if detail else ""), flush=True)
        if not ok:
            failures.append(what)

    device = torch.device(args.device)
    values = S.given({"seconds": 3600}, S.defaults("image", device))  # stopped by this script
    run = S.run_spec(ROOT / "assets" / "images" / "kodim23.png", "image", device, values)
    signal = run.load_signal()
    check("the device's defaults", not gpu or (run.model.hidden_layers == 5 and run.model.width == 256
                                            and signal.shape == (512, 768)),
          f"SIREN {run.model.hidden_layers}×{run.model.width}, signal {signal.shape}, columns {run.names}")
    if gpu:
        torch.cuda.synchronize()
    baseline = torch.cuda.memory_allocated() if gpu else 0
    with tempfile.TemporaryDirectory() as folder:
        table = SessionTable(max_jobs=1, root=Path(folder), sweep_seconds=None)
        table.attach_page("page")
        try:
            race = Race(run, signal)
            state = LectureState(run, signal, ImageLecture)
            race.listeners.append(state)
            t0 = time.monotonic()
            table.submit(table.key("page", "image"), race)
            while len(race.snapshot_view()[0]) < len(run.names) and time.monotonic() - t0 < 120:
                time.sleep(0.05)
            race.toggle_pause()
            while not race.settled() and time.monotonic() - t0 < 180:
                time.sleep(0.05)
            before = {m: s.step for m, s in race.snapshot_view()[0].items()}
            count = state.stepped
            stepped = race.step() and state.wait_for_steps(count + len(run.names), 120)
            after = {m: s.step for m, s in race.snapshot_view()[0].items()}
            check("step mode: every column one step", stepped and all(after[m] == before[m] + 1 for m in before),
                  f"{before} -> {after}")
            pair = state.step_pair(race.tracked)
            snap = state.latest_stepped.get(race.tracked)
            if pair is not None and snap is not None:
                expl = explain_step(state.model, pair[0], pair[1], signal, torch.from_numpy(snap.selected),
                                    t=pair[2], T=None, ratio=snap.ratio, lr=run.train.lr, loss=snap.loss)
                check("the step explained on the GPU", expl.effect.cosine > 0.5, f"cosine {expl.effect.cosine:.4f}")
            else:
                check("the step explained on the GPU", False, "no weights kept for the step")
            race.toggle_pause()
            while min(s.train_seconds for s in race.snapshot_view()[0].values()) < args.seconds:
                time.sleep(0.1)
            race.stop()
            race.wait(600)
            status = race.status()
            check("the race ended with a verdict", status["state"] == "stopped" and status["verdict"] is not None,
                  status["verdict"]["text"] if status["verdict"] else status["state"])
            ms = {m: round(1000 * r["train_seconds"] / max(1, r["step"]), 2) for m, r in status["samplers"].items()}
            print(f"     ms per step: {ms}")
            check("the lecture state let go of the device", state.held_on(device.type) == 0 or not gpu,
                  f"{state.held_on(device.type)} tensors")
        finally:
            table.shutdown()
    del race, state
    if gpu:
        now, workspaces = allocated_bytes(torch.device("cuda"))
        check("the race's GPU memory given back", now <= baseline + 2**20,
              f"{(now - baseline) / 2**20:.1f} MiB above the start once cuBLAS's workspaces "
              f"({workspaces / 2**20:.1f} MiB) are released")
    print("all checks passed" if not failures else f"{len(failures)} failed: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

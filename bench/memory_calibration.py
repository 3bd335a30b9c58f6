"""How close `intcore.memory.estimate_peak_bytes` is to a race's measured peak memory on the CPU.

Each case runs in a fresh process (one torch thread): a synthetic signal of the modality's shape (an
image's (H·W, 2) → 3, a clip's (T, 1) → 1, a shape's (1.25·R³, 3) → 1) is built, VmHWM is reset
(/proc/self/clear_refs), the app's race (demo.server.race.Race: every snapshot keeps its selection and
reconstruction) runs 4 steps, and the peak's growth over the RSS before the race is compared with the
estimate. Prints a markdown table (the measurements behind the one in intcore/memory.py's docstring):

    python bench/memory_calibration.py [--quick] [--samplers full] [--only "512 px"]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLERS = ["int", "full", "random", "int-pool"]
CASES = [  # (label, modality, n-defining size, width, hidden_layers)
    ("image 128 px, 4 × 128", "image", 128, 128, 4),
    ("image 512 px, 4 × 128", "image", 512, 128, 4),
    ("image 1024 px, 4 × 128", "image", 1024, 128, 4),
    ("image 512 px, 4 × 256", "image", 512, 256, 4),
    ("audio 10 s at 44.1 kHz, 4 × 128", "audio", 441_000, 128, 4),
    ("audio 30 s at 44.1 kHz, 3 × 64", "audio", 1_323_000, 64, 3),
    ("shape grid 64, 4 × 128", "shape", 64, 128, 4),
    ("shape grid 96, 4 × 128", "shape", 96, 128, 4),
]
QUICK = {"image 128 px, 4 × 128", "image 512 px, 4 × 128", "audio 10 s at 44.1 kHz, 4 × 128", "shape grid 64, 4 × 128"}

CHILD = r"""
import json, sys, gc, torch
torch.set_num_threads(1)
from intcore.signals import Signal, grid_coords
from intcore.spec import make_spec
from intcore.memory import estimate_peak_bytes
from demo.server.race import Race

modality, size, width, layers, samplers = json.loads(sys.argv[1])
g = torch.Generator().manual_seed(0)
if modality == "image":
    shape = (size, size); coords = grid_coords(shape); values = torch.rand(size * size, 3, generator=g) * 2 - 1
elif modality == "audio":
    shape = (size,); coords = grid_coords(shape); values = torch.rand(size, 1, generator=g) * 2 - 1
else:
    shape = (size,) * 3; grid = grid_coords(shape)
    coords = torch.cat([grid, torch.rand(size**3 // 4, 3, generator=g) * 2 - 1])
    values = (coords.norm(dim=1, keepdim=True) < 0.5).float()
signal = Signal(coords.contiguous(), values.contiguous(), shape, modality, "synthetic", {"rate": 44100, "peak": 1.0})
spec = make_spec(None, modality=modality, device="cpu", samplers=samplers, steps=4, eval_every=2,
                 width=width, hidden_layers=layers)
race = Race(spec, signal)
gc.collect()

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # VmHWM := VmRSS
before = status("VmRSS")
race._run(lambda r: None)
assert race.error is None, race.error
print(json.dumps({"n": signal.n, "measured": status("VmHWM") - before,
                  "estimate": estimate_peak_bytes(spec, signal.n, signal.in_features, signal.out_features)}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="four cases only")
    parser.add_argument("--samplers", default=",".join(SAMPLERS), help="the race's columns (default: the app's four)")
    parser.add_argument("--only", default="", help="only the cases whose label contains this")
    parser.add_argument("--width", type=int, help="every case at this width")
    args = parser.parse_args()
    samplers = args.samplers.split(",")
    print("| case | N | measured MB | estimate MB | estimate / measured |")
    print("|---|---:|---:|---:|---:|")
    for label, modality, size, width, layers in CASES:
        if (args.quick and label not in QUICK) or args.only not in label:
            continue
        if args.width:
            label, width = f"{label.rsplit(' × ', 1)[0]} × {args.width}", args.width
        out = subprocess.run([sys.executable, "-c", CHILD, json.dumps([modality, size, width, layers, samplers])],
                             capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        if out.returncode:
            print(f"| {label} | failed: {out.stderr.strip().splitlines()[-1]} |||")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {label} | {r['n']:,} | {r['measured'] / 1e6:.0f} | {r['estimate'] / 1e6:.0f} | "
              f"{r['estimate'] / r['measured']:.2f} |", flush=True)


if __name__ == "__main__":
    main()

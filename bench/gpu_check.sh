#!/usr/bin/env bash
# GPU check for INT Studio: on a machine with one NVIDIA GPU, in under 8 minutes,
#   0. the step makes no host sync (CUDA sync debug mode: the count must not grow with the steps),
#   1. the bench's image row (full batch vs INT, SIREN 5x256, lr 1e-4, full-size images),
#   2. kodim05 (768x512) to 35 dB, full vs INT in the same run: fp32 eager, then bf16 + torch.compile,
#   3. the peak GPU memory of one full-batch and one INT step on a 16-megapixel image (SIREN 5x256),
# and prints a short table last. Needs python3 with torch (CUDA), numpy, pillow, scikit-image;
# not gradio/plotly/soundfile/trimesh/tqdm.
#   bash bench/gpu_check.sh                      # image row on assets/images (3 presets)
#   KODAK=/path/to/kodak bash bench/gpu_check.sh # image row on the first 3 Kodak images
# Outputs: ${OUT:-runs/gpu_check}/{sync.txt,image,kodim05-fp32,kodim05-bf16,megapixel}/ (table.md, results.json, curves.svg).
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT:-runs/gpu_check}
mkdir -p "$OUT"
START=$(date +%s)
# DRY_RUN=1: check the script's plumbing on a CPU in ~1 minute (tiny nets and budgets; numbers meaningless).
DEV=cuda; S1=15; S2=75; S3=60; TARGET=35; EXTRA=()
if [ -n "${DRY_RUN:-}" ]; then DEV=cpu; S1=2; S2=3; S3=3; TARGET=14; EXTRA=(--max-side 48 --width 16 --hidden-layers 2 --eval-every 5); fi
[ "$DEV" = cpu ] || $PY - <<'PY' || { echo "gpu_check: no CUDA GPU visible to $PY" >&2; exit 1; }
import torch
assert torch.cuda.is_available()
print("gpu_check:", torch.cuda.get_device_name(0), "| torch", torch.__version__, "| CUDA", torch.version.cuda)
PY
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true

echo "== 0. host syncs inside the training step (should be the same count for 20 and 60 steps)"
[ "$DEV" = cpu ] || timeout 120 $PY - <<'PY' | tee "$OUT/sync.txt"
import warnings, torch
from intcore import TrainConfig, Trainer, load_image, make_sampler
from intcore.models import ModelConfig
signal = load_image("assets/images/kodim05.png")
for sampler in ("full", "int", "int-official", "random"):
    counts = []
    for steps in (20, 60):
        torch.cuda.set_sync_debug_mode("warn")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cfg = TrainConfig(steps=steps, eval_every=10**6, lr=1e-4, device="cuda")
            list(Trainer(signal, make_sampler(sampler), model=ModelConfig(width=256, hidden_layers=5), config=cfg).run())
        torch.cuda.set_sync_debug_mode("default")
        counts.append(sum("synchroniz" in str(w.message) for w in caught))
    verdict = "ok: no sync in the step" if counts[0] == counts[1] else "SYNC IN THE STEP"
    print(f"sync {sampler:<13} syncs with 20 steps: {counts[0]:>3}, with 60 steps: {counts[1]:>3}  {verdict}")
PY

echo "== 1. image row (full vs INT, 2 signals, 15 s of training each)"
KODAK_ARG=()
[ -n "${KODAK:-}" ] && KODAK_ARG=(--kodak "$KODAK")
timeout 150 $PY -m intcore bench --device $DEV --modalities image "${KODAK_ARG[@]}" --max-signals 2 --seconds $S1 \
  "${EXTRA[@]}" --out "$OUT/image" --fresh --quiet >/dev/null || echo "gpu_check: image row failed or timed out" >&2

echo "== 2a. kodim05 to 35 dB, fp32 eager (stop at 35 dB, at most 75 s each)"
timeout 190 $PY -m intcore bench --device $DEV --modalities image --signals assets/images/kodim05.png \
  --samplers full,int-official --target $TARGET --seconds $S2 --eval-every 25 "${EXTRA[@]}" --out "$OUT/kodim05-fp32" --fresh --quiet >/dev/null \
  || echo "gpu_check: kodim05 fp32 failed or timed out" >&2

echo "== 2b. kodim05 to 35 dB, bf16 autocast + torch.compile (compile time is off the clock)"
timeout 190 $PY -m intcore bench --device $DEV --modalities image --signals assets/images/kodim05.png \
  --samplers full,int-official --target $TARGET --seconds $S3 --eval-every 25 "${EXTRA[@]}" --precision bf16 --compile default \
  --out "$OUT/kodim05-bf16" --fresh --quiet >/dev/null || echo "gpu_check: kodim05 bf16 failed or timed out" >&2

echo "== 3. megapixel memory: a 16 MP mosaic, SIREN 5x256, one full-batch and one INT step (peak CUDA memory)"
MP=16; [ -n "${DRY_RUN:-}" ] && MP=0.05
timeout 120 $PY -m intcore bench --device $DEV --modalities megapixel --megapixels $MP --steps 1 --eval-every 1 \
  --width 256 --hidden-layers 5 --lr 1e-4 "${KODAK_ARG[@]}" --out "$OUT/megapixel" --fresh --quiet >/dev/null \
  || echo "gpu_check: megapixel memory failed or timed out" >&2

echo "== wall time: $(( $(date +%s) - START )) s"
$PY - "$OUT" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
def load(name):
    p = out / name / "results.json"
    return json.loads(p.read_text()) if p.exists() else None
print()
print("| check | full | INT (official schedule) | result |")
print("|---|---|---|---|")
r = load("image")
if r and "summary" in r["rows"].get("image", {}):
    s = r["rows"]["image"]["summary"]; f, i = s["full"], s["int-official"]
    sv = "—" if i["saving_mean"] is None else f"{100 * i['saving_mean']:.1f} % saved, {i['reached_target']}/{i['jobs']} reached"
    print(f"| image row ({f['jobs']} signals, 15 s each) | {f['quality_mean']:.2f} dB | {i['quality_mean']:.2f} dB "
          f"(to full's quality in {i['seconds_to_target_mean'] or float('nan'):.1f} s vs {f['seconds_to_target_mean']:.1f} s) | {sv} |")
else:
    print("| image row | — | — | did not run |")
for name, label in (("kodim05-fp32", "kodim05 to 35 dB, fp32 eager"), ("kodim05-bf16", "kodim05 to 35 dB, bf16 + compile")):
    r = load(name)
    if not r or "signals" not in r["rows"].get("image", {}):
        print(f"| {label} | — | — | did not run |"); continue
    runs = r["rows"]["image"]["signals"][0]["runs"]
    tf, ti = runs["full"]["seconds_to_target"], runs["int-official"]["seconds_to_target"]
    fmt = lambda t, run: "not reached (best %.2f dB)" % run["best_quality"] if t is None else f"{t:.1f} s"
    verdict = "—"
    if tf and ti:
        verdict = f"{tf / ti:.2f}x faster; target ≤ 10 s and ≥ 1.5x: {'MET' if ti <= 10 and tf / ti >= 1.5 else 'not met'}"
    print(f"| {label} | {fmt(tf, runs['full'])} | {fmt(ti, runs['int-official'])} | {verdict} |")
r = load("megapixel")
if r and "peak_memory_mb" in r["rows"].get("megapixel", {}):
    row = r["rows"]["megapixel"]
    gb = row["peak_memory_mb"] / 1024
    print(f"| 16 MP, SIREN 5x256, one step each ({row.get('peak_memory_kind', '')}) | | | "
          f"peak {gb:.2f} GB; bound 16 GB: {'MET' if gb < 16 else 'not met'} |")
else:
    print("| 16 MP memory | — | — | did not run |")
print(f"\ndevice: {r['device_name'] if r else '?'}; details in {out}/*/table.md and sync.txt")
PY

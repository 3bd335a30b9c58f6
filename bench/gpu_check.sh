#!/usr/bin/env bash
# Every GPU check of INT Studio in one call (bench/gpu_check.py; docs/gpu.md explains the numbers).
#
#   bash bench/gpu_pack_deps.sh            # once, where pip reaches a package index: writes deps.tgz
#   bash bench/gpu_check.sh                # on the GPU machine: ~5 minutes, results in $OUT
#   DRY_RUN=1 bash bench/gpu_check.sh      # the same checks on the CPU, tiny sizes (tests the script)
#
# The GPU machine needs python3 with torch (CUDA), numpy, pillow, scipy, scikit-image and pandas; the
# app's other packages (gradio, plotly, soundfile, trimesh, libigl, ...) come in deps.tgz at the
# repository root, unpacked here onto PYTHONPATH. Writes to ${OUT:-runs/gpu_check}: results.json,
# table.md, log.txt, tests.txt, race35.json; prints the table last.
# Options after the script name go to bench/gpu_check.py (--budget SECONDS, --only env,steps,...).
set -u
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 GRADIO_ANALYTICS_ENABLED=False
PY=${PYTHON:-python3}
if [ -f deps.tgz ]; then
  site=${DEPS_DIR:-/tmp/int-studio-site}
  mkdir -p "$site" && tar xzf deps.tgz -C "$site" && export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" \
    && echo "gpu_check: app packages from deps.tgz on PYTHONPATH ($site)"
elif [ -z "${DRY_RUN:-}" ]; then
  echo "gpu_check: no deps.tgz here (bench/gpu_pack_deps.sh makes it): the app check needs gradio on this machine" >&2
fi
if [ -z "${DRY_RUN:-}" ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
  "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" \
    || { echo "gpu_check: no CUDA GPU visible to $PY (DRY_RUN=1 runs it on the CPU)" >&2; exit 1; }
fi
exec "$PY" bench/gpu_check.py ${DRY_RUN:+--dry-run} "$@"

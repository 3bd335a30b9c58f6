#!/usr/bin/env bash
# Pack the app's Python dependencies for a GPU machine that cannot reach a package index: an x86-64
# Linux machine with Python 3.12 that already has torch, numpy, pillow, scipy, scikit-image and pandas
# (what the GPU image of bench/gpu_check.sh has). Writes one archive of an unpacked site-packages
# (smaller than the wheels: gradio's bundled node server, media and test data are left out; the
# pre-built frontend stays).
#
#   bash bench/gpu_pack_deps.sh [REQUIREMENTS] [OUT.tgz]     # run from the repository root, with network
#                                                            # defaults: requirements.txt deps.tgz
# On the target (bench/gpu_check.sh does this when deps.tgz is in the repository root):
#   mkdir -p /tmp/site && tar xzf deps.tgz -C /tmp/site && export PYTHONPATH=/tmp/site
#
# deps.tgz is ignored by git (.gitignore); a device run takes it along as an ignored path.
set -euo pipefail
req=${1:-requirements.txt}
out=${2:-deps.tgz}
py=${PYTHON:-python3}
# Already on the target: left out, so that the machine's own builds (CUDA torch and its kin) are used.
skip='^(torch|numpy|pillow|scipy|scikit-image|pandas|networkx|imageio|tifffile|lazy-loader|nvidia-.*|triton|sympy|mpmath|setuptools|hf-xet|cuda-.*)$'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# torch is pinned for the CPU machines; the target has its own CUDA build.
grep -vE '^\s*(#|-r|torch)' "$req" | sed 's/#.*//' | grep -v '^\s*$' > "$work/req.txt"
platforms=()
for p in manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux_2_24_x86_64 manylinux_2_27_x86_64 \
         manylinux_2_28_x86_64 manylinux_2_31_x86_64 manylinux_2_34_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
"$py" -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp "${platforms[@]}" \
  -d "$work/whl" -r "$work/req.txt"
mkdir -p "$work/site"
for w in "$work"/whl/*.whl; do
  name=$(basename "$w" | cut -d- -f1 | tr '_' '-' | tr 'A-Z' 'a-z')
  [[ $name =~ $skip ]] && continue
  "$py" -m zipfile -e "$w" "$work/site"
done
rm -rf "$work"/site/gradio/templates/node "$work"/site/gradio/media_assets "$work"/site/gradio/test_data \
  "$work"/site/*.data "$work"/site/include "$work"/site/lib64  # not needed to import and serve
# Console scripts are not installed by unpacking; nothing here needs them.
tar czf "$out" -C "$work/site" .
echo "wrote $out ($(du -h "$out" | cut -f1)): $(ls "$work/site" | grep -c dist-info) packages"

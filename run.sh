#!/usr/bin/env bash
# INT Studio launcher: makes the virtual environment on first use (or when the requirements change),
# then runs the app, the tests or the CLI inside it. Safe to run again and again.
#   ./run.sh app [--port 7860 ...]     start the web app (python -m demo)
#   ./run.sh test [pytest args]        run the test suite
#   ./run.sh lint                      ruff (lint of demo, intcore, tests; the format of demo/), mypy (intcore/)
#   ./run.sh cli fit|compare|bench ... the command-line tool (python -m intcore)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${INT_STUDIO_VENV:-$HERE/.venv}
PY=${PYTHON:-python3}
# Run from wherever the user is (so relative file paths work), with the project importable.
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"

need() {  # install $1 (a requirements file) unless its exact contents were installed already
  local req=$HERE/$1 stamp="$VENV/.installed-$1"
  if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"
      echo "run.sh: could not create a virtual environment with $PY." >&2
      echo "run.sh: on Debian/Ubuntu install it first: sudo apt-get install -y python3-venv" >&2
      exit 1
    fi
  fi
  if [ ! -f "$stamp" ] || ! cat "$HERE"/requirements*.txt | cmp -s - "$stamp"; then
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$req"
    cat "$HERE"/requirements*.txt > "$stamp"
  fi
}

cmd=${1:-app}
shift || true
case "$cmd" in
  app)  need requirements.txt;     exec "$VENV/bin/python" -m demo "$@" ;;
  test) need requirements-dev.txt; cd "$HERE"; exec "$VENV/bin/python" -m pytest "$@" ;;
  lint) need requirements-dev.txt; cd "$HERE"
        "$VENV/bin/ruff" check demo intcore tests assets
        "$VENV/bin/ruff" format --check demo
        exec "$VENV/bin/mypy" ;;
  cli)  need requirements.txt;     exec "$VENV/bin/python" -m intcore "$@" ;;
  *) echo "usage: ./run.sh app|test|lint|cli [args...]" >&2; exit 2 ;;
esac

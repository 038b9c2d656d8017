#!/usr/bin/env bash
# Installs the course for everyone on the class server, WITHOUT the solutions (run as root;
# safe to run again, e.g. after `git pull` in the clone):
#   PREFIX/.venv                 the course package (installed, not linked to the clone), nbgrader,
#                                JupyterLab and JupyterHub: what every server runs
#   PREFIX/nbgrader_config.py    the course's nbgrader settings (course id, exchange, limits)
#   PREFIX/deploy/jupyterhub/    the hub's configuration and this folder's scripts
# Nothing else of the clone is copied: source/ (the instructor notebooks, with solutions and
# hidden tests), tests/ and .git stay in the clone, which only root (and the instructor's own
# clone) can read.
# Usage: install-course.sh [PREFIX]   (default /opt/genai-llm-fm; the clone is this script's repository)
set -euo pipefail
prefix=${1:-/opt/genai-llm-fm}
src=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-python3}
[ "$(id -u)" = 0 ] || { echo "install-course.sh: run as root" >&2; exit 1; }
case "$prefix/" in "$src/"*) echo "install-course.sh: PREFIX must be outside the clone ($src)" >&2; exit 1;; esac
# PyTorch's CPU-only wheels on Linux (PyPI's Linux wheel brings several GB of CUDA)
torch_index=${TORCH_INDEX-https://download.pytorch.org/whl/cpu}

install -d -m 0755 "$prefix" "$prefix/deploy"
[ -x "$prefix/.venv/bin/python" ] || "$python" -m venv "$prefix/.venv"
# The package is built from a private copy of what it is made of: a build writes build/ and
# *.egg-info next to pyproject.toml, which must not happen in the clone (two installs at once would
# share them, and the clone stays as it was checked out).
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -r "$src/pyproject.toml" "$src/README.md" "$src/LICENSE" "$src/course" "$stage/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
"$prefix/.venv/bin/python" -m pip install --quiet -c "$src/constraints.txt" \
  ${torch_index:+--extra-index-url "$torch_index"} "$stage[hub]"
# the course package itself as a copy (never an editable link back into the clone)
"$prefix/.venv/bin/python" -m pip install --quiet --no-deps --force-reinstall "$stage"
install -m 0644 "$src/nbgrader_config.py" "$src/constraints.txt" "$prefix/"
rm -rf "$prefix/deploy/jupyterhub"
cp -r "$src/deploy/jupyterhub" "$prefix/deploy/jupyterhub"
chmod -R a+rX,go-w "$prefix"

# What students can read must hold no solution: check that the instructor notebooks are not there.
if [ -e "$prefix/source" ] || [ -e "$prefix/tests" ] || [ -e "$prefix/.git" ]; then
  echo "install-course.sh: $prefix holds parts of the clone (source/, tests/ or .git): remove them" >&2
  exit 1
fi
(cd / && "$prefix/.venv/bin/python" -I - "$src") <<'PY'
import sys
from pathlib import Path
import course
here = Path(course.__file__).resolve()
if Path(sys.argv[1]).resolve() in here.parents:
    sys.exit(f"install-course.sh: the course package is still linked to the clone ({here})")
PY
echo "install-course.sh: the course is installed in $prefix (no source/): start the hub with"
echo "  $prefix/.venv/bin/jupyterhub -f $prefix/deploy/jupyterhub/jupyterhub_config.py"
